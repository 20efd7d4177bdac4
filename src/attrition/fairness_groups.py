"""The groups fairness is judged on, written once for training and monitoring.

Audited attributes: ``Gender``, ``AgeBand`` (under 40 / 40 and over, from ``Age``) and
``MaritalStatus``. The training audit (``training/fairness.py``) and the production check
(``monitoring/fairness.py``) both group people with :func:`sensitive_features`. Light on
purpose (numpy and pandas only), so a monitoring check need not import Fairlearn.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

AGE_BAND: Final = "AgeBand"
AGE_BAND_CUTOFF: Final = 40
AUDITED_ATTRIBUTES: Final = ("Gender", AGE_BAND, "MaritalStatus")
FOUR_FIFTHS: Final = 0.8


def age_band(age: pd.Series[Any]) -> pd.Series[Any]:
    """'under 40' or '40 and over'."""
    values = np.where(pd.to_numeric(age) < AGE_BAND_CUTOFF, "under 40", "40 and over")
    return pd.Series(values, index=age.index, name=AGE_BAND)


def sensitive_features(frame: pd.DataFrame) -> dict[str, pd.Series[Any]]:
    """The audited attributes of ``frame`` (protected columns kept for audits)."""
    return {
        "Gender": frame["Gender"].astype(str),
        AGE_BAND: age_band(frame["Age"]),
        "MaritalStatus": frame["MaritalStatus"].astype(str),
    }
