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
