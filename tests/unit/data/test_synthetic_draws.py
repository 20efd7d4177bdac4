"""The chain of draws: one matrix of uniforms per seed, features as codes and values."""

from __future__ import annotations

import numpy as np

from attrition.data.scenarios import NO_DRIFT, SCENARIOS
from attrition.data.synthetic_draws import LATENT, draw_features, draw_latent
from attrition.schema import FEATURE_NAMES


def test_latent_uniforms_are_seeded_one_row_per_draw() -> None:
    latent = draw_latent(50, 3)
    assert list(latent) == list(LATENT)
    assert all(u.shape == (50,) and ((u >= 0) & (u < 1)).all() for u in latent.values())
    again = draw_latent(50, 3)
    assert all(np.array_equal(latent[k], again[k]) for k in latent)
    assert not np.array_equal(latent["level"], draw_latent(50, 4)["level"])


def test_every_schema_feature_is_drawn_for_every_row() -> None:
    features = draw_features(draw_latent(40, 1), NO_DRIFT)
    assert set(features) == set(FEATURE_NAMES)
    assert all(values.shape == (40,) for values in features.values())


def test_a_drift_redraws_only_from_the_same_uniforms() -> None:
    latent = draw_latent(500, 9)
    baseline = draw_features(latent, NO_DRIFT)
    surge = draw_features(latent, SCENARIOS["overtime_surge"].drift)
    assert surge["OverTime"].mean() > baseline["OverTime"].mean()
    unchanged = [name for name in FEATURE_NAMES if name != "OverTime"]
    assert all(np.array_equal(surge[name], baseline[name]) for name in unchanged)
