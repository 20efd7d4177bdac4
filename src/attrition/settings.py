"""Runtime configuration from the environment (prefix ``ATTRITION_``) and ``.env``.

Embedded defaults put every piece of local state under one folder, ``ATTRITION_VAR_DIR``
(``var/``), so one laptop needs no services: the database, the MLflow store and artifacts,
the pseudonym key, the spool, the model cache and the Optuna studies. Each can be pointed
elsewhere on its own. Secrets are ``SecretStr`` and never logged.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from attrition.capacity import DEFAULT_CAPACITY, Capacity
from attrition.errors import AttritionError
from attrition.privacy.files import private_file


class Settings(BaseSettings):
    """All settings; each field maps to ``ATTRITION_<FIELD_NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="ATTRITION_", env_file=".env", extra="ignore", protected_namespaces=()
    )

    # --- shared -------------------------------------------------------------------
    var_dir: Path = Path("var")
    # "" = derived from var_dir (see _local_defaults)
    database_url: str = ""
    mlflow_tracking_uri: str = ""
    mlflow_artifact_root: str = ""
    model_name: str = "attrition-classifier"
    experiment_name: str = "attrition-training"
    redis_url: str | None = None
    pseudonym_key: SecretStr | None = None
    api_url: str = "http://127.0.0.1:8000"
    api_key: SecretStr | None = None
    log_level: str = "INFO"
    db_pool_size: int = Field(default=5, ge=1)

    # --- data ---------------------------------------------------------------------
    synthetic_rows: int = Field(default=1470, ge=10)
    synthetic_attrition_rate: float = Field(default=0.16, gt=0, lt=1)
    seed: int = 42

    # --- training -----------------------------------------------------------------
    include_protected: bool = False
    n_trials: int = Field(default=40, ge=1)
    trial_timeout_s: float | None = Field(default=180.0, gt=0)
    optuna_storage: str | None = None  # default: SQLite file under var/
    cv_folds: int = Field(default=5, ge=2)
    cv_repeats: int = Field(default=2, ge=1)
    holdout_fraction: float = Field(default=0.2, gt=0, lt=0.5)
    threshold_policy: str = "f2"  # "f2", "cost" or "capacity"
    # HR's capacity: a share (0.2, 20%) or a number of people (40); the capacity policy's
    # limit and the workforce summary's "expected leavers caught"
    capacity: str = DEFAULT_CAPACITY
    cost_missed_leaver: float = Field(default=5.0, gt=0)
    cost_intervention: float = Field(default=1.0, gt=0)
    gate_config: Path = Path("configs/gate.yaml")

    # --- serving ------------------------------------------------------------------
    max_batch_rows: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    rate_limit_per_minute: int = Field(default=600, ge=1)
    model_poll_seconds: float = Field(default=30.0, ge=0)
    cors_origins: list[str] = []
    prediction_retention_days: int = Field(default=365, ge=1)
    replica_id: str | None = None  # X-Replica-Id; default an opaque id per process
    api_docs: bool = True  # /openapi.json and the /docs page; the compose stack turns it off
    auth_failures_per_minute: int = Field(default=20, ge=1)

    # --- maintenance --------------------------------------------------------------
    mlflow_retention_days: int = Field(default=90, ge=1)
    # a Fernet key (`attrition maintenance backup-key`): backups are encrypted when one is set
    backup_key: SecretStr | None = None
    backup_key_file: Path | None = None
    backup_retention_days: int = Field(default=35, ge=1)

    # --- monitoring ---------------------------------------------------------------
    monitoring_config: Path = Path("configs/monitoring.yaml")
    alert_webhook_url: str | None = None
    github_token: SecretStr | None = None
    github_repository: str | None = None
    github_api_url: str = "https://api.github.com"
    retrain_cooldown_hours: float = Field(default=24.0, ge=0)
    fairness_tolerance: float = Field(default=0.1, ge=0, le=1)
    fairness_min_group: int = Field(default=30, ge=1)
    quality_rise_factor: float = Field(default=2.0, gt=1)
    quality_min_bad: int = Field(default=10, ge=1)

    @field_validator("capacity")
    @classmethod
    def _capacity_form(cls, value: str) -> str:
        try:
            Capacity.parse(value)
        except AttritionError as error:
            raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _local_defaults(self) -> Settings:
        """Local stores not set on their own live in the one state folder."""
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'attrition.db'}"
        if not self.mlflow_tracking_uri:
            self.mlflow_tracking_uri = f"sqlite:///{self.var_dir / 'mlflow.db'}"
        if not self.mlflow_artifact_root:
            self.mlflow_artifact_root = str(self.var_dir / "mlartifacts")
        return self

    def create_state_dir(self) -> Path:
        """The state folder, created (private to its owner) when missing."""
        self.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.var_dir

    @property
    def optuna_storage_url(self) -> str:
        """Where Optuna keeps studies: the setting, or a SQLite file under ``var/``."""
        return self.optuna_storage or f"sqlite:///{self.var_dir / 'optuna.db'}"

    def pseudonym_secret(self) -> bytes:
        """The HMAC key for pseudonyms: the setting, else a key kept under ``var/``.

        The generated key is created on first use (never at import) and reused after.
        """
        if self.pseudonym_key is not None:
            return self.pseudonym_key.get_secret_value().encode()
        key_file = self.var_dir / "pseudonym.key"
        if not key_file.exists():
            key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            private_file(key_file, secrets.token_hex(32).encode())
        return key_file.read_text().strip().encode()

    def backup_secret(self) -> bytes | None:
        """The backup encryption key: the setting, else the key file's content, else None
        (backups are then written in the clear)."""
        if self.backup_key is not None and self.backup_key.get_secret_value().strip():
            return self.backup_key.get_secret_value().strip().encode()
        if self.backup_key_file is not None:
            try:
                return self.backup_key_file.read_bytes().strip()
            except OSError as error:
                message = f"ATTRITION_BACKUP_KEY_FILE {self.backup_key_file}: {error.strerror}"
                raise AttritionError(message) from None
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once by an entry point; the state folder exists after."""
    settings = Settings()
    settings.create_state_dir()
    return settings
