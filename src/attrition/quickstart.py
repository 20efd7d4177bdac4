"""`attrition quickstart`: the whole main job on embedded defaults, as ordered steps.

Each :class:`Step` reads what earlier steps produced from the shared
:class:`QuickstartContext` and returns a JSON-ready outcome with a one-line ``summary``.
:func:`quickstart_steps` lists them in order (migrate, data, ingest); later parts of the
system append theirs (train, promote) to that list.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrition.data.ingest import ingest_file
from attrition.data.synthetic import generate_workforce, write_csv
from attrition.db.engine import get_engine
from attrition.db.migrate import upgrade
from attrition.errors import AttritionError
from attrition.settings import Settings, get_settings

logger = logging.getLogger(__name__)

SYNTHETIC_FILE = "synthetic_workforce.csv"
DASHBOARD_URL = "http://127.0.0.1:8501"


@dataclass(slots=True)
class QuickstartContext:
    """What the steps share: settings, the user's file (if any), earlier outcomes."""

    settings: Settings
    data: Path | None
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Step:
    """One quickstart step: a name, a progress title and the work itself."""

    name: str
    title: str
    run: Callable[[QuickstartContext], dict[str, Any]]


StepListener = Callable[[Step, dict[str, Any] | None], None]


def quickstart_steps() -> list[Step]:
    """The ordered steps; later stages (train, promote) are appended after ``ingest``."""
    return [
        Step("migrate", "Migrating the database", migrate_step),
        Step("data", "Preparing the data", data_step),
        Step("ingest", "Validating and loading the snapshot", ingest_step),
    ]


def run_quickstart(
    data: Path | None,
    *,
    steps: Sequence[Step] | None = None,
    on_step: StepListener | None = None,
) -> dict[str, Any]:
    """Run the steps in order; ``on_step(step, None)`` before and ``(step, outcome)`` after."""
    context = QuickstartContext(get_settings(), data)
    done: list[dict[str, Any]] = []
    for step in quickstart_steps() if steps is None else steps:
        if on_step:
            on_step(step, None)
        started = time.perf_counter()
        outcome = {**step.run(context), "seconds": round(time.perf_counter() - started, 3)}
        context.outcomes[step.name] = outcome
        logger.info("quickstart step %s done in %.1f s", step.name, outcome["seconds"])
        done.append({"step": step.name, **outcome})
        if on_step:
            on_step(step, outcome)
    return {
        "steps": done,
        "database_url": _safe_database_url(context.settings),
        "api": {"command": "attrition serve", "url": context.settings.api_url},
        "dashboard": {"command": "attrition ui", "url": DASHBOARD_URL},
    }


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
    frame = generate_workforce(settings.synthetic_rows, settings.seed)
    path = write_csv(frame, settings.var_dir / SYNTHETIC_FILE)
    summary = f"generated {len(frame):,} synthetic employees (seed {settings.seed}) in {path}"
    return {"source": "synthetic", "path": str(path), "rows": len(frame), "summary": summary}


def ingest_step(context: QuickstartContext) -> dict[str, Any]:
    """Validate and load the prepared file as today's snapshot."""
    path = Path(context.outcomes["data"]["path"])
    result = ingest_file(path, database_url=context.settings.database_url)
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


def _safe_database_url(settings: Settings) -> str:
    return get_engine(settings.database_url).url.render_as_string(hide_password=True)
