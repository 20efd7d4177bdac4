"""Drift verdict speed and agreement: our engine against Evidently's DataDriftPreset.

Same data, same run: a synthetic reference workforce and, per scenario, a current one
(no drift and every named drift scenario), at 1,470 and 100,000 rows x 30 features.
Our time covers DataFrame -> arrays -> reference profile -> verdict; Evidently's covers
Report([DataDriftPreset()]).run(...) and reading its result. Prints the verdicts side by
side, the time ratio, our peak traced memory and the process's peak RSS.

    .venv/bin/python benchmarks/drift.py                  # both sizes, all scenarios
    .venv/bin/python benchmarks/drift.py --sizes 1470     # quicker
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd

from attrition.data.scenarios import SCENARIOS
from attrition.data.synthetic import generate_workforce
from attrition.monitoring.config import MonitoringConfig
from attrition.monitoring.drift import DriftResult, compare
from attrition.monitoring.profile import columns_from_frame, feature_specs
from attrition.schema import CATEGORICAL_NAMES, FEATURE_NAMES, NUMERIC_NAMES

SPECS = feature_specs()
CONFIG = MonitoringConfig().drift
TARGET_SECONDS = 1.5
TARGET_RATIO = 5.0


def ours(reference: pd.DataFrame, current: pd.DataFrame) -> DriftResult:
    """Our verdict from the two DataFrames."""
    return compare(
        columns_from_frame(reference, SPECS), columns_from_frame(current, SPECS), SPECS, CONFIG
    )


def evidently(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[list[str], float, bool]:
    """Evidently's drifted columns, drift share and dataset verdict (default share 0.5)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=list(NUMERIC_NAMES), categorical_columns=list(CATEGORICAL_NAMES)
    )
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    metrics = snapshot.dict()["metrics"]
    drifted = []
    summary: dict[str, Any] = {}
    for metric in metrics:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            summary = metric["value"] | {"threshold": config["drift_share"]}
        elif config["type"].endswith("ValueDrift"):
            value, threshold = float(metric["value"]), float(config["threshold"])
            is_p_value = "p_value" in config["method"].lower()
            if (value < threshold) if is_p_value else (value >= threshold):
                drifted.append(config["column"])
    share = float(summary["share"])
    return sorted(drifted), share, share >= float(summary["threshold"])


def timed(function: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """The result and the median wall time over ``repeats`` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def peak_traced_mib(function: Callable[[], Any]) -> float:
    """Peak memory allocated while ``function`` runs (numpy allocations are traced too)."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _names(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(names) if names else "-"


def compare_size(rows: int, scenarios: list[str | None], repeats: int) -> tuple[float, float]:
    """Print the side-by-side verdicts at one size; return (our time, Evidently time)."""
    print(f"\n=== {rows:,} rows x {len(SPECS)} features ===")
    reference = generate_workforce(rows, seed=1)[list(FEATURE_NAMES)]
    our_times, their_times = [], []
    for scenario in scenarios:
        current = generate_workforce(rows, seed=2, scenario=scenario)[list(FEATURE_NAMES)]
        result, our_time = timed(partial(ours, reference, current), repeats)
        (their_drifted, their_share, their_verdict), their_time = timed(
            partial(evidently, reference, current), 1
        )
        our_times.append(our_time)
        their_times.append(their_time)
        shifted = SCENARIOS[scenario].shifted_features if scenario else ()
        print(f"\n[{scenario or 'no_drift'}] shifted: {_names(shifted)}")
        print(
            f"  ours      {our_time:7.3f} s  dataset drift {result.dataset_drift!s:5}  "
            f"share {result.drift_share:.2f}  drifted: {_names(result.drifted_features)}"
        )
        print(
            f"  evidently {their_time:7.3f} s  dataset drift {their_verdict!s:5}  "
            f"share {their_share:.2f}  drifted: {_names(their_drifted)}"
        )
        missed = sorted(set(shifted) - set(result.drifted_features))
        extra = sorted(set(result.drifted_features) - set(shifted))
        print(f"  ours vs truth: missed {_names(missed)}; extra {_names(extra)}")
    current = generate_workforce(rows, seed=2)[list(FEATURE_NAMES)]
    peak = peak_traced_mib(lambda: ours(reference, current))
    mean_ours, mean_theirs = statistics.mean(our_times), statistics.mean(their_times)
    print(
        f"\n  mean time: ours {mean_ours:.3f} s, evidently {mean_theirs:.3f} s, "
        f"ratio {mean_theirs / mean_ours:.1f}x; our peak traced memory {peak:.1f} MiB"
    )
    return mean_ours, mean_theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1470, 100_000])
    parser.add_argument("--scenarios", nargs="+", default=[None, *SCENARIOS])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of ours per case")
    args = parser.parse_args()
    scenarios = [None if s in (None, "none", "no_drift") else s for s in args.scenarios]
    warm = generate_workforce(200, seed=0)[list(FEATURE_NAMES)]
    ours(warm, warm)  # imports and first-call costs stay out of both timings
    evidently(warm, warm)
    results = {rows: compare_size(rows, scenarios, args.repeats) for rows in args.sizes}
    print("\n=== summary ===")
    for rows, (mine, theirs) in results.items():
        ok = mine <= TARGET_SECONDS and theirs / mine >= TARGET_RATIO
        verdict = "meets" if ok else "MISSES"
        print(
            f"{rows:>9,} rows: ours {mine:.3f} s, evidently {theirs:.3f} s, "
            f"{theirs / mine:.1f}x faster ({verdict} <= {TARGET_SECONDS} s and >= {TARGET_RATIO}x)"
        )
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (both tools, data generation included): {peak_rss:.0f} MiB")


if __name__ == "__main__":
    main()
