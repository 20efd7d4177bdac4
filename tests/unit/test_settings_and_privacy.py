from pathlib import Path

import pytest

from attrition.privacy import pseudonymise
from attrition.settings import Settings, get_settings


def test_settings_read_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_MODEL_NAME", "m1")
    get_settings.cache_clear()
    assert get_settings().model_name == "m1"


def test_secret_is_not_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_PSEUDONYM_KEY", "very-secret-value")
    assert "very-secret-value" not in repr(Settings())


def test_generated_pseudonym_key_is_persisted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ATTRITION_PSEUDONYM_KEY")
    settings = Settings(var_dir=tmp_path / "v")
    first = settings.pseudonym_secret()
    assert len(first) == 64
    assert Settings(var_dir=tmp_path / "v").pseudonym_secret() == first
    assert (tmp_path / "v" / "pseudonym.key").stat().st_mode & 0o077 == 0


def test_pseudonym_is_stable_keyed_and_not_the_id() -> None:
    token = pseudonymise(1234, b"k1")
    assert token == pseudonymise("1234", b"k1")
    assert token != pseudonymise(1234, b"k2")
    assert "1234" not in token and len(token) == 64


LOCAL_STORES = ("DATABASE_URL", "MLFLOW_TRACKING_URI", "MLFLOW_ARTIFACT_ROOT")


def without_local_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LOCAL_STORES:
        monkeypatch.delenv(f"ATTRITION_{name}", raising=False)


def test_every_local_store_derives_from_the_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two set-ups with two state folders share nothing: not even the artifact folder."""
    without_local_stores(monkeypatch)
    one, two = (Settings(_env_file=None, var_dir=tmp_path / n) for n in ("one", "two"))
    assert one.database_url == f"sqlite:///{tmp_path / 'one' / 'attrition.db'}"
    assert one.mlflow_tracking_uri == f"sqlite:///{tmp_path / 'one' / 'mlflow.db'}"
    assert one.mlflow_artifact_root == str(tmp_path / "one" / "mlartifacts")
    assert one.optuna_storage_url == f"sqlite:///{tmp_path / 'one' / 'optuna.db'}"
    assert {one.mlflow_artifact_root, one.database_url}.isdisjoint(
        {two.mlflow_artifact_root, two.database_url}
    )


def test_a_store_set_on_its_own_keeps_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    without_local_stores(monkeypatch)
    monkeypatch.setenv("ATTRITION_MLFLOW_TRACKING_URI", "http://mlflow:5000")
    settings = Settings(_env_file=None, var_dir=Path("/srv/attrition"))
    assert settings.mlflow_tracking_uri == "http://mlflow:5000"
    assert settings.database_url == "sqlite:////srv/attrition/attrition.db"


def test_a_new_state_folder_is_created_by_the_first_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`attrition db upgrade` with only ATTRITION_VAR_DIR, pointing where nothing exists."""
    from typer.testing import CliRunner

    from attrition.cli import app

    without_local_stores(monkeypatch)
    state = tmp_path / "some" / "new" / "folder"
    monkeypatch.setenv("ATTRITION_VAR_DIR", str(state))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["db", "upgrade", "--json"])
    assert result.exit_code == 0, result.output
    assert (state / "attrition.db").is_file()
    assert state.stat().st_mode & 0o077 == 0
