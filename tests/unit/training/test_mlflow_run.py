"""What a training run records: version tags, model-card facts, parameters, requirements."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from attrition.schema import SCHEMA_VERSION
from attrition.training.gate import GatePolicy, evaluate_gate
from attrition.training.mlflow_run import (
    card_facts,
    model_requirements,
    option_params,
    run_tags,
    synthetic_input_example,
    version_tags,
)
from attrition.training.pipeline import (
    Evaluation,
    PreparedData,
    TrainingOptions,
    fit_and_evaluate,
    prepare_data,
)

from .conftest import LOGISTIC

OPTIONS = TrainingOptions(
    cv_folds=3, cv_repeats=1, bootstrap_resamples=50, seed=5, tags={"ticket": "T-1"}
)


@pytest.fixture(scope="module")
def fitted(dev_frame: pd.DataFrame) -> tuple[PreparedData, Evaluation]:
    data = prepare_data(dev_frame, OPTIONS)
    return data, fit_and_evaluate(data, LOGISTIC, OPTIONS)


def test_a_version_is_tagged_with_what_serving_and_monitoring_read(
    fitted: tuple[PreparedData, Evaluation],
) -> None:
    data, evaluation = fitted
    verdict = evaluate_gate(
        evaluation.metrics, evaluation.fairness, evaluation.behaviour, GatePolicy(), None
    )
    tags = version_tags(evaluation, data, OPTIONS, verdict)
    assert float(tags["threshold"]) == pytest.approx(evaluation.threshold.threshold, rel=1e-5)
    assert json.loads(tags["features"]) == list(evaluation.model.feature_names)
    assert tags["schema_version"] == SCHEMA_VERSION and tags["data_hash"] == data.data_hash
    assert tags["gate_passed"] == str(verdict.passed).lower()
    assert tags["include_protected"] == "false" and tags["family"] == "logistic_regression"


def test_card_facts_params_and_run_tags_describe_the_run(
    fitted: tuple[PreparedData, Evaluation],
) -> None:
    data, evaluation = fitted
    facts = card_facts("attrition-x", data, OPTIONS, evaluation, 0.83, 7)
    assert (facts["model_name"], facts["trials"], facts["cv_roc_auc"]) == ("attrition-x", 7, 0.83)
    assert facts["rows"] == data.rows == len(data.train) + len(data.holdout)
    params = option_params(OPTIONS, data)
    assert (params["seed"], params["cv_folds"], params["holdout_rows"]) == (5, 3, len(data.holdout))
    tags = run_tags(data, OPTIONS, "study-1")
    assert tags["optuna_study"] == "study-1" and tags["ticket"] == "T-1"
    assert tags["git_commit"]


def test_the_model_declares_pinned_requirements() -> None:
    requirements = model_requirements()
    assert all("==" in line for line in requirements)
    assert {line.split("==")[0] for line in requirements} >= {"mlflow", "scikit-learn"}


def test_the_input_example_is_synthetic_rows_typed_like_the_training_frame(
    fitted: tuple[PreparedData, Evaluation], dev_frame: pd.DataFrame
) -> None:
    data, evaluation = fitted
    columns = list(evaluation.model.feature_names)
    example = synthetic_input_example(data, columns)
    assert list(example.columns) == columns and len(example) == 5
    assert example.dtypes.to_dict() == data.holdout[columns].dtypes.to_dict()
    people = set(dev_frame[columns].itertuples(index=False, name=None))
    assert not people & set(example.itertuples(index=False, name=None))
    evaluation.model.predict_proba(example)  # the example is a valid model input
