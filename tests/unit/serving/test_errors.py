"""The one table from typed errors to HTTP statuses: each typed error answers its status
with its message; a database error answers 503 without its details; a batch over the
limit answers 413; registry failures become UnavailableError."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError

from attrition.errors import AttritionError, ConflictError, NotFoundError, UnavailableError
from attrition.serving.errors import (
    DATABASE_UNAVAILABLE,
    REGISTRY_UNAVAILABLE,
    install_error_handlers,
    registry_unavailable,
    status_of,
)


class Batch(BaseModel):
    employees: list[int] = Field(max_length=2)


def raising(error: Exception) -> FastAPI:
    """An app whose one route raises ``error``, and takes a batch of at most 2."""
    app = FastAPI()
    app.state.serving = SimpleNamespace(settings=SimpleNamespace(max_batch_rows=2))
    install_error_handlers(app)

    @app.get("/fail")
    def fail() -> None:
        raise error

    @app.post("/batch")
    def batch(body: Batch) -> int:
        return len(body.employees)

    return app


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("no drift report with id 7"), 404),
        (ConflictError("no previous champion to roll back to"), 409),
        (UnavailableError("no model loaded yet"), 503),
    ],
)
def test_each_typed_error_answers_its_status_with_its_message(
    error: AttritionError, status: int
) -> None:
    response = TestClient(raising(error)).get("/fail")
    assert response.status_code == status
    assert response.json() == {"detail": str(error)}


def test_a_database_error_is_503_without_its_details(caplog: pytest.LogCaptureFixture) -> None:
    error = OperationalError("SELECT key_hash FROM api_key", {}, Exception("db.internal down"))
    response = TestClient(raising(error)).get("/fail")
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    said = response.text + caplog.text
    assert "db.internal" not in said and "key_hash" not in said
    assert "OperationalError" in caplog.text  # the kind is logged, not the text


def test_a_subclass_takes_the_status_of_its_nearest_kind() -> None:
    class UnknownVersionError(NotFoundError):
        pass

    assert status_of(UnknownVersionError("v9")) == (404, "v9")
    with pytest.raises(LookupError):
        status_of(ValueError("not in the table"))
    # a plain user error has no status of its own: its call site must say what kind it is
    with pytest.raises(LookupError):
        status_of(AttritionError("untyped"))


def test_a_batch_over_the_limit_is_413_and_other_bad_bodies_422() -> None:
    client = TestClient(raising(ValueError()))
    too_many = client.post("/batch", json={"employees": [1, 2, 3]})
    assert too_many.status_code == 413
    assert too_many.json() == {"detail": "batch too large: at most 2 employees per request"}
    wrong = client.post("/batch", json={"employees": ["x"]})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "employees", 0]


@pytest.mark.parametrize(
    ("error", "status"),
    [(NotFoundError("model version '9' does not exist"), 404), (ConflictError("rollback"), 409)],
)
def test_the_registrys_own_typed_errors_keep_their_status_through_the_guard(
    error: AttritionError, status: int
) -> None:
    """The registry says what kind each error is; the route maps nothing itself."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/move")
    def move() -> None:
        with registry_unavailable("alias move"):
            raise error

    response = TestClient(app).post("/move")
    assert response.status_code == status and response.json() == {"detail": str(error)}


def test_registry_failures_become_unavailable_and_typed_errors_pass() -> None:
    unavailable = pytest.raises(UnavailableError, match=REGISTRY_UNAVAILABLE)
    with unavailable, registry_unavailable("alias move"):
        raise ConnectionError("mlflow.internal:5000 refused")
    unavailable = pytest.raises(UnavailableError, match=REGISTRY_UNAVAILABLE)
    with unavailable, registry_unavailable("version history"):
        raise AttritionError("registered model not found")
    with pytest.raises(NotFoundError, match="v9"), registry_unavailable("alias move"):
        raise NotFoundError("v9")
