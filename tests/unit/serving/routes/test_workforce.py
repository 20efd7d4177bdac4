"""GET /v1/workforce/summary: filters checked against the schema."""

from __future__ import annotations

from fastapi.testclient import TestClient


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_workforce_filters_are_validated_against_the_schema(
    client: TestClient, keys: dict[str, str]
) -> None:
    headers = auth(keys["viewer"])
    bad = client.get("/v1/workforce/summary", params={"department": "Legal"}, headers=headers)
    assert bad.status_code == 422
    assert "department" in bad.text and "Research & Development" in bad.text
    role = client.get("/v1/workforce/summary", params={"job_role": "CEO"}, headers=headers)
    assert role.status_code == 422 and "Sales Executive" in role.text
    ok = client.get("/v1/workforce/summary", params={"department": "Sales"}, headers=headers).json()
    assert ok["employees"] == 0 and ok["expected_leavers"] == 0.0
    assert {"by_job_level", "by_tenure_band", "by_overtime"} <= set(ok)
