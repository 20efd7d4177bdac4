"""Access logs name the key id, never the key or an employee id."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from attrition.db.engine import session_scope

from ..conftest import support

wait_for_rows = support.wait_for_rows


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_and_employee_ids_never_reach_the_logs(
    client: TestClient,
    keys: dict[str, str],
    dev_frame: pd.DataFrame,
    caplog: pytest.LogCaptureFixture,
    serving_env: str,
) -> None:
    import logging

    from sqlalchemy import text

    from attrition.serving.platform.logs import JsonFormatter

    body = support.employee(dev_frame.iloc[3])
    body["EmployeeNumber"] = 987654321
    with caplog.at_level(logging.INFO):
        for key in (keys["predictor"], keys["viewer"], "atk_" + "0" * 16 + "_" + "y" * 43):
            client.post("/v1/predictions", json=body, headers=auth(key))
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    access = [line for line in lines if '"msg": "request"' in line or '"msg":"request"' in line]
    assert len(access) == 3
    text_out = "\n".join(lines)
    for secret in keys.values():
        assert secret not in text_out and secret.split("_", 2)[2] not in text_out
    assert "987654321" not in text_out
    assert keys["predictor"].split("_")[1] in text_out  # the public key id is logged
    wait_for_rows(serving_env, 1)
    with session_scope(serving_env) as session:
        dump = " ".join(
            str(row)
            for table in ("prediction_log", "api_key", "audit_event")
            for row in session.execute(text(f"SELECT * FROM {table}")).all()
        )
    for secret in keys.values():
        assert secret.split("_", 2)[2] not in dump
    assert "987654321" not in dump


def test_an_exception_is_logged_as_types_and_frames_never_its_message() -> None:
    import json
    import logging

    from attrition.serving.platform.logs import JsonFormatter

    try:
        try:
            raise ValueError("MonthlyIncome 123457 for EmployeeNumber 8675309")
        except ValueError:
            raise RuntimeError("while answering {'Age': nan}") from None
    except RuntimeError as error:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = (type(error), error, error.__traceback__)
        line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "RuntimeError" in entry["exc"] and "test_logs.py" in entry["exc"]
    assert "123457" not in line and "8675309" not in line and "nan" not in line


def test_a_log_line_is_written_whatever_the_extras_hold() -> None:
    import json
    import logging

    from attrition.serving.platform.logs import JsonFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "odd", None, None)
    record.huge = 2**80
    record.nan = float("nan")
    record.keys = {1: "a"}
    entry = json.loads(JsonFormatter().format(record))
    assert entry["huge"] == str(2**80) and entry["nan"] is None and entry["keys"] == {"1": "a"}
