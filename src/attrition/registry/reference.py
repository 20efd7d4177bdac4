"""The drift reference a version carries, without a linkable personal row.

``reference/marginals.json`` holds what drift, prediction drift and the report need and
nothing that links one person's attributes together:

* per feature, its **marginal**: the distinct values with their counts, and the count of
  missing values; each column is summarised on its own, so no row can be rebuilt;
* the **score distributions** of the training data, each sorted and without labels:
  ``holdout`` (the served model's scores on the holdout, the prediction-drift reference)
  and ``out_of_fold`` (calibrated out-of-fold scores of the training split);
* ``rows``, the number of training rows summarised.

Monitoring expands a marginal back into a column (each value repeated by its count), which
gives exactly the distributions, counts and tests the full rows gave, in another row order
(the drift engine never looks at the order). Performance reads the holdout metrics
(``metrics/holdout_metrics.json``) and the Model page the curves (``curves/curves.json``).

Versions trained before this format carry ``reference/reference.parquet`` (full training
rows with label and score): :func:`load_reference` still reads it, converted to marginals on
arrival, so only the marginals reach a local cache.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # numpy and pandas load when a reference is built or expanded
    import numpy.typing as npt
    import pandas as pd

MARGINALS_ARTIFACT: Final = "reference/marginals.json"
FORMAT: Final = "attrition-reference-marginals/1"
HOLDOUT: Final = "holdout"
OUT_OF_FOLD: Final = "out_of_fold"
# The old format's columns besides the schema's (read when converting it).
LEGACY_SCORE_COLUMN: Final = "attrition_probability"
LEGACY_SPLIT_COLUMN: Final = "reference_split"

Value = int | float | str


@dataclass(frozen=True, slots=True)
class Marginal:
    """One feature on its own: distinct values (sorted), their counts, missing values."""

    values: tuple[Value, ...]
    counts: tuple[int, ...]
    missing: int = 0

    @property
    def rows(self) -> int:
        return sum(self.counts) + self.missing

    def column(self, categorical: bool) -> npt.NDArray[Any]:
        """The column back, each value repeated by its count, missing ones last."""
        import numpy as np

        if categorical:
            present = [v for v, n in zip(self.values, self.counts, strict=True) for _ in range(n)]
            return np.array([*present, *([None] * self.missing)], dtype=object)
        numbers = np.repeat(np.asarray(self.values, dtype=np.float64), self.counts)
        return np.concatenate([numbers, np.full(self.missing, np.nan)])


@dataclass(frozen=True, slots=True)
class ReferenceMarginals:
    """A version's drift reference: per-feature marginals and sorted score lists."""

    rows: int
    features: dict[str, Marginal]
    scores: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "format": FORMAT,
            "rows": self.rows,
            "features": {
                name: {"values": list(m.values), "counts": list(m.counts), "missing": m.missing}
                for name, m in self.features.items()
            },
            "scores": {kind: list(values) for kind, values in self.scores.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceMarginals:
        """Read :meth:`to_dict`'s form; another format is a ``ValueError``."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a reference in format {FORMAT}: {data.get('format')!r}")
        features = {str(name): _marginal(entry) for name, entry in data["features"].items()}
        scores = {str(k): tuple(float(v) for v in vs) for k, vs in data.get("scores", {}).items()}
        return cls(int(data["rows"]), features, scores)


def _marginal(entry: Mapping[str, Any]) -> Marginal:
    counts = tuple(int(n) for n in entry["counts"])
    return Marginal(tuple(entry["values"]), counts, int(entry.get("missing", 0)))


def _plain(value: Any) -> Value:
    item = value.item() if hasattr(value, "item") and not isinstance(value, str) else value
    if isinstance(item, float) and item.is_integer():
        return int(item)
    return item if isinstance(item, int | float) else str(item)


def marginal(values: Iterable[Any]) -> Marginal:
    """Pure: the marginal of one column (None, NaN and "" count as missing)."""
    counts: dict[Value, int] = {}
    missing = 0
    for value in values:
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            missing += 1
            continue
        key = _plain(value)
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts, key=lambda v: (isinstance(v, str), v))
    return Marginal(tuple(ordered), tuple(counts[v] for v in ordered), missing)


def sorted_scores(values: Iterable[Any]) -> tuple[float, ...]:
    """Pure: finite scores, sorted (no order left to link them to rows)."""
    import numpy as np

    numbers = np.asarray(list(values), dtype=np.float64)
    return tuple(float(v) for v in np.sort(numbers[np.isfinite(numbers)]))


def marginals_from_frame(
    frame: pd.DataFrame, names: Iterable[str], scores: Mapping[str, Any]
) -> ReferenceMarginals:
    """Pure: the reference of rows ``frame`` (the ``names`` columns) and score arrays."""
    present = [name for name in names if name in frame.columns]
    features = {name: marginal(frame[name].tolist()) for name in present}
    kept = {kind: sorted_scores(values) for kind, values in scores.items()}
    return ReferenceMarginals(len(frame), features, kept)


def marginals_from_legacy(frame: pd.DataFrame, names: Iterable[str]) -> ReferenceMarginals:
    """Pure: an old ``reference.parquet`` (full rows) as marginals; holdout scores are the
    rows marked ``holdout``, out-of-fold scores the others (all rows without a split)."""
    scores: dict[str, Any] = {}
    if LEGACY_SCORE_COLUMN in frame.columns:
        values = frame[LEGACY_SCORE_COLUMN]
        if LEGACY_SPLIT_COLUMN in frame.columns:
            holdout = frame[LEGACY_SPLIT_COLUMN] == HOLDOUT
            scores = {HOLDOUT: values[holdout], OUT_OF_FOLD: values[~holdout]}
        else:
            scores = {OUT_OF_FOLD: values}
    return marginals_from_frame(frame, names, scores)
