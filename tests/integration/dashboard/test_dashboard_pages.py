"""Every dashboard page through streamlit.testing's AppTest against a real API on loopback
with a trained champion: no exceptions, the expected widgets, and numbers equal to the
API's own answers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from attrition.dashboard.api.client import ApiClient
from attrition.dashboard.panels.batch import check_upload, payloads
from attrition.dashboard.panels.predict import (
    Levers,
    apply_levers,
    current_levers,
    default_employee,
    employee_payload,
)
from attrition.dashboard.panels.workforce import GROUPINGS
from attrition.schema import IDENTIFIER

pytestmark = pytest.mark.integration


def _metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def _texts(elements: Any) -> str:
    return "\n".join(str(e.value) for e in elements)


def _frames(app: AppTest, *columns: str) -> list[pd.DataFrame]:
    """The tables shown, in page order, that have all of ``columns``."""
    return [d.value for d in app.dataframe if set(columns) <= set(d.value.columns)]


def _chart_specs(app: AppTest) -> list[dict[str, Any]]:
    """The plotly figures on the page, as the JSON sent to the browser."""
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def _ok(app: AppTest) -> AppTest:
    assert not app.exception, app.exception
    return app


def _page(app: AppTest, name: str) -> AppTest:
    return _ok(app.switch_page(f"views/{name}.py").run())


def _get(stack: Any, route: str, **params: Any) -> Any:
    response = httpx.get(
        stack.api_url + route,
        params=params,
        headers={"X-API-Key": stack.keys["viewer"]},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def test_sign_in_refuses_a_bad_key_then_opens_the_pages(full_stack: Any, make_app: Any) -> None:
    app = make_app(full_stack.api_url, None)
    assert [t.value for t in app.title] == ["Attrition risk"]
    app.text_input[1].set_value("atk_0123456789abcdef_" + "x" * 43)
    _ok(app.button[0].click().run())
    assert "refused the key" in _texts(app.error)
    app.text_input[1].set_value(full_stack.keys["viewer"])
    _ok(app.button[0].click().run())
    assert [t.value for t in app.title] == ["Predict one employee"]
    assert app.sidebar.button(key="sign-out") is not None


def test_predict_and_what_if_equal_the_api(full_stack: Any, make_app: Any) -> None:
    app = make_app(full_stack.api_url, full_stack.keys["predictor"])
    assert len(app.selectbox) >= 7 and len(app.slider) >= 9 and len(app.number_input) >= 8
    _ok(app.button(key="FormSubmitter:employee-form-Score employee").click().run())
    employee = employee_payload(default_employee(), None)
    with ApiClient(full_stack.api_url, full_stack.keys["predictor"]) as client:
        expected = client.predict(employee)
        levers = current_levers(employee)
        flipped = "Yes" if levers.overtime == "No" else "No"
        variant = apply_levers(
            employee,
            Levers(
                flipped,
                levers.job_satisfaction,
                levers.environment_satisfaction,
                levers.salary_hike,
                promote=True,
            ),
        )
        scenario = client.predict(variant)
    shown = _metrics(app)
    assert shown["Attrition risk"] == f"{expected.attrition_probability:.0%}"
    assert shown["Threshold"] == f"{expected.threshold:.0%}"
    assert shown["Decision"] == ("At risk" if expected.at_risk else "Not at risk")
    assert len(app.get("plotly_chart")) == 1  # the top factors
    app.radio(key="w_overtime").set_value(flipped)
    _ok(app.checkbox(key="w_promote").check().run())
    _ok(app.button(key="w_compare").click().run())
    (table,) = _frames(app, "scenario")
    assert list(table["scenario"]) == ["Current", "What-if"]
    assert table["risk"].tolist() == pytest.approx(
        [expected.attrition_probability, scenario.attrition_probability], abs=1e-9
    )
    assert "OverTime" in _texts(app.caption) and len(app.get("plotly_chart")) == 2


def test_viewer_key_is_told_it_cannot_score(full_stack: Any, make_app: Any) -> None:
    app = make_app(full_stack.api_url, full_stack.keys["viewer"])
    _ok(app.button(key="FormSubmitter:employee-form-Score employee").click().run())
    assert "needs predictor" in _texts(app.warning)


def _batch_file(dev_csv: Path) -> tuple[bytes, pd.DataFrame]:
    rows = pd.read_csv(dev_csv, dtype=str, keep_default_na=False).iloc[200:320].copy()
    rows.iloc[1, rows.columns.get_loc("OverTime")] = "Sometimes"
    rows.iloc[8, rows.columns.get_loc("Age")] = "200"
    return rows.to_csv(index=False).encode(), rows


def test_batch_checks_chunks_and_scores(full_stack: Any, make_app: Any, dev_csv: Path) -> None:
    data, rows = _batch_file(dev_csv)
    app = make_app(full_stack.api_url, full_stack.keys["predictor"])
    app = _page(app, "batch")
    assert "No file yet" in _texts(app.info)
    _ok(app.file_uploader[0].set_value(("batch.csv", data, "text/csv")).run())
    assert _metrics(app) == {"Rows in file": "120", "Valid rows": "118", "Rows with problems": "2"}
    (errors,) = _frames(app, "problem")
    assert set(zip(errors["line"], errors["field"], strict=True)) == {(3, "OverTime"), (10, "Age")}
    # The API takes 50 rows per call; the dashboard's own setting says 1000, so the first
    # call gets a real 413 and the rest go in chunks of the limit the API names.
    _ok(app.button(key="batch-score").click().run())
    (results,) = _frames(app, "risk_band", "at_risk")
    assert len(results) == 118
    (listed,) = _frames(app, "rank", "best_lever")  # the action list, 20% by default
    assert len(listed) == 23 and listed["rank"].tolist() == list(range(1, 24))
    top = results.sort_values("attrition_probability", ascending=False, kind="stable").head(23)
    assert listed["attrition_probability"].tolist() == top["attrition_probability"].tolist()
    valid = rows.drop(rows.index[[1, 8]])
    with ApiClient(full_stack.api_url, full_stack.keys["predictor"]) as client:
        bodies = payloads(check_upload(valid.to_csv(index=False).encode()).valid)
        expected = {
            p.employee_number: p.attrition_probability
            for start in range(0, len(bodies), 50)
            for p in client.predict_batch(bodies[start : start + 50]).predictions
        }
    shown = dict(zip(results[IDENTIFIER], results["attrition_probability"], strict=True))
    assert shown == pytest.approx(expected, abs=1e-9)
    assert results["attrition_probability"].is_monotonic_decreasing
    app.toggle(key="batch-at-risk").set_value(True)
    (filtered,) = _frames(_ok(app.run()), "risk_band", "at_risk")
    assert len(filtered) == int(results["at_risk"].sum()) and filtered["at_risk"].all()
    assert "batch-results-csv" in [b.key for b in app.get("download_button")]
    assert "batch-actions-csv" in [b.key for b in app.get("download_button")]


def _counts(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without ``since`` (which moves with the clock)."""
    return {k: v for k, v in summary.items() if k != "since"}


