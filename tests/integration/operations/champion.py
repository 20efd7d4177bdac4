"""Train a champion for the scale-out tests: ``python champion.py ROOT DATA`` prints JSON.

Runs in a child process so MLflow's process-wide state never leaks into the test process.
Uses the training library with a tiny search; if the quality gate refuses the model it is
promoted through the registry's audited promotion (the tests need a servable champion, not
a good one).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def store_env(root: Path) -> dict[str, str]:
    """The settings of the model store under ``root`` (the replicas read the same)."""
    var = root / "var"
    return {
        "ATTRITION_VAR_DIR": str(var),
        "ATTRITION_DATABASE_URL": f"sqlite:///{var / 'train.db'}",
        "ATTRITION_MLFLOW_TRACKING_URI": f"sqlite:///{var / 'mlflow.db'}",
        "ATTRITION_MLFLOW_ARTIFACT_ROOT": str(var / "mlartifacts"),
        "ATTRITION_OPTUNA_STORAGE": f"sqlite:///{var / 'optuna.db'}",
        "ATTRITION_PSEUDONYM_KEY": "scaleout-test-pseudonym-key",
        "ATTRITION_GATE_CONFIG": str(REPO / "configs" / "gate.yaml"),
    }


def main(root: Path, data: Path) -> dict[str, str]:
    os.environ.update(store_env(root))
    (root / "var").mkdir(parents=True, exist_ok=True)
    import pandas as pd

    from attrition import registry
    from attrition.db.migrate import upgrade
    from attrition.settings import get_settings
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import train_model

    settings = get_settings()
    upgrade(settings.database_url)
    options = TrainingOptions.from_settings(
        settings,
        n_trials=2,
        timeout_s=60.0,
        cv_folds=3,
        cv_repeats=1,
        bootstrap_resamples=50,
        seed=11,
    )
    result = train_model(pd.read_csv(data), options)
    if not result.promoted:
        registry.promote(
            result.model_version,
            actor="scaleout-tests",
            reason="test fixture",
            config=registry.RegistryConfig.from_settings(settings),
        )
    return {"version": str(result.model_version)}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
