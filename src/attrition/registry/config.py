"""Where the registry lives: one frozen :class:`RegistryConfig`, given to every function.

Entry points build it once from their settings (:meth:`RegistryConfig.from_settings`);
nothing in the package reads settings itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attrition.settings import Settings


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """The MLflow store (tracking and registry), the model and experiment names, where a
    local store keeps artifacts, and the database whose audit trail records alias moves."""

    tracking_uri: str
    model_name: str
    experiment_name: str
    artifact_root: str
    database_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> RegistryConfig:
        """The registry an entry point's settings describe."""
        return cls(
            tracking_uri=settings.mlflow_tracking_uri,
            model_name=settings.model_name,
            experiment_name=settings.experiment_name,
            artifact_root=settings.mlflow_artifact_root,
            database_url=settings.database_url,
        )

    @property
    def is_remote(self) -> bool:
        """A tracking server (it keeps its own artifacts) rather than a local store."""
        return self.tracking_uri.startswith(("http://", "https://"))
