"""Monitoring thresholds: drift tests, performance tolerances, alerts and retraining.

Read from ``configs/monitoring.yaml`` (``ATTRITION_MONITORING_CONFIG``) into a pydantic model.
Every field has a default, so a missing default file means "use the defaults".
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attrition.errors import AttritionError
from attrition.settings import Settings

logger = logging.getLogger(__name__)

Correction = Literal["holm", "bonferroni", "benjamini-hochberg", "none"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EffectThresholds(_Strict):
    """Minimum effect sizes: a feature is flagged only when its effect reaches these."""

    numeric: float = Field(default=0.1, ge=0, description="Wasserstein distance / reference std")
    discrete: float = Field(default=0.05, ge=0, le=1, description="Jensen-Shannon distance")
    categorical: float = Field(default=0.05, ge=0, le=1, description="Jensen-Shannon distance")


class DriftConfig(_Strict):
    """Feature drift: test, multiple-testing correction, effect sizes, dataset verdict."""

    alpha: float = Field(default=0.01, gt=0, lt=1, description="family-wise level per check")
    correction: Correction = "holm"
    min_effect: EffectThresholds = EffectThresholds()
    drift_share: float = Field(default=0.3, gt=0, le=1)
    discrete_max_levels: int = Field(default=10, ge=2, le=1000)
    min_rows: int = Field(default=30, ge=2)
    max_missing_rate_delta: float = Field(default=0.1, ge=0, le=1)
    max_unseen_rate: float = Field(default=0.05, ge=0, le=1)
    histogram_bins: int = Field(default=20, ge=2, le=200)


class PredictionDriftConfig(_Strict):
    """Drift of the model's score distribution (one test, so no correction)."""

    alpha: float = Field(default=0.01, gt=0, lt=1)
    min_effect: float = Field(default=0.1, ge=0)


class PerformanceConfig(_Strict):
    """Realised performance against the holdout figures once outcomes arrive."""

    window_days: float = Field(default=30.0, gt=0)
    min_outcomes: int = Field(default=100, ge=10)
    min_positives: int = Field(default=10, ge=1)
    min_negatives: int = Field(default=10, ge=1)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    auc_tolerance: float = Field(default=0.05, ge=0, le=1)
    recall_tolerance: float = Field(default=0.1, ge=0, le=1)
    calibration_tolerance: float = Field(default=0.05, ge=0, le=1)
    calibration_bins: int = Field(default=10, ge=2, le=100)


class AlertConfig(_Strict):
    """Where alerts go and how often the same ongoing drift may be repeated."""

    enabled: bool = True
    webhook: bool = True
    github_issue: bool = True
    github_labels: tuple[str, ...] = ("drift", "monitoring")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    retries: int = Field(default=2, ge=0, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    repeat_after_hours: float | None = Field(default=None, gt=0)


class RetrainConfig(_Strict):
    """When drift may trigger retraining; cooldown None means the settings value."""

    on_feature_drift: bool = True
    on_prediction_drift: bool = True
    on_performance_decay: bool = True
    cooldown_hours: float | None = Field(default=None, ge=0)


class MonitoringConfig(_Strict):
    """Everything ``configs/monitoring.yaml`` may set."""

    drift: DriftConfig = DriftConfig()
    prediction: PredictionDriftConfig = PredictionDriftConfig()
    performance: PerformanceConfig = PerformanceConfig()
    alerts: AlertConfig = AlertConfig()
    retrain: RetrainConfig = RetrainConfig()

    def cooldown_hours(self, settings: Settings) -> float:
        """The retrain cooldown: the file's value, else ``ATTRITION_RETRAIN_COOLDOWN_HOURS``."""
        if self.retrain.cooldown_hours is not None:
            return self.retrain.cooldown_hours
        return settings.retrain_cooldown_hours


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{field}: {item['msg']}")
    return "; ".join(parts)


def parse_monitoring_config(data: Any, source: str = "monitoring config") -> MonitoringConfig:
    """Validate a mapping (e.g. parsed YAML) into a config; errors name each bad field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise AttritionError(f"{source}: expected a mapping at the top level")
    try:
        return MonitoringConfig.model_validate(data)
    except ValidationError as error:
        raise AttritionError(f"{source}: {_describe(error)}") from None


# The monitoring_config setting's default: a file that may be absent (defaults apply).
DEFAULT_CONFIG_PATH: Final[Path] = Settings.model_fields["monitoring_config"].default


def load_monitoring_config(
    path: Path | None = None, *, configured: Path = DEFAULT_CONFIG_PATH
) -> MonitoringConfig:
    """Read ``path`` (``--config``), else ``configured`` (the ``monitoring_config`` setting).
    The default file may be absent (defaults apply); a file named otherwise must exist."""
    chosen = path or configured
    if not chosen.exists():
        if path is None and chosen == DEFAULT_CONFIG_PATH:
            logger.info("monitoring config %s not found; using defaults", chosen)
            return MonitoringConfig()
        raise AttritionError(f"monitoring config not found: {chosen}")
    try:
        data = yaml.safe_load(chosen.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise AttritionError(f"{chosen}: not valid YAML ({error})") from None
    return parse_monitoring_config(data, source=str(chosen))
