"""Risk bands: the one rule behind the API's workforce summary, batch results and the
dashboard. A band starts at a fraction of the model's decision threshold."""

from __future__ import annotations

from typing import Final

# (band, lowest probability as a fraction of the threshold), highest band first.
BAND_FLOORS: Final = (("high", 1.0), ("medium", 0.5))
LOWEST_BAND: Final = "low"
RISK_BANDS: Final = (*(band for band, _ in BAND_FLOORS), LOWEST_BAND)


def risk_band(probability: float, threshold: float) -> str:
    """high at or above the threshold, medium from half of it, else low."""
    for band, fraction in BAND_FLOORS:
        if probability >= threshold * fraction:
            return band
    return LOWEST_BAND
