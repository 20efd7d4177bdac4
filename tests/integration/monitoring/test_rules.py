"""Pure rules of the orchestration: retrain triggers, training rows, MLflow figures.

(Pure functions; kept beside the integration tests of the same modules.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attrition.data.synthetic import generate_workforce
from attrition.errors import AttritionError
from attrition.monitoring.config import DriftConfig, RetrainConfig
from attrition.monitoring.drift import DriftResult, compare
from attrition.monitoring.profile import feature_specs
from attrition.monitoring.retrain import combine_training_rows, retrain_triggers
from attrition.monitoring.tracking import monitoring_metrics
from attrition.schema import FEATURE_NAMES, TARGET


def _drift(scenario: str | None) -> DriftResult:
    specs = feature_specs(FEATURE_NAMES)
    reference = generate_workforce(600, 1)
    current = generate_workforce(400, 2, scenario=scenario)
    columns = {s.name: reference[s.name].to_numpy() for s in specs}
    now = {s.name: current[s.name].to_numpy() for s in specs}
    scores = np.linspace(0.01, 0.9, 600)
    return compare(
        columns, now, specs, DriftConfig(), reference_scores=scores,
        current_scores=np.linspace(0.01, 0.9, 400),
    )  # fmt: skip


def test_retrain_triggers_follow_the_config() -> None:
    drifted = _drift("overtime_surge")
    clean = _drift(None)
    assert retrain_triggers(drifted, None, RetrainConfig()) == ("feature_drift",)
    assert retrain_triggers(clean, None, RetrainConfig()) == ()
    off = RetrainConfig(on_feature_drift=False)
    assert retrain_triggers(drifted, None, off) == ()


def _labelled(keys: list[str | None], label: str, seed: int) -> pd.DataFrame:
    frame = generate_workforce(len(keys), seed).loc[:, list(FEATURE_NAMES)]
    return frame.assign(**{TARGET: label, "employee_key": keys})


def test_training_rows_keep_one_row_per_employee_newest_first() -> None:
    current = _labelled(["a", "b", "a"], "Yes", 1)
    base = _labelled(["a", "c", "d"], "No", 2)
    rows = combine_training_rows(current, base)
    assert list(rows.columns) == [*FEATURE_NAMES, TARGET]
    assert len(rows) == 4  # b, newest a, c, d
    assert rows[TARGET].tolist() == ["Yes", "Yes", "No", "No"]
    assert rows.iloc[1]["Age"] == current.iloc[2]["Age"]  # the newest record of "a"
    assert len(combine_training_rows(None, base)) == 3
    assert len(combine_training_rows(current.iloc[:0], base)) == 3
    with pytest.raises(AttritionError, match="no labelled data to retrain on"):
        combine_training_rows(None, None)


def test_monitoring_metrics_for_mlflow() -> None:
    metrics = monitoring_metrics(_drift("overtime_surge"), None)
    assert metrics["n_drifted_features"] >= 1 and metrics["current_rows"] == 400
    assert {"drift_share", "dataset_drift", "prediction_drift"} <= set(metrics)
    assert "prediction_drift_statistic" in metrics and "realised_roc_auc" not in metrics
