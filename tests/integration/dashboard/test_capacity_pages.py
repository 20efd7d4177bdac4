"""The capacity trade-off on the Model page and the capacity line on the Workforce page,
through AppTest against the real API with a trained champion: equal to the API's answers."""

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
from attrition.dashboard.panels.capacity import capacity_caption, workforce_capacity_line

pytestmark = pytest.mark.integration


def _get(stack: Any, route: str, **params: Any) -> Any:
    response = httpx.get(f"{stack.api_url}{route}", params=params,
                         headers={"X-API-Key": stack.keys["viewer"]}, timeout=30)  # fmt: skip
    response.raise_for_status()
    return response.json()


def _page(app: AppTest, name: str) -> AppTest:
    page = app.switch_page(f"views/{name}.py").run()
    assert not page.exception, page.exception
    return page


def test_model_page_draws_the_apis_capacity_tradeoff(full_stack: Any, make_app: Any) -> None:
    curve = _get(full_stack, "/v1/model")["capacity"]
    assert curve is not None and curve["basis"] == "out-of-fold"
    app = _page(make_app(full_stack.api_url, full_stack.keys["viewer"]), "model")
    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    (figure,) = [s for s in specs if s["layout"]["title"]["text"].startswith("Capacity")]
    caught, _precision, _diagonal, served = figure["data"]
    assert caught["x"] == pytest.approx(curve["share_flagged"])
    assert caught["y"] == pytest.approx(curve["recall"])
    assert served["x"] == [pytest.approx(curve["chosen"]["share_flagged"])]
    assert capacity_caption(curve) in "\n".join(str(c.value) for c in app.caption)
    (table,) = [d.value for d in app.dataframe if "leavers caught" in d.value.columns]
    assert table.set_index("capacity").loc["20%", "leavers caught"] == curve["recall"][19]


def test_workforce_page_says_the_expected_leavers_caught_at_capacity(
    full_stack: Any, make_app: Any, dev_csv: Path
) -> None:
    rows = pd.read_csv(dev_csv, dtype=str, keep_default_na=False).iloc[900:930]
    with ApiClient(full_stack.api_url, full_stack.keys["predictor"]) as client:
        client.predict_batch(payloads(check_upload(rows.to_csv(index=False).encode()).valid))
    previous = None
    for _ in range(40):  # until the asynchronous prediction log has caught up
        summary = _get(full_stack, "/v1/workforce/summary", days=90)
        if summary == previous:
            break
        previous = summary
        time.sleep(0.5)
    plan = summary["capacity"]
    assert plan["capacity"] == "20%" and plan["people"] == int(0.2 * summary["employees"])
    assert 0 < plan["expected_leavers_caught"] <= summary["expected_leavers"]
    app = _page(make_app(full_stack.api_url, full_stack.keys["viewer"]), "workforce")
    line = workforce_capacity_line(plan)
    assert line is not None and line in "\n".join(str(c.value) for c in app.caption)
