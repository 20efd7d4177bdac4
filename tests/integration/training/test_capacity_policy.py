"""The capacity policy end to end on the dev data: the out-of-fold share flagged, the reason
recorded on the run, the version and the model card, and the trade-off curve in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from attrition import registry
from attrition.settings import get_settings
from attrition.training.tradeoff import CAPACITY_PLOT
from attrition.training.train import train_model

from .conftest import quick_options


def test_capacity_20_percent_flags_20_percent_out_of_fold_and_says_how_many_leavers(
    dev_frame, tmp_path
):
    options = quick_options(threshold_policy="capacity", capacity="20%", cv_repeats=2, n_trials=3)
    result = train_model(dev_frame, options)

    assert result.threshold_policy == "capacity"
    share = result.oof_metrics["selection_rate"]
    assert abs(share - 0.20) <= 0.01, share
    recall = result.oof_metrics["recall"]
    assert result.threshold_reason.startswith(
        f"capacity 20%: flags {share:.1%} of people, catches {recall:.0%} of leavers"
    )

    store = get_settings().mlflow_tracking_uri
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    run = client.get_run(result.run_id)
    assert run.data.params["threshold_policy"] == "capacity"
    assert run.data.params["capacity"] == "20%"
    config = registry.RegistryConfig.from_settings(get_settings())
    version = client.get_model_version(config.model_name, result.model_version)
    assert version.tags["threshold_reason"] == result.threshold_reason

    folder = tmp_path / "artifacts"
    folder.mkdir()

    def artifact(path: str) -> str:
        return Path(client.download_artifacts(result.run_id, path, str(folder))).read_text()

    assert json.loads(artifact("metrics/threshold.json"))["reason"] == result.threshold_reason
    card = artifact("model_card.md")
    assert result.threshold_reason in card and "## Capacity trade-off" in card
    curve = json.loads(artifact(registry.CAPACITY_ARTIFACT))
    assert curve["population"] == 940 and curve["repeats"] == 2
    assert len(curve["share_flagged"]) == 100
    assert np.all(np.diff(curve["recall"]) >= 0)
    chosen = curve["chosen"]
    assert chosen["policy"] == "capacity"
    assert chosen["share_flagged"] == pytest.approx(share, abs=1e-6)
    assert chosen["recall"] == pytest.approx(recall, abs=1e-6)
    assert curve["recall"][19] == pytest.approx(recall, abs=0.02)  # the 20% point
    assert chosen["expected_leavers_caught"] > 0
    plots = {item.path for item in client.list_artifacts(result.run_id, "plots")}
    assert CAPACITY_PLOT in plots
