"""Scoring: from validated employee rows (or a DataFrame) to probabilities and top factors.

A ``Scorer`` maps request rows (mappings of column -> value) or a DataFrame to calibrated
probabilities and the top factors of each row. ``PipelineScorer`` is the reference: it
builds a DataFrame and calls the model itself. The compiled scorer in
``attrition.serving.inference.compiled`` gives the same numbers with array operations only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from attrition.schema import FEATURES, CategoricalFeature

FactorList = list[tuple[str, float]]


@dataclass(frozen=True, slots=True)
class Scores:
    """Probabilities (n,) and, per row, the top (feature, contribution) pairs."""

    probabilities: np.ndarray
    factors: list[FactorList]


class Scorer(Protocol):
    kind: str

    def score_rows(self, rows: Sequence[Mapping[str, Any]], top_k: int) -> Scores: ...

    def score_frame(self, frame: pd.DataFrame, top_k: int) -> Scores: ...

    def probabilities_frame(self, frame: pd.DataFrame) -> np.ndarray: ...


def rows_to_frame(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> pd.DataFrame:
    """The DataFrame the model was trained on: integer numerics, string categories."""
    data: dict[str, Any] = {}
    for name in names:
        values = [row[name] for row in rows]
        feature = FEATURES.get(name)
        is_category = feature is None or isinstance(feature, CategoricalFeature)
        data[name] = np.array(values, dtype=object if is_category else np.int64)
    return pd.DataFrame(data)


def positive_proba(model: Any, frame: pd.DataFrame) -> np.ndarray:
    """The model's probability of the positive class as a 1-D array."""
    proba = np.asarray(model.predict_proba(frame), dtype=np.float64)
    return proba[:, 1] if proba.ndim == 2 else proba


def normalise_factors(raw: Any, n_rows: int, top_k: int) -> list[FactorList]:
    """Top factors from an explainer's output, whatever its exact container shape.

    Accepts, per row, a mapping feature -> contribution, or a sequence of factor objects
    (``.feature``, ``.contribution``), mappings with those keys, or (feature,
    contribution) pairs; a DataFrame of contributions (rows x features) is accepted too.
    """
    if isinstance(raw, pd.DataFrame):
        raw = [dict(zip(raw.columns, row, strict=True)) for row in raw.to_numpy()]
    rows = list(raw)
    if len(rows) != n_rows:
        raise ValueError(f"explainer returned {len(rows)} rows for {n_rows}")
    return [_top(_pairs(row), top_k) for row in rows]


def _pairs(row: Any) -> FactorList:
    if isinstance(row, Mapping):
        return [(str(k), float(v)) for k, v in row.items()]
    pairs: FactorList = []
    for item in row:
        if hasattr(item, "feature") and hasattr(item, "contribution"):
            pairs.append((str(item.feature), float(item.contribution)))
        elif isinstance(item, Mapping):
            pairs.append((str(item["feature"]), float(item["contribution"])))
        else:
            pairs.append((str(item[0]), float(item[1])))
    return pairs


def _top(pairs: FactorList, top_k: int) -> FactorList:
    return sorted(pairs, key=lambda p: -abs(p[1]))[:top_k]


class PipelineScorer:
    """The reference path: DataFrame in, the model's own predict_proba and explain."""

    kind = "pipeline"

    def __init__(self, model: Any, feature_names: Sequence[str]) -> None:
        self._model = model
        self._names = list(feature_names)

    def score_rows(self, rows: Sequence[Mapping[str, Any]], top_k: int) -> Scores:
        return self.score_frame(rows_to_frame(rows, self._names), top_k)

    def probabilities_frame(self, frame: pd.DataFrame) -> np.ndarray:
        return positive_proba(self._model, frame)

    def score_frame(self, frame: pd.DataFrame, top_k: int) -> Scores:
        probabilities = positive_proba(self._model, frame)
        raw = self._model.explain(frame, top_k=top_k)
        return Scores(probabilities, normalise_factors(raw, len(frame), top_k))
