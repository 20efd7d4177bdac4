"""The champion a check compares against: its version, reference sample, scores, metrics.

The reference sample (training rows' raw features plus calibrated out-of-fold scores) is
saved with every model version (``registry.load_reference``). It is kept per version in a
file cache under ``var/monitoring/reference/`` (keyed by model name, version and run id, so
a re-registered version never reuses a stale file) and summarised once per process and
drift configuration into a :class:`ReferenceProfile`. The champion's model is cached per
version too, for scoring files, snapshots and log rows written by other versions.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from attrition import registry
from attrition.errors import AttritionError
from attrition.monitoring.config import DriftConfig
from attrition.monitoring.drift import (
    ReferenceProfile,
    build_reference,
    columns_from_frame,
    feature_specs,
)
from attrition.monitoring.performance import HoldoutMetrics
from attrition.schema import FEATURE_NAMES
from attrition.settings import Settings

logger = logging.getLogger(__name__)

SCORE_COLUMN = "attrition_probability"  # the registry's reference artifact column
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class Champion:
    """The version holding the ``champion`` alias, and what checks need of it."""

    name: str
    version: str
    run_id: str
    threshold: float


def current_champion() -> Champion:
    """The champion, or a clear error telling the user to train first."""
    info = registry.champion_info()
    if info is None:
        raise AttritionError(
            "no champion model yet: train first (`attrition train` or `attrition quickstart`), "
            "then monitor"
        )
    return Champion(info.name, info.version, info.run_id, info.threshold)


def cache_path(settings: Settings, champion: Champion) -> Path:
    """Where the version's reference sample is cached."""
    name = _UNSAFE.sub("_", champion.name)
    folder = settings.var_dir / "monitoring" / "reference" / name
    return folder / f"v{champion.version}-{champion.run_id}.parquet"


def reference_frame(settings: Settings, champion: Champion) -> pd.DataFrame:
    """The champion's reference sample, from the file cache or the registry."""
    path = cache_path(settings, champion)
    if path.exists():
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as error:  # a torn or foreign file: fetch again
            logger.warning("reference cache %s unreadable (%s); refetching", path.name, error)
    frame = registry.load_reference(champion.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    frame.to_parquet(partial, index=False)
    partial.replace(path)
    return frame


def reference_features(frame: pd.DataFrame) -> tuple[str, ...]:
    """The schema features present in a reference sample, in schema order."""
    names = tuple(name for name in FEATURE_NAMES if name in frame.columns)
    if not names:
        raise AttritionError("the champion's reference sample holds no schema features")
    return names


@lru_cache(maxsize=8)
def _profile(path: str, config: DriftConfig) -> ReferenceProfile:
    frame = pd.read_parquet(path)
    specs = feature_specs(reference_features(frame))
    scores = frame[SCORE_COLUMN].to_numpy(dtype=np.float64) if SCORE_COLUMN in frame else None
    return build_reference(columns_from_frame(frame, specs), specs, config, scores=scores)


def reference_profile(
    settings: Settings, champion: Champion, config: DriftConfig
) -> ReferenceProfile:
    """The summarised reference of the champion (built once per version and config)."""
    reference_frame(settings, champion)  # fills the file cache when needed
    return _profile(str(cache_path(settings, champion)), config)


def holdout_metrics(champion: Champion) -> HoldoutMetrics:
    """The holdout figures the champion was accepted with."""
    return HoldoutMetrics.from_mapping(registry.load_metrics(champion.version))


@lru_cache(maxsize=2)
def _model(tracking_uri: str, name: str, version: str) -> Any:
    return registry.load_model(version)


def champion_scores(
    settings: Settings, champion: Champion, frame: pd.DataFrame
) -> npt.NDArray[np.float64]:
    """The champion's probability of leaving for each row of a feature frame."""
    if frame.empty:
        return np.array([], dtype=np.float64)
    model = _model(settings.mlflow_tracking_uri, champion.name, champion.version)
    return np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)