def _settled_summary(stack: Any) -> Any:
    """The API's aggregate once the asynchronous prediction-log writer has caught up."""
    previous = _counts(_get(stack, "/v1/workforce/summary", days=90))
    for _ in range(40):
        time.sleep(0.5)
        current = _get(stack, "/v1/workforce/summary", days=90)
        if _counts(current) == previous:
            return current
        previous = _counts(current)
    raise AssertionError("the workforce summary kept changing")


def test_workforce_numbers_equal_the_api_aggregate(full_stack: Any, make_app: Any,
                                                   dev_csv: Path) -> None:  # fmt: skip
    data, _ = _batch_file(dev_csv)
    bodies = payloads(check_upload(data).valid)[:40]
    with ApiClient(full_stack.api_url, full_stack.keys["predictor"]) as client:
        client.predict_batch(bodies)
    api = _settled_summary(full_stack)
    app = _page(make_app(full_stack.api_url, full_stack.keys["viewer"]), "workforce")
    assert _counts(_get(full_stack, "/v1/workforce/summary", days=90)) == _counts(api)
    assert _metrics(app) == _headline(api)
    present = [name for name in GROUPINGS if f"by_{name}" in api]
    assert present == list(GROUPINGS)  # department, role, level, tenure, overtime, band
    tables = _frames(app, "group", "expected_leavers")
    assert len(tables) == len(present)
    for name, shown in zip(present, tables, strict=True):
        table = shown.set_index("group")
        for group in api[f"by_{name}"]:
            row = table.loc[group["group"]]
            assert (row["employees"], row["at_risk"]) == (group["employees"], group["at_risk"])
            assert row["at_risk_share"] == pytest.approx(group["at_risk_share"], abs=1e-12)
            assert row["mean_probability"] == pytest.approx(group["mean_probability"], abs=1e-12)
        assert len(table) == len(api[f"by_{name}"])
    assert len(app.get("plotly_chart")) >= 4  # the groupings and the trend

    department = api["by_department"][0]["group"]
    app.selectbox(key="wf-dept").set_value(department)
    filtered = _get(full_stack, "/v1/workforce/summary", days=90, department=department)
    assert filtered["employees"] == api["by_department"][0]["employees"]
    assert _metrics(_ok(app.run())) == _headline(filtered)


