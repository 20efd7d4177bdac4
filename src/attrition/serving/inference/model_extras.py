"""What ``GET /v1/model`` shows beyond the served model itself: the threshold's reason, the
fairness report, global importance, evaluation curves and the capacity trade-off of the
version's run (versions trained before the trade-off was logged have none).

Read from the run's artifacts once per loaded version and cached (never per request).
Curves come from the ``curves/curves.json`` artifact training logs; versions trained before
it have them computed from their old reference sample's holdout rows (label and score).
Aliases move at any time, so they are read from the registry with a short cache.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from attrition.registry import (
    CAPACITY_ARTIFACT,
    CURVES_ARTIFACT,
    FAIRNESS_ARTIFACT,
    IMPORTANCE_ARTIFACT,
    REFERENCE_ARTIFACT,
    REFERENCE_SCORE_COLUMN,
    REFERENCE_SPLIT_COLUMN,
    RegistryConfig,
    connect,
    read_aliases,
)
from attrition.schema import POSITIVE_LABEL, TARGET

logger = logging.getLogger(__name__)

CALIBRATION_BINS = 10
MAX_CURVE_POINTS = 200
ALIAS_TTL_SECONDS = 5.0
FAILED_RETRY_SECONDS = 60.0

Curves = dict[str, dict[str, list[float]]]


@dataclass(frozen=True)
class ModelExtras:
    threshold_reason: str | None = None
    fairness: dict[str, Any] | None = None
    importance: dict[str, float] | None = None
    curves: Curves | None = None
    capacity: dict[str, Any] | None = None


def _thin(x: NDArray[np.float64], y: NDArray[np.float64]) -> dict[str, list[float]]:
    """At most MAX_CURVE_POINTS points, keeping the first and last."""
    if len(x) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_CURVE_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return {"x": [float(v) for v in x], "y": [float(v) for v in y]}


def compute_curves(labels: NDArray[Any], scores: NDArray[np.float64]) -> Curves:
    """ROC (fpr, tpr), precision-recall (recall, precision) and calibration (predicted,
    observed; uniform bins) of scores against 0/1 labels."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    precision, recall, _ = precision_recall_curve(labels, scores)
    observed, predicted = calibration_curve(
        labels, scores, n_bins=CALIBRATION_BINS, strategy="uniform"
    )
    roc, pr = _thin(fpr, tpr), _thin(recall[::-1], precision[::-1])
    return {
        "roc": {"fpr": roc["x"], "tpr": roc["y"]},
        "pr": {"recall": pr["x"], "precision": pr["y"]},
        "calibration": {
            "predicted": [float(v) for v in predicted],
            "observed": [float(v) for v in observed],
        },
    }


def curves_from_reference(frame: pd.DataFrame) -> Curves | None:
    """Curves from the reference sample's holdout rows (every row if it has no split
    column); None without labels and scores or with a single class."""
    if REFERENCE_SCORE_COLUMN not in frame or TARGET not in frame:
        return None
    if REFERENCE_SPLIT_COLUMN in frame:
        frame = frame[frame[REFERENCE_SPLIT_COLUMN] == "holdout"]
    labels = (frame[TARGET].astype(str) == POSITIVE_LABEL).to_numpy(dtype=int)
    scores = pd.to_numeric(frame[REFERENCE_SCORE_COLUMN], errors="coerce").to_numpy(dtype=float)
    usable = np.isfinite(scores)
    labels, scores = labels[usable], scores[usable]
    if len(np.unique(labels)) < 2:
        return None
    return compute_curves(labels, scores)


def _artifact(client: Any, run_id: str, path: str, into: Path) -> Path | None:
    try:
        return Path(client.download_artifacts(run_id, path, str(into)))
    except Exception as error:  # absent from this run (older training) or unreadable
        logger.info("model extras: no %s in run (%s)", path, type(error).__name__)
        return None


def _json(path: Path | None) -> Any:
    return None if path is None else json.loads(path.read_text())


def load_extras(config: RegistryConfig, version: str, run_id: str | None) -> ModelExtras:
    """Read (or compute) the extras of one registered version."""
    client = connect(config)
    tags = dict(client.get_model_version(config.model_name, version).tags or {})
    if not run_id:
        return ModelExtras(threshold_reason=tags.get("threshold_reason"))
    with tempfile.TemporaryDirectory(prefix="attrition-extras-") as tmp:
        folder = Path(tmp)
        curves = _json(_artifact(client, run_id, CURVES_ARTIFACT, folder))
        if curves is None:
            reference = _artifact(client, run_id, REFERENCE_ARTIFACT, folder)
            curves = (
                None if reference is None else curves_from_reference(pd.read_parquet(reference))
            )
        importance = _json(_artifact(client, run_id, IMPORTANCE_ARTIFACT, folder))
        return ModelExtras(
            threshold_reason=tags.get("threshold_reason"),
            fairness=_json(_artifact(client, run_id, FAIRNESS_ARTIFACT, folder)),
            importance={str(k): float(v) for k, v in importance.items()} if importance else None,
            curves=curves,
            capacity=_json(_artifact(client, run_id, CAPACITY_ARTIFACT, folder)),
        )


class ExtrasCache:
    """Extras per version (computed once; a failed read is retried after a minute) and
    the aliases (refreshed at most every few seconds)."""

    def __init__(self, config: RegistryConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._extras: dict[str, ModelExtras] = {}
        self._failed: dict[str, float] = {}
        self._aliases: dict[str, str] = {}
        self._aliases_at = -ALIAS_TTL_SECONDS

    def extras(self, version: str, run_id: str | None) -> ModelExtras:
        with self._lock:
            found = self._extras.get(version)
            if found is not None:
                return found
            if time.monotonic() - self._failed.get(version, -FAILED_RETRY_SECONDS) < (
                FAILED_RETRY_SECONDS
            ):
                return ModelExtras()
            try:
                found = load_extras(self._config, version, run_id)
            except Exception as error:
                logger.warning("model extras of v%s unavailable: %s", version, type(error).__name__)
                self._failed[version] = time.monotonic()
                return ModelExtras()
            self._extras = {version: found}  # only the loaded version is kept
            return found

    def aliases(self, *, fresh: bool = False) -> dict[str, str]:
        with self._lock:
            if fresh or time.monotonic() - self._aliases_at >= ALIAS_TTL_SECONDS:
                try:
                    self._aliases = read_aliases(self._config)
                except Exception as error:  # keep the last known; ask again in a minute
                    logger.warning("aliases unavailable: %s", type(error).__name__)
                    self._aliases_at = time.monotonic() + FAILED_RETRY_SECONDS - ALIAS_TTL_SECONDS
                    return dict(self._aliases)
                self._aliases_at = time.monotonic()
            return dict(self._aliases)
