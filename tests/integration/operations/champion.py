"""Train a champion for the scale-out tests: ``python champion.py ROOT DATA`` prints JSON.

Runs in a child process so MLflow's process-wide state never leaks into the test process.
Uses the training library with a tiny search (``attrition_testkit.train_test_champion``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: the shared helpers

from attrition_testkit import store_env as shared_store_env
from attrition_testkit import train_test_champion

PSEUDONYM_KEY = "scaleout-test-pseudonym-key"


def store_env(root: Path) -> dict[str, str]:
    """The settings of the model store under ``root`` (the replicas read the same)."""
    return shared_store_env(root, pseudonym_key=PSEUDONYM_KEY)


def main(root: Path, data: Path) -> dict[str, str]:
    os.environ.update(store_env(root))
    import pandas as pd

    result = train_test_champion(pd.read_csv(data), seed=11, actor="scaleout-tests")
    return {"version": str(result.model_version)}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
