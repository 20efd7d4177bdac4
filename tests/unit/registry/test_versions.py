"""Version metadata and history as the registry gives them to serving and monitoring."""

from __future__ import annotations

from collections.abc import Callable

from attrition.registry import (
    CHAMPION,
    RegistryConfig,
    VersionInfo,
    champion_info,
    promote,
    version_history,
    version_info,
)
from attrition.registry.versions import holdout_metrics_of_run

Register = Callable[..., list[str]]  # the `register` fixture


def test_holdout_metrics_lose_their_prefix_and_fall_back_when_asked() -> None:
    logged = {"holdout_roc_auc": 0.9, "oof_roc_auc": 0.8, "threshold": 0.3}
    assert holdout_metrics_of_run(logged, or_all=False) == {"roc_auc": 0.9}
    assert holdout_metrics_of_run({"roc_auc": 0.7}, or_all=False) == {}
    assert holdout_metrics_of_run({"roc_auc": 0.7}, or_all=True) == {"roc_auc": 0.7}


def test_meta_names_a_threshold_only_when_one_was_tagged() -> None:
    bare = VersionInfo("3", None, None, {}, None)
    assert bare.meta() == {"run_id": None, "metrics": {}, "trained_at": None}
    tagged = VersionInfo("3", "r", "2025-01-01T00:00:00+00:00", {"roc_auc": 0.9}, 0.4)
    assert tagged.meta()["threshold"] == 0.4


def test_a_version_without_a_run_has_its_tags_and_no_metrics(
    config: RegistryConfig, register: Register
) -> None:
    register(1, tags={"threshold": "0.35", "gate_passed": "true"})
    assert version_info(config, "1") == VersionInfo("1", None, None, {}, 0.35)


def test_history_is_newest_first_with_aliases_and_gate_verdicts(
    config: RegistryConfig, register: Register
) -> None:
    register(1, tags={"gate_passed": "false"})
    register(1)  # the model exists already: another version
    assert champion_info(config) is None
    promote("1", actor="t", config=config)
    history = version_history(config)
    assert [(e.version, e.aliases, e.gate_passed) for e in history] == [
        ("2", [], None),
        ("1", [CHAMPION], False),
    ]
    assert history[0].to_dict()["metrics"] == {} and history[0].created_at.tzinfo is not None
