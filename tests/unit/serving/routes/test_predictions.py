"""POST /v1/predictions and /v1/predictions/batch: scores equal the model's, each answer is
logged, bad bodies name the field, what-if scores stay out of the workforce."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attrition.db.engine import session_scope
from attrition.db.models import PredictionLog
from attrition.privacy import pseudonymise
from attrition.schema import FEATURE_NAMES
from attrition.settings import get_settings

from ..conftest import support

wait_for_rows = support.wait_for_rows


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_single_prediction_matches_the_model_and_is_logged(
    client: TestClient,
    keys: dict[str, str],
    dev_frame: pd.DataFrame,
    logistic_model: Any,
    serving_env: str,
) -> None:
    row = dev_frame.iloc[7]
    response = client.post(
        "/v1/predictions",
        json=support.employee(row),
        headers=auth(keys["predictor"]) | {"X-Request-ID": "req-123"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = logistic_model.predict_proba(dev_frame.iloc[[7]])[0, 1]
    assert body["attrition_probability"] == pytest.approx(expected, abs=1e-9)
    assert body["at_risk"] == (expected >= logistic_model.threshold)
    assert body["threshold"] == logistic_model.threshold
    assert body["model_version"] == "1"
    assert body["employee_number"] == int(row["EmployeeNumber"])
    factors = body["top_factors"]
    assert len(factors) == 5
    assert {f["feature"] for f in factors} <= set(FEATURE_NAMES)
    reference = logistic_model.explain(dev_frame.iloc[[7]], top_k=5)[0]
    assert [f["feature"] for f in factors] == [f.feature for f in reference]
    assert response.headers["x-request-id"] == "req-123"

    assert wait_for_rows(serving_env, 1) == 1
    with session_scope(serving_env) as session:
        logged = session.scalars(select(PredictionLog)).one()
    assert logged.prediction_id == body["prediction_id"]
    assert logged.request_id == "req-123"
    assert logged.employee_key == pseudonymise(
        int(row["EmployeeNumber"]), get_settings().pseudonym_secret()
    )
    assert logged.probability == pytest.approx(expected)
    assert logged.model_version == "1" and logged.source == "api"
    assert set(logged.features) == set(FEATURE_NAMES)
    assert logged.client is not None and logged.client in keys["predictor"]


def test_batch_scores_every_row(
    client: TestClient,
    keys: dict[str, str],
    dev_frame: pd.DataFrame,
    logistic_model: Any,
    serving_env: str,
) -> None:
    rows = dev_frame.iloc[:50]
    response = client.post(
        "/v1/predictions/batch",
        json={"employees": [support.employee(r) for _, r in rows.iterrows()]},
        headers=auth(keys["predictor"]),
    )
    assert response.status_code == 200, response.text
    got = [p["attrition_probability"] for p in response.json()["predictions"]]
    expected = logistic_model.predict_proba(rows)[:, 1]
    assert got == pytest.approx(list(expected), abs=1e-9)
    assert wait_for_rows(serving_env, 50) == 50


def test_invalid_bodies_name_the_field(
    client: TestClient, keys: dict[str, str], dev_frame: pd.DataFrame
) -> None:
    body = support.employee(dev_frame.iloc[0])
    cases = [
        ({**body, "Department": "Marketing"}, "Department"),
        ({**body, "Age": 17}, "Age"),
        ({**body, "JobLevel": "2"}, "JobLevel"),
        ({**body, "Surprise": 1}, "Surprise"),
        ({k: v for k, v in body.items() if k != "OverTime"}, "OverTime"),
    ]
    for payload, field in cases:
        response = client.post("/v1/predictions", json=payload, headers=auth(keys["predictor"]))
        assert response.status_code == 422, (field, response.text)
        locations = [error["loc"][-1] for error in response.json()["detail"]]
        assert field in locations
    detail = client.post(
        "/v1/predictions", json={**body, "Department": "Marketing"}, headers=auth(keys["predictor"])
    ).json()["detail"][0]["msg"]
    assert "Research & Development" in detail


def test_what_if_scores_are_logged_but_not_part_of_the_workforce(
    client: TestClient, keys: dict[str, str], dev_frame: pd.DataFrame, serving_env: str
) -> None:
    headers = auth(keys["predictor"])
    real = support.employee(dev_frame.iloc[0])
    anonymous = {
        k: v for k, v in support.employee(dev_frame.iloc[1]).items() if k != "EmployeeNumber"
    }
    what_if = {**support.employee(dev_frame.iloc[2]), "OverTime": "No"}
    assert client.post("/v1/predictions", json=real, headers=headers).status_code == 200
    assert client.post("/v1/predictions", json=anonymous, headers=headers).status_code == 200
    purpose = headers | {"X-Prediction-Purpose": "what-if"}
    assert client.post("/v1/predictions", json=what_if, headers=purpose).status_code == 200
    bad = client.post(
        "/v1/predictions", json=real, headers=headers | {"X-Prediction-Purpose": "payroll"}
    )
    assert bad.status_code == 422 and "what-if" in bad.text
    assert wait_for_rows(serving_env, 3) == 3  # every answered prediction is logged
    with session_scope(serving_env) as session:
        sources = sorted(session.scalars(select(PredictionLog.source)))
    assert sources == ["api", "api", "what-if"]
    summary = client.get("/v1/workforce/summary", headers=auth(keys["viewer"])).json()
    assert summary["employees"] == 1
    assert sum(g["employees"] for g in summary["by_job_role"]) == 1
    assert sum(p["predictions"] for p in summary["over_time"]) == 1


def test_no_model_loaded_yet_is_503(
    serving_env: str, keys: dict[str, str], dev_frame: pd.DataFrame
) -> None:
    from attrition.serving.app import create_app

    client = TestClient(create_app(get_settings()))  # not started: no model is loaded
    body = support.employee(dev_frame.iloc[0])
    single = client.post("/v1/predictions", json=body, headers=auth(keys["predictor"]))
    assert single.status_code == 503 and single.json() == {"detail": "no model loaded yet"}
    batch = client.post(
        "/v1/predictions/batch", json={"employees": [body]}, headers=auth(keys["predictor"])
    )
    assert batch.status_code == 503 and batch.json() == {"detail": "no model loaded yet"}


def test_levers_on_request_only_and_their_risk_is_a_fresh_prediction(
    client: TestClient, keys: dict[str, str], dev_frame: pd.DataFrame, logistic_model: Any
) -> None:
    chosen = dev_frame[
        (dev_frame["OverTime"] == "Yes") & (dev_frame["BusinessTravel"] == "Travel_Frequently")
    ].iloc[0]
    body = support.employee(chosen)
    plain = client.post("/v1/predictions", json=body, headers=auth(keys["predictor"])).json()
    assert "levers" not in plain and "levers_note" not in plain
    response = client.post(
        "/v1/predictions?levers=true", json=body, headers=auth(keys["predictor"])
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["attrition_probability"] == plain["attrition_probability"]
    assert "not causal promises" in answer["levers_note"]
    top = answer["levers"][0]
    assert [c["feature"] for c in top["changes"]] in (["OverTime"], ["BusinessTravel"])
    moved = dict(body) | {c["feature"]: c["new_value"] for c in top["changes"]}
    expected = logistic_model.predict_proba(pd.DataFrame([moved]))[0, 1]
    assert top["attrition_probability"] == pytest.approx(expected, abs=1e-6)
    assert top["risk_reduction"] == pytest.approx(plain["attrition_probability"] - expected)


def test_batch_levers_and_a_bad_flag(
    client: TestClient, keys: dict[str, str], dev_frame: pd.DataFrame
) -> None:
    employees = [support.employee(dev_frame.iloc[i]) for i in range(12)]
    response = client.post(
        "/v1/predictions/batch?levers=1",
        json={"employees": employees},
        headers=auth(keys["predictor"]),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert "not causal promises" in answer["levers_note"]
    assert all(isinstance(p["levers"], list) for p in answer["predictions"])
    assert any(p["levers"] for p in answer["predictions"])
    bad = client.post(
        "/v1/predictions?levers=maybe", json=employees[0], headers=auth(keys["predictor"])
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "levers"]
    assert "true, false" in bad.json()["detail"][0]["msg"]
