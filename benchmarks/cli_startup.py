"""Command-line start-up: `attrition --help` and `attrition keys list`, now against a baseline.

Each command runs as a fresh subprocess (``python -m attrition ...``) several times, against
a temporary data folder whose database is migrated first; the median wall time is
reported. The baseline is the same commands on the commit before the command line imported
lazily (36b418f: every command module imported the synthetic generator, the migrations and
the ML stack), checked out with ``git worktree add`` into a temporary folder and run with
``PYTHONPATH=<it>/src`` on the same interpreter. Without git, the baseline is an eager
import of what that commit loaded (``import attrition.cli, pandas, alembic, sqlalchemy``
before the command). Target: each command under 1.5 s on a quiet machine.

    .venv/bin/python benchmarks/cli_startup.py              # 7 runs per command
    .venv/bin/python benchmarks/cli_startup.py --runs 3 --baseline none
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE_COMMIT = "36b418f"
TARGET_SECONDS = 1.5
COMMANDS = (("--help",), ("keys", "list"))
EAGER = "import attrition.cli, pandas, alembic, sqlalchemy, numpy, scipy; "


def _env(var_dir: Path, src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
    return env | {
        "ATTRITION_VAR_DIR": str(var_dir),
        "ATTRITION_PSEUDONYM_KEY": "benchmark",
        "PYTHONPATH": str(src),
        "COLUMNS": "100",
    }


def _command(args: tuple[str, ...], eager: bool) -> list[str]:
    if not eager:
        return [sys.executable, "-m", "attrition", *args]
    code = f"{EAGER}import sys; sys.argv = ['attrition', *{list(args)!r}]; attrition.cli.main()"
    return [sys.executable, "-c", code]


Timing = tuple[float, float]  # median wall seconds, median CPU seconds (user + system)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_seconds(command: list[str], env: dict[str, str], runs: int) -> Timing:
    """Median wall and CPU time of ``runs`` fresh subprocesses (each must succeed).

    On a loaded machine the wall time grows with the load; the CPU time much less, and on
    a quiet machine the two are close.
    """
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), _children_cpu()
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _baseline_source(workdir: Path, ref: str) -> Path | None:
    """The baseline commit's ``src`` in a temporary worktree (None when git cannot)."""
    target = workdir / "baseline"
    added = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(target), ref],
        capture_output=True,
        text=True,
        check=False,
    )
    return target / "src" if added.returncode == 0 else None


def _remove_worktree(source: Path | None) -> None:
    if source is not None:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(source.parent)],
            capture_output=True,
            check=False,
        )


def measure(src: Path, var_dir: Path, runs: int, eager: bool = False) -> dict[str, Timing]:
    """Median seconds per command, with the code in ``src`` on a migrated data folder."""
    env = _env(var_dir, src)
    subprocess.run(_command(("db", "upgrade"), False), env=env, check=True, capture_output=True)
    return {" ".join(args): median_seconds(_command(args, eager), env, runs) for args in COMMANDS}


def bytecode_note() -> str:
    """Whether imports read compiled bytecode: without it every run compiles its imports."""
    import importlib.util

    spec = importlib.util.find_spec("sqlalchemy")
    origin = Path(spec.origin) if spec and spec.origin else None
    compiled = origin is not None and Path(importlib.util.cache_from_source(str(origin))).exists()
    if compiled:
        return "site-packages bytecode: compiled"
    return (
        "site-packages bytecode: NOT compiled (PYTHONDONTWRITEBYTECODE or a fresh venv): every "
        "run compiles its imports; `make install` compiles them (UV_COMPILE_BYTECODE=1)"
    )


def _report(ours: dict[str, Timing], baseline: dict[str, Timing] | None, label: str) -> None:
    for name, (seconds, cpu) in ours.items():
        verdict = "meets" if seconds <= TARGET_SECONDS else "MISSES"
        line = (
            f"attrition {name:<10} {seconds:5.2f} s wall, {cpu:5.2f} s CPU "
            f"({verdict} <= {TARGET_SECONDS} s)"
        )
        if baseline is not None:
            before, before_cpu = baseline[name]
            line += (
                f"; {label}: {before:5.2f} s wall, {before_cpu:5.2f} s CPU; "
                f"{before / seconds:4.1f}x faster now ({before_cpu / cpu:4.1f}x in CPU)"
            )
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs per command (median).")
    parser.add_argument(
        "--baseline", default=BASELINE_COMMIT, help="Git ref to compare with, or 'none'."
    )
    options = parser.parse_args()
    print(f"python: {sys.executable}; {options.runs} runs per command, medians")
    print(bytecode_note())
    workdir = Path(tempfile.mkdtemp(prefix="attrition-cli-startup-"))
    source = None
    try:
        ours = measure(ROOT / "src", workdir / "ours", options.runs)
        baseline, label = None, ""
        if options.baseline != "none":
            source = _baseline_source(workdir, options.baseline)
            eager = source is None
            label = "eager imports" if eager else f"at {options.baseline}"
            baseline = measure(source or ROOT / "src", workdir / "before", options.runs, eager)
        _report(ours, baseline, label)
    finally:
        _remove_worktree(source)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
