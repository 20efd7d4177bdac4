"""`attrition monitor --current FILE` end to end: this tree against a baseline commit.

    python benchmarks/monitor.py [--baseline 36b418f] [--rows 300] [--runs 3]

Each side gets its own model store in a temporary folder with a champion trained by its
own code (the training library, 2 trials, 3 folds, on the 1,470-row synthetic workforce),
then answers `attrition monitor --current current.csv` (300 fresh synthetic rows) as a
subprocess: one warm-up run (it fills the local reference cache, a one-time cost per
version), then ``--runs`` timed runs, the sides alternating; medians and ratios of wall
and CPU time are printed (CPU time, user + system of the child, is what a busy machine
distorts least). The baseline is the commit's files (``git archive``) in the temporary
folder, run with ``PYTHONPATH=<folder>/src`` on the same interpreter and packages. A third
side runs the baseline as its own ``make install`` left it, without compiled bytecode
(``PYTHONPYCACHEPREFIX`` at an empty folder, ``PYTHONDONTWRITEBYTECODE``): every command
then compiles each module it imports, the state the issue's 15.9 s were measured in.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ATTRITION = Path(sys.executable).parent / "attrition"
TRAINING_ROWS, TRAINING_SEED, CURRENT_SEED = 1470, 1, 61


def store_env(root: Path, source: Path) -> dict[str, str]:
    """Settings of a model store under ``root`` for the code in ``source``."""
    var = root / "var"
    return {
        "ATTRITION_VAR_DIR": str(var),
        "ATTRITION_DATABASE_URL": f"sqlite:///{var / 'attrition.db'}",
        "ATTRITION_MLFLOW_TRACKING_URI": f"sqlite:///{var / 'mlflow.db'}",
        "ATTRITION_MLFLOW_ARTIFACT_ROOT": str(var / "mlartifacts"),
        "ATTRITION_OPTUNA_STORAGE": f"sqlite:///{var / 'optuna.db'}",
        "ATTRITION_PSEUDONYM_KEY": "benchmark-pseudonym-key",
        "ATTRITION_GATE_CONFIG": str(source / "configs" / "gate.yaml"),
        "ATTRITION_MONITORING_CONFIG": str(source / "configs" / "monitoring.yaml"),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "PYTHONPATH": str(source / "src"),
    }


def train_here() -> None:
    """Child process: train a champion with the code on PYTHONPATH into the configured store."""
    import optuna

    from attrition import registry
    from attrition.data.synthetic import generate_workforce
    from attrition.db.migrate import upgrade
    from attrition.settings import get_settings
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import train_model

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = get_settings()
    upgrade(settings.database_url)
    options = TrainingOptions.from_settings(
        settings, n_trials=2, timeout_s=120.0, cv_folds=3, cv_repeats=1,
        bootstrap_resamples=50, seed=TRAINING_SEED,
    )  # fmt: skip
    result = train_model(generate_workforce(TRAINING_ROWS, TRAINING_SEED), options)
    if not result.promoted:
        config = registry.RegistryConfig.from_settings(settings)
        registry.promote(result.model_version, actor="benchmark", reason="bench", config=config)


def prepare(name: str, source: Path, workdir: Path) -> dict[str, str]:
    """A trained store for the code in ``source``; its environment."""
    env = {**os.environ, **store_env(workdir / name, source)}
    (workdir / name / "var").mkdir(parents=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--train-here"], env=env, capture_output=True, text=True,
        timeout=1800, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"training the {name} champion failed:\n{done.stderr[-3000:]}")
    print(f"{name}: champion trained in {time.perf_counter() - started:.0f} s")
    return env


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def monitor_once(env: dict[str, str], current: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `attrition monitor --current FILE --json` (it must
    succeed). CPU time (user + system of the child) is what a busy machine distorts least."""
    started, cpu = time.perf_counter(), _cpu_of_children()
    done = subprocess.run(
        [str(ATTRITION), "monitor", "--current", str(current), "--json"], env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    elapsed, used = time.perf_counter() - started, _cpu_of_children() - cpu
    if done.returncode != 0:
        raise SystemExit(f"monitor failed ({done.returncode}):\n{done.stderr[-3000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if answer.get("current_rows") is None:
        raise SystemExit(f"unexpected answer: {done.stdout[-500:]}")
    return elapsed, used


def bytecode_note() -> str:
    site = Path(sysconfig.get_paths()["purelib"]) / "mlflow"
    compiled = any(site.glob("__pycache__/*.pyc"))
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    return (
        f"installed packages carry bytecode: {'yes' if compiled else 'no'}; "
        f"PYTHONDONTWRITEBYTECODE={flag or 'unset'}"
    )


def no_bytecode(workdir: Path) -> dict[str, str]:
    """Settings that make Python ignore installed bytecode: an empty cache prefix that it
    may not write to (``PYTHONDONTWRITEBYTECODE``)."""
    empty = workdir / "no-bytecode"
    empty.mkdir(exist_ok=True)
    return {"PYTHONPYCACHEPREFIX": str(empty), "PYTHONDONTWRITEBYTECODE": "1"}


def checkout(commit: str, into: Path) -> Path:
    """The files of ``commit`` (``git archive``), without touching the repository."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def measure(baseline: str, rows: int, runs: int, workdir: Path) -> None:
    from attrition.data.synthetic import generate_workforce

    current = workdir / "current.csv"
    generate_workforce(rows, CURRENT_SEED).to_csv(current, index=False)
    old_tree = checkout(baseline, workdir / "baseline-tree")
    old_env = prepare("baseline", old_tree, workdir)
    sides = {
        "baseline": old_env,
        # as the baseline's `make install` left it: no bytecode, so every import compiles
        "baseline, compiling": {**old_env, **no_bytecode(workdir)},
        "this tree": prepare("new", REPO, workdir),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for env in sides.values():
        monitor_once(env, current)  # warm-up: fills the reference cache
    for _ in range(runs):
        for name, env in sides.items():
            times[name].append(monitor_once(env, current))
    print(bytecode_note())
    print(f"attrition monitor --current ({rows} rows), median of {runs}; load {_load()}:")
    for index, what in enumerate(("wall", "cpu")):
        medians = {name: statistics.median(t[index] for t in ts) for name, ts in times.items()}
        for name, ts in times.items():
            shown = ", ".join(f"{t[index]:.2f}" for t in ts)
            print(f"  {what:4s} {name:20s} {medians[name]:6.2f} s  ({shown})")
        for before in ("baseline", "baseline, compiling"):
            ratio = medians[before] / medians["this tree"]
            print(f"  {what:4s} speed-up over {before} ({baseline}): {ratio:.2f}x")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="36b418f")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--train-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_here:
        train_here()
        return
    workdir = Path(tempfile.mkdtemp(prefix="attrition-bench-monitor-"))
    try:
        measure(args.baseline, args.rows, args.runs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
