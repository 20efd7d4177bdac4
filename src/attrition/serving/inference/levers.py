"""Retention levers: for each scored employee, the single or paired changes allowed by the
schema (``attrition.schema.LEVERS``) that lower the predicted risk most, with the risk after.

Two vectorised calls of the served scorer, whatever the number of employees: first every
single move that applies to each employee, then one pair per employee (their two best
singles together). On the compiled path the employees are encoded once; each candidate
row copies that encoding and rewrites only the columns its levers move (a raw numeric
column, a one-hot code). Any other scorer gets the same candidate rows as one DataFrame.

These are the model's associations, not causal promises (``attrition.actions.LEVERS_NOTE``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

import numpy as np

from attrition.schema import LEVERS, Lever
from attrition.serving.inference.scoring import Scorer, rows_to_frame

MAX_LEVERS = 3
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


@dataclass(frozen=True)
class Plan:
    """Which candidates to score for which employees: ``moved[i][j]`` is employee j's value
    after lever i (None: the move does not apply); scored row r is candidate ``k[r]``
    (an index into ``combos``) of employee ``j[r]``."""

    levers: tuple[Lever, ...]
    moved: list[list[Any]]
    combos: list[tuple[int, ...]]
    member: np.ndarray  # (candidates, levers): the levers each candidate moves
    k: np.ndarray
    j: np.ndarray
    encoded: Any = None  # the compiled encoder's (x, codes) of the employees, once

    def only(self, k: np.ndarray, j: np.ndarray) -> Plan:
        return replace(self, k=k, j=j)


def plan(levers: tuple[Lever, ...], rows: Sequence[Row]) -> Plan:
    """Every single lever that applies to each employee (pairs are chosen after them)."""
    moved = [[lever.moved(row[lever.feature]) for row in rows] for lever in levers]
    combos = candidates(len(levers))
    member = np.zeros((len(combos), len(levers)), dtype=bool)
    for index, combo in enumerate(combos):
        member[index, list(combo)] = True
    applies = np.array([[m is not None for m in per_row] for per_row in moved], dtype=bool)
    k, j = np.nonzero(applies)
    return Plan(levers, moved, combos, member, k, j)


def suggest(
    scorer: Scorer,
    feature_names: Sequence[str],
    rows: Sequence[Row],
    base: np.ndarray,
    limit: int = MAX_LEVERS,
) -> list[list[Suggestion]]:
    """Per row, up to ``limit`` single changes that lower its risk ``base`` (lowest risk
    first), then its two best levers together when that beats each of them alone.

    Two vectorised calls of the scorer: every applicable single move of every row, then
    the one pair per row that has two useful singles.
    """
    levers = active_levers(feature_names)
    if not levers or not rows:
        return [[] for _ in rows]
    base = np.asarray(base, dtype=np.float64)
    moves = plan(levers, rows)
    if getattr(scorer, "kind", "") == "compiled":
        moves = replace(moves, encoded=scorer.encoder.encode_rows(rows))  # type: ignore[attr-defined]
    after = np.full((len(moves.combos), len(rows)), np.inf)
    after[moves.k, moves.j] = candidate_probabilities(scorer, feature_names, rows, moves)
    useful = after[: len(levers)] < base
    order = np.argsort(np.where(useful, after[: len(levers)], np.inf), axis=0, kind="stable")
    pair_k, pair_j = _pairs(moves, order, useful)
    if len(pair_j):
        pairs = moves.only(pair_k, pair_j)
        after[pair_k, pair_j] = candidate_probabilities(scorer, feature_names, rows, pairs)
    best_pair = np.full(len(rows), -1)
    best_pair[pair_j] = pair_k
    picks = _picks(order[:limit], useful, after, best_pair)
    risks, before = after.T.tolist(), base.tolist()
    return [
        [_suggestion(moves, k, row, j, risks[j][k], before[j]) for k in chosen]
        for j, (row, chosen) in enumerate(zip(rows, picks, strict=True))
    ]


def _picks(
    order: np.ndarray, useful: np.ndarray, after: np.ndarray, best_pair: np.ndarray
) -> list[list[int]]:
    """Per employee, the candidates to report: its useful singles in order, then its pair
    when that predicts a lower risk than its best single."""
    out = []
    for ranked, helps, risks, pair in zip(
        order.T.tolist(), useful.T.tolist(), after.T.tolist(), best_pair.tolist(), strict=True
    ):
        chosen = [k for k in ranked if helps[k]]
        if pair >= 0 and risks[pair] < risks[chosen[0]]:
            chosen.append(pair)
        out.append(chosen)
    return out


def _pairs(moves: Plan, order: np.ndarray, useful: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(candidate, employee) of each employee's two best useful singles taken together."""
    if order.shape[0] < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    columns = np.arange(order.shape[1])
    first, second = order[0], order[1]
    j = np.nonzero(useful[first, columns] & useful[second, columns])[0]
    index = {combo: k for k, combo in enumerate(moves.combos)}
    k = [
        index[(min(a, b), max(a, b))]
        for a, b in zip(first[j].tolist(), second[j].tolist(), strict=True)
    ]
    return np.asarray(k, dtype=np.int64), j


def _suggestion(
    moves: Plan, k: int, row: Row, j: int, probability: float, base: float
) -> Suggestion:
    changes = tuple(
        Change(
            moves.levers[i].feature,
            _plain(row[moves.levers[i].feature]),
            _plain(moves.moved[i][j]),
            moves.levers[i].action,
        )
        for i in moves.combos[k]
    )
    return Suggestion(changes, float(probability), float(base))


def candidate_probabilities(
    scorer: Scorer, feature_names: Sequence[str], rows: Sequence[Row], moves: Plan
) -> np.ndarray:
    """The risk of each planned row (candidate ``moves.k`` of employee ``moves.j``), all
    scored in one call of the scorer."""
    if getattr(scorer, "kind", "") == "compiled":
        return _compiled(scorer, rows, moves)
    return _through_frame(scorer, feature_names, rows, moves)


def _edited(moves: Plan) -> list[tuple[Lever, np.ndarray, list[Any]]]:
    """Per lever: which scored rows it moves, and their new values."""
    out = []
    for i, lever in enumerate(moves.levers):
        selected = moves.member[moves.k, i]
        if selected.any():
            out.append((lever, selected, [moves.moved[i][t] for t in moves.j[selected].tolist()]))
    return out


def _compiled(scorer: Any, rows: Sequence[Row], moves: Plan) -> np.ndarray:
    encoder = scorer.encoder
    x, codes = moves.encoded if moves.encoded is not None else encoder.encode_rows(rows)
    xs, cs = x[moves.j], codes[moves.j]
    for lever, selected, values in _edited(moves):
        for column, number in enumerate(encoder.numeric_inputs):
            if number == lever.feature:
                xs[selected, column] = np.asarray(values, dtype=np.float64)
        for column, block in enumerate(encoder.blocks):
            if block.column == lever.feature:
                positions = [block.positions.get(v, -1) for v in values]
                cs[selected, column] = np.asarray(positions, dtype=np.int64)
    return np.asarray(scorer.probabilities(xs, cs))


def _through_frame(
    scorer: Scorer, feature_names: Sequence[str], rows: Sequence[Row], moves: Plan
) -> np.ndarray:
    base = rows_to_frame(rows, list(feature_names))
    frame = base.iloc[moves.j].reset_index(drop=True)
    for lever, selected, values in _edited(moves):
        column = lever.feature
        frame.loc[selected, column] = np.asarray(values, dtype=frame[column].to_numpy().dtype)
    return np.asarray(scorer.probabilities_frame(frame))
