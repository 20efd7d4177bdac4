"""`attrition train` with the real default settings on the dev data (the acceptance run)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from attrition.settings import get_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CLI = str(Path(sys.executable).parent / "attrition")


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)


def test_default_training_meets_the_acceptance_bar(dev_csv):
    started = time.monotonic()
    done = run_cli("train", "--data", str(dev_csv), "--json")
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"default training: {elapsed:.0f}s wall; {json.dumps(result)}")

    assert elapsed < 300
    assert result["stopped_by"] == "n_trials"  # the default search is not cut by its timeout
    assert not result["include_protected"]
    assert result["metrics"]["roc_auc"] >= 0.84
    assert result["oof_metrics"]["roc_auc"] >= 0.84
    # ECE: out-of-fold (1,880 predictions, cross-fitted calibrators) meets 0.05; the 236-row
    # holdout's binned ECE is dominated by sampling noise (a perfectly calibrated model would
    # show about `ece_if_calibrated`, above 0.05 in ~30% of draws), so it is held to the
    # gate's ceiling instead.
    assert result["oof_metrics"]["ece"] <= 0.05
    assert result["metrics"]["ece"] <= 0.08
    assert result["metrics"]["ece_if_calibrated"] > 0.03
    assert 0 < result["threshold"] < 1 and "maximises F2" in result["threshold_reason"]
    assert result["promoted"] and result["gate"]["passed"]
    assert result["model_version"] == "1"

    store = get_settings().mlflow_tracking_uri
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    version = client.get_model_version_by_alias(get_settings().model_name, "champion")
    assert str(version.version) == "1" and version.run_id == result["run_id"]
    assert float(version.tags["threshold"]) == pytest.approx(result["threshold"])
    assert version.tags["threshold_reason"] == result["threshold_reason"]

    # registry commands: promote is audited; rollback without history is a clear user error
    promoted = run_cli("promote", "1", "--json")
    assert promoted.returncode == 0, promoted.stderr
    assert json.loads(promoted.stdout.strip().splitlines()[-1])["version"] == "1"
    refused = run_cli("rollback")
    assert refused.returncode == 1
    assert "no previous champion" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = run_cli("promote", "7")
    assert missing.returncode == 1 and "registered versions: 1" in missing.stderr
