"""`attrition quickstart`: the whole main job on embedded defaults, as ordered steps.

Each :class:`Step` reads what earlier steps produced from the shared
:class:`QuickstartContext` and returns a JSON-ready outcome with a one-line ``summary``.
:func:`quickstart_steps` lists them in order: migrate, data, ingest, train (search, fit,
evaluate, register, gate), champion (the gate's verdict decides; no forced promotion) and
key (an admin API key for the dashboard, shown once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrition.data.synthetic import generate_workforce, write_csv
from attrition.db.engine import get_engine
from attrition.db.migrate import upgrade
from attrition.errors import AttritionError
from attrition.settings import Settings
from attrition.training.progress import ProgressListener

logger = logging.getLogger(__name__)

SYNTHETIC_FILE = "synthetic_workforce.csv"
DASHBOARD_URL = "http://127.0.0.1:8501"


@dataclass(slots=True)
class QuickstartContext:
    """What the steps share: settings, the user's file (if any), earlier outcomes."""

    settings: Settings
    data: Path | None
    trials: int | None = None
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    on_progress: ProgressListener | None = None  # told each trial and stage of training


@dataclass(frozen=True, slots=True)
class Step:
    """One quickstart step: a name, a progress title and the work itself."""

    name: str
    title: str
    run: Callable[[QuickstartContext], dict[str, Any]]


StepListener = Callable[[Step, dict[str, Any] | None], None]


def quickstart_steps() -> list[Step]:
    """The ordered steps of the main job."""
    return [
        Step("migrate", "Migrating the database", migrate_step),
        Step("data", "Preparing the data", data_step),
        Step("ingest", "Validating and loading the snapshot", ingest_step),
        Step("train", "Training (Optuna search, calibration, fairness, gate)", train_step),
        Step("champion", "Checking the champion alias", champion_step),
        Step("key", "Creating an admin API key for the dashboard", key_step),
    ]


def run_quickstart(
    settings: Settings,
    data: Path | None,
    *,
    trials: int | None = None,
    steps: Sequence[Step] | None = None,
    on_step: StepListener | None = None,
    on_progress: ProgressListener | None = None,
) -> dict[str, Any]:
    """Run the steps in order on these settings' stores; ``on_step(step, None)`` before and
    ``(step, outcome)`` after; ``on_progress`` follows the training step."""
    context = QuickstartContext(settings, data, trials, on_progress=on_progress)
    done = [
        {"step": step.name, **_run_step(step, context, on_step)}
        for step in (quickstart_steps() if steps is None else steps)
    ]
    return {
        "steps": done,
        "database_url": _safe_database_url(context.settings),
        "api": {"command": "attrition serve", "url": context.settings.api_url},
        "dashboard": {"command": "attrition ui", "url": DASHBOARD_URL},
    }


def _run_step(
    step: Step, context: QuickstartContext, on_step: StepListener | None
) -> dict[str, Any]:
    """One step, timed; its outcome is kept for the steps after it."""
    if on_step:
        on_step(step, None)
    started = time.perf_counter()
    outcome = {**step.run(context), "seconds": round(time.perf_counter() - started, 3)}
    context.outcomes[step.name] = outcome
    logger.info("quickstart step %s done in %.1f s", step.name, outcome["seconds"])
    if on_step:
        on_step(step, outcome)
    return outcome


def migrate_step(context: QuickstartContext) -> dict[str, Any]:
    """Apply the Alembic migrations to the configured database."""
    revision = upgrade(context.settings.database_url)
    return {"revision": revision, "summary": f"database at revision {revision}"}


def data_step(context: QuickstartContext) -> dict[str, Any]:
    """The user's file, or a synthetic workforce written under ``var/``."""
    if context.data is not None:
        if not context.data.is_file():
            raise AttritionError(f"--data {context.data}: file not found")
        return {"source": "file", "path": str(context.data), "summary": f"using {context.data}"}
    settings = context.settings
    frame = generate_workforce(
        settings.synthetic_rows, settings.seed, attrition_rate=settings.synthetic_attrition_rate
    )
    path = write_csv(frame, settings.var_dir / SYNTHETIC_FILE)
    summary = f"generated {len(frame):,} synthetic employees (seed {settings.seed}) in {path}"
    return {"source": "synthetic", "path": str(path), "rows": len(frame), "summary": summary}


def ingest_step(context: QuickstartContext) -> dict[str, Any]:
    """Validate and load the prepared file as today's snapshot."""
    from attrition.data.ingest import ingest_file  # pandera: loaded only when it runs

    path = Path(context.outcomes["data"]["path"])
    settings = context.settings
    result = ingest_file(
        path, None, settings.database_url, pseudonym_key=settings.pseudonym_secret()
    )
    if result.rows_loaded == 0:
        raise AttritionError(
            f"{path}: no valid rows ({result.rows_quarantined} quarantined); "
            "run `attrition data ingest` on it to see the reasons"
        )
    summary = (
        f"snapshot {result.snapshot_date.isoformat()}: {result.rows_loaded:,} rows loaded, "
        f"{result.rows_quarantined:,} quarantined"
    )
    keys = ("rows_read", "rows_loaded", "rows_quarantined", "batch_id", "warnings")
    return {
        **{key: result.as_dict()[key] for key in keys},
        "snapshot_date": result.snapshot_date.isoformat(),
        "summary": summary,
    }


def train_step(context: QuickstartContext) -> dict[str, Any]:
    """Train on the snapshot just loaded; the gate alone decides on promotion."""
    from attrition.training.inputs import from_database
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import train_model

    source = from_database(context.settings.database_url)
    options = TrainingOptions.from_settings(
        context.settings,
        n_trials=context.trials,
        data_source=source.source,
        actor="quickstart",
        on_progress=context.on_progress,
    )
    result = train_model(source.frame, options)
    limit = " (the search's time limit)" if result.stopped_by == "timeout" else ""
    summary = (
        f"version {result.model_version}: holdout ROC-AUC {result.metrics['roc_auc']:.3f}, "
        f"threshold {result.threshold:.3f}, {result.trials_completed} trials{limit}, "
        f"{'promoted' if result.promoted else 'not promoted'}"
    )
    return {**result.to_json(), "summary": summary}


def champion_step(context: QuickstartContext) -> dict[str, Any]:
    """Fail clearly if no model holds the champion alias (the API would have nothing to serve)."""
    from attrition import registry

    config = registry.RegistryConfig.from_settings(context.settings)
    champion = registry.version_by_alias(registry.CHAMPION, config)
    if champion is None:
        reasons = "; ".join(context.outcomes["train"]["gate"]["reasons"])
        raise AttritionError(
            f"the quality gate kept version {context.outcomes['train']['model_version']} from "
            f"becoming champion ({reasons}); inspect it in MLflow and promote it with "
            "`attrition promote VERSION` if you accept it"
        )
    version = str(champion.version)
    return {"version": version, "summary": f"champion is version {version}"}


def key_step(context: QuickstartContext) -> dict[str, Any]:
    """An admin key for signing in to the dashboard; only its hash is stored."""
    from attrition.serving.platform.api_keys import create_key

    settings = context.settings
    key = create_key(
        "quickstart-admin",
        "admin",
        database_url=settings.database_url,
        server_secret=settings.pseudonym_secret(),
    )
    return {
        "key_id": key.key_id,
        "api_key": key.secret,
        "summary": f"admin key {key.key_id} created (shown once below)",
    }


def _safe_database_url(settings: Settings) -> str:
    return get_engine(settings.database_url).url.render_as_string(hide_password=True)
