"""The served model: champion from the registry, a verified cache as fallback, hot reload.

A new model is built completely (downloaded, unpickled, compiled, checked against the
model's own predictions on probe rows) before one reference assignment makes it current,
so a request always sees one whole model. A failed reload leaves the old model serving.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from attrition import registry
from attrition.errors import AttritionError
from attrition.registry import RegistryConfig
from attrition.schema import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES
from attrition.serving.inference import model_cache
from attrition.serving.inference.scoring import (
    PipelineScorer,
    Scorer,
    positive_proba,
    rows_to_frame,
)

logger = logging.getLogger(__name__)
Source = Literal["registry", "cache"]
EQUALITY_TOLERANCE = 1e-6
START_RETRY_SECONDS = 10.0


class ModelUnavailableError(AttritionError):
    """Neither the registry nor the local cache could provide a champion."""


@dataclass(frozen=True)
class ServedModel:
    """Everything about the model being served; replaced whole, never mutated."""

    name: str
    version: str
    run_id: str | None
    trained_at: str | None
    metrics: dict[str, float]
    threshold: float
    feature_names: tuple[str, ...]
    source: Source
    model: Any
    scorer: Scorer
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class ModelStores:
    """Where the served model comes from: the registry, and the local cache (signed with
    ``secret``) that serves when the registry cannot be reached."""

    registry: RegistryConfig
    cache_root: Path
    secret: bytes

    @property
    def model_name(self) -> str:
        return self.registry.model_name


def load_model_dir(path: Path) -> Any:
    """Unpickle an MLflow sklearn model folder."""
    import mlflow.sklearn

    return mlflow.sklearn.load_model(str(path))


def probe_rows(n: int = 16) -> list[dict[str, Any]]:
    """Deterministic rows spread over every range and category, for load-time self-checks."""
    rng = np.random.default_rng(20240601)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        row: dict[str, Any] = {
            f.name: f.categories[i % len(f.categories)] for f in CATEGORICAL_FEATURES
        }
        for feature in NUMERIC_FEATURES:
            span = min(feature.high, feature.low + 40) - feature.low
            row[feature.name] = int(feature.low + rng.integers(0, span + 1))
        rows.append(row)
    return rows


def build_scorer(model: Any, feature_names: tuple[str, ...]) -> Scorer:
    """The compiled scorer when it reproduces the model on probe rows, else the pipeline."""
    from attrition.serving.inference.compiled import CompileError, compile_model

    reference = PipelineScorer(model, feature_names)
    try:
        compiled = compile_model(model, feature_names)
    except CompileError as error:
        logger.warning("model not compiled, serving the pipeline path: %s", error)
        return reference
    rows = probe_rows()
    expected = positive_proba(model, rows_to_frame(rows, feature_names))
    got = compiled.score_rows(rows, top_k=3).probabilities
    if not np.allclose(got, expected, rtol=0, atol=EQUALITY_TOLERANCE):
        logger.error("compiled model disagrees with the pipeline, serving the pipeline path")
        return reference
    return compiled


def assemble(
    model: Any, version: str, meta: dict[str, Any], source: Source, name: str
) -> ServedModel:
    """Check a loaded model end to end and wrap it; raises if it cannot score."""
    feature_names = tuple(getattr(model, "feature_names", None) or ())
    unknown = [n for n in feature_names if n not in FEATURES]
    if not feature_names or unknown:
        raise AttritionError(f"model v{version}: unusable feature_names (unknown: {unknown})")
    threshold = float(getattr(model, "threshold", meta.get("threshold", 0.5)))
    scorer = build_scorer(model, feature_names)
    probe = scorer.score_rows(probe_rows(4), top_k=3).probabilities
    if not np.all(np.isfinite(probe)) or np.any((probe < 0) | (probe > 1)):
        raise AttritionError(f"model v{version}: probabilities outside [0, 1] on probe rows")
    return ServedModel(
        name=name,
        version=version,
        run_id=meta.get("run_id"),
        trained_at=meta.get("trained_at"),
        metrics=dict(meta.get("metrics") or {}),
        threshold=threshold,
        feature_names=feature_names,
        source=source,
        model=model,
        scorer=scorer,
    )


def load_from_registry(stores: ModelStores, version: str | None = None) -> ServedModel:
    """Download, verify and wrap a registry version (default: the champion); caches it."""
    config = stores.registry
    version = version or registry.champion_version(config)
    meta = registry.version_info(config, version).meta()
    with tempfile.TemporaryDirectory(prefix="attrition-model-") as tmp:
        local = registry.download_model(config, version, Path(tmp))
        served = assemble(load_model_dir(local), version, meta, "registry", config.model_name)
        model_cache.store(stores.cache_root, local, version, meta, stores.secret)
    return served


def load_from_cache(stores: ModelStores) -> ServedModel:
    """The last cached champion, after verifying its signature and checksums."""
    entry = model_cache.load_verified(stores.cache_root, stores.secret)
    return assemble(
        load_model_dir(entry.path), entry.version, entry.meta, "cache", stores.model_name
    )


def _limit_mlflow_retries() -> None:
    """Fail fast against an unreachable tracking server instead of minutes of back-off,
    and keep download progress bars out of logs and command output."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


