"""The per-app serving state: settings, model, keys, limiter, log writer, metrics, and the
bodies the fast routes validate."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from attrition.db.engine import get_engine
from attrition.db.types import utcnow
from attrition.privacy import pseudonymise
from attrition.registry import RegistryConfig
from attrition.schema import FEATURE_NAMES, IDENTIFIER
from attrition.serving.inference.levers import suggest
from attrition.serving.inference.model_extras import ExtrasCache
from attrition.serving.inference.model_service import ModelService, ModelStores, ServedModel
from attrition.serving.inference.scoring import Scores
from attrition.serving.payloads import PredictionBodies
from attrition.serving.platform.api_keys import KeyStore
from attrition.serving.platform.background import BackgroundJob
from attrition.serving.platform.ids import IdSource
from attrition.serving.platform.metrics import Metrics, build_metrics
from attrition.serving.platform.ratelimit import (
    FailureLimiter,
    RateLimiter,
    make_rate_limiter,
)
from attrition.serving.predlog.spool import spool_folder
from attrition.serving.predlog.writer import PredictionLogWriter, insert_ignoring_duplicates
from attrition.settings import Settings

logger = logging.getLogger(__name__)
TOP_K = 5


def serving_paths(settings: Settings) -> dict[str, Path]:
    """Where the service keeps its local state, all under ``var/``."""
    var = settings.var_dir
    return {
        "cache": var / "model_cache" / settings.model_name,
        "spool": spool_folder(var),
        "reload_marker": var / "serving" / "reload-request",
    }


def model_stores(settings: Settings, secret: bytes) -> ModelStores:
    """The registry of ``settings`` and the local cache that stands in for it."""
    return ModelStores(
        RegistryConfig.from_settings(settings), serving_paths(settings)["cache"], secret
    )


@dataclass
class ServingState:
    settings: Settings
    registry: RegistryConfig
    secret: bytes
    models: ModelService
    keys: KeyStore
    limiter: RateLimiter
    writer: PredictionLogWriter
    metrics: Metrics
    extras: ExtrasCache
    bodies: PredictionBodies
    auth_failures: FailureLimiter = field(default_factory=lambda: FailureLimiter(20))
    _db_checked: float = 0.0
    _db_ok: bool = False
    ids: IdSource = field(default_factory=IdSource)
    retrains: BackgroundJob = field(default_factory=lambda: BackgroundJob("monitoring-retrain"))

    def score_rows(
        self,
        rows: list[dict[str, Any]],
        request_id: str,
        client: str,
        source: str = "api",
        *,
        levers: bool = False,
    ) -> tuple[ServedModel, list[dict[str, Any]]]:
        """Score validated rows, journal and queue their log rows (``source`` "api" or
        "what-if"), return the response items (with each row's retention levers when
        ``levers``; the candidate rows behind them are not logged)."""
        served = self.models.current
        if served is None:
            raise LookupError("no model loaded")
        scores = served.scorer.score_rows(rows, TOP_K)
        items, logs = self._build(served, rows, scores, request_id, client, source)
        if levers:
            found = suggest(served.scorer, served.feature_names, rows, scores.probabilities)
            for item, suggestions in zip(items, found, strict=True):
                item["levers"] = [s.as_dict() for s in suggestions]
        self.writer.submit(logs)
        at_risk = sum(1 for item in items if item["at_risk"])
        if at_risk:
            self.metrics.predictions.labels("at_risk").inc(at_risk)
        if len(items) - at_risk:
            self.metrics.predictions.labels("not_at_risk").inc(len(items) - at_risk)
        return served, items

    def _build(
        self,
        served: ServedModel,
        rows: list[dict[str, Any]],
        scores: Scores,
        request_id: str,
        client: str,
        source: str,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        now = utcnow()
        threshold = served.threshold
        items, logs = [], []
        for row, probability, factors in zip(
            rows, scores.probabilities.tolist(), scores.factors, strict=True
        ):
            prediction_id = self.ids.uuid()
            number = row.get(IDENTIFIER)
            at_risk = probability >= threshold
            items.append(
                {
                    "prediction_id": prediction_id,
                    "employee_number": number,
                    "attrition_probability": probability,
                    "at_risk": at_risk,
                    "threshold": threshold,
                    "model_name": served.name,
                    "model_version": served.version,
                    "top_factors": [
                        {"feature": f, "value": row.get(f), "contribution": c} for f, c in factors
                    ],
                }
            )
            logs.append(
                {
                    "prediction_id": prediction_id,
                    "request_id": request_id,
                    "employee_key": pseudonymise(number, self.secret)
                    if number is not None
                    else None,
                    "model_name": served.name,
                    "model_version": served.version,
                    "probability": probability,
                    "at_risk": at_risk,
                    "threshold": threshold,
                    "features": {name: row[name] for name in FEATURE_NAMES},
                    "client": client,
                    "source": source,
                    "created_at": now,
                }
            )
        return items, logs

    async def database_ok(self) -> bool:
        """Whether the database answers (cached for two seconds)."""
        if time.monotonic() - self._db_checked > 2.0:
            self._db_ok = await run_in_threadpool(self._ping)
            self._db_checked = time.monotonic()
        return self._db_ok

    def _ping(self) -> bool:
        try:
            engine = get_engine(self.settings.database_url, self.settings.db_pool_size)
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


def _count_spooled(metrics: Metrics, rows: int) -> None:
    metrics.spool_rows.inc(rows)
    metrics.spooled_total.inc(rows)


def build_state(settings: Settings) -> ServingState:
    """Wire the components together (nothing is started or loaded here)."""
    paths = serving_paths(settings)
    secret = settings.pseudonym_secret()
    metrics = build_metrics()
    writer = PredictionLogWriter(
        insert_ignoring_duplicates(get_engine(settings.database_url, settings.db_pool_size)),
        paths["spool"],
        on_spooled=lambda n: _count_spooled(metrics, n),
        on_replayed=lambda n: metrics.spool_rows.dec(n),
    )

    stores = model_stores(settings, secret)
    extras = ExtrasCache(stores.registry)

    def on_change(old: ServedModel | None, new: ServedModel) -> None:
        if old is not None:
            metrics.model_info.labels(old.name, old.version, old.source).set(0)
        metrics.model_info.labels(new.name, new.version, new.source).set(1)
        if new.source == "registry":  # read the new version's extras off the request path
            threading.Thread(
                target=extras.extras, args=(new.version, new.run_id), daemon=True
            ).start()

    models = ModelService(
        stores,
        poll_seconds=settings.model_poll_seconds,
        reload_marker=paths["reload_marker"],
        on_change=on_change,
        on_reload=lambda ok: metrics.reloads.labels("success" if ok else "failure").inc(),
    )
    return ServingState(
        settings=settings,
        registry=stores.registry,
        secret=secret,
        models=models,
        keys=KeyStore(settings.database_url, secret),
        limiter=make_rate_limiter(settings.rate_limit_per_minute, settings.redis_url),
        writer=writer,
        metrics=metrics,
        extras=extras,
        bodies=PredictionBodies.for_limit(settings.max_batch_rows),
        auth_failures=FailureLimiter(settings.auth_failures_per_minute),
    )
