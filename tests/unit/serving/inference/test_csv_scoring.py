"""`attrition predict`: offline scoring of a CSV with the champion, through the real
command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from attrition.actions import ACTION_COLUMNS
from attrition.cli import app
from attrition.db.engine import session_scope
from attrition.db.models import PredictionLog
from attrition.schema import PROTECTED_ATTRIBUTES

runner = CliRunner()


def last_json(output: str) -> dict[str, Any]:
    return dict(json.loads(output.strip().splitlines()[-1]))


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


def test_predict_top_writes_the_ranked_action_list(
    serving_env: str, dev_csv: Path, tmp_path: Path, logistic_model: Any, dev_frame: pd.DataFrame
) -> None:
    out = tmp_path / "actions.csv"
    result = runner.invoke(
        app, ["predict", str(dev_csv), "--out", str(out), "--top", "40", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = last_json(result.output)
    assert summary["rows_listed"] == 40
    listed = pd.read_csv(out)
    assert list(listed.columns) == list(ACTION_COLUMNS)
    assert len(listed) == 40 and listed["rank"].tolist() == list(range(1, 41))
    assert not set(listed.columns) & set(PROTECTED_ATTRIBUTES)
    everyone = logistic_model.predict_proba(dev_frame)[:, 1]
    assert listed["attrition_probability"].tolist() == pytest.approx(
        sorted(everyone, reverse=True)[:40], abs=1e-6
    )
    merged = listed.merge(dev_frame, on="EmployeeNumber")
    assert (merged["attrition_probability"].diff().dropna() <= 0).all()
    on_overtime = merged[merged["OverTime"] == "Yes"]
    assert on_overtime["best_lever"].str.contains("OverTime Yes -> No").any()
    assert (
        listed["risk_after_lever"].dropna()
        < listed["attrition_probability"][listed["risk_after_lever"].notna()]
    ).all()
    assert listed["top_factors"].str.count(";").eq(4).all()  # five factors each


def test_predict_capacity_share_and_bad_capacities(
    serving_env: str, dev_csv: Path, tmp_path: Path, dev_frame: pd.DataFrame
) -> None:
    out = tmp_path / "share.csv"
    for text, expected in (("0.1", 0.1), ("25%", 0.25)):
        result = runner.invoke(
            app, ["predict", str(dev_csv), "--out", str(out), "--capacity", text, "--json"]
        )
        assert result.exit_code == 0, result.output
        scored = last_json(result.output)["rows_scored"]
        assert len(pd.read_csv(out)) == int(scored * expected)
    people = runner.invoke(app, ["predict", str(dev_csv), "--out", str(out), "--capacity", "7"])
    assert people.exit_code == 0 and len(pd.read_csv(out)) == 7
    both = runner.invoke(
        app, ["predict", str(dev_csv), "--out", str(out), "--top", "5", "--capacity", "0.1"]
    )
    assert both.exit_code == 2 and "not both" in both.output
    zero = runner.invoke(app, ["predict", str(dev_csv), "--out", str(out), "--capacity", "0"])
    assert zero.exit_code == 2 and "'0' is not allowed" in zero.output
