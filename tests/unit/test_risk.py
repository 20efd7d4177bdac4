"""Risk bands: one rule, the same in Python and in the workforce summary's SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, literal, select

from attrition.risk import RISK_BANDS, risk_band
from attrition.serving.queries import risk_band_case

PROBABILITIES = [0.0, 0.1, 0.149, 0.15, 0.29, 0.3, 0.9, 1.0]


@pytest.mark.parametrize(
    ("probability", "band"), [(0.0, "low"), (0.149, "low"), (0.15, "medium"), (0.3, "high")]
)
def test_bands_start_at_half_the_threshold_and_at_the_threshold(
    probability: float, band: str
) -> None:
    assert risk_band(probability, 0.3) == band


def test_bands_are_listed_highest_first() -> None:
    assert RISK_BANDS == ("high", "medium", "low")


@pytest.mark.parametrize("probability", PROBABILITIES)
def test_the_sql_expression_gives_the_same_band(probability: float) -> None:
    engine = create_engine("sqlite://")
    expression = risk_band_case(literal(probability), literal(0.3))
    with engine.connect() as connection:
        assert connection.execute(select(expression)).scalar_one() == risk_band(probability, 0.3)
