"""`attrition keys create`, `erase` and `predict` through the real command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from attrition.cli import app
from attrition.db.engine import session_scope
from attrition.db.models import (
    ApiKey,
    AuditEvent,
    EmployeeSnapshot,
    ErasureTombstone,
    Outcome,
    PredictionLog,
)
from attrition.privacy import pseudonymise
from attrition.serving.auth import KeyStore
from attrition.settings import get_settings

runner = CliRunner()


def last_json(output: str) -> dict[str, Any]:
    return dict(json.loads(output.strip().splitlines()[-1]))


def test_keys_create_prints_the_key_once_and_stores_its_hash(serving_env: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--name", "hr", "--role", "predictor", "--json"])
    assert result.exit_code == 0, result.output
    data = last_json(result.output)
    assert data["role"] == "predictor" and data["key"].startswith(f"atk_{data['key_id']}_")
    store = KeyStore(serving_env, get_settings().pseudonym_secret())
    principal = store.verify(data["key"])
    assert principal is not None and principal.role.name == "predictor"
    with session_scope(serving_env) as session:
        stored = session.scalars(select(ApiKey)).one()
    assert data["key"] not in stored.key_hash


def test_keys_list_and_revoke_end_a_key_everywhere_without_showing_secrets(
    serving_env: str,
) -> None:
    created = [
        last_json(
            runner.invoke(app, ["keys", "create", "--name", n, "--role", "viewer", "--json"]).output
        )
        for n in ("old-tool", "new-tool")
    ]
    store = KeyStore(serving_env, get_settings().pseudonym_secret(), ttl_seconds=0)
    assert store.verify(created[0]["key"]) is not None

    # the whole key is accepted too (users paste it), and revoking twice keeps the first time
    first = runner.invoke(app, ["keys", "revoke", created[0]["key"], "--json"])
    again = runner.invoke(app, ["keys", "revoke", created[0]["key_id"], "--json"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert last_json(first.output)["revoked_at"] == last_json(again.output)["revoked_at"]
    assert created[0]["key"].split("_", 2)[2] not in first.output
    assert store.verify(created[0]["key"]) is None
    assert store.verify(created[1]["key"]) is not None

    live = last_json(runner.invoke(app, ["keys", "list", "--json"]).output)["keys"]
    every = last_json(runner.invoke(app, ["keys", "list", "--all", "--json"]).output)["keys"]
    assert [k["name"] for k in live] == ["new-tool"]
    assert [(k["name"], k["revoked_at"] is None) for k in every] == [
        ("old-tool", False),
        ("new-tool", True),
    ]
    table = runner.invoke(app, ["keys", "list", "--all"]).output
    assert created[1]["key_id"] in table and created[1]["key"] not in table
    with session_scope(serving_env) as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["api_key.create", "api_key.create", "api_key.revoke"]


@pytest.mark.parametrize(
    ("given", "message"),
    [("0123456789abcdef", "no API key '0123456789abcdef'"), ("not-a-key", "16 hexadecimal")],
)
def test_keys_revoke_names_the_field_for_a_bad_or_unknown_id(
    serving_env: str, given: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from attrition.cli import main

    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit) as exit_info:
        patch.setattr("sys.argv", ["attrition", "keys", "revoke", given])
        main()
    assert exit_info.value.code == 1
    said = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "key_id" in said and message in said and "Traceback" not in said


def test_keys_create_refuses_an_unknown_role(serving_env: str) -> None:
    from attrition.cli import main

    with pytest.raises(SystemExit) as exit_info:
        import sys

        argv, sys.argv = sys.argv, ["attrition", "keys", "create", "--name", "x", "--role", "root"]
        try:
            main()
        finally:
            sys.argv = argv
    assert exit_info.value.code == 1


def test_erase_deletes_every_row_of_the_person_and_keeps_a_tombstone(serving_env: str) -> None:
    secret = get_settings().pseudonym_secret()
    key, other = pseudonymise(42, secret), pseudonymise(43, secret)
    with session_scope(serving_env) as session:
        for employee_key in (key, other):
            session.add(
                EmployeeSnapshot(
                    snapshot_date=date(2026, 1, 1),
                    employee_key=employee_key,
                    attrition=False,
                    features={},
                )
            )
            session.add(
                PredictionLog(
                    prediction_id=employee_key[:36],
                    request_id="r",
                    employee_key=employee_key,
                    model_name="m",
                    model_version="1",
                    probability=0.1,
                    at_risk=False,
                    threshold=0.5,
                    features={},
                )
            )
            session.add(
                Outcome(employee_key=employee_key, left=True, outcome_date=date(2026, 2, 1))
            )
    result = runner.invoke(app, ["erase", "42", "--json"])
    assert result.exit_code == 0, result.output
    counts = last_json(result.output)["rows_deleted"]
    assert counts == {
        "employee_snapshot": 1,
        "quarantine_row": 0,
        "prediction_log": 1,
        "outcome": 1,
    }
    with session_scope(serving_env) as session:
        for table in (EmployeeSnapshot, PredictionLog, Outcome):
            keys = session.scalars(select(table.employee_key)).all()
            assert keys == [other]
        tombstone = session.scalars(select(ErasureTombstone)).one()
        assert tombstone.employee_key == key and tombstone.rows_deleted == counts
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "employee.erase")
        ).one()
        assert event.target == key and "42" not in json.dumps(event.details)


def test_rows_queued_before_an_erasure_are_dropped_when_written(serving_env: str) -> None:
    from attrition.db.engine import get_engine
    from attrition.db.types import utcnow
    from attrition.serving.prediction_log import insert_ignoring_duplicates

    secret = get_settings().pseudonym_secret()
    answered_at = utcnow()
    assert runner.invoke(app, ["erase", "7"]).exit_code == 0
    late = {
        "prediction_id": "p-late",
        "request_id": "r",
        "employee_key": pseudonymise(7, secret),
        "model_name": "m",
        "model_version": "1",
        "probability": 0.2,
        "at_risk": False,
        "threshold": 0.5,
        "features": {},
        "client": None,
        "source": "api",
        "created_at": answered_at,
    }
    insert_ignoring_duplicates(get_engine(serving_env))([late])
    with session_scope(serving_env) as session:
        assert session.scalar(select(func.count()).select_from(PredictionLog)) == 0


def test_predict_scores_a_csv_with_the_compiled_champion(
    serving_env: str, dev_csv: Path, tmp_path: Path, logistic_model: Any, dev_frame: pd.DataFrame
) -> None:
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["predict", str(dev_csv), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = last_json(result.output)
    assert (
        summary["rows_read"] == len(dev_frame) == summary["rows_scored"] + summary["rows_rejected"]
    )
    scores = pd.read_csv(out)
    assert list(scores.columns) == [
        "EmployeeNumber",
        "attrition_probability",
        "at_risk",
        "model_version",
    ]
    merged = scores.merge(dev_frame, on="EmployeeNumber")
    expected = logistic_model.predict_proba(merged)[:, 1]
    assert (merged["attrition_probability"] - expected).abs().max() <= 1e-6
    assert (merged["at_risk"] == (expected >= logistic_model.threshold)).all()
    assert set(scores["model_version"].astype(str)) == {"1"}
    with session_scope(serving_env) as session:
        logged = session.scalar(
            select(func.count()).select_from(PredictionLog).where(PredictionLog.source == "batch")
        )
    assert logged == summary["rows_scored"]


def test_predict_names_a_missing_file(serving_env: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", str(tmp_path / "nope.csv"), "--out", "x.csv"])
    assert result.exit_code != 0
    assert "nope.csv" in str(result.exception) or "nope.csv" in result.output
