"""train_model end to end on the real dev data: MLflow run, registry, aliases, audit."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from mlflow import MlflowClient
from sqlalchemy import select

from attrition import registry
from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent
from attrition.schema import FEATURE_NAMES, PROTECTED_ATTRIBUTES
from attrition.settings import get_settings
from attrition.training.train import train_model

from .conftest import quick_options, registry_config

PLOTS = {
    "plots/roc_curve.png",
    "plots/pr_curve.png",
    "plots/calibration_curve.png",
    "plots/confusion_matrix.png",
    "plots/shap_summary.png",
    "plots/optuna_history.png",
}


def artifact_paths(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    found: set[str] = set()
    for item in client.list_artifacts(run_id, path):
        found |= artifact_paths(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def test_same_seed_twice_gives_the_same_model_and_a_complete_mlflow_record(dev_frame, tmp_path):
    started = time.monotonic()
    first = train_model(dev_frame, quick_options(seed=42))
    second = train_model(dev_frame, quick_options(seed=42))
    elapsed = time.monotonic() - started

    # reproducibility: same best trial, same metrics, same threshold
    assert first.best_params == second.best_params
    assert first.metrics == second.metrics
    assert first.threshold == second.threshold
    assert first.study_name != second.study_name
    assert (first.model_version, second.model_version) == ("1", "2")
    assert first.promoted and first.gate.passed
    assert "maximises F2" in first.threshold_reason
    assert not first.include_protected and first.rows == len(dev_frame)

    # the store, read with MLflow's own client (what `mlflow ui` shows)
    settings = get_settings()
    store = settings.mlflow_tracking_uri
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    run = client.get_run(first.run_id)
    for tag in ("git_commit", "data_hash", "schema_version", "include_protected"):
        assert run.data.tags[tag]
    assert run.data.tags["include_protected"] == "false"
    assert run.data.metrics["holdout_roc_auc"] == first.metrics["roc_auc"]
    assert run.data.params["threshold_policy"] == "f2"
    artifacts = artifact_paths(client, first.run_id)
    assert artifacts >= PLOTS
    assert {
        "model_card.md",
        "fairness/fairness_report.json",
        "fairness/fairness_report.md",
        registry.MARGINALS_ARTIFACT,
        registry.CURVES_ARTIFACT,
        registry.METRICS_ARTIFACT,
        "gate/gate_report.json",
        registry.CAPACITY_ARTIFACT,  # every version carries its capacity trade-off
        "plots/capacity_tradeoff.png",
    } <= artifacts
    nested = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{first.run_id}'"
    )
    assert len(nested) == 5
    model = client.get_registered_model(settings.model_name)
    assert {k: str(v) for k, v in model.aliases.items()} == {"champion": "2", "challenger": "2"}
    version = client.get_model_version(settings.model_name, "1")
    assert version.run_id == first.run_id
    assert float(version.tags["threshold"]) == first.threshold

    # registry reads used by serving and monitoring
    config = registry_config()
    info = registry.champion_info(config)
    assert info is not None and info.version == "2" and info.run_id == second.run_id
    assert info.metrics["roc_auc"] == second.metrics["roc_auc"]
    assert set(info.features).isdisjoint(PROTECTED_ATTRIBUTES)
    assert registry.REFERENCE_ARTIFACT not in artifacts  # no full training rows any more
    reference = registry.load_reference("1", config)
    assert list(reference.features) == list(FEATURE_NAMES) and reference.rows == 1176
    assert {k: len(v) for k, v in reference.scores.items()} == {"holdout": 236, "out_of_fold": 940}
    assert all(0 <= p <= 1 for p in reference.scores["holdout"])
    assert registry.load_metrics("champion", config)["roc_auc"] == second.metrics["roc_auc"]
    loaded = registry.load_model("champion", config)
    rows = dev_frame.iloc[:20]
    np.testing.assert_allclose(
        loaded.predict_proba(rows)[:, 1],
        registry.load_model("1", config).predict_proba(rows)[:, 1],
    )
    assert len(loaded.explain(rows.iloc[:1])[0]) == 5
    assert registry.champion_version(config) == "2"
    meta = registry.version_info(config, "1").meta()
    assert meta["run_id"] == first.run_id and meta["threshold"] == first.threshold
    assert meta["metrics"]["roc_auc"] == first.metrics["roc_auc"]
    history = registry.version_history(config)
    assert [(e.version, e.aliases, e.gate_passed) for e in history] == [
        ("2", ["challenger", "champion"], True),
        ("1", [], True),
    ]
    folder = registry.download_model(config, "1", tmp_path / "download")
    assert (folder / "MLmodel").is_file()

    # every alias move is audited
    with session_scope(config.database_url) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        moves = [(e.action, e.details["version"], e.details["kind"]) for e in events]
    assert moves == [
        ("model.alias.challenger", "1", "register"),
        ("model.alias.champion", "1", "promote"),
        ("model.alias.challenger", "2", "register"),
        ("model.alias.champion", "2", "promote"),
    ]
    print(f"two quick trainings took {elapsed:.1f}s")


def test_protected_attributes_can_be_included_and_the_run_records_it(dev_frame):
    options = quick_options(include_protected=True, promote=False, n_trials=2)
    result = train_model(dev_frame, options)
    assert result.include_protected and not result.promoted
    config = registry_config()
    model = registry.load_model(result.model_version, config)
    assert (
        "Age" in model.feature_names
        or "MaritalStatus" in model.feature_names
        or ("Gender" in model.feature_names)
    )
    store = get_settings().mlflow_tracking_uri
    tags = MlflowClient(tracking_uri=store, registry_uri=store).get_run(result.run_id)
    assert tags.data.tags["include_protected"] == "true"
    assert registry.version_by_alias("champion", config) is None


def test_invalid_labels_are_a_user_error(dev_frame):
    import pytest

    from attrition.errors import AttritionError

    frame = dev_frame.copy()
    frame.loc[3, "Attrition"] = "Maybe"
    with pytest.raises(AttritionError, match="Attrition must be 'Yes' or 'No'"):
        train_model(frame, quick_options())
    tiny = pd.concat([dev_frame[dev_frame.Attrition == "Yes"].head(5), dev_frame.head(50)])
    with pytest.raises(AttritionError, match="at least 20 rows of each Attrition class"):
        train_model(tiny, quick_options())