class ModelService:
    """Holds the current model; loads, reloads and polls the champion alias."""

    def __init__(
        self,
        stores: ModelStores,
        *,
        poll_seconds: float = 30.0,
        reload_marker: Path | None = None,
        on_change: Callable[[ServedModel | None, ServedModel], None] | None = None,
        on_reload: Callable[[bool], None] | None = None,
    ) -> None:
        self.stores = stores
        self.current: ServedModel | None = None
        self._poll_seconds = poll_seconds
        self._marker = reload_marker
        self._marker_seen = self._read_marker()
        self._on_change = on_change or (lambda old, new: None)
        self._on_reload = on_reload or (lambda ok: None)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed_version: str | None = None
        self.last_error: str | None = None

    def load_initial(self) -> ServedModel:
        """The champion from the registry, else the verified cache; raises if neither works."""
        _limit_mlflow_retries()
        try:
            served = load_from_registry(self.stores)
        except Exception as error:
            logger.warning(
                "registry unavailable at start-up (%s); trying the local cache", _describe(error)
            )
            try:
                served = load_from_cache(self.stores)
            except Exception as cache_error:
                raise ModelUnavailableError(
                    f"no model to serve: registry failed ({_describe(error)}), "
                    f"cache failed ({_describe(cache_error)})"
                ) from cache_error
        self._swap(served)
        return served

    def reload(self, *, broadcast: bool = False) -> tuple[ServedModel | None, ServedModel]:
        """Load the champion from the registry and swap it in; the old one stays on failure."""
        with self._lock:
            previous = self.current
            try:
                served = load_from_registry(self.stores)
            except Exception as error:
                self.last_error = _describe(error)
                self._on_reload(False)
                raise
            self._swap(served)
            self._on_reload(True)
        if broadcast:
            self._bump_marker()
        return previous, served

    def _swap(self, served: ServedModel) -> None:
        old, self.current = self.current, served
        self._failed_version = None
        self.last_error = None
        logger.info(
            "serving model %s v%s (from %s, %s path)",
            served.name,
            served.version,
            served.source,
            served.scorer.kind,
        )
        self._on_change(old, served)

    # --- polling -----------------------------------------------------------------
    def start_polling(self) -> None:
        """Watch the reload marker (other workers' reloads), the alias (every
        ``poll_seconds``) and, while nothing is loaded, retry the start-up load."""
        self._thread = threading.Thread(target=self._poll_loop, name="model-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _poll_loop(self) -> None:
        next_registry_check = _monotonic() + self._poll_seconds
        next_start_attempt = _monotonic() + START_RETRY_SECONDS
        while not self._stop.wait(1.0):
            try:
                if self.current is None:  # started without any model: keep trying
                    if _monotonic() >= next_start_attempt:
                        next_start_attempt = _monotonic() + START_RETRY_SECONDS
                        self.load_initial()
                elif self._marker_changed():
                    self._reload_quietly("reload requested by another worker")
                elif self._poll_seconds > 0 and _monotonic() >= next_registry_check:
                    next_registry_check = _monotonic() + self._poll_seconds
                    self.poll_once()
            except Exception as error:  # polling never takes the service down
                logger.warning("model poll failed: %s", _describe(error))

    def poll_once(self) -> bool:
        """Reload if the alias moved to a version not yet served (or failed); True if swapped."""
        version = registry.champion_version(self.stores.registry)
        current = self.current.version if self.current else None
        if version in (current, self._failed_version):
            return False
        logger.info("champion alias moved to v%s", version)
        return self._reload_quietly(f"alias moved to v{version}", failed_version=version)

    def _reload_quietly(self, reason: str, failed_version: str | None = None) -> bool:
        try:
            self.reload()
        except Exception as error:
            self._failed_version = failed_version
            logger.error(
                "reload (%s) failed, keeping the current model: %s", reason, _describe(error)
            )
            return False
        return True

    def _read_marker(self) -> str | None:
        if self._marker is None or not self._marker.is_file():
            return None
        return self._marker.read_text()

    def _marker_changed(self) -> bool:
        seen = self._read_marker()
        if seen == self._marker_seen:
            return False
        self._marker_seen = seen
        return True

    def _bump_marker(self) -> None:
        if self._marker is None:
            return
        self._marker.parent.mkdir(parents=True, exist_ok=True)
        token = f"{os.getpid()}-{datetime.now(UTC).isoformat()}"
        tmp = self._marker.with_suffix(".tmp" + str(os.getpid()))
        tmp.write_text(token)
        tmp.replace(self._marker)
        self._marker_seen = token


def _monotonic() -> float:
    import time

    return time.monotonic()


def _describe(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__
