"""The drift engine's statistics against scipy, on synthetic arrays."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from attrition.errors import AttritionError
from attrition.monitoring.statistics import (
    adjust_pvalues,
    chi2_statistic,
    ecdf,
    jensen_shannon,
    ks_and_wasserstein,
    ks_pvalues,
    pool_sparse_cells,
)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("tied", [False, True])
def test_ks_and_wasserstein_match_scipy(tied: bool) -> None:
    rng = _rng(1)
    a = rng.normal(0, 1, 700)
    b = rng.normal(0.3, 1.2, 450)
    if tied:
        a, b = np.round(a * 2), np.round(b * 2)
    d, w = ks_and_wasserstein(ecdf(a), ecdf(b))
    assert d == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


def test_ks_pvalues_match_scipy_asymptotic() -> None:
    rng = _rng(2)
    pairs = [
        (rng.normal(0, 1, n), rng.normal(s, 1, m))
        for n, m, s in [(500, 300, 0.1), (2000, 900, 0.05), (80, 60, 0.8)]
    ]
    statistics = np.array([ks_and_wasserstein(ecdf(a), ecdf(b))[0] for a, b in pairs])
    ours = ks_pvalues(
        statistics, np.array([a.size for a, _ in pairs]), np.array([b.size for _, b in pairs])
    )
    theirs = [stats.ks_2samp(a, b, method="asymp").pvalue for a, b in pairs]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_chi2_matches_scipy_when_no_cell_is_sparse() -> None:
    ref = np.array([120.0, 300.0, 80.0])
    cur = np.array([60.0, 100.0, 70.0])
    statistic, dof = chi2_statistic(ref, cur)
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert statistic == pytest.approx(expected.statistic)
    assert dof == expected.dof == 2


def test_sparse_cells_are_pooled_until_expected_counts_reach_five() -> None:
    ref = np.array([500.0, 400.0, 3.0, 2.0, 0.0])
    cur = np.array([50.0, 45.0, 1.0, 0.0, 0.0])
    pooled_ref, pooled_cur = pool_sparse_cells(ref, cur)
    table = np.vstack([pooled_ref, pooled_cur])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    assert expected.min() >= 5
    assert table.sum() == ref.sum() + cur.sum()


def test_jensen_shannon_matches_scipy_base_two() -> None:
    p = np.array([10.0, 0.0, 30.0, 60.0])
    q = np.array([25.0, 5.0, 30.0, 40.0])
    assert jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2))
    assert jensen_shannon(p, p) == pytest.approx(0.0, abs=1e-9)
    assert jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)


def test_holm_and_benjamini_hochberg_adjustments() -> None:
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.005])
    holm = adjust_pvalues(p, "holm")
    np.testing.assert_allclose(holm[[4, 0, 3, 1]], [0.02, 0.03, 0.06, 0.06])
    assert np.isnan(holm[2])
    bh = adjust_pvalues(p, "benjamini-hochberg")
    np.testing.assert_allclose(bh[[4, 0, 3, 1]], [0.02, 0.02, 0.04, 0.04])
    np.testing.assert_allclose(adjust_pvalues(p, "bonferroni")[[0, 1]], [0.04, 0.16])
    with pytest.raises(AttritionError, match="holm"):
        adjust_pvalues(p, "sidak")


def test_ecdf_counts_narrow_integers_and_sorts_the_rest() -> None:
    counted = ecdf(np.array([3.0, 1.0, 3.0, np.nan, 2.0]))
    assert counted.values.tolist() == [1.0, 2.0, 3.0] and counted.count == 4
    np.testing.assert_allclose(counted.cumulative, [0.25, 0.5, 1.0])
    assert counted.mean == pytest.approx(2.25) and counted.quantile(0.5) == 2.0
    spread = ecdf(np.array([0.5, 1e9, 0.5, -2.25]))
    assert spread.values.tolist() == [-2.25, 0.5, 1e9]
    np.testing.assert_allclose(spread.at(np.array([0.5]), strict=True), [0.25])
    assert ecdf(np.array([np.nan])).count == 0
