"""The champion a check compares against: its version, reference, scores, metrics.

The reference (per-feature marginals of the training rows and sorted score lists, no row
that links a person's attributes: ``registry/reference.py``) is saved with every model
version (``registry.load_reference``, which converts an old version's full reference rows).
Its scores were stored once at training, so no check loads a model to re-score it.

Prediction drift needs the score distribution of the *served* model on data of the
training distribution. Out-of-fold scores come from the cross-validation fold models, not
from the served model refitted on all training rows; for flexible models (boosted trees)
the two distributions differ measurably (a LightGBM champion flagged prediction drift on
20 of 20 fresh no-drift samples of 300 rows against its out-of-fold scores, a logistic
one on 0 of 20). So the holdout scores (the served model's) are the prediction reference
when there are enough of them; otherwise the out-of-fold scores are used and the report
says so (``prediction_reference: out_of_fold``).

The reference is kept per version in a file cache under ``var/monitoring/reference/``
(JSON, mode 0600, keyed by model name, version and run id, so a re-registered version never
reuses a stale file; old-format ``.parquet`` caches are removed on sight) and summarised
once per process and drift configuration into a :class:`ReferenceProfile`. The champion's
model is cached per version too, for scoring files, snapshots and log rows written by
other versions.
"""

from __future__ import annotations

import json
import logging
import os
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
    FeatureSpec,
    ReferenceProfile,
    build_reference,
    feature_specs,
)
from attrition.registry import ReferenceMarginals, RegistryConfig
from attrition.registry.reference import HOLDOUT, OUT_OF_FOLD
from attrition.schema import FEATURE_NAMES
from attrition.settings import Settings

logger = logging.getLogger(__name__)

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
    """Where the version's reference (marginals) is cached."""
    name = _UNSAFE.sub("_", champion.name)
    folder = settings.var_dir / "monitoring" / "reference" / name
    return folder / f"v{champion.version}-{champion.run_id}.json"


def _drop_legacy_caches(folder: Path) -> None:
    """Remove reference caches of the old format (full training rows)."""
    for stale in folder.glob("*.parquet"):
        stale.unlink(missing_ok=True)
        logger.info("removed an old-format reference cache (%s)", stale.name)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to a file only its owner can read (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    unfinished = path.with_suffix(".tmp")
    descriptor = os.open(unfinished, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    unfinished.chmod(0o600)  # an older file of that name kept its mode
    unfinished.replace(path)


def reference_marginals(settings: Settings, champion: Champion) -> ReferenceMarginals:
    """The champion's reference, from the file cache or the registry."""
    path = cache_path(settings, champion)
    _drop_legacy_caches(path.parent)
    if path.exists():
        try:
            return ReferenceMarginals.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as error:  # torn or foreign: refetch
            logger.warning("reference cache %s unreadable (%s); refetching", path.name, error)
    load = partial(registry.load_reference, config=RegistryConfig.from_settings(settings))
    marginals = _artifact(champion, "reference sample", load)
    write_private(path, json.dumps(marginals.to_dict()))
    return marginals


def reference_features(marginals: ReferenceMarginals) -> tuple[str, ...]:
    """The schema features present in a reference, in schema order."""
    names = tuple(name for name in FEATURE_NAMES if name in marginals.features)
    if not names:
        raise AttritionError("the champion's reference sample holds no schema features")
    return names


def score_reference(
    marginals: ReferenceMarginals, min_rows: int
) -> tuple[npt.NDArray[np.float64] | None, str]:
    """Pure: the prediction-drift reference scores and their kind (see the module doc)."""
    holdout = marginals.scores.get(HOLDOUT, ())
    if len(holdout) >= min_rows:
        return np.asarray(holdout, dtype=np.float64), HOLDOUT
    out_of_fold = marginals.scores.get(OUT_OF_FOLD, ())
    if out_of_fold:
        return np.asarray(out_of_fold, dtype=np.float64), OUT_OF_FOLD
    return None, "none"


def reference_columns(
    marginals: ReferenceMarginals, specs: tuple[FeatureSpec, ...]
) -> dict[str, Any]:
    """Pure: each feature's column rebuilt from its marginal (see registry/reference.py)."""
    return {s.name: marginals.features[s.name].column(s.categorical) for s in specs}


@dataclass(frozen=True, slots=True)
class Reference:
    """The summarised reference and which scores its prediction part holds."""

    profile: ReferenceProfile
    prediction_reference: str


@lru_cache(maxsize=8)
def _reference(path: str, config: DriftConfig) -> Reference:
    marginals = ReferenceMarginals.from_dict(json.loads(Path(path).read_text()))
    specs = feature_specs(reference_features(marginals))
    scores, kind = score_reference(marginals, config.min_rows)
    columns = reference_columns(marginals, specs)
    return Reference(build_reference(columns, specs, config, scores=scores), kind)


def champion_reference(settings: Settings, champion: Champion, config: DriftConfig) -> Reference:
    """The summarised reference of the champion (built once per version and config)."""
    reference_marginals(settings, champion)  # fills the file cache when needed
    return _reference(str(cache_path(settings, champion)), config)


def holdout_metrics(settings: Settings, champion: Champion) -> HoldoutMetrics:
    """The holdout figures the champion was accepted with (cached beside its reference:
    a version's metrics never change)."""
    path = cache_path(settings, champion).with_suffix(".metrics.json")
    if path.exists():
        try:
            return HoldoutMetrics.from_mapping(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as error:
            logger.warning("metrics cache %s unreadable (%s); refetching", path.name, error)
    load = partial(registry.load_metrics, config=RegistryConfig.from_settings(settings))
    metrics = _artifact(champion, "holdout metrics", load)
    found = HoldoutMetrics.from_mapping(metrics)
    write_private(path, json.dumps(metrics))
    return found


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