def _headline(summary: dict[str, Any]) -> dict[str, str]:
    return {
        "Headcount scored": f"{summary['employees']:,}",
        "At risk": f"{summary['at_risk']:,}",
        "Share at risk": f"{summary['at_risk'] / summary['employees']:.1%}",
        "Expected leavers": f"{summary['expected_leavers']:,.1f}",
    }


def test_model_page_equals_the_api(full_stack: Any, make_app: Any) -> None:
    info = _get(full_stack, "/v1/model")
    app = _page(make_app(full_stack.api_url, full_stack.keys["viewer"]), "model")
    shown = _metrics(app)
    assert shown["Champion"] == f"v{info['version']}" == f"v{full_stack.model_version}"
    assert shown["Threshold"] == f"{info['threshold']:.2f}"
    auc = info["metrics"].get("holdout_roc_auc", info["metrics"].get("roc_auc"))
    assert shown["ROC-AUC (holdout)"] == f"{auc:.3f}"
    (metrics,) = _frames(app, "metric")
    assert metrics.set_index("metric").loc["ROC-AUC", "holdout"] == auc
    counts = [int(info["metrics"][k]) for k in ("tn", "fp", "fn", "tp")]
    heatmaps = [
        trace for spec in _chart_specs(app) for trace in spec["data"] if trace["type"] == "heatmap"
    ]
    assert heatmaps[0]["z"] == [counts[:2], counts[2:]]
    # curves, fairness and importance are the API's (from the champion's training run)
    lines = {
        spec["layout"]["title"]["text"]: spec["data"][0]
        for spec in _chart_specs(app)
        if spec["data"][0]["type"] == "scatter"
    }
    roc = next(trace for title, trace in lines.items() if title.startswith("ROC"))
    assert roc["x"] == pytest.approx(info["curves"]["roc"]["fpr"])
    assert roc["y"] == pytest.approx(info["curves"]["roc"]["tpr"])
    calibration = next(trace for title, trace in lines.items() if title.startswith("Calib"))
    assert calibration["y"] == pytest.approx(info["curves"]["calibration"]["observed"])
    (fairness,) = _frames(app, "attribute", "four_fifths")
    section = info["fairness"]["out_of_sample"]  # the gate's basis, shown first
    for attribute, entry in section.items():
        rows = fairness[fairness["attribute"] == attribute]
        assert set(rows["group"]) == set(entry["by_group"])
        flag = "meets 4/5 rule" if entry["four_fifths_ok"] else "below 4/5 rule"
        assert set(rows["four_fifths"]) == {flag}
    bars = [trace for spec in _chart_specs(app) for trace in spec["data"] if trace["type"] == "bar"]
    top = max(info["importance"].items(), key=lambda kv: abs(kv[1]))
    assert bars[-1]["y"][-1] == top[0] and bars[-1]["x"][-1] == pytest.approx(top[1])
    (versions,) = _frames(app, "version", "aliases")
    listing = _get(full_stack, "/v1/models")["versions"]
    assert list(versions["version"]) == [v["version"] for v in listing]
    assert list(versions["aliases"]) == [", ".join(v["aliases"]) for v in listing]
    # a viewer sees no admin buttons; an admin does
    assert not [b for b in app.button if b.key in ("model-promote", "model-rollback")]
    admin = _page(make_app(full_stack.api_url, full_stack.keys["admin"]), "model")
    assert {"model-promote", "model-rollback", "model-reload"} <= {b.key for b in admin.button}


