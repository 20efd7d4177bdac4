"""Train a champion for the monitoring tests: ``python champion.py ROOT SEED ROWS`` prints JSON.

Runs in a child process with the store's settings in its environment (see
``support.store_env``), so MLflow's process-wide state never reaches the test process. A
small search (few trials and folds) on a synthetic workforce; if the quality gate refuses
the model it is promoted through the registry's audited promotion (the tests need a
servable champion with a reference sample and holdout metrics, not a good one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(root: Path, seed: int, rows: int) -> dict[str, object]:
    (root / "var").mkdir(parents=True, exist_ok=True)
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
        settings,
        n_trials=2,
        timeout_s=60.0,
        cv_folds=3,
        cv_repeats=1,
        bootstrap_resamples=50,
        seed=seed,
    )
    result = train_model(generate_workforce(rows, seed), options)
    if not result.promoted:
        config = registry.RegistryConfig.from_settings(settings)
        registry.promote(
            result.model_version, actor="monitoring-tests", reason="test fixture", config=config
        )
    return {"version": result.model_version, "threshold": result.threshold}


if __name__ == "__main__":
    root, seed, rows = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    sys.stdout.write(json.dumps(main(root, seed, rows)) + "\n")
