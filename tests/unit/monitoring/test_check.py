"""The check before any write: which scores it uses, what counts as confirmed (the whole check
against a trained champion: tests/integration/monitoring/test_service.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attrition.data.synthetic import generate_workforce
from attrition.monitoring.check import Check, current_scores
from attrition.monitoring.config import DriftConfig
from attrition.monitoring.drift import compare
from attrition.monitoring.profile import columns_from_frame, feature_specs
from attrition.monitoring.reference import Champion
from attrition.monitoring.windows import CurrentWindow, Provenance
from attrition.settings import get_settings

CHAMPION = Champion("attrition-classifier", "3", "run", 0.4)
SPECS = feature_specs(["OverTime", "MonthlyIncome"])


def _window(versions: dict[str, int], scores: np.ndarray | None) -> CurrentWindow:
    frame = pd.DataFrame({"OverTime": ["No"] * 3, "MonthlyIncome": [3000, 4000, 5000]})
    provenance = Provenance("prediction_log", 3, details={"model_versions": versions})
    return CurrentWindow(frame, (None, None, None), provenance, scores=scores)


def test_scores_logged_by_the_champion_itself_are_used_as_they_are() -> None:
    logged = np.array([0.1, 0.5, 0.9])
    scores, source = current_scores(_window({"3": 3}, logged), get_settings(), CHAMPION)
    assert source == "logged" and scores is logged


def test_an_empty_window_scored_by_another_version_needs_no_model() -> None:
    window = _window({"2": 3}, np.array([0.1, 0.2, 0.3]))
    empty = CurrentWindow(window.frame.iloc[:0], (), window.provenance, scores=window.scores)
    scores, source = current_scores(empty, get_settings(), CHAMPION)
    assert source == "rescored by v3" and scores.size == 0


def _check(shift: str | None) -> Check:
    reference = generate_workforce(600, 1)
    current = generate_workforce(600, 2, scenario=shift)
    drift = compare(
        columns_from_frame(reference, SPECS), columns_from_frame(current, SPECS), SPECS,
        DriftConfig(),
    )  # fmt: skip
    window = _window({"3": 600}, None)
    return Check(CHAMPION, window, drift, None, "logged", "holdout")


def test_a_check_is_confirmed_by_drift_and_not_without() -> None:
    assert _check("overtime_surge").confirmed
    assert not _check(None).confirmed
