"""Tree ensembles as flat node arrays walked by one numba kernel.

- scikit-learn forests: features compared as float32 against float64 thresholds
  (``x <= t`` goes left), the trees' leaf class-1 frequencies averaged, exactly as
  ``predict_proba`` does.
- LightGBM: float64 comparisons with LightGBM's missing-value rules (``default_left`` for
  NaN or zero when the split says so), leaf values summed to the raw log-odds score.

The same walk credits each split's change of node value to the split feature (path
attribution): per row the credits sum to the prediction minus the root value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange

MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
_ZERO = 1e-35  # LightGBM's kZeroThreshold


def _walk_rows(  # type: ignore[no-untyped-def]
    x,
    left,
    right,
    feature,
    threshold,
    value,
    missing,
    default_left,
    roots,
    scale,
    out_p,
    out_c,
    want,
    i,
):
    total = 0.0
    for t in range(roots.shape[0]):
        node = roots[t]
        while left[node] >= 0:
            f = feature[node]
            v = x[i, f]
            m = missing[node]
            if np.isnan(v) and m != MISSING_NAN:
                v = 0.0
            if (m == MISSING_ZERO and abs(v) <= _ZERO) or (m == MISSING_NAN and np.isnan(v)):
                child = left[node] if default_left[node] else right[node]
            elif v <= threshold[node]:
                child = left[node]
            else:
                child = right[node]
            if want:
                out_c[i, f] += (value[child] - value[node]) * scale
            node = child
        total += value[node]
    out_p[i] = total * scale


_row = njit(cache=True, nogil=True, inline="always")(_walk_rows)


@njit(cache=True, nogil=True)  # type: ignore[misc]
def _walk(  # type: ignore[no-untyped-def]
    x,
    left,
    right,
    feature,
    threshold,
    value,
    missing,
    default_left,
    roots,
    scale,
    out_p,
    out_c,
    want,
):
    for i in range(x.shape[0]):
        _row(
            x,
            left,
            right,
            feature,
            threshold,
            value,
            missing,
            default_left,
            roots,
            scale,
            out_p,
            out_c,
            want,
            i,
        )


@njit(cache=True, nogil=True, parallel=True)  # type: ignore[misc]
def _walk_parallel(  # type: ignore[no-untyped-def]
    x,
    left,
    right,
    feature,
    threshold,
    value,
    missing,
    default_left,
    roots,
    scale,
    out_p,
    out_c,
    want,
):
    for i in prange(x.shape[0]):
        _row(
            x,
            left,
            right,
            feature,
            threshold,
            value,
            missing,
            default_left,
            roots,
            scale,
            out_p,
            out_c,
            want,
            i,
        )


@njit(cache=True, nogil=True, parallel=True)  # type: ignore[misc]
def _predict_plain(x, left, right, feature, threshold, value, roots, scale, out_p):  # type: ignore[no-untyped-def]
    """Prediction only, for inputs without NaN and trees without zero-as-missing splits:
    the comparison alone decides each step."""
    for i in prange(x.shape[0]):
        total = 0.0
        for t in range(roots.shape[0]):
            node = roots[t]
            while left[node] >= 0:
                node = left[node] if x[i, feature[node]] <= threshold[node] else right[node]
            total += value[node]
        out_p[i] = total * scale


PARALLEL_ROWS = 2_000  # below this, thread start-up costs more than it saves


@dataclass(frozen=True)
class FlatTrees:
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    missing: np.ndarray
    default_left: np.ndarray
    roots: np.ndarray
    n_features: int
    average: bool  # True: mean of trees (forests); False: sum (boosting)
    float32_inputs: bool

    def _run(self, z: np.ndarray, want: bool) -> tuple[np.ndarray, np.ndarray]:
        x = np.ascontiguousarray(z, dtype=np.float64)
        if self.float32_inputs:
            x = x.astype(np.float32).astype(np.float64)
        out_p = np.zeros(x.shape[0], dtype=np.float64)
        out_c = np.zeros((x.shape[0], self.n_features) if want else (1, 1), dtype=np.float64)
        scale = 1.0 / len(self.roots) if self.average else 1.0
        kernel = _walk_parallel if x.shape[0] >= PARALLEL_ROWS else _walk
        kernel(
            x,
            self.left,
            self.right,
            self.feature,
            self.threshold,
            self.value,
            self.missing,
            self.default_left,
            self.roots,
            scale,
            out_p,
            out_c,
            want,
        )
        return out_p, out_c

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Averaged leaf frequency (forests) or summed raw score (boosting), per row."""
        if z.shape[0] >= PARALLEL_ROWS and not self.zero_missing:
            x = np.ascontiguousarray(z, dtype=np.float64)
            if self.float32_inputs:
                x = x.astype(np.float32).astype(np.float64)
            if not np.isnan(x).any():
                out = np.zeros(x.shape[0], dtype=np.float64)
                scale = 1.0 / len(self.roots) if self.average else 1.0
                _predict_plain(
                    x,
                    self.left,
                    self.right,
                    self.feature,
                    self.threshold,
                    self.value,
                    self.roots,
                    scale,
                    out,
                )
                return out
        return self._run(z, False)[0]

    @property
    def zero_missing(self) -> bool:
        """True if some split sends zero down its default branch (LightGBM zero_as_missing)."""
        return bool((self.missing == MISSING_ZERO).any())

    def contributions(self, z: np.ndarray) -> np.ndarray:
        """(n, n_features) path attributions on the same scale as ``predict``."""
        return self._run(z, True)[1]

    def both(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``predict`` and ``contributions`` from one walk."""
        return self._run(z, True)


@dataclass
class _Builder:
    left: list[int]
    right: list[int]
    feature: list[int]
    threshold: list[float]
    value: list[float]
    missing: list[int]
    default_left: list[bool]
    roots: list[int]

    @classmethod
    def empty(cls) -> _Builder:
        return cls([], [], [], [], [], [], [], [])

    def add(
        self,
        value: float,
        feature: int = 0,
        threshold: float = 0.0,
        missing: int = 0,
        default_left: bool = False,
    ) -> int:
        self.left.append(-1)
        self.right.append(-1)
        self.feature.append(feature)
        self.threshold.append(threshold)
        self.value.append(value)
        self.missing.append(missing)
        self.default_left.append(default_left)
        return len(self.left) - 1

    def build(self, n_features: int, *, average: bool, float32_inputs: bool) -> FlatTrees:
        return FlatTrees(
            left=np.asarray(self.left, dtype=np.int64),
            right=np.asarray(self.right, dtype=np.int64),
            feature=np.asarray(self.feature, dtype=np.int64),
            threshold=np.asarray(self.threshold, dtype=np.float64),
            value=np.asarray(self.value, dtype=np.float64),
            missing=np.asarray(self.missing, dtype=np.int64),
            default_left=np.asarray(self.default_left, dtype=np.bool_),
            roots=np.asarray(self.roots, dtype=np.int64),
            n_features=n_features,
            average=average,
            float32_inputs=float32_inputs,
        )


def flatten_forest(trees: Sequence[Any], n_features: int) -> FlatTrees:
    """Fitted scikit-learn decision trees (binary classification) as flat arrays."""
    out = _Builder.empty()
    for estimator in trees:
        tree = estimator.tree_
        counts = np.asarray(tree.value[:, 0, :], dtype=np.float64)
        if counts.shape[1] != 2:
            raise ValueError("only binary classification trees are supported")
        offset = len(out.left)
        out.roots.append(offset)
        frequency = counts[:, 1] / counts.sum(axis=1)
        for node in range(tree.node_count):
            out.add(
                float(frequency[node]), max(int(tree.feature[node]), 0), float(tree.threshold[node])
            )
        for node in range(tree.node_count):
            if tree.children_left[node] >= 0:
                out.left[offset + node] = offset + int(tree.children_left[node])
                out.right[offset + node] = offset + int(tree.children_right[node])
    return out.build(n_features, average=True, float32_inputs=True)


_MISSING = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}


def flatten_lightgbm(dump: dict[str, Any], n_features: int, iterations: int | None) -> FlatTrees:
    """A LightGBM binary model (``booster.dump_model()``) as flat arrays of raw scores."""
    trees = dump["tree_info"]
    if iterations is not None:
        trees = trees[:iterations]
    out = _Builder.empty()
    for tree in trees:
        out.roots.append(len(out.left))
        _add_lgbm_node(out, tree["tree_structure"])
    return out.build(n_features, average=False, float32_inputs=False)


def _add_lgbm_node(out: _Builder, node: dict[str, Any]) -> int:
    if "leaf_value" in node or "split_feature" not in node:
        return out.add(float(node.get("leaf_value", 0.0)))
    if node.get("decision_type") != "<=":
        raise ValueError(f"LightGBM split {node.get('decision_type')!r} is not compiled")
    index = out.add(
        float(node["internal_value"]),
        int(node["split_feature"]),
        float(node["threshold"]),
        _MISSING[str(node.get("missing_type", "None"))],
        bool(node.get("default_left", True)),
    )
    left = _add_lgbm_node(out, node["left_child"])
    right = _add_lgbm_node(out, node["right_child"])
    out.left[index], out.right[index] = left, right
    return index
