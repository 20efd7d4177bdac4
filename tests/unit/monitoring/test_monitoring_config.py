"""Loading configs/monitoring.yaml into the pydantic model."""

from __future__ import annotations

from pathlib import Path

import pytest

from attrition.errors import AttritionError
from attrition.monitoring.config import (
    MonitoringConfig,
    load_monitoring_config,
    parse_monitoring_config,
)
from attrition.settings import Settings, get_settings

REPO_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "monitoring.yaml"


def test_repository_file_spells_out_exactly_the_defaults() -> None:
    assert load_monitoring_config(REPO_CONFIG) == MonitoringConfig()


def test_missing_default_file_means_defaults() -> None:
    # isolated_settings runs each test in an empty temp dir: configs/monitoring.yaml is absent
    assert load_monitoring_config() == MonitoringConfig()


def test_missing_explicit_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AttritionError, match="not found"):
        load_monitoring_config(tmp_path / "nope.yaml")
    monkeypatch.setenv("ATTRITION_MONITORING_CONFIG", str(tmp_path / "gone.yaml"))
    get_settings.cache_clear()
    with pytest.raises(AttritionError, match="not found"):
        load_monitoring_config(configured=get_settings().monitoring_config)


def test_settings_path_and_partial_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "drift:\n  alpha: 0.05\n  correction: benjamini-hochberg\nretrain:\n  cooldown_hours: 2\n"
    )
    monkeypatch.setenv("ATTRITION_MONITORING_CONFIG", str(path))
    get_settings.cache_clear()
    config = load_monitoring_config(configured=get_settings().monitoring_config)
    assert config.drift.alpha == 0.05 and config.drift.correction == "benjamini-hochberg"
    assert config.drift.min_effect.numeric == 0.1  # untouched defaults stay
    assert config.cooldown_hours(get_settings()) == 2
    assert MonitoringConfig().cooldown_hours(Settings(retrain_cooldown_hours=7)) == 7


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"drift": {"correction": "sidak"}}, "drift.correction"),
        ({"drift": {"alpha": 2}}, "drift.alpha"),
        ({"drift": {"alhpa": 0.1}}, "drift.alhpa"),
        ({"performance": {"min_outcomes": 1}}, "performance.min_outcomes"),
        (["not", "a", "mapping"], "mapping"),
    ],
)
def test_bad_values_name_the_field(data: object, message: str) -> None:
    with pytest.raises(AttritionError, match=message):
        parse_monitoring_config(data)


def test_bad_correction_lists_the_allowed_values() -> None:
    with pytest.raises(
        AttritionError, match="'holm', 'bonferroni', 'benjamini-hochberg' or 'none'"
    ):
        parse_monitoring_config({"drift": {"correction": "sidak"}})


def test_invalid_yaml_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("drift: [unclosed\n")
    with pytest.raises(AttritionError, match="not valid YAML"):
        load_monitoring_config(path)
