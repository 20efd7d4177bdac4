"""Two-sample statistics of the drift engine: empirical distributions, KS with
Wasserstein-1, chi-squared with Jensen-Shannon, and the multiple-testing corrections.

Pure and vectorised numpy (scipy only for the tests' laws); no pandas, no configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from attrition.errors import AttritionError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
MIN_EXPECTED = 5.0
COUNTING_RANGE = 1 << 16  # integer data spanning at most this (or n) values is counted, not sorted
EXACT_KS_MAX_N = 10_000


@dataclass(frozen=True, slots=True)
class Ecdf:
    """An empirical distribution: distinct sorted values and the share at or below each."""

    values: FloatArray
    cumulative: FloatArray
    count: int
    mean: float
    std: float

    def at(self, points: FloatArray, *, strict: bool = False) -> FloatArray:
        """Share of the sample <= each point (< each point when ``strict``)."""
        index = np.searchsorted(self.values, points, side="left" if strict else "right")
        return np.concatenate([[0.0], self.cumulative])[index]

    def quantile(self, q: float) -> float:
        """The smallest value with at least a share ``q`` of the sample at or below it."""
        index = int(np.searchsorted(self.cumulative, q, side="left"))
        return float(self.values[min(index, self.values.size - 1)])


def ecdf(values: FloatArray) -> Ecdf:
    """The ECDF of the non-missing values: by counting for narrow-range integers, else a sort."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return Ecdf(present, present, 0, math.nan, math.nan)
    low, high = float(present.min()), float(present.max())
    if high - low <= max(COUNTING_RANGE, present.size):
        whole = present.astype(np.int64)
        if np.array_equal(whole, present):
            return _counted_ecdf(whole - int(low), low, present.size)
    ordered = np.sort(present)
    ends = np.append(np.flatnonzero(ordered[1:] != ordered[:-1]), ordered.size - 1)
    distinct = ordered[ends]
    counts = np.diff(ends, prepend=-1).astype(np.float64)
    return _ecdf_from_counts(distinct, counts, ordered.size)


def _counted_ecdf(offsets: IntArray, low: float, size: int) -> Ecdf:
    counts = np.bincount(offsets)
    levels = np.flatnonzero(counts)
    return _ecdf_from_counts(
        (levels + low).astype(np.float64), counts[levels].astype(np.float64), size
    )


def _ecdf_from_counts(distinct: FloatArray, counts: FloatArray, size: int) -> Ecdf:
    # elementwise products, not np.dot: BLAS threads cost more than they save here
    mean = float((distinct * counts).sum() / size)
    std = math.sqrt(max(0.0, float(((distinct - mean) ** 2 * counts).sum() / size)))
    return Ecdf(distinct.astype(np.float64), np.cumsum(counts) / size, size, mean, std)


def ks_and_wasserstein(reference: Ecdf, current: Ecdf) -> tuple[float, float]:
    """KS statistic and Wasserstein-1 distance, evaluated on the union of distinct values.

    The grid is a merge of two sorted arrays (a stable sort finds the two runs); values in
    both give repeated grid points, which change neither statistic (zero-width steps).
    """
    grid = np.sort(np.concatenate([reference.values, current.values]), kind="stable")
    gaps = np.abs(reference.at(grid) - current.at(grid))
    return float(gaps.max()), float((gaps[:-1] * np.diff(grid)).sum())


def ks_pvalues(statistics: FloatArray, n_ref: IntArray, n_cur: IntArray) -> FloatArray:
    """Asymptotic two-sided KS p-values (conservative under ties), vectorised."""
    effective = np.maximum(np.round(n_ref * n_cur / (n_ref + n_cur)), 1)
    # The finite-n law (scipy's "asymp" method) is slow for large n; there the limiting
    # Kolmogorov law is used: never smaller, within 3.5 % relative for n > 10,000.
    limit = stats.kstwobign.sf(np.sqrt(effective) * statistics)
    small = effective <= EXACT_KS_MAX_N
    p = np.asarray(limit, dtype=np.float64)
    if small.any():
        p[small] = stats.kstwo.sf(statistics[small], effective[small])
    return p


def pool_sparse_cells(reference: FloatArray, current: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Merge cells whose expected count is below 5 so the chi-squared law applies.

    Sparse cells are pooled into one; if that pool is still sparse it absorbs the smallest
    other cell. Empty cells are dropped. The result may have a single cell (no test).
    """
    total = reference + current
    keep = total > 0
    reference, current, total = reference[keep], current[keep], total[keep]
    share = reference.sum() / total.sum() if total.size else 0.5
    sparse = np.minimum(total * share, total * (1 - share)) < MIN_EXPECTED
    if not sparse.any():
        return reference, current
    ref = np.append(reference[~sparse], reference[sparse].sum())
    cur = np.append(current[~sparse], current[sparse].sum())
    pooled = ref[-1] + cur[-1]
    if min(pooled * share, pooled * (1 - share)) < MIN_EXPECTED and ref.size > 1:
        smallest = int(np.argmin(ref[:-1] + cur[:-1]))
        ref[-1] += ref[smallest]
        cur[-1] += cur[smallest]
        ref, cur = np.delete(ref, smallest), np.delete(cur, smallest)
    return ref, cur


def chi2_statistic(reference: FloatArray, current: FloatArray) -> tuple[float, int]:
    """Pearson chi-squared of the 2 x K table (after pooling) and its degrees of freedom."""
    ref, cur = pool_sparse_cells(reference, current)
    if ref.size < 2:
        return 0.0, 0
    table = np.vstack([ref, cur])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    return float(((table - expected) ** 2 / expected).sum()), int(ref.size - 1)


def jensen_shannon(p: FloatArray, q: FloatArray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two count vectors."""
    p = p / p.sum()
    q = q / q.sum()
    mid = (p + q) / 2

    def _kl(a: FloatArray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / mid[mask])))

    return math.sqrt(max(0.0, (_kl(p) + _kl(q)) / 2))


def adjust_pvalues(p_values: FloatArray, method: str) -> FloatArray:
    """Multiple-testing correction; NaN entries (untested) stay NaN and do not count."""
    adjusted = np.full_like(p_values, np.nan)
    tested = np.flatnonzero(~np.isnan(p_values))
    m = tested.size
    if m == 0:
        return adjusted
    order = tested[np.argsort(p_values[tested], kind="stable")]
    ranked = p_values[order]
    if method == "holm":
        values = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bonferroni":
        values = ranked * m
    elif method == "benjamini-hochberg":
        values = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    elif method == "none":
        values = ranked
    else:
        raise AttritionError(
            f"unknown correction {method!r}; allowed: holm, bonferroni, benjamini-hochberg, none"
        )
    adjusted[order] = np.minimum(values, 1.0)
    return adjusted
