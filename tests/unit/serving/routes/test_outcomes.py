"""POST /v1/outcomes (recorded, then updated), read back with the prediction log, the
workforce summary and the model info."""

from __future__ import annotations

import pandas as pd
from fastapi.testclient import TestClient

from ..conftest import support

wait_for_rows = support.wait_for_rows


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_outcomes_history_summary_and_model_info(
    client: TestClient, keys: dict[str, str], dev_frame: pd.DataFrame, serving_env: str
) -> None:
    rows = dev_frame.iloc[:20]
    client.post(
        "/v1/predictions/batch",
        json={"employees": [support.employee(r) for _, r in rows.iterrows()]},
        headers=auth(keys["predictor"]),
    )
    wait_for_rows(serving_env, 20)
    number = int(rows.iloc[0]["EmployeeNumber"])
    outcome = {"employee_number": number, "left": True, "outcome_date": "2026-01-31"}
    first = client.post(
        "/v1/outcomes", json={"outcomes": [outcome]}, headers=auth(keys["predictor"])
    )
    assert first.json() == {"recorded": 1, "updated": 0}
    again = client.post(
        "/v1/outcomes",
        json={"outcomes": [{**outcome, "left": False}]},
        headers=auth(keys["predictor"]),
    )
    assert again.json() == {"recorded": 0, "updated": 1}

    page = client.get("/v1/predictions", params={"limit": 5}, headers=auth(keys["viewer"])).json()
    assert page["total"] == 20 and len(page["items"]) == 5 and page["items"][0]["features"] is None
    mine = client.get(
        "/v1/predictions",
        params={"employee_number": number, "include_features": True},
        headers=auth(keys["viewer"]),
    ).json()
    assert mine["total"] == 1 and mine["items"][0]["features"]["JobRole"] == rows.iloc[0]["JobRole"]

    summary = client.get("/v1/workforce/summary", headers=auth(keys["viewer"])).json()
    assert summary["employees"] == 20
    assert sum(g["employees"] for g in summary["by_department"]) == 20
    assert {g["group"] for g in summary["by_band"]} <= {"low", "medium", "high"}

    info = client.get("/v1/model", headers=auth(keys["viewer"])).json()
    assert info["version"] == "1" and info["source"] == "registry"
    assert info["metrics"] == {"roc_auc": 0.8}
    assert "EmployeeNumber" not in info["features"] and "OverTime" in info["features"]
