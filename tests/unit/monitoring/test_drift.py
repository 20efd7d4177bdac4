"""The drift engine on synthetic arrays: verdict rules, results, edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from attrition.errors import AttritionError
from attrition.monitoring.config import DriftConfig
from attrition.monitoring.drift import compare, detect_drift
from attrition.monitoring.profile import FeatureSpec, build_reference, encode_categories

CONFIG = DriftConfig()
NUM = FeatureSpec("x", categorical=False)
CAT = FeatureSpec("c", categorical=True, categories=("a", "b", "c"))
ORD = FeatureSpec("s", categorical=False, ordinal=True)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _one(result_features: tuple[object, ...], name: str) -> object:
    return next(f for f in result_features if f.name == name)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ verdict rules


def test_numeric_shift_is_flagged_and_same_distribution_is_not() -> None:
    rng = _rng(3)
    ref = {"x": rng.normal(50, 10, 2000)}
    same = compare(ref, {"x": rng.normal(50, 10, 1500)}, [NUM], CONFIG)
    shifted = compare(ref, {"x": rng.normal(54, 10, 1500)}, [NUM], CONFIG)
    assert same.drifted_features == () and not same.any_drift
    assert shifted.drifted_features == ("x",)
    feature = shifted.features[0]
    assert feature.kind == "numeric" and feature.test == "ks"
    assert feature.effect == pytest.approx(0.4, abs=0.1)
    assert feature.reasons == ("distribution",)


def test_huge_samples_do_not_flag_trivial_differences() -> None:
    rng = _rng(4)
    ref = {"x": rng.normal(0, 1, 200_000)}
    result = compare(ref, {"x": rng.normal(0.04, 1, 200_000)}, [NUM], CONFIG)
    feature = result.features[0]
    assert feature.p_adjusted is not None and feature.p_adjusted < 1e-10  # significant...
    assert feature.effect is not None and feature.effect < CONFIG.min_effect.numeric
    assert not feature.drifted  # ...but trivial


def test_small_samples_need_significance_not_just_a_large_effect() -> None:
    rng = _rng(5)
    ref = {"x": rng.normal(0, 1, 35)}
    result = compare(ref, {"x": rng.normal(0.15, 1, 35)}, [NUM], CONFIG)
    feature = result.features[0]
    assert feature.effect is not None and feature.effect > CONFIG.min_effect.numeric
    assert not feature.drifted


def test_ordinal_and_low_cardinality_integers_are_compared_as_levels() -> None:
    rng = _rng(6)
    low = FeatureSpec("few", categorical=False)
    ref = {
        "s": rng.choice([1, 2, 3, 4], 3000, p=[0.1, 0.2, 0.4, 0.3]),
        "few": rng.integers(0, 4, 3000),
    }
    cur = {
        "s": rng.choice([1, 2, 3, 4], 3000, p=[0.2, 0.3, 0.3, 0.2]),
        "few": rng.integers(0, 4, 3000),
    }
    result = compare(ref, cur, [ORD, low], CONFIG)
    kinds = {f.name: (f.kind, f.test, f.effect_name) for f in result.features}
    assert kinds["s"] == ("discrete", "chi2", "jensen_shannon")
    assert kinds["few"] == ("discrete", "chi2", "jensen_shannon")
    assert result.drifted_features == ("s",)
    shown = _one(result.features, "s")
    assert shown.reference.labels == ("1", "2", "3", "4")  # type: ignore[attr-defined]


def test_discrete_value_never_seen_in_the_reference_is_reported() -> None:
    rng = _rng(7)
    ref = {"s": rng.choice([3, 4], 2000, p=[0.8, 0.2])}
    values = rng.choice([3, 4], 2000, p=[0.8, 0.2])
    values[:200] = 1
    result = compare(ref, {"s": values}, [ORD], CONFIG)
    feature = result.features[0]
    assert feature.unseen == {"1": 200}
    assert feature.unseen_rate == pytest.approx(0.1)
    assert set(feature.reasons) == {"distribution", "unseen"}


def test_categorical_shift_unseen_and_missing() -> None:
    rng = _rng(8)
    ref = {"c": rng.choice(["a", "b", "c"], 3000, p=[0.5, 0.3, 0.2]).astype(object)}
    cur_values = rng.choice(["a", "b", "c"], 3000, p=[0.5, 0.3, 0.2]).astype(object)
    cur_values[:6] = "zz"
    cur_values[6:16] = None
    cur_values[16:21] = ""
    cur_values[21:26] = np.nan
    feature = compare(ref, {"c": cur_values}, [CAT], CONFIG).features[0]
    assert feature.unseen == {"zz": 6}
    assert feature.missing_rate_current == pytest.approx(20 / 3000, abs=1e-6)
    assert feature.missing_rate_reference == 0.0
    assert not feature.drifted  # 0.2% unseen, 0.7% missing: reported, under the tolerances
    cur_values[:90] = "zz"  # 3% of rows in a category the model never saw
    feature = compare(ref, {"c": cur_values}, [CAT], CONFIG).features[0]
    assert feature.reasons == ("distribution",) and feature.unseen == {"zz": 90}
    shifted = rng.choice(["a", "b", "c"], 3000, p=[0.3, 0.3, 0.4]).astype(object)
    shifted[:600] = None
    flagged = compare(ref, {"c": shifted}, [CAT], CONFIG).features[0]
    assert set(flagged.reasons) == {"distribution", "missing"}


def test_integer_codes_give_the_same_result_as_strings() -> None:
    rng = _rng(9)
    ref = rng.choice(["a", "b", "c"], 1000).astype(object)
    cur = rng.choice(["a", "b", "c"], 800, p=[0.2, 0.3, 0.5]).astype(object)
    codes = {v: i for i, v in enumerate(CAT.categories)}
    by_string = compare({"c": ref}, {"c": cur}, [CAT], CONFIG)
    by_code = compare(
        {"c": np.array([codes[v] for v in ref])},
        {"c": np.array([codes[v] for v in cur])},
        [CAT],
        CONFIG,
    )
    assert by_string.to_dict() == by_code.to_dict()
    with pytest.raises(AttritionError, match="codes must be from -1"):
        encode_categories(np.array([0, 3]), CAT.categories)


def test_dataset_drift_uses_the_configured_share() -> None:
    rng = _rng(10)
    specs = [FeatureSpec(f"x{i}", categorical=False) for i in range(4)]
    ref = {s.name: rng.normal(0, 1, 1000) for s in specs}
    cur = {s.name: rng.normal(0, 1, 1000) for s in specs}
    cur["x0"] = rng.normal(1, 1, 1000)
    result = compare(ref, cur, specs, CONFIG)
    assert result.drifted_features == ("x0",)
    assert result.drift_share == 0.25 and not result.dataset_drift
    result = compare(ref, cur, specs, DriftConfig(drift_share=0.25))
    assert result.dataset_drift
    assert result.features[0].name == "x0"  # drifted first


def test_prediction_drift_on_scores() -> None:
    rng = _rng(11)
    columns = {"x": rng.normal(0, 1, 1000)}
    ref_scores = rng.beta(2, 8, 1000)
    profile = build_reference(columns, [NUM], CONFIG, scores=ref_scores)
    steady = detect_drift(profile, columns, CONFIG, scores=rng.beta(2, 8, 1000))
    moved = detect_drift(profile, columns, CONFIG, scores=rng.beta(4, 6, 1000))
    assert not steady.prediction_drift
    assert moved.prediction_drift and moved.any_drift and moved.drifted_features == ()
    assert detect_drift(profile, columns, CONFIG).prediction is None


def test_result_is_json_ready_with_plot_summaries() -> None:
    rng = _rng(12)
    ref = {"x": rng.normal(0, 1, 500), "c": rng.choice(["a", "b"], 500).astype(object)}
    cur = {
        "x": np.concatenate([rng.normal(1, 1, 480), [np.nan] * 20]),
        "c": rng.choice(["a", "c"], 500).astype(object),
    }
    data = json.loads(compare(ref, cur, [NUM, CAT], CONFIG).to_json())
    numeric = next(f for f in data["features"] if f["name"] == "x")
    assert len(numeric["reference"]["edges"]) == len(numeric["reference"]["proportions"]) + 1
    assert sum(numeric["current"]["proportions"]) == pytest.approx(1.0, abs=1e-5)
    assert {"mean", "std", "p50"} <= set(numeric["current"]["stats"])
    categorical = next(f for f in data["features"] if f["name"] == "c")
    assert categorical["reference"]["labels"] == ["a", "b", "c"]
    assert categorical["unseen"] == {}  # "c" is a known category, just absent from the reference
    assert data["n_features"] == 2
    assert set(data["drifted_features"]) == {"x", "c"}
    assert numeric["missing_rate_current"] == pytest.approx(0.04)
    for feature in data["features"]:
        for key in ("kind", "statistic", "p_value", "p_adjusted", "effect", "threshold", "drifted"):
            assert key in feature


def test_untested_feature_has_null_statistics() -> None:
    rng = _rng(13)
    ref = {"x": rng.normal(0, 1, 200)}
    cur = {"x": np.concatenate([rng.normal(0, 1, 10), [np.nan] * 190])}
    feature = compare(ref, cur, [NUM], CONFIG).features[0]
    assert feature.p_value is None and feature.statistic is None
    assert feature.reasons == ("missing",)


# ------------------------------------------------------------------ inputs and errors


def test_user_errors_name_the_problem() -> None:
    ref = {"x": np.arange(100.0)}
    with pytest.raises(AttritionError, match="lacks column"):
        compare(ref, {"y": np.arange(100.0)}, [NUM], CONFIG)
    with pytest.raises(AttritionError, match="at least 30"):
        compare(ref, {"x": np.arange(5.0)}, [NUM], CONFIG)
    with pytest.raises(AttritionError, match="must hold numbers"):
        compare(ref, {"x": np.array(["a"] * 100, dtype=object)}, [NUM], CONFIG)
    with pytest.raises(AttritionError, match="different lengths"):
        compare(
            {"x": np.arange(100.0), "c": np.array(["a"] * 99, dtype=object)},
            ref,
            [NUM, CAT],
            CONFIG,
        )


def test_discrete_bars_are_in_numeric_order_and_capped() -> None:
    rng = _rng(14)
    ref = {"s": rng.choice([2, 3, 4], 1000).astype(float)}
    few_new = compare(ref, {"s": rng.choice([1, 2, 3, 4, 10], 1000).astype(float)}, [ORD], CONFIG)
    assert few_new.features[0].current.labels == ("1", "2", "3", "4", "10")
    many_new = compare(ref, {"s": rng.integers(0, 500, 1000).astype(float)}, [ORD], CONFIG)
    view = many_new.features[0].current
    assert len(view.labels) == 40 and view.labels[-1] == "other"
    assert sum(view.proportions) == pytest.approx(1.0, abs=1e-5)
    assert len(many_new.features[0].unseen) == 20  # listed unseen values are capped too


def test_empty_reference_or_current_columns_do_not_crash() -> None:
    rng = _rng(15)
    specs = [NUM, CAT]
    full = {"x": rng.normal(0, 1, 300), "c": rng.choice(["a", "b"], 300).astype(object)}
    empty = {"x": np.full(300, np.nan), "c": np.full(300, None, dtype=object)}
    no_reference = compare(empty, full, specs, CONFIG)
    assert all(f.p_value is None for f in no_reference.features)
    reasons = {f.name: f.reasons for f in no_reference.features}
    assert reasons == {"x": ("missing", "unseen"), "c": ("missing",)}
    assert _one(no_reference.features, "x").unseen_rate == 1.0  # type: ignore[attr-defined]
    no_current = compare(full, empty, specs, CONFIG)
    assert set(no_current.drifted_features) == {"x", "c"}
    assert all(f.missing_rate_current == 1.0 for f in no_current.features)
