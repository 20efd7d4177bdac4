"""GET /v1/model extras: run artifacts read once per version, curves from the reference
sample's holdout rows, aliases from the registry."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.calibration import calibration_curve
from sklearn.metrics import auc, roc_curve

from attrition.capacity import tradeoff_curve
from attrition.registry import CAPACITY_ARTIFACT, RegistryConfig
from attrition.serving.inference.model_extras import (
    ExtrasCache,
    compute_curves,
    curves_from_reference,
    load_extras,
)

FAIRNESS = {
    "basis": "out_of_sample",
    "out_of_sample": {
        "Gender": {
            "attribute": "Gender",
            "by_group": {"Female": {"selection_rate": 0.2}, "Male": {"selection_rate": 0.3}},
            "parity_ratio": 0.667,
            "four_fifths_ok": False,
        }
    },
}
IMPORTANCE = {"OverTime": 0.12, "MonthlyIncome": 0.08}


def reference(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 1, n)
    left = rng.uniform(0, 1, n) < scores
    return pd.DataFrame(
        {
            "Age": rng.integers(18, 60, n),
            "attrition_probability": scores,
            "Attrition": np.where(left, "Yes", "No"),
            "reference_split": np.where(np.arange(n) % 4 == 0, "holdout", "train"),
        }
    )


def test_curves_are_those_of_the_holdout_rows_only() -> None:
    frame = reference()
    curves = curves_from_reference(frame)
    assert curves is not None
    holdout = frame[frame["reference_split"] == "holdout"]
    labels = (holdout["Attrition"] == "Yes").to_numpy(dtype=int)
    fpr, tpr, _ = roc_curve(labels, holdout["attrition_probability"])
    assert auc(curves["roc"]["fpr"], curves["roc"]["tpr"]) == pytest.approx(auc(fpr, tpr))
    observed, predicted = calibration_curve(labels, holdout["attrition_probability"], n_bins=10)
    assert curves["calibration"]["observed"] == pytest.approx(list(observed))
    assert curves["calibration"]["predicted"] == pytest.approx(list(predicted))
    recall = curves["pr"]["recall"]
    assert recall == sorted(recall) and recall[0] == 0.0 and recall[-1] == 1.0
    assert curves_from_reference(frame.drop(columns="Attrition")) is None
    assert curves_from_reference(frame.assign(Attrition="No")) is None  # one class


def test_long_curves_are_thinned_keeping_both_ends() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 5000)
    labels = (rng.uniform(0, 1, 5000) < scores).astype(int)
    roc = compute_curves(labels, scores)["roc"]
    assert len(roc["fpr"]) <= 200
    assert (roc["fpr"][0], roc["tpr"][0]) == (0.0, 0.0)
    assert (roc["fpr"][-1], roc["tpr"][-1]) == (1.0, 1.0)


def registry_config(uri: str, tmp_path: Path) -> RegistryConfig:
    return RegistryConfig(
        tracking_uri=uri,
        model_name="m",
        experiment_name="x",
        artifact_root=str(tmp_path / "a"),
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
    )


@pytest.fixture
def run_with_artifacts(tmp_path: Path) -> tuple[RegistryConfig, str, str]:
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("x", artifact_location=(tmp_path / "a").as_uri())
    run = client.create_run(experiment)
    run_id = run.info.run_id
    client.log_dict(run_id, FAIRNESS, "fairness/fairness_report.json")
    client.log_dict(run_id, IMPORTANCE, "explain/shap_importance.json")
    client.log_dict(run_id, capacity_curve(), CAPACITY_ARTIFACT)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reference.parquet"
        reference().to_parquet(path, index=False)
        client.log_artifact(run_id, str(path), "reference")
    client.set_terminated(run_id)
    client.create_registered_model("m")
    version = client.create_model_version("m", f"runs:/{run_id}/model", run_id)
    client.set_model_version_tag("m", version.version, "threshold_reason", "max F2 out-of-fold")
    client.set_registered_model_alias("m", "champion", version.version)
    mlflow.set_tracking_uri(uri)
    return registry_config(uri, tmp_path), str(version.version), run_id


def test_extras_are_the_run_artifacts_and_are_read_once(
    run_with_artifacts: tuple[RegistryConfig, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, version, run_id = run_with_artifacts
    extras = load_extras(config, version, run_id)
    assert extras.fairness == FAIRNESS and extras.importance == IMPORTANCE
    assert extras.threshold_reason == "max F2 out-of-fold"
    assert extras.curves == curves_from_reference(reference())
    assert extras.capacity == capacity_curve()

    cache = ExtrasCache(config)
    assert cache.extras(version, run_id) == extras
    assert cache.aliases() == {"champion": version}
    calls: list[Any] = []
    monkeypatch.setattr(
        "attrition.serving.inference.model_extras.load_extras", lambda *a: calls.append(a) or extras
    )
    for _ in range(3):
        cache.extras(version, run_id)
    assert calls == []  # cached per version, never read per request


def test_model_route_sends_aliases_batch_limit_and_extras(
    client: TestClient, keys: dict[str, str], registry: dict[str, str]
) -> None:
    body = client.get("/v1/model", headers={"X-API-Key": keys["viewer"]}).json()
    assert body["aliases"] == {"champion": registry["version"]}
    assert body["max_batch_rows"] == 1000
    # the test registry's run has no fairness, importance or reference artifacts
    assert body["fairness"] is None and body["importance"] is None and body["curves"] is None
    assert body["capacity"] is None
    schema = client.app.openapi()["components"]["schemas"]["ModelInfo"]["properties"]
    assert {"aliases", "max_batch_rows", "fairness", "importance", "curves", "capacity"} <= set(
        schema
    )


def capacity_curve() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    p = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1)
    return tradeoff_curve(y, p, chosen_threshold=0.45, policy="capacity")


def test_the_capacity_tradeoff_is_sent_as_logged_and_a_malformed_one_is_left_out() -> None:
    from attrition.serving.routes.model import _capacity

    curve = capacity_curve()
    sent = _capacity(curve)
    assert sent is not None and sent.model_dump() == curve | {"chosen": curve["chosen"]}
    assert sent.chosen.policy == "capacity" and len(sent.recall) == 100
    assert _capacity({"basis": "out-of-fold"}) is None and _capacity(None) is None


def test_an_unreachable_registry_is_not_asked_on_every_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []

    def down(config: RegistryConfig) -> dict[str, str]:
        calls.append(config)
        raise ConnectionError("registry down")

    monkeypatch.setattr("attrition.serving.inference.model_extras.read_aliases", down)
    monkeypatch.setattr(
        "attrition.serving.inference.model_extras.load_extras",
        lambda *a: calls.append(a) or (_ for _ in ()).throw(ConnectionError("down")),
    )
    cache = ExtrasCache(registry_config("sqlite:///x.db", tmp_path))
    for _ in range(5):
        assert cache.aliases() == {}
        assert cache.extras("1", "run").curves is None
    assert len(calls) == 2  # one alias read, one extras read; retried after a minute
