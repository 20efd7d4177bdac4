"""The checks beyond drift and decay, from one check's data: fairness in production
(``fairness.py``) and data quality (``quality.py``), configured by the settings
``ATTRITION_FAIRNESS_TOLERANCE``, ``ATTRITION_FAIRNESS_MIN_GROUP``,
``ATTRITION_QUALITY_RISE_FACTOR`` and ``ATTRITION_QUALITY_MIN_BAD``.

Fairness reads the same outcomes as realised performance: for the prediction log, the
outcomes joined to the champion version's predictions; for a file or a snapshot, its
labelled rows. Data quality covers the prediction-log window, or for a file or a snapshot
the last ``performance.window_days`` days.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from attrition import registry
from attrition.monitoring.config import MonitoringConfig
from attrition.monitoring.drift import DriftResult
from attrition.monitoring.fairness import FairnessCheck, FairnessPolicy, production_fairness
from attrition.monitoring.quality import QualityCheck, QualityPolicy, check_quality
from attrition.monitoring.realised import Realised
from attrition.monitoring.reference import Champion
from attrition.monitoring.windows import CurrentWindow
from attrition.registry import RegistryConfig
from attrition.settings import Settings

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _audit(config: RegistryConfig, version: str) -> dict[str, Any] | None:
    try:
        return registry.load_fairness(version, config)
    except Exception as error:  # an older version without the artifact: no training values
        logger.info("no training fairness audit for v%s (%s)", version, type(error).__name__)
        return None


def training_audit(settings: Settings, champion: Champion) -> dict[str, Any] | None:
    """The champion's training-time fairness audit, or None when it has none."""
    return _audit(RegistryConfig.from_settings(settings), champion.version)


def fairness_policy(settings: Settings, config: MonitoringConfig) -> FairnessPolicy:
    return FairnessPolicy(
        tolerance=settings.fairness_tolerance,
        min_group=settings.fairness_min_group,
        confidence=config.performance.confidence,
    )


def check_fairness(
    realised: Realised | None, settings: Settings, config: MonitoringConfig, champion: Champion
) -> FairnessCheck | None:
    """Per-group fairness on the check's realised outcomes; None without any."""
    if realised is None:
        return None
    return production_fairness(
        realised.frame, realised.left, realised.probabilities, threshold=champion.threshold,
        audit=training_audit(settings, champion), policy=fairness_policy(settings, config),
        basis=realised.basis,
    )  # fmt: skip


def quality_period(
    window: CurrentWindow, config: MonitoringConfig, now: datetime
) -> tuple[datetime, datetime]:
    """The prediction-log window, else the last ``performance.window_days`` days."""
    provenance = window.provenance
    if provenance.window_start is not None and provenance.window_end is not None:
        return provenance.window_start, provenance.window_end
    return now - timedelta(days=config.performance.window_days), now


def check_data_quality(
    window: CurrentWindow,
    drift: DriftResult,
    settings: Settings,
    config: MonitoringConfig,
    now: datetime,
) -> QualityCheck:
    """Refused and quarantined inputs of the check's period against the one before."""
    start, end = quality_period(window, config, now)
    policy = QualityPolicy(settings.quality_rise_factor, settings.quality_min_bad)
    return check_quality(settings.database_url, start=start, end=end, drift=drift, policy=policy)
