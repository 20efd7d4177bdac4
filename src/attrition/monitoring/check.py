"""One check, without writes: the champion, its reference, the current rows, drift and
realised performance.

Scores are the logged ones when every row of the window was scored by the champion, else the
champion rescores the rows. Performance comes from outcomes joined to the champion's
predictions (prediction log), or from a file's or a snapshot's labels, against the
champion's holdout metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from attrition.monitoring.config import MonitoringConfig
from attrition.monitoring.drift import DriftResult, detect_drift
from attrition.monitoring.fairness import FairnessCheck
from attrition.monitoring.findings import Finding
from attrition.monitoring.options import MonitorOptions
from attrition.monitoring.performance import PerformanceResult, evaluate_performance
from attrition.monitoring.production import check_data_quality, check_fairness
from attrition.monitoring.profile import columns_from_frame
from attrition.monitoring.quality import QualityCheck
from attrition.monitoring.realised import Realised, realised_outcomes
from attrition.monitoring.reference import (
    Champion,
    champion_reference,
    champion_scores,
    current_champion,
    holdout_metrics,
)
from attrition.monitoring.windows import (
    CurrentWindow,
    file_window,
    prediction_log_window,
    snapshot_window,
)
from attrition.registry import RegistryConfig
from attrition.settings import Settings


@dataclass(frozen=True, slots=True)
class Check:
    """The data and verdicts of one check, before anything is stored."""

    champion: Champion
    window: CurrentWindow
    drift: DriftResult
    performance: PerformanceResult | None
    score_source: str
    prediction_reference: str
    fairness: FairnessCheck | None = None
    quality: QualityCheck | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Fairness regressions and data-quality rises (``production.py``)."""
        fairness = self.fairness.findings if self.fairness is not None else ()
        return fairness + (self.quality.findings if self.quality is not None else ())

    @property
    def confirmed(self) -> bool:
        """Any feature drift, prediction drift or performance decay confirmed."""
        decay = self.performance is not None and bool(self.performance.decay)
        return bool(self.drift.drifted_features) or self.drift.prediction_drift or decay


def load_window(
    options: MonitorOptions,
    settings: Settings,
    config: MonitoringConfig,
    champion: Champion,
    now: datetime,
) -> CurrentWindow:
    """The current rows named by the options."""
    if options.current is not None:
        return file_window(options.current, settings.pseudonym_secret())
    if options.snapshot_date is not None:
        return snapshot_window(settings.database_url, options.snapshot_date)
    window, _ = prediction_log_window(
        settings.database_url,
        model_name=champion.name,
        now=now,
        since=options.since,
        days=options.days or config.performance.window_days,
        min_rows=config.drift.min_rows,
    )
    return window


def current_scores(
    window: CurrentWindow, settings: Settings, champion: Champion
) -> tuple[npt.NDArray[np.float64], str]:
    """The champion's scores of the current rows, and where they came from."""
    versions = window.provenance.details.get("model_versions", {})
    if window.scores is not None and set(versions) == {champion.version}:
        return window.scores, "logged"
    return champion_scores(settings, champion, window.frame), f"rescored by v{champion.version}"


def measure_performance(
    realised: Realised | None,
    settings: Settings,
    config: MonitoringConfig,
    champion: Champion,
    now: datetime,
) -> PerformanceResult | None:
    """Realised performance against the champion's holdout metrics (per window when the
    outcomes are of logged, timed predictions)."""
    if realised is None:
        return None
    return evaluate_performance(
        realised.probabilities, realised.left, realised.predicted_at,
        threshold=champion.threshold, holdout=holdout_metrics(settings, champion),
        config=config.performance, end=now,
    )  # fmt: skip


def run_check(
    options: MonitorOptions, settings: Settings, config: MonitoringConfig, now: datetime
) -> Check:
    """Champion, reference, current rows, drift and performance: no writes."""
    champion = current_champion(RegistryConfig.from_settings(settings))
    reference = champion_reference(settings, champion, config.drift)
    window = load_window(options, settings, config, champion, now)
    scores, score_source = current_scores(window, settings, champion)
    columns = columns_from_frame(window.frame, reference.profile.specs)
    drift = detect_drift(
        reference.profile, columns, config.drift, prediction=config.prediction, scores=scores
    )
    realised = realised_outcomes(window, scores, settings.database_url, champion)
    performance = measure_performance(realised, settings, config, champion, now)
    return Check(
        champion, window, drift, performance, score_source, reference.prediction_reference,
        fairness=check_fairness(realised, settings, config, champion),
        quality=check_data_quality(window, drift, settings, config, now),
    )  # fmt: skip
