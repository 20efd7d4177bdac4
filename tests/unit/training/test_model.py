"""The model contract: calibrated probabilities, threshold, explanations, reproducibility."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attrition.errors import AttritionError
from attrition.schema import IDENTIFIER, PROTECTED_ATTRIBUTES
from attrition.training.features import LOG_COLUMNS, RATIOS, SATISFACTION_COLUMNS
from attrition.training.model import AttritionModel, ScoreCalibrator, logit, sigmoid


def reproduce_with_arrays(model: AttritionModel, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    """The module docstring's recipe, written with numpy only (logistic regression)."""
    engineer = model.pipeline.named_steps["engineer"]
    columns: dict[str, np.ndarray[Any, Any]] = {}
    for name in model.feature_names:
        values = frame[name].to_numpy()
        columns[name] = values.astype(str) if values.dtype == object else values.astype(float)
    if engineer.ratios:
        for r in RATIOS:
            columns[r.name] = columns[r.numerator] / np.maximum(
                columns[r.denominator] + r.offset, 1
            )
    if engineer.logs:
        for c in LOG_COLUMNS:
            columns[f"Log{c}"] = np.log1p(np.maximum(columns[c], 0))
    if engineer.satisfaction:
        block = np.column_stack([columns[c] for c in SATISFACTION_COLUMNS])
        columns["SatisfactionMean"] = block.mean(axis=1)
        columns["LowSatisfactionCount"] = (block == 1).sum(axis=1).astype(float)
    blocks = []
    preprocess = model.pipeline.named_steps["preprocess"]
    for name, transformer, names in preprocess.transformers_:
        if name == "categorical":
            for column, categories in zip(names, transformer.categories_, strict=True):
                blocks.append(
                    np.column_stack([(columns[column] == c).astype(float) for c in categories])
                )
        elif name == "numeric":
            raw = np.column_stack([columns[c] for c in names])
            blocks.append((raw - transformer.mean_) / transformer.scale_)
    z = np.hstack(blocks)
    estimator = model.pipeline.named_steps["estimator"]
    s = sigmoid(z @ estimator.coef_[0] + estimator.intercept_[0])
    assert model.calibrator is not None
    return sigmoid(model.calibrator.slope_ * logit(s) + model.calibrator.intercept_)


def test_documented_recipe_reproduces_predict_proba(logistic_model, dev_frame):
    rows = dev_frame.iloc[:200]
    expected = logistic_model.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(reproduce_with_arrays(logistic_model, rows), expected, atol=1e-9)


@pytest.mark.parametrize("fixture", ["logistic_model", "lightgbm_model", "forest_model"])
def test_probabilities_and_threshold_decisions(fixture, dev_frame, request):
    model = request.getfixturevalue(fixture)
    proba = model.predict_proba(dev_frame)
    assert proba.shape == (len(dev_frame), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    decisions = model.predict(dev_frame)
    np.testing.assert_array_equal(decisions, (proba[:, 1] >= model.threshold).astype(int))
    assert set(model.classes_) == {0, 1}


def test_model_ignores_identifier_and_unused_protected_columns(logistic_model, dev_frame):
    assert IDENTIFIER not in logistic_model.feature_names
    assert not set(PROTECTED_ATTRIBUTES) & set(logistic_model.feature_names)
    only_features = dev_frame[list(logistic_model.feature_names)]
    np.testing.assert_allclose(
        logistic_model.predict_proba(only_features), logistic_model.predict_proba(dev_frame)
    )


def test_missing_feature_column_names_it(logistic_model, dev_frame):
    with pytest.raises(AttritionError, match="OverTime"):
        logistic_model.predict_proba(dev_frame.drop(columns=["OverTime"]))


def test_unknown_category_scores_without_error(logistic_model, dev_frame):
    rows = dev_frame.iloc[:3].copy()
    rows["JobRole"] = "Astronaut"
    proba = logistic_model.predict_proba(rows)
    assert np.isfinite(proba).all()


@pytest.mark.parametrize("fixture", ["logistic_model", "lightgbm_model", "forest_model"])
def test_explain_returns_top_factors_by_absolute_contribution(fixture, dev_frame, request):
    model = request.getfixturevalue(fixture)
    rows = dev_frame.iloc[:4]
    explained = model.explain(rows, top_k=5)
    assert len(explained) == 4
    for row, factors in zip(rows.itertuples(index=False), explained, strict=True):
        assert len(factors) == 5
        sizes = [abs(f.contribution) for f in factors]
        assert sizes == sorted(sizes, reverse=True)
        for factor in factors:
            assert factor.feature in model.feature_names
            value = getattr(row, factor.feature)
            assert factor.to_dict()["value"] == (value if isinstance(value, str) else float(value))


def test_linear_contributions_add_up_to_the_logit(logistic_model, dev_frame):
    rows = dev_frame.iloc[:50]
    contributions = logistic_model.contributions(rows)
    estimator = logistic_model.pipeline.named_steps["estimator"]
    base = estimator.intercept_[0] + estimator.coef_[0] @ logistic_model.background_
    np.testing.assert_allclose(
        contributions.sum(axis=1) + base, logit(logistic_model.raw_scores(rows)), atol=1e-6
    )


def test_lightgbm_contributions_add_up_to_the_margin(lightgbm_model, dev_frame):
    rows = dev_frame.iloc[:50]
    z = lightgbm_model.transform_features(rows)
    estimator = lightgbm_model.pipeline.named_steps["estimator"]
    margin = estimator.predict_proba(z, raw_score=True)
    expected_value = estimator.predict_proba(z, pred_contrib=True)[:, -1]
    np.testing.assert_allclose(
        lightgbm_model.contributions(rows).sum(axis=1) + expected_value, margin, atol=1e-6
    )


def test_overtime_is_a_top_factor_for_an_overtime_worker(logistic_model, dev_frame):
    worker = dev_frame[dev_frame["OverTime"] == "Yes"].iloc[:1]
    factors = {f.feature: f.contribution for f in logistic_model.explain(worker, top_k=10)[0]}
    assert factors.get("OverTime", 0.0) > 0


def test_pickle_round_trip_keeps_predictions(forest_model, dev_frame):
    forest_model.explain(dev_frame.iloc[:1])  # builds the cached explainer
    restored = pickle.loads(pickle.dumps(forest_model))
    np.testing.assert_allclose(
        restored.predict_proba(dev_frame), forest_model.predict_proba(dev_frame)
    )
    np.testing.assert_allclose(
        restored.contributions(dev_frame.iloc[:3]), forest_model.contributions(dev_frame.iloc[:3])
    )


def test_sigmoid_calibrator_fixes_a_miscalibrated_score():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.02, 0.6, 5000)
    y = rng.uniform(size=truth.size) < truth
    overconfident = sigmoid(3.0 * logit(truth) + 1.0)
    calibrator = ScoreCalibrator("sigmoid").fit(overconfident, y)
    assert calibrator.slope_ == pytest.approx(1 / 3, abs=0.05)
    np.testing.assert_allclose(calibrator.predict(overconfident), truth, atol=0.05)


def test_isotonic_calibrator_matches_sklearn():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(1)
    scores = rng.uniform(size=400)
    y = rng.uniform(size=400) < scores
    ours = ScoreCalibrator("isotonic").fit(scores, y)
    theirs = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores, y)
    grid = np.linspace(-0.1, 1.1, 57)
    np.testing.assert_allclose(ours.predict(grid), theirs.predict(grid))
