"""Acceptance of the drift engine on the synthetic scenarios and on the real dev file.

* each drift scenario is detected and names the features it shifted;
* a no-drift sample (same distribution) at 300, 3,000 and 100,000 rows raises no alarm
  in at least 95 of 100 seeded repeats (features and prediction scores);
* ``label_shift`` is not caught by feature drift;
* the real dev file split in two shows no drift; against a drifted scenario it does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from attrition.data.synthetic import SCENARIOS, generate_workforce
from attrition.monitoring.config import MonitoringConfig
from attrition.monitoring.drift import compare, detect_drift
from attrition.monitoring.profile import (
    FeatureSpec,
    build_reference,
    columns_from_frame,
    encode_categories,
    feature_specs,
)

CONFIG = MonitoringConfig()
SPECS = feature_specs()
DRIFTING = [name for name, s in SCENARIOS.items() if s.shifted_features]
POOL_ROWS = 200_000
REPEATS = 100


def _columns(frame: pd.DataFrame) -> dict[str, Any]:
    return columns_from_frame(frame, SPECS)


@pytest.fixture(scope="module")
def reference_3000() -> dict[str, Any]:
    return _columns(generate_workforce(3000, seed=11))


@pytest.mark.parametrize("scenario", DRIFTING)
def test_each_scenario_is_detected_and_names_exactly_its_features(
    scenario: str, reference_3000: dict[str, Any]
) -> None:
    current = _columns(generate_workforce(3000, seed=12, scenario=scenario))
    result = compare(reference_3000, current, SPECS, CONFIG.drift)
    assert result.any_drift
    assert set(result.drifted_features) == set(SCENARIOS[scenario].shifted_features)


def test_scenarios_at_the_default_size_flag_only_shifted_features() -> None:
    reference = _columns(generate_workforce(1470, seed=21))
    for scenario in DRIFTING:
        current = _columns(generate_workforce(1470, seed=22, scenario=scenario))
        result = compare(reference, current, SPECS, CONFIG.drift)
        shifted = set(SCENARIOS[scenario].shifted_features)
        assert set(result.drifted_features) <= shifted, scenario
        assert len(result.drifted_features) >= 0.8 * len(shifted), scenario


def test_label_shift_is_not_feature_drift(reference_3000: dict[str, Any]) -> None:
    assert SCENARIOS["label_shift"].shifted_features == ()
    current = _columns(generate_workforce(3000, seed=13, scenario="label_shift"))
    result = compare(reference_3000, current, SPECS, CONFIG.drift)
    assert result.drifted_features == () and not result.dataset_drift


# ------------------------------------------------------------------ no-drift false alarms


def _encode(frame: pd.DataFrame, specs: tuple[FeatureSpec, ...]) -> dict[str, Any]:
    """Categoricals as integer codes once, so the 100 repeats do not re-encode strings."""
    columns = _columns(frame)
    for spec in specs:
        if spec.categorical:
            columns[spec.name] = encode_categories(columns[spec.name], spec.categories)[0]
    return columns


@pytest.fixture(scope="module")
def pool() -> tuple[dict[str, Any], np.ndarray]:
    """A large sample of the undrifted workforce and the scores of a model fitted on it."""
    frame = generate_workforce(POOL_ROWS, seed=7)
    columns = _encode(frame, SPECS)
    design = np.column_stack(
        [np.nan_to_num(np.asarray(columns[s.name], dtype=float)) for s in SPECS]
    )
    design = (design - design.mean(axis=0)) / (design.std(axis=0) + 1e-9)
    target = (frame["Attrition"] == "Yes").to_numpy()
    model = LogisticRegression(max_iter=200).fit(design[:5000], target[:5000])
    return columns, model.predict_proba(design)[:, 1]


@pytest.mark.parametrize("rows", [300, 3000, 100_000])
def test_no_drift_raises_no_alarm_in_95_of_100_repeats(
    rows: int, pool: tuple[dict[str, Any], np.ndarray]
) -> None:
    columns, scores = pool
    alarms = []
    for seed in range(REPEATS):
        rng = np.random.default_rng([rows, seed])
        ref_rows, cur_rows = rng.integers(0, POOL_ROWS, (2, rows))
        reference = {name: values[ref_rows] for name, values in columns.items()}
        current = {name: values[cur_rows] for name, values in columns.items()}
        profile = build_reference(reference, SPECS, CONFIG.drift, scores=scores[ref_rows])
        result = detect_drift(
            profile, current, CONFIG.drift, prediction=CONFIG.prediction, scores=scores[cur_rows]
        )
        alarms.append(result.any_drift or result.dataset_drift)
    assert sum(alarms) <= REPEATS - 95, f"{sum(alarms)} false alarms in {REPEATS} at {rows} rows"


def test_a_real_shift_in_the_same_pool_is_caught(pool: tuple[dict[str, Any], np.ndarray]) -> None:
    """Guards the repeats above: the same sampling does alarm when one feature moves."""
    columns, _scores = pool
    rng = np.random.default_rng(0)
    ref_rows, cur_rows = rng.integers(0, POOL_ROWS, (2, 3000))
    current = {name: values[cur_rows] for name, values in columns.items()}
    current["MonthlyIncome"] = current["MonthlyIncome"] * 1.2
    reference = {name: values[ref_rows] for name, values in columns.items()}
    result = compare(reference, current, SPECS, CONFIG.drift)
    assert result.drifted_features == ("MonthlyIncome",)


# ------------------------------------------------------------------ the real file
# (real_csv: ATTRITION_REAL_DATA; skipped without it)


def test_real_file_split_in_two_shows_no_drift(real_csv: Path) -> None:
    frame = pd.read_csv(real_csv)
    order = np.random.default_rng(2024).permutation(len(frame))
    half = len(frame) // 2
    first, second = frame.iloc[order[:half]], frame.iloc[order[half:]]
    result = compare(_columns(first), _columns(second), SPECS, CONFIG.drift)
    assert result.drifted_features == () and not result.dataset_drift


@pytest.mark.parametrize("scenario", ["overtime_surge", "reorg", "new_hiring_wave"])
def test_real_file_against_a_drifted_scenario_shows_drift(real_csv: Path, scenario: str) -> None:
    real = _columns(pd.read_csv(real_csv))
    drifted = _columns(generate_workforce(1470, seed=5, scenario=scenario))
    result = compare(real, drifted, SPECS, CONFIG.drift)
    assert result.any_drift
    assert set(SCENARIOS[scenario].shifted_features) <= set(result.drifted_features)
