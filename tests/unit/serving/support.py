"""Helpers shared by the serving tests: fit and register real models, make keys, payloads.

Loaded by path from the unit and integration conftests (tests are not a package).
"""

from __future__ import annotations

import socket
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sqlalchemy import func, select

from attrition.db.engine import session_scope
from attrition.db.models import PredictionLog
from attrition.schema import FEATURE_NAMES, IDENTIFIER, POSITIVE_LABEL, TARGET, model_feature_names
from attrition.training.features import FeatureEngineer, build_preprocessor
from attrition.training.model import AttritionModel

MODEL_NAME = "attrition-classifier"


def dev_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def estimator(kind: str, seed: int = 0) -> Any:
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=5000, C=0.5)
    if kind == "forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=40, max_depth=8, random_state=seed, n_jobs=1)
    if kind == "extra_trees":
        from sklearn.ensemble import ExtraTreesClassifier

        return ExtraTreesClassifier(n_estimators=30, max_depth=12, random_state=seed, n_jobs=1)
    if kind == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=60, num_leaves=15, verbose=-1, random_state=seed, n_jobs=1
        )
    raise ValueError(kind)


def fit_model(
    frame: pd.DataFrame,
    kind: str = "logistic",
    *,
    ordinal_encoding: str = "numeric",
    scale: bool = True,
    calibration: str = "sigmoid",
    threshold: float = 0.3,
) -> AttritionModel:
    """A real AttritionModel fitted on the dev data (the training issue's classes)."""
    names = model_feature_names()
    engineer = FeatureEngineer(feature_names=names)
    preprocess = build_preprocessor(engineer, ordinal_encoding=ordinal_encoding, scale=scale)  # type: ignore[arg-type]
    pipeline = Pipeline(
        [("engineer", engineer), ("preprocess", preprocess), ("estimator", estimator(kind))]
    )
    y = (frame[TARGET] == POSITIVE_LABEL).astype(int).to_numpy()
    model = AttritionModel(
        pipeline,
        feature_names=names,
        calibration_method=calibration,  # type: ignore[arg-type]
        calibration_folds=3,
        threshold=threshold,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(frame, y)


def register_model(
    model: Any,
    tracking_uri: str,
    artifact_root: Path,
    *,
    name: str = MODEL_NAME,
    champion: bool = True,
    reference: pd.DataFrame | None = None,
) -> str:
    """Log ``model`` with mlflow.sklearn, register it, optionally make it the champion.

    With ``reference`` (labelled rows), the run also carries the drift reference artifact
    the training library logs (raw columns, ``attrition_probability``, ``Attrition``), so
    monitoring can run against this champion.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment = client.get_experiment_by_name("serving-tests")
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(
            "serving-tests", artifact_location=artifact_root.resolve().as_uri()
        )
    )
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mlflow.start_run(experiment_id=experiment_id):
            mlflow.log_metric("holdout_roc_auc", 0.8)
            if reference is not None:
                _log_reference(model, reference)
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                registered_model_name=name,
                serialization_format="cloudpickle",
            )
    version = str(info.registered_model_version)
    threshold = getattr(model, "threshold", None)
    if threshold is not None:
        client.set_model_version_tag(name, version, "threshold", str(threshold))
    if champion:
        client.set_registered_model_alias(name, "champion", version)
    return version


def _log_reference(model: Any, frame: pd.DataFrame) -> None:
    import tempfile

    import mlflow
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    sample = frame[[*model_feature_names(include_protected=True), TARGET]].copy()
    probabilities = model.predict_proba(frame)[:, 1]
    sample["attrition_probability"] = probabilities
    labels = (frame[TARGET] == POSITIVE_LABEL).astype(int).to_numpy()
    metrics = {
        "roc_auc": float(roc_auc_score(labels, probabilities)),
        "pr_auc": float(average_precision_score(labels, probabilities)),
        "brier": float(brier_score_loss(labels, probabilities)),
        "base_rate": float(labels.mean()),
    }
    mlflow.log_dict(metrics, "metrics/holdout_metrics.json")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reference.parquet"
        sample.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path="reference")


def employee(row: pd.Series | dict[str, Any]) -> dict[str, Any]:
    """A request body for one employee from a dev-data row."""
    data = dict(row)
    body = {name: _plain(data[name]) for name in FEATURE_NAMES}
    body[IDENTIFIER] = int(data[IDENTIFIER])
    return body


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_rows(url: str, expected: int, timeout: float = 10.0) -> int:
    """The prediction_log row count once it reaches ``expected`` (or the timeout)."""
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            count = session.scalar(select(func.count()).select_from(PredictionLog)) or 0
        if count >= expected:
            return count
        time.sleep(0.05)
    return count
