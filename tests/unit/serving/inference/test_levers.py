"""Retention levers: the risk after each lever is a fresh prediction of the changed row, the
top lever of an employee on overtime who travels often is one of those two, and no lever
ever moves a protected attribute or a field the schema does not mark as a lever."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from attrition.schema import (
    FEATURES,
    LEVER_FEATURES,
    LEVERS,
    PROTECTED_ATTRIBUTES,
    CategoricalFeature,
    model_feature_names,
)
from attrition.serving.inference.levers import (
    active_levers,
    candidate_probabilities,
    plan,
    suggest,
)
from attrition.serving.inference.model_service import build_scorer
from attrition.serving.inference.scoring import PipelineScorer, Scorer

from ..conftest import support

NAMES = model_feature_names()


@pytest.fixture(scope="module")
def lightgbm_model(dev_frame: pd.DataFrame) -> Any:
    return support.fit_model(dev_frame, "lightgbm", ordinal_encoding="onehot")


@pytest.fixture(scope="module", params=["logistic", "lightgbm"])
def scorer(request: pytest.FixtureRequest, logistic_model: Any, lightgbm_model: Any) -> Scorer:
    model = logistic_model if request.param == "logistic" else lightgbm_model
    built = build_scorer(model, NAMES)
    assert built.kind == "compiled"
    return built


def changed(row: dict[str, Any], suggestion: Any) -> dict[str, Any]:
    out = dict(row)
    for change in suggestion.changes:
        assert out[change.feature] == change.value
        out[change.feature] = change.new_value
    return out


def overtime_travellers(frame: pd.DataFrame) -> list[dict[str, Any]]:
    chosen = frame[(frame["OverTime"] == "Yes") & (frame["BusinessTravel"] == "Travel_Frequently")]
    assert len(chosen) >= 10
    return chosen.to_dict("records")


def test_top_lever_of_an_overtime_frequent_traveller_is_one_of_the_two(
    scorer: Scorer, dev_frame: pd.DataFrame
) -> None:
    rows = overtime_travellers(dev_frame)
    base = scorer.score_rows(rows, 3).probabilities
    found = suggest(scorer, NAMES, rows, base)
    riskiest = int(np.argmax(base))
    top = found[riskiest][0]
    assert [c.feature for c in top.changes] in (["OverTime"], ["BusinessTravel"])
    fresh = scorer.score_rows([changed(rows[riskiest], top)], 3).probabilities[0]
    assert top.probability == pytest.approx(fresh, abs=1e-9)
    assert top.probability < base[riskiest]
    tops = {f[0].changes[0].feature for f in found if f}
    if scorer.estimator.kind == "logistic":  # type: ignore[attr-defined]
        assert tops <= {"OverTime", "BusinessTravel"}  # a monotone model: for every one


def test_every_risk_after_equals_a_fresh_prediction_of_the_changed_row(
    scorer: Scorer, dev_frame: pd.DataFrame
) -> None:
    rows = dev_frame.iloc[:120].to_dict("records")
    base = scorer.score_rows(rows, 3).probabilities
    found = suggest(scorer, NAMES, rows, base)
    checked = paired = 0
    for row, suggestions, risk in zip(rows, found, base, strict=True):
        probabilities = [s.probability for s in suggestions]
        singles = [s for s in suggestions if len(s.changes) == 1]
        assert [s.probability for s in singles] == sorted(s.probability for s in singles)
        assert all(p < risk for p in probabilities)
        pairs = [s for s in suggestions if len(s.changes) == 2]
        assert len(pairs) <= 1 and len(singles) <= 3
        if pairs:  # the two best singles together, better than either alone
            assert suggestions[-1] is pairs[0]
            assert {c.feature for c in pairs[0].changes} == {
                s.changes[0].feature for s in singles[:2]
            }
            assert pairs[0].probability < singles[0].probability
            paired += 1
        if suggestions:
            fresh = scorer.score_rows([changed(row, s) for s in suggestions], 3).probabilities
            assert probabilities == pytest.approx(fresh.tolist(), abs=1e-9)
            checked += len(suggestions)
    assert checked > 100 and paired > 10


def test_compiled_candidates_equal_the_pipeline_on_the_same_moves(
    scorer: Scorer, logistic_model: Any, lightgbm_model: Any, dev_frame: pd.DataFrame
) -> None:
    model = logistic_model if scorer.estimator.kind == "logistic" else lightgbm_model  # type: ignore[attr-defined]
    rows = dev_frame.iloc[:60].to_dict("records")
    levers = active_levers(NAMES)
    singles = plan(levers, rows)
    k, j = np.meshgrid(np.arange(len(singles.combos)), np.arange(len(rows)), indexing="ij")
    applies = (
        singles.member[:, :, None]
        & np.array([[m is None for m in per_row] for per_row in singles.moved])[None]
    )
    keep = ~applies.any(axis=1)  # every single and pair whose levers all apply
    moves = singles.only(k[keep], j[keep])
    assert 0 < len(moves.k) < k.size  # some moves do not apply (OverTime already No, ...)
    assert set(moves.k.tolist()) == set(range(len(singles.combos)))
    fast = candidate_probabilities(scorer, NAMES, rows, moves)
    slow = candidate_probabilities(PipelineScorer(model, NAMES), NAMES, rows, moves)
    assert np.abs(fast - slow).max() <= 1e-6


def test_no_lever_moves_a_protected_or_non_actionable_field_over_the_whole_dev_file(
    scorer: Scorer, dev_frame: pd.DataFrame
) -> None:
    assert not LEVER_FEATURES & set(PROTECTED_ATTRIBUTES)
    assert {  # the documented list (docs/reference.md#retention-levers)
        "OverTime",
        "BusinessTravel",
        "StockOptionLevel",
        "PercentSalaryHike",
        "TrainingTimesLastYear",
    } == LEVER_FEATURES
    rows = dev_frame.to_dict("records")
    base = scorer.score_rows(rows, 3).probabilities
    found = suggest(scorer, NAMES, rows, base)
    by_feature = {lever.feature: lever for lever in LEVERS}
    seen: set[str] = set()
    for row, suggestions in zip(rows, found, strict=True):
        for suggestion in suggestions:
            for change in suggestion.changes:
                assert change.feature in LEVER_FEATURES
                assert change.feature not in PROTECTED_ATTRIBUTES
                assert change.new_value == by_feature[change.feature].moved(row[change.feature])
                assert within_schema(change.feature, change.new_value)
                seen.add(change.feature)
    assert {"OverTime", "BusinessTravel"} <= seen


def within_schema(name: str, value: Any) -> bool:
    feature = FEATURES[name]
    if isinstance(feature, CategoricalFeature):
        return value in feature.categories
    return feature.low <= value <= feature.high


def test_lever_moves() -> None:
    by_feature = {lever.feature: lever for lever in LEVERS}
    assert by_feature["OverTime"].moved("Yes") == "No"
    assert by_feature["OverTime"].moved("No") is None
    travel = by_feature["BusinessTravel"]
    assert travel.moved("Travel_Frequently") == "Travel_Rarely"
    assert travel.moved("Travel_Rarely") == "Non-Travel"
    assert travel.moved("Non-Travel") is None
    assert by_feature["StockOptionLevel"].moved(3) is None
    assert by_feature["PercentSalaryHike"].moved(22) == 25
    assert by_feature["PercentSalaryHike"].moved(25) is None
    assert by_feature["TrainingTimesLastYear"].moved(5) == 6


def test_no_levers_for_a_model_that_reads_none_of_them(scorer: Scorer) -> None:
    names = tuple(n for n in NAMES if n not in LEVER_FEATURES)
    assert active_levers(names) == ()
    assert suggest(scorer, names, [{"OverTime": "Yes"}], np.array([0.5])) == [[]]
