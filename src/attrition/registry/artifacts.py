"""What each version carries, and loading it: the model, its folder, the drift reference and
the holdout metrics.

A version's run carries ``reference/marginals.json`` (the drift reference without a
linkable personal row: per-feature marginals and sorted score lists, see
``registry/reference.py``), ``metrics/holdout_metrics.json``, ``curves/curves.json`` and the
reports below. Versions trained before carry ``reference/reference.parquet`` instead (raw
schema columns, ``attrition_probability``, ``Attrition`` and ``reference_split``), read
and converted by :func:`load_reference`. Training writes these paths, monitoring and
serving read them: both use the names here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from attrition.errors import AttritionError, NotFoundError
from attrition.registry.aliases import existing_version, version_by_alias
from attrition.registry.client import allow_model_loading, connect
from attrition.registry.config import RegistryConfig
from attrition.registry.reference import (
    LEGACY_SCORE_COLUMN,
    LEGACY_SPLIT_COLUMN,
    MARGINALS_ARTIFACT,
    ReferenceMarginals,
    marginals_from_legacy,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

MODEL_ARTIFACT: Final = "model"
REFERENCE_ARTIFACT: Final = "reference/reference.parquet"  # before marginals.json
CURVES_ARTIFACT: Final = "curves/curves.json"
METRICS_ARTIFACT: Final = "metrics/holdout_metrics.json"
FAIRNESS_ARTIFACT: Final = "fairness/fairness_report.json"
IMPORTANCE_ARTIFACT: Final = "explain/shap_importance.json"
# The capacity trade-off curve (attrition.capacity.tradeoff_curve) and its chosen point.
CAPACITY_ARTIFACT: Final = "capacity/capacity_tradeoff.json"
# Columns of the old reference sample besides the schema's.
REFERENCE_SCORE_COLUMN: Final = LEGACY_SCORE_COLUMN
REFERENCE_SPLIT_COLUMN: Final = LEGACY_SPLIT_COLUMN  # "train" (out of fold) or "holdout"


def model_uri(version_or_alias: str, config: RegistryConfig) -> str:
    """``models:/<name>/<version>`` or ``models:/<name>@<alias>``."""
    ref = str(version_or_alias)
    name = config.model_name
    return f"models:/{name}/{ref}" if ref.isdigit() else f"models:/{name}@{ref}"


def load_model(version_or_alias: str, config: RegistryConfig) -> Any:
    """The registered ``AttritionModel`` of a version number or alias."""
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException

    connect(config)
    try:
        with allow_model_loading():
            return mlflow.sklearn.load_model(model_uri(version_or_alias, config))
    except MlflowException as error:
        raise AttritionError(
            f"model {version_or_alias!r} of {config.model_name!r} cannot be loaded: {error.message}"
        ) from error


def download_model(config: RegistryConfig, version: str, into: Path) -> Path:
    """The MLflow model folder of ``version``, downloaded into ``into``; its path."""
    import mlflow.artifacts

    connect(config)  # `models:/` URIs resolve through the process-wide registry URI
    path = mlflow.artifacts.download_artifacts(
        artifact_uri=model_uri(version, config),
        dst_path=str(into),
        tracking_uri=config.tracking_uri,
        registry_uri=config.tracking_uri,
    )
    return Path(path)


def run_id_of(version_or_alias: str, config: RegistryConfig, client: MlflowClient) -> str:
    """The run that produced a version (number or alias)."""
    ref = str(version_or_alias)
    if ref.isdigit():
        return str(existing_version(client, config, ref).run_id)
    found = version_by_alias(ref, config, client=client)
    if found is None:
        raise NotFoundError(f"no model version holds the alias {ref!r}")
    return str(found.run_id)


def _download(version_or_alias: str, artifact: str, config: RegistryConfig) -> Path:
    import mlflow.artifacts

    run_id = run_id_of(version_or_alias, config, connect(config))
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact))


def load_reference(version: str, config: RegistryConfig) -> ReferenceMarginals:
    """The drift reference saved with a version (number or alias): its marginals, or an
    old version's full reference rows converted to marginals."""
    import mlflow.artifacts

    client = connect(config)
    run_id = run_id_of(version, config, client)
    stored = {item.path for item in client.list_artifacts(run_id, "reference")}
    path = MARGINALS_ARTIFACT if MARGINALS_ARTIFACT in stored else REFERENCE_ARTIFACT
    local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path))
    if path == MARGINALS_ARTIFACT:
        return ReferenceMarginals.from_dict(json.loads(local.read_text()))
    return _legacy(local)


def _legacy(path: Path) -> ReferenceMarginals:
    import pandas as pd

    from attrition.schema import FEATURE_NAMES

    return marginals_from_legacy(pd.read_parquet(path), FEATURE_NAMES)


def load_metrics(version: str, config: RegistryConfig) -> dict[str, Any]:
    """The holdout metrics (json) saved with a version (number or alias)."""
    data: dict[str, Any] = json.loads(_download(version, METRICS_ARTIFACT, config).read_text())
    return data


def load_fairness(version: str, config: RegistryConfig) -> dict[str, Any]:
    """The training-time fairness audit (json) saved with a version (number or alias)."""
    data: dict[str, Any] = json.loads(_download(version, FAIRNESS_ARTIFACT, config).read_text())
    return data
