"""The MLflow model registry, used by training, serving and monitoring.

Every function takes the :class:`RegistryConfig` it works on (built once by an entry point
with :meth:`RegistryConfig.from_settings`); nothing here reads settings. MLflow is imported
inside the functions, so importing this package is cheap.

- ``config``: :class:`RegistryConfig`.
- ``client``: the MLflow connection, experiments, the right to unpickle our own models.
- ``aliases``: ``champion`` / ``challenger``, audited moves, promote and rollback.
- ``trail``: the audit trail of alias moves.
- ``artifacts``: what a version carries, and loading it.
- ``reference``: the drift reference format (per-feature marginals, sorted scores).
- ``versions``: the champion's facts, a version's metadata, the version history.
"""

from attrition.registry.aliases import (
    CHALLENGER,
    CHAMPION,
    champion_version,
    existing_version,
    list_versions,
    promote,
    read_aliases,
    rollback,
    set_alias,
    version_by_alias,
)
from attrition.registry.artifacts import (
    CAPACITY_ARTIFACT,
    CURVES_ARTIFACT,
    FAIRNESS_ARTIFACT,
    IMPORTANCE_ARTIFACT,
    METRICS_ARTIFACT,
    MODEL_ARTIFACT,
    REFERENCE_ARTIFACT,
    REFERENCE_SCORE_COLUMN,
    REFERENCE_SPLIT_COLUMN,
    download_model,
    load_fairness,
    load_metrics,
    load_model,
    load_reference,
    model_uri,
)
from attrition.registry.client import (
    allow_model_loading,
    configure_tracking,
    connect,
    ensure_experiment,
)
from attrition.registry.config import RegistryConfig
from attrition.registry.reference import MARGINALS_ARTIFACT, Marginal, ReferenceMarginals
from attrition.registry.trail import AliasMove, alias_history, champion_stack, record_move
from attrition.registry.versions import (
    ChampionInfo,
    VersionEntry,
    VersionInfo,
    champion_info,
    version_history,
    version_info,
)

__all__ = [
    "CAPACITY_ARTIFACT",
    "CHALLENGER",
    "CHAMPION",
    "CURVES_ARTIFACT",
    "FAIRNESS_ARTIFACT",
    "IMPORTANCE_ARTIFACT",
    "MARGINALS_ARTIFACT",
    "METRICS_ARTIFACT",
    "MODEL_ARTIFACT",
    "REFERENCE_ARTIFACT",
    "REFERENCE_SCORE_COLUMN",
    "REFERENCE_SPLIT_COLUMN",
    "AliasMove",
    "ChampionInfo",
    "Marginal",
    "ReferenceMarginals",
    "RegistryConfig",
    "VersionEntry",
    "VersionInfo",
    "alias_history",
    "allow_model_loading",
    "champion_info",
    "champion_stack",
    "champion_version",
    "configure_tracking",
    "connect",
    "download_model",
    "ensure_experiment",
    "existing_version",
    "list_versions",
    "load_fairness",
    "load_metrics",
    "load_model",
    "load_reference",
    "model_uri",
    "promote",
    "read_aliases",
    "record_move",
    "rollback",
    "set_alias",
    "version_by_alias",
    "version_history",
    "version_info",
]