def test_monitoring_page_lists_reports_drifted_first(full_stack: Any, make_app: Any) -> None:
    reports = _get(full_stack, "/v1/monitoring/reports")["items"]
    newest = _get(full_stack, f"/v1/monitoring/reports/{reports[0]['id']}")
    app = _page(make_app(full_stack.api_url, full_stack.keys["viewer"]), "monitoring")
    (listing,) = _frames(app, "id", "drift_share")
    assert list(listing["id"]) == [r["id"] for r in reports]
    (features,) = _frames(app, "feature", "drifted")
    drifted = list(features.loc[features["drifted"], "feature"])
    assert set(drifted) == set(newest["drifted_features"]) and "OverTime" in drifted
    assert list(features["drifted"]) == sorted(features["drifted"], reverse=True)
    assert _metrics(app)["Dataset drift"] == ("yes" if newest["dataset_drift"] else "no")
    assert len(app.get("plotly_chart")) >= 5  # distribution, windows, prediction, per check,
    # fairness per group over time
    (groups,) = _frames(app, "attribute", "verdict")
    assert set(groups["attribute"]) == {"Gender", "AgeBand", "MaritalStatus"}
    assert groups["training_recall"].notna().all()
    assert len(app.get("download_button")) == 1
    (alerts,) = _frames(app, "report", "found")
    assert list(alerts["report"]) == [r["id"] for r in reports if r["alert_sent"]] != []


def test_empty_states_say_what_to_do(empty_stack: Any, make_app: Any) -> None:
    app = make_app(empty_stack.api_url, empty_stack.keys["admin"])
    assert "No model yet" in _texts(app.info)
    assert "No predictions yet" in _texts(_page(app, "workforce").info)
    assert "No model yet" in _texts(_page(app, "model").info)
    assert "No drift reports yet" in _texts(_page(app, "monitoring").info)
    _ok(app.button(key="mon-run").click().run())
    assert "monitoring" in _texts(app.error).lower()


def test_api_down_and_wrong_key(full_stack: Any, make_app: Any, stack_module: Any) -> None:
    closed = f"http://127.0.0.1:{stack_module.free_port()}"
    app = make_app(closed, full_stack.keys["viewer"])
    assert "Cannot reach the API" in _texts(app.error)
    assert "Cannot reach the API" in _texts(_page(app, "workforce").error)
    wrong = make_app(full_stack.api_url, "atk_0123456789abcdef_" + "y" * 43)
    wrong = _page(wrong, "workforce")
    assert "Wrong or revoked key" in _texts(wrong.error)
    _ok(wrong.button(key="sign-out").click().run())
    assert [t.value for t in wrong.title] == ["Attrition risk"]
