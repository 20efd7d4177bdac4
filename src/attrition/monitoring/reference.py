"""The champion a check compares against: its version, reference sample, scores, metrics.

The reference sample (training rows' raw features plus calibrated out-of-fold scores) is
saved with every model version (``registry.load_reference``).

Prediction drift needs the score distribution of the *served* model on data of the
training distribution. Out-of-fold scores come from the cross-validation fold models, not
from the served model refitted on all training rows; for flexible models (boosted trees)
the two distributions differ measurably (a LightGBM champion flagged prediction drift on
20 of 20 fresh no-drift samples of 300 rows against its out-of-fold scores, a logistic
one on 0 of 20). So when the sample marks rows ``reference_split == "holdout"`` (the
served model's scores on the holdout), those scores are the prediction reference and
every row is a feature reference; otherwise the out-of-fold scores are used and the
report says so (``prediction_reference: out_of_fold``).

The sample is kept per version in a
file cache under ``var/monitoring/reference/`` (keyed by model name, version and run id, so
a re-registered version never reuses a stale file) and summarised once per process and
drift configuration into a :class:`ReferenceProfile`. The champion's model is cached per
version too, for scoring files, snapshots and log rows written by other versions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from attrition import registry
from attrition.errors import AttritionError
from attrition.monitoring.config import DriftConfig
from attrition.monitoring.performance import HoldoutMetrics
from attrition.monitoring.profile import (
    ReferenceProfile,
    build_reference,
    columns_from_frame,
    feature_specs,
)
from attrition.registry import REFERENCE_SCORE_COLUMN, REFERENCE_SPLIT_COLUMN, RegistryConfig
from attrition.schema import FEATURE_NAMES
from attrition.settings import Settings

logger = logging.getLogger(__name__)

HOLDOUT = "holdout"
T = TypeVar("T")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class Champion:
    """The version holding the ``champion`` alias, and what checks need of it."""

    name: str
    version: str
    run_id: str
    threshold: float


def current_champion(config: RegistryConfig) -> Champion:
    """The champion, or a clear error telling the user to train first."""
    info = registry.champion_info(config)
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
    load = partial(registry.load_reference, config=RegistryConfig.from_settings(settings))
    frame = _artifact(champion, "reference sample", load)
    path.parent.mkdir(parents=True, exist_ok=True)
    unfinished = path.with_suffix(".tmp")
    frame.to_parquet(unfinished, index=False)
    unfinished.replace(path)
    return frame


def reference_features(frame: pd.DataFrame) -> tuple[str, ...]:
    """The schema features present in a reference sample, in schema order."""
    names = tuple(name for name in FEATURE_NAMES if name in frame.columns)
    if not names:
        raise AttritionError("the champion's reference sample holds no schema features")
    return names


def score_reference(
    frame: pd.DataFrame, min_rows: int
) -> tuple[npt.NDArray[np.float64] | None, str]:
    """Pure: the prediction-drift reference scores and their kind (see the module doc)."""
    if REFERENCE_SCORE_COLUMN not in frame.columns:
        return None, "none"
    if REFERENCE_SPLIT_COLUMN in frame.columns:
        holdout = frame.loc[frame[REFERENCE_SPLIT_COLUMN] == HOLDOUT, REFERENCE_SCORE_COLUMN]
        if len(holdout) >= min_rows:
            return holdout.to_numpy(dtype=np.float64), "holdout"
        frame = frame.loc[frame[REFERENCE_SPLIT_COLUMN] != HOLDOUT]
    return frame[REFERENCE_SCORE_COLUMN].to_numpy(dtype=np.float64), "out_of_fold"


@dataclass(frozen=True, slots=True)
class Reference:
    """The summarised reference and which scores its prediction part holds."""

    profile: ReferenceProfile
    prediction_reference: str


@lru_cache(maxsize=8)
def _reference(path: str, config: DriftConfig) -> Reference:
    frame = pd.read_parquet(path)
    specs = feature_specs(reference_features(frame))
    scores, kind = score_reference(frame, config.min_rows)
    profile = build_reference(columns_from_frame(frame, specs), specs, config, scores=scores)
    return Reference(profile, kind)


def champion_reference(settings: Settings, champion: Champion, config: DriftConfig) -> Reference:
    """The summarised reference of the champion (built once per version and config)."""
    reference_frame(settings, champion)  # fills the file cache when needed
    return _reference(str(cache_path(settings, champion)), config)


def holdout_metrics(settings: Settings, champion: Champion) -> HoldoutMetrics:
    """The holdout figures the champion was accepted with."""
    load = partial(registry.load_metrics, config=RegistryConfig.from_settings(settings))
    return HoldoutMetrics.from_mapping(_artifact(champion, "holdout metrics", load))


def _artifact(champion: Champion, what: str, load: Callable[[str], T]) -> T:
    """A run artifact of the champion; a missing or unreadable one is a clear user error."""
    try:
        return load(champion.version)
    except AttritionError:
        raise
    except Exception as error:  # MlflowException, OSError, a parquet/JSON decoding error
        raise AttritionError(
            f"champion v{champion.version} of {champion.name} has no readable {what} "
            f"({type(error).__name__}); versions trained by `attrition train` carry one: "
            "train a new version, or promote one that has it"
        ) from error


@lru_cache(maxsize=2)
def _model(config: RegistryConfig, version: str) -> Any:
    return registry.load_model(version, config)


def champion_scores(
    settings: Settings, champion: Champion, frame: pd.DataFrame
) -> npt.NDArray[np.float64]:
    """The champion's probability of leaving for each row of a feature frame."""
    if frame.empty:
        return np.array([], dtype=np.float64)
    model = _model(RegistryConfig.from_settings(settings), champion.version)
    return np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)
