"""Retention levers: for each scored employee, the single or paired changes allowed by the
schema (``attrition.schema.LEVERS``) that lower the predicted risk most, with the risk after.

All candidate rows of all employees are scored in one call of the served scorer. On the
compiled path the employees are encoded once; each candidate copies that encoding and
rewrites only the columns its levers move (a raw numeric column, a one-hot code), so the
cost is one vectorised pass over ``employees x candidates`` rows. Any other scorer gets the
same candidates as one DataFrame.

These are the model's associations, not causal promises (``LEVERS_NOTE``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from attrition.schema import LEVERS, Lever
from attrition.serving.inference.scoring import Scorer, rows_to_frame

MAX_LEVERS = 3
LEVERS_NOTE = (
    "Levers are the model's associations, not causal promises: each risk is what the model "
    "predicts for the same employee with that one change (or pair), everything else equal. "
    "Whether the change would make this person stay is for HR and the employee to judge."
)
Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    feature: str
    value: Any
    new_value: Any
    action: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One single or paired change and the predicted risk after it."""

    changes: tuple[Change, ...]
    probability: float
    base: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [
                {
                    "feature": c.feature,
                    "value": c.value,
                    "new_value": c.new_value,
                    "action": c.action,
                }
                for c in self.changes
            ],
            "attrition_probability": self.probability,
            "risk_reduction": self.base - self.probability,
        }


def active_levers(feature_names: Sequence[str]) -> tuple[Lever, ...]:
    """The schema's levers on features this model reads (others would change nothing)."""
    return tuple(lever for lever in LEVERS if lever.feature in feature_names)


def candidates(count: int) -> list[tuple[int, ...]]:
    """Every single lever, then every pair, as indexes into the active levers."""
    return [(i,) for i in range(count)] + list(combinations(range(count), 2))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def suggest(
    scorer: Scorer,
    feature_names: Sequence[str],
    rows: Sequence[Row],
    base: np.ndarray,
    limit: int = MAX_LEVERS,
) -> list[list[Suggestion]]:
    """Per row, up to ``limit`` single changes that lower its risk ``base`` (lowest risk
    first), then the best pair when it predicts a lower risk than each of its levers alone.
    """
    levers = active_levers(feature_names)
    if not levers or not rows:
        return [[] for _ in rows]
    moved = [[lever.moved(row[lever.feature]) for row in rows] for lever in levers]
    combos = candidates(len(levers))
    after = candidate_probabilities(scorer, feature_names, rows, levers, moved, combos)
    keep = _useful(after, np.asarray(base, dtype=np.float64), moved, combos)
    ranked = np.where(keep, after, np.inf)
    count = len(levers)
    singles = np.argsort(ranked[:count], axis=0, kind="stable")[:limit]
    pairs = count + np.argmin(ranked[count:], axis=0, keepdims=True) if count > 1 else singles[:0]
    out: list[list[Suggestion]] = []
    for j, row in enumerate(rows):
        picks = [int(k) for k in (*singles[:, j], *pairs[:, j]) if keep[k, j]]
        out.append(
            [_suggestion(levers, moved, combos[k], row, j, after[k, j], base[j]) for k in picks]
        )
    return out


def _useful(
    after: np.ndarray, base: np.ndarray, moved: list[list[Any]], combos: list[tuple[int, ...]]
) -> np.ndarray:
    """(candidates, rows): the move applies, lowers the risk, and a pair beats its parts."""
    applies = np.array([[m is not None for m in per_row] for per_row in moved], dtype=bool)
    keep = np.empty_like(after, dtype=bool)
    for k, combo in enumerate(combos):
        keep[k] = applies[list(combo)].all(axis=0) & (after[k] < base)
        if len(combo) == 2:
            keep[k] &= after[k] < np.minimum(after[combo[0]], after[combo[1]])
    return keep


def _suggestion(
    levers: Sequence[Lever],
    moved: list[list[Any]],
    combo: tuple[int, ...],
    row: Row,
    j: int,
    probability: float,
    base: float,
) -> Suggestion:
    changes = tuple(
        Change(
            levers[i].feature,
            _plain(row[levers[i].feature]),
            _plain(moved[i][j]),
            levers[i].action,
        )
        for i in combo
    )
    return Suggestion(changes, float(probability), float(base))


def candidate_probabilities(
    scorer: Scorer,
    feature_names: Sequence[str],
    rows: Sequence[Row],
    levers: Sequence[Lever],
    moved: list[list[Any]],
    combos: list[tuple[int, ...]],
) -> np.ndarray:
    """(candidates, rows): the risk of every row after every candidate, in one call."""
    values = [
        [row[lever.feature] if m is None else m for row, m in zip(rows, per_row, strict=True)]
        for lever, per_row in zip(levers, moved, strict=True)
    ]
    if getattr(scorer, "kind", "") == "compiled":
        return _compiled(scorer, rows, levers, values, combos)
    return _through_frame(scorer, feature_names, rows, levers, values, combos)


def _compiled(
    scorer: Any,
    rows: Sequence[Row],
    levers: Sequence[Lever],
    values: list[list[Any]],
    combos: list[tuple[int, ...]],
) -> np.ndarray:
    encoder = scorer.encoder
    x, codes = encoder.encode_rows(rows)
    n = len(rows)
    xs, cs = np.tile(x, (len(combos), 1)), np.tile(codes, (len(combos), 1))
    edits = [
        _column_edits(encoder, lever.feature, v) for lever, v in zip(levers, values, strict=True)
    ]
    for k, combo in enumerate(combos):
        part = slice(k * n, (k + 1) * n)
        for i in combo:
            for column, new in edits[i][0]:
                xs[part, column] = new
            for column, new in edits[i][1]:
                cs[part, column] = new
    return np.asarray(scorer.probabilities(xs, cs)).reshape(len(combos), n)


def _column_edits(
    encoder: Any, feature: str, values: list[Any]
) -> tuple[list[tuple[int, np.ndarray]], list[tuple[int, np.ndarray]]]:
    """What moving ``feature`` to ``values`` writes: raw numeric columns, one-hot codes."""
    numeric = [
        (i, np.asarray(values, dtype=np.float64))
        for i, name in enumerate(encoder.numeric_inputs)
        if name == feature
    ]
    onehot = [
        (j, np.array([block.positions.get(v, -1) for v in values], dtype=np.int64))
        for j, block in enumerate(encoder.blocks)
        if block.column == feature
    ]
    return numeric, onehot


def _through_frame(
    scorer: Scorer,
    feature_names: Sequence[str],
    rows: Sequence[Row],
    levers: Sequence[Lever],
    values: list[list[Any]],
    combos: list[tuple[int, ...]],
) -> np.ndarray:
    import pandas as pd

    base = rows_to_frame(rows, list(feature_names))
    parts = []
    for combo in combos:
        part = base.copy()
        for i in combo:
            column = levers[i].feature
            part[column] = pd.Series(values[i], dtype=base[column].dtype)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    return np.asarray(scorer.probabilities_frame(frame)).reshape(len(combos), len(rows))
