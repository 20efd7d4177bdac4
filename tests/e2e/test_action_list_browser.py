"""Retention levers and the ranked action list in Debian's headless Chromium: the Predict
page shows an employee's suggested levers; on the Batch page, upload a workforce file,
score it, set a capacity and download the action list: the CSV holds exactly that many
employees, the highest risks in score order, each with a best lever, and no protected
attribute. The real dashboard (`attrition ui`) against a real API with a trained champion
(the stack and browser of ``test_dashboard_browser.py``). Screenshot to
``test-output/dashboard-browser/action-list.png``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from attrition.actions import ACTION_COLUMNS
from attrition.schema import FEATURE_NAMES, IDENTIFIER, PROTECTED_ATTRIBUTES
from attrition_testkit import load_module

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

suite = load_module(
    "attrition_dashboard_browser_suite", Path(__file__).with_name("test_dashboard_browser.py")
)
api = suite.api  # the fixtures: the API stack, `attrition ui` and Chromium
ui_url = suite.ui_url
browser = suite.browser
CAPACITY = 12
ROWS = 60


def _workforce_csv(dev_csv: Path, folder: Path) -> tuple[Path, pd.DataFrame]:
    rows = pd.read_csv(dev_csv).iloc[600 : 600 + ROWS]
    path = folder / "workforce.csv"
    rows.to_csv(path, index=False)
    return path, rows


def _api_scores(api: Any, rows: pd.DataFrame) -> dict[int, float]:
    """Every row's risk as the API scores it (the ranking the list must follow)."""
    records = rows[[IDENTIFIER, *FEATURE_NAMES]].to_dict("records")
    employees = [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records
    ]
    scores: dict[int, float] = {}
    for start in range(0, len(employees), 10):  # the stack's batch limit is small
        response = httpx.post(
            f"{api.api_url}/v1/predictions/batch",
            json={"employees": employees[start : start + 10]},
            headers={"X-API-Key": api.keys["predictor"]},
            timeout=60,
        )
        response.raise_for_status()
        for p in response.json()["predictions"]:
            scores[p["employee_number"]] = p["attrition_probability"]
    return scores


def test_action_list_download_holds_the_capacity_in_score_order(
    browser: Any, ui_url: str, api: Any, dev_csv: Path, tmp_path: Path
) -> None:
    path, rows = _workforce_csv(dev_csv, tmp_path)
    page = browser.new_page(viewport=suite.DESKTOP)
    suite._sign_in(page, ui_url, api.keys["admin"])
    page.get_by_role("button", name="Score employee").click()  # one employee: its levers
    page.get_by_role("heading", name="Suggested levers").wait_for(timeout=suite.TIMEOUT_MS)
    suite._settle(page)
    assert page.get_by_text("not causal promises").count() == 1
    suite._open(page, "Batch")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    page.get_by_role("button", name=f"Score {ROWS} valid rows").click()
    page.get_by_role("heading", name="Action list").wait_for(timeout=suite.TIMEOUT_MS)
    suite._settle(page)
    capacity = page.get_by_label("Employees HR can talk to (capacity)")
    capacity.fill(str(CAPACITY))
    capacity.press("Enter")
    button = page.get_by_role("button", name=f"Download the action list of {CAPACITY} (CSV)")
    button.wait_for(timeout=suite.TIMEOUT_MS)
    suite._settle(page)
    suite._no_exception(page, "Batch action list")
    suite._layout(page, "Batch action list (desktop)")
    suite._screenshot(page, "action-list")
    with page.expect_download(timeout=suite.TIMEOUT_MS) as download:
        button.click()
    listed = pd.read_csv(io.BytesIO(Path(download.value.path()).read_bytes()))
    page.close()

    assert len(listed) == CAPACITY
    assert list(listed.columns) == list(ACTION_COLUMNS)
    assert not set(listed.columns) & set(PROTECTED_ATTRIBUTES)
    assert listed["rank"].tolist() == list(range(1, CAPACITY + 1))
    risks = listed["attrition_probability"].tolist()
    assert risks == sorted(risks, reverse=True)
    scores = _api_scores(api, rows)
    highest = sorted(scores.values(), reverse=True)[:CAPACITY]
    assert risks == pytest.approx(highest, abs=1e-9)
    for number, risk in zip(listed[IDENTIFIER], risks, strict=True):
        assert scores[int(number)] == pytest.approx(risk, abs=1e-9)
    assert listed["best_lever"].notna().all()
    with_lever = listed["risk_after_lever"].notna()
    assert with_lever.any()
    assert (
        listed["risk_after_lever"][with_lever] < listed["attrition_probability"][with_lever]
    ).all()
