"""Loading the champion: registry first, a verified cache as fallback, safe hot reload."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sklearn.dummy import DummyClassifier

from attrition.registry import RegistryConfig
from attrition.serving.inference import model_cache
from attrition.serving.inference.model_cache import CacheError
from attrition.serving.inference.model_service import (
    ModelService,
    ModelStores,
    ModelUnavailableError,
)
from attrition.settings import get_settings

from ..conftest import support


def config(uri: str, cache_root: Path, secret: bytes = b"k" * 32) -> ModelStores:
    registry = RegistryConfig(
        tracking_uri=uri,
        model_name=support.MODEL_NAME,
        experiment_name="serving-tests",
        artifact_root=str(cache_root.parent / "artifacts"),
        database_url=f"sqlite:///{cache_root.parent / 'audit.db'}",
    )
    return ModelStores(registry, cache_root, secret)


def test_start_up_without_registry_serves_the_cached_champion(
    registry: dict[str, str], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = ModelService(config(registry["uri"], cache), poll_seconds=0).load_initial()
    assert first.source == "registry" and first.scorer.kind == "compiled"
    closed = f"http://127.0.0.1:{support.free_port()}"
    fallback = ModelService(config(closed, cache), poll_seconds=0).load_initial()
    assert fallback.source == "cache"
    assert fallback.version == first.version and fallback.metrics == first.metrics
    from attrition.serving.inference.model_service import probe_rows

    rows = probe_rows(8)
    assert (
        fallback.scorer.score_rows(rows, 3).probabilities.tolist()
        == first.scorer.score_rows(rows, 3).probabilities.tolist()
    )


@pytest.mark.parametrize("damage", ["model file", "manifest", "signature", "extra file"])
def test_a_corrupted_cache_is_refused(
    registry: dict[str, str], tmp_path: Path, damage: str
) -> None:
    cache = tmp_path / "cache"
    ModelService(config(registry["uri"], cache), poll_seconds=0).load_initial()
    version = model_cache.current_version(cache)
    assert version is not None
    manifest = cache / f"{version}.manifest.json"
    if damage == "model file":
        target = next(p for p in (cache / version).rglob("model.pkl"))
        target.write_bytes(target.read_bytes()[:-10] + b"corrupted!")
    elif damage == "manifest":
        manifest.write_text(manifest.read_text()[:-20])
    elif damage == "signature":
        data = json.loads(manifest.read_text())
        data["meta"]["run_id"] = "forged"
        manifest.write_text(json.dumps(data))
    else:
        (cache / version / "sneaky.pkl").write_bytes(b"x")
    with pytest.raises(CacheError):
        model_cache.load_verified(cache, b"k" * 32)
    closed = f"http://127.0.0.1:{support.free_port()}"
    with pytest.raises(ModelUnavailableError, match="cache failed"):
        ModelService(config(closed, cache), poll_seconds=0).load_initial()


def test_a_cache_signed_with_another_secret_is_refused(
    registry: dict[str, str], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    ModelService(config(registry["uri"], cache), poll_seconds=0).load_initial()
    with pytest.raises(CacheError, match="signature"):
        model_cache.load_verified(cache, b"another secret")


def test_a_broken_version_is_refused_and_polling_follows_the_alias(
    tmp_path: Path, logistic_model: Any, dev_frame: Any
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    support.register_model(logistic_model, uri, tmp_path / "artifacts")
    service = ModelService(config(uri, tmp_path / "cache"), poll_seconds=0)
    assert service.load_initial().version == "1"
    assert service.poll_once() is False  # alias unchanged

    broken = DummyClassifier().fit(dev_frame[["Age"]], dev_frame["Attrition"])  # no feature_names
    support.register_model(broken, uri, tmp_path / "artifacts")
    with pytest.raises(Exception, match="feature_names"):
        service.reload()
    assert service.current is not None and service.current.version == "1"
    assert service.poll_once() is False  # the alias points at v2, which failed: not retried
    assert service.current.version == "1"
    assert model_cache.current_version(tmp_path / "cache") == "1"  # the broken one is not cached

    better = copy.deepcopy(logistic_model)
    better.threshold = 0.4
    support.register_model(better, uri, tmp_path / "artifacts")
    assert service.poll_once() is True
    assert service.current.version == "3" and service.current.threshold == 0.4


def test_the_api_reports_cache_as_its_source(
    registry: dict[str, str],
    serving_env: str,
    keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from attrition.serving.app import create_app

    with TestClient(create_app(get_settings())) as client:  # fills the cache
        assert client.get("/health/ready").json()["model_source"] == "registry"
    monkeypatch.setenv("ATTRITION_MLFLOW_TRACKING_URI", f"http://127.0.0.1:{support.free_port()}")
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["model_source"] == "cache"
        info = client.get("/v1/model", headers={"X-API-Key": keys["viewer"]}).json()
        assert info["source"] == "cache" and info["version"] == registry["version"]
        failed = client.post("/v1/admin/reload", headers={"X-API-Key": keys["admin"]})
        assert failed.status_code == 503 and "still serving version 1" in failed.json()["detail"]
        assert client.get("/health/ready").json()["model_source"] == "cache"


def test_no_registry_and_no_cache_means_not_ready(
    serving_env: str, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from attrition.serving.app import create_app

    monkeypatch.setenv("ATTRITION_MLFLOW_TRACKING_URI", f"http://127.0.0.1:{support.free_port()}")
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        assert client.get("/health/ready").status_code == 503
        assert client.get("/health/live").status_code == 200
        body = {"employees": []}
        response = client.post(
            "/v1/predictions/batch", json=body, headers={"X-API-Key": keys["predictor"]}
        )
        assert response.status_code == 422  # validation still answers


def test_a_reload_in_one_worker_reaches_the_others(
    registry: dict[str, str], tmp_path: Path
) -> None:
    marker = tmp_path / "reload-request"
    workers = [
        ModelService(
            config(registry["uri"], tmp_path / "cache"), poll_seconds=0, reload_marker=marker
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.load_initial()
    before = workers[1].current
    workers[0].reload(broadcast=True)
    assert workers[0]._marker_changed() is False  # its own request
    workers[1].start_polling()
    try:
        deadline = time.monotonic() + 15
        while workers[1].current is before and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        workers[1].stop()
    assert workers[1].current is not before  # reloaded on the marker, no restart


def test_a_service_started_without_any_model_keeps_trying(
    registry: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attrition.serving.inference import model_service

    monkeypatch.setattr(model_service, "START_RETRY_SECONDS", 0.5)
    closed = f"http://127.0.0.1:{support.free_port()}"
    service = ModelService(config(closed, tmp_path / "cache"), poll_seconds=0)
    with pytest.raises(ModelUnavailableError):
        service.load_initial()
    service.stores = config(registry["uri"], tmp_path / "cache")  # the registry comes back
    service.start_polling()
    try:
        deadline = time.monotonic() + 20
        while service.current is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        service.stop()
    assert service.current is not None and service.current.source == "registry"
