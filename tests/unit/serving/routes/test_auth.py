"""GET /v1/auth/me names the calling key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("role", ["viewer", "predictor", "admin"])
def test_auth_me_names_the_calling_key(client: TestClient, keys: dict[str, str], role: str) -> None:
    body = client.get("/v1/auth/me", headers=auth(keys[role])).json()
    assert body["role"] == role and body["name"] == f"test-{role}"
    assert keys[role].startswith(f"atk_{body['key_id']}")
