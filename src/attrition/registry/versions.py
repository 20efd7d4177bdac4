"""What the registry knows about versions: the champion's facts, one version's metadata,
and the history of every version with its aliases.

Metrics are the run's holdout metrics with the ``holdout_`` prefix dropped. For a version
whose run logged none (registered by other means), :func:`version_info` and
:func:`version_history` show the run's metrics as they are; :func:`champion_info` shows none.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from attrition.registry.aliases import CHAMPION, read_aliases, version_by_alias
from attrition.registry.client import connect
from attrition.registry.config import RegistryConfig

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)
HOLDOUT_PREFIX = "holdout_"


@dataclass(frozen=True, slots=True)
class ChampionInfo:
    """What GET /v1/model shows about the champion."""

    name: str
    version: str
    run_id: str
    trained_at: datetime
    metrics: dict[str, float]
    threshold: float
    threshold_reason: str
    features: list[str]
    include_protected: bool
    schema_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version's run, training time (ISO, UTC), metrics and tagged threshold."""

    version: str
    run_id: str | None
    trained_at: str | None
    metrics: dict[str, float]
    threshold: float | None

    def meta(self) -> dict[str, Any]:
        """The metadata as a JSON-ready mapping (no threshold key when none was tagged)."""
        found: dict[str, Any] = {
            "run_id": self.run_id,
            "metrics": self.metrics,
            "trained_at": self.trained_at,
        }
        if self.threshold is not None:
            found["threshold"] = self.threshold
        return found


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One line of the version history."""

    version: str
    aliases: list[str]
    created_at: datetime
    run_id: str | None
    metrics: dict[str, float]
    gate_passed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def holdout_metrics_of_run(metrics: dict[str, float], *, or_all: bool) -> dict[str, float]:
    """The ``holdout_`` metrics without the prefix; with ``or_all``, every metric when the
    run logged no holdout ones (pure)."""
    holdout = {
        key.removeprefix(HOLDOUT_PREFIX): float(value)
        for key, value in metrics.items()
        if key.startswith(HOLDOUT_PREFIX)
    }
    return holdout or ({k: float(v) for k, v in metrics.items()} if or_all else {})


def _started_at(run: Any) -> datetime:
    return datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC)


def champion_info(config: RegistryConfig) -> ChampionInfo | None:
    """Name, version, run, training time, holdout metrics, threshold and features."""
    client = connect(config)
    version = version_by_alias(CHAMPION, config, client=client)
    if version is None:
        return None
    tags = dict(version.tags or {})
    run = client.get_run(str(version.run_id))
    return ChampionInfo(
        name=str(version.name),
        version=str(version.version),
        run_id=str(version.run_id),
        trained_at=_started_at(run),
        metrics=holdout_metrics_of_run(run.data.metrics, or_all=False),
        threshold=float(tags["threshold"]),
        threshold_reason=tags.get("threshold_reason", ""),
        features=json.loads(tags.get("features", "[]")),
        include_protected=tags.get("include_protected") == "true",
        schema_version=tags.get("schema_version", ""),
    )


def version_info(config: RegistryConfig, version: str) -> VersionInfo:
    """Run id, training time, metrics (holdout metrics when logged) and tagged threshold."""
    client = connect(config)
    model_version = client.get_model_version(config.model_name, version)
    run_id = model_version.run_id or None
    tags = dict(model_version.tags or {})
    threshold = float(tags["threshold"]) if "threshold" in tags else None
    metrics: dict[str, float] = {}
    trained_at = None
    if run_id:
        run = client.get_run(run_id)
        metrics = holdout_metrics_of_run(run.data.metrics, or_all=True)
        trained_at = _started_at(run).isoformat()
    return VersionInfo(str(version), run_id, trained_at, metrics, threshold)


def version_history(config: RegistryConfig) -> list[VersionEntry]:
    """Every registered version, newest first: aliases, creation time, run, metrics and the
    promotion gate's verdict when training tagged it."""
    client = connect(config)
    by_version: dict[str, list[str]] = {}
    for alias, version in read_aliases(config).items():
        by_version.setdefault(version, []).append(alias)
    found = client.search_model_versions(f"name = '{config.model_name}'")
    history = []
    for item in sorted(found, key=lambda v: int(v.version), reverse=True):
        version = str(item.version)
        gate = dict(item.tags or {}).get("gate_passed")
        history.append(
            VersionEntry(
                version=version,
                aliases=sorted(by_version.get(version, [])),
                created_at=datetime.fromtimestamp(item.creation_timestamp / 1000, UTC),
                run_id=item.run_id,
                metrics=_run_metrics(client, item.run_id),
                gate_passed=None if gate is None else gate == "true",
            )
        )
    return history


def _run_metrics(client: MlflowClient, run_id: str | None) -> dict[str, float]:
    if not run_id:
        return {}
    try:
        metrics = client.get_run(run_id).data.metrics
    except Exception as error:  # a deleted run: the version is still listed
        logger.info("run metrics unavailable: %s", type(error).__name__)
        return {}
    return holdout_metrics_of_run(metrics, or_all=True)
