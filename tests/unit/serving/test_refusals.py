"""Refused inputs: the field of each body error without indexes or batch wrappers, the
reason as the validator names it, never the value; a failed write never changes a 422."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import RefusedInput
from attrition.serving.errors import install_error_handlers
from attrition.serving.platform.metrics import build_metrics
from attrition.serving.refusals import field_name, refused_fields, store_refusal


class Person(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    Age: int


class Batch(BaseModel):
    employees: list[Person]


def test_field_names_drop_indexes_and_wrappers() -> None:
    assert field_name(("body", "employees", 3, "Age")) == "Age"
    assert field_name(("body", "Age")) == "Age"
    assert field_name(("body",)) == "(body)"
    assert field_name(("body", "employees")) == "employees"
    assert field_name(("body", "outcomes", 0, "left")) == "left"
    assert field_name(("query", "limit")) is None
    assert field_name(("body", "Name; DROP TABLE")) == "Name_DROP_TABLE"


def test_counts_per_field_and_reason() -> None:
    errors = [
        {"loc": ("body", "employees", 0, "Age"), "type": "int_type", "input": "forty"},
        {"loc": ("body", "employees", 1, "Age"), "type": "int_type", "input": "fifty"},
        {"loc": ("query", "limit"), "type": "less_than_equal", "input": 9999},
    ]
    assert refused_fields(errors) == {("Age", "int_type"): 2}


def _app(database_url: str) -> tuple[FastAPI, object]:
    app = FastAPI()
    metrics = build_metrics()
    settings = SimpleNamespace(max_batch_rows=10, database_url=database_url)
    app.state.serving = SimpleNamespace(settings=settings, metrics=metrics)
    install_error_handlers(app)

    @app.post("/v1/predictions/batch")
    def batch(body: Batch) -> int:
        return len(body.employees)

    return app, metrics


def test_a_422_is_counted_and_stored_without_values(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    app, metrics = _app(sqlite_url)
    body = {"employees": [{"Age": "forty"}, {"Age": "secret-value", "Name": "Ada"}]}
    answer = TestClient(app).post("/v1/predictions/batch", json=body)
    assert answer.status_code == 422
    counter = metrics.refused_inputs  # type: ignore[attr-defined]
    assert counter.labels("Age", "int_type")._value.get() == 2
    assert counter.labels("Name", "extra_forbidden")._value.get() == 1
    with session_scope(sqlite_url) as session:
        rows = session.scalars(select(RefusedInput)).all()
        stored = {(r.route, r.field, r.reason, r.count) for r in rows}
        values = " ".join(f"{r.field} {r.reason} {r.route} {r.request_id}" for r in rows)
    assert stored == {
        ("/v1/predictions/batch", "Age", "int_type", 2),
        ("/v1/predictions/batch", "Name", "extra_forbidden", 1),
    }
    assert "forty" not in values and "secret-value" not in values and "Ada" not in values


def test_a_failed_write_keeps_the_422(sqlite_url: str) -> None:
    app, _ = _app(sqlite_url)  # not migrated: the table is missing
    answer = TestClient(app).post("/v1/predictions/batch", json={"employees": [{"Age": "x"}]})
    assert answer.status_code == 422 and "Age" in answer.text
    store_refusal(sqlite_url, "r1", "/x", {("Age", "int_type"): 1})  # logged, not raised
