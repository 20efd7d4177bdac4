"""Train a champion for the monitoring tests: ``python champion.py ROOT SEED ROWS`` prints JSON.

Runs in a child process with the store's settings in its environment (see
``attrition_testkit.store_env``), so MLflow's process-wide state never reaches the test
process. A small search (``attrition_testkit.train_test_champion``) on a synthetic
workforce: the tests need a servable champion with a reference and holdout metrics, not a
good one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: the shared helpers

from attrition_testkit import train_test_champion


def main(seed: int, rows: int) -> dict[str, object]:
    import optuna

    from attrition.data.synthetic import generate_workforce

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    frame = generate_workforce(rows, seed)
    result = train_test_champion(frame, seed=seed, actor="monitoring-tests")
    return {"version": result.model_version, "threshold": result.threshold}


if __name__ == "__main__":
    seed, rows = int(sys.argv[2]), int(sys.argv[3])  # argv[1], the store's root, is in env
    sys.stdout.write(json.dumps(main(seed, rows)) + "\n")
