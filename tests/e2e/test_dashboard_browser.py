"""The real dashboard (`attrition ui`) in Debian's headless Chromium, against a real API with
a trained champion: sign in, score one employee, upload a batch, open every page, at
1280x800 and at a phone's 390x844. Every page is screenshotted to
``test-output/dashboard-browser/`` and checked for Streamlit exception boxes, sideways
scrolling and overlapping blocks; the workforce numbers must equal the API's aggregate.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pandas as pd
import pytest

from attrition_testkit import load_module

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1].parent
STACK_FILE = REPO / "tests" / "integration" / "dashboard" / "stack.py"
OUTPUT = REPO / "test-output" / "dashboard-browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
PAGES = ("Predict", "Batch", "Workforce", "Model", "Monitoring")
TIMEOUT_MS = 60_000

LAYOUT_CHECK = """() => {
  const problems = [];
  const width = window.innerWidth;
  const name = (n) => (n.getAttribute('data-testid') || n.tagName) + ' "' +
    (n.innerText || '').trim().slice(0, 40).replace(/\\s+/g, ' ') + '"';
  if (document.documentElement.scrollWidth > width + 1)
    problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
  const main = document.querySelector('[data-testid="stMain"]');
  if (main.scrollWidth > main.clientWidth + 1)
    problems.push(`main area scrolls sideways: ${main.scrollWidth} > ${main.clientWidth}`);
  const shown = (nodes) => [...nodes].map((n) => [n, n.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && r.height > 0);
  const overlapping = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const pairs = (nodes, what) => {
    const boxes = shown(nodes);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++)
        if (overlapping(boxes[i][1], boxes[j][1]))
          problems.push(`${what} overlap: ${name(boxes[i][0])} and ${name(boxes[j][0])}`);
  };
  const top = document.querySelector(
    '[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]');
  pairs(top.children, 'main blocks');
  for (const block of main.querySelectorAll('[data-testid="stVerticalBlock"]'))
    pairs(block.querySelectorAll(':scope > [data-testid="stElementContainer"]'), 'elements');
  for (const row of main.querySelectorAll('[data-testid="stHorizontalBlock"]'))
    pairs(row.querySelectorAll(':scope > [data-testid="stColumn"]'), 'columns');
  for (const [n, r] of shown(main.querySelectorAll('[data-testid="stElementContainer"]')))
    if (r.right > width + 1 || r.left < -1) problems.push(`${name(n)} leaves the screen`);
  return problems;
}"""


def _load_stack() -> ModuleType:
    # the same module object as the AppTest suite's
    return load_module("attrition_dashboard_test_stack", STACK_FILE)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, dev_csv: Path) -> Any:
    stack = _load_stack()
    return stack.shared(tmp_path_factory.getbasetemp() / "dashboard-full", dev_csv)


@pytest.fixture(scope="module")
def ui_url(api: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`attrition ui` on a free port, pointed at the API, with no key configured."""
    stack = _load_stack()
    port = stack.free_port()
    env = {k: v for k, v in api.env.items() if k != "ATTRITION_API_KEY"}
    env["ATTRITION_API_URL"] = api.api_url
    script = Path(sys.executable).with_name("attrition")
    log_path = tmp_path_factory.mktemp("ui") / "ui.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(script), "ui", "--port", str(port)], env=env,
                                   cwd=api.root, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{url}/_stcore/health", process)
            yield url
        finally:
            stack.stop(process)


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"`attrition ui` exited with {process.returncode}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"dashboard not up at {url}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is required (apt-get install chromium)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS, headless=True)  # fmt: skip
        yield instance
        instance.close()


# --- helpers ---------------------------------------------------------------------------
def _no_exception(page: Any, where: str) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, f"Streamlit exception on {where}: {boxes.first.inner_text()}"


def _settle(page: Any) -> None:
    """Until the script run finished (no status widget, no spinner)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=TIMEOUT_MS)
    page.locator('[data-testid="stSpinner"]').wait_for(state="detached", timeout=TIMEOUT_MS)


def _screenshot(page: Any, name: str) -> Path:
    """The whole page (the main area's full height) at the current width."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": min(int(height), 8000)})
    page.wait_for_timeout(400)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(viewport)
    page.wait_for_timeout(200)
    return path


def _layout(page: Any, where: str) -> None:
    problems = page.evaluate(LAYOUT_CHECK)
    assert problems == [], f"layout problems on {where}: {problems}"


def _open(page: Any, title: str) -> None:
    """Open a page from the navigation (on a phone: open the sidebar, then close it)."""
    expand = page.locator('[data-testid="stExpandSidebarButton"]')
    if expand.count() and expand.first.is_visible():
        expand.first.click()
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
    _settle(page)
    collapse = page.locator('[data-testid="stSidebarCollapseButton"] button')
    if page.viewport_size["width"] < 640 and collapse.count() and collapse.first.is_visible():
        collapse.first.click()
        page.wait_for_timeout(400)


def _sign_in(page: Any, url: str, key: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Predict one employee").wait_for(timeout=TIMEOUT_MS)
    _settle(page)


def _metrics(page: Any) -> dict[str, str]:
    found = {}
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        found[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return found


def _summary(api: Any) -> dict[str, Any]:
    response = httpx.get(f"{api.api_url}/v1/workforce/summary", params={"days": 90},
                         headers={"X-API-Key": api.keys["viewer"]}, timeout=30)  # fmt: skip
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    body.pop("since")  # moves with the clock
    return body


def _settled_summary(api: Any) -> dict[str, Any]:
    """The aggregate once the API's asynchronous prediction-log writer has caught up."""
    previous = _summary(api)
    for _ in range(40):
        time.sleep(0.5)
        current = _summary(api)
        if current == previous:
            return current
        previous = current
    raise AssertionError("the workforce summary kept changing")


def _batch_csv(dev_csv: Path, folder: Path) -> Path:
    rows = pd.read_csv(dev_csv, dtype=str, keep_default_na=False).iloc[400:480].copy()
    rows.iloc[2, rows.columns.get_loc("JobRole")] = "Astronaut"
    path = folder / "employees.csv"
    rows.to_csv(path, index=False)
    return path


# --- tests -----------------------------------------------------------------------------
def test_desktop_flow(browser: Any, ui_url: str, api: Any, dev_csv: Path,
                      tmp_path: Path) -> None:  # fmt: skip
    page = browser.new_page(viewport=DESKTOP)
    _sign_in(page, ui_url, api.keys["admin"])
    _screenshot(page, "desktop-0-predict-form")

    page.get_by_role("button", name="Score employee").click()
    page.get_by_text("Attrition risk", exact=True).wait_for(timeout=TIMEOUT_MS)
    page.locator('[data-testid="stPlotlyChart"]').wait_for(timeout=TIMEOUT_MS)  # top factors
    _settle(page)
    assert _metrics(page)["Decision"] in ("At risk", "Not at risk")
    _no_exception(page, "Predict")
    _layout(page, "Predict (desktop)")
    _screenshot(page, "desktop-1-predict")

    _open(page, "Batch")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(_batch_csv(dev_csv, tmp_path))
    )
    page.get_by_text("Rows with problems").wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    assert _metrics(page) == {"Rows in file": "80", "Valid rows": "79", "Rows with problems": "1"}
    page.get_by_role("button", name="Score 79 valid rows").click()
    page.get_by_role("button", name="Download results (CSV)").wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    assert page.get_by_text("79 of 79 employees shown").count() == 1
    _no_exception(page, "Batch")
    _layout(page, "Batch (desktop)")
    _screenshot(page, "desktop-2-batch")

    expected = _settled_summary(api)
    _open(page, "Workforce")
    page.get_by_text("Headcount scored").wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    assert _settled_summary(api) == expected
    shown = _metrics(page)
    leavers = expected["expected_leavers"]  # the API's sum over the latest predictions
    assert shown == {
        "Headcount scored": f"{expected['employees']:,}",
        "At risk": f"{expected['at_risk']:,}",
        "Share at risk": f"{expected['at_risk'] / expected['employees']:.1%}",
        "Expected leavers": f"{leavers:,.1f}",
    }
    _no_exception(page, "Workforce")
    _layout(page, "Workforce (desktop)")
    _screenshot(page, "desktop-3-workforce")

    for index, title in enumerate(("Model", "Monitoring"), start=4):
        _open(page, title)
        page.get_by_role("heading", name=title, exact=True).wait_for(timeout=TIMEOUT_MS)
        _settle(page)
        _no_exception(page, title)
        _layout(page, f"{title} (desktop)")
        _screenshot(page, f"desktop-{index}-{title.lower()}")
    assert page.get_by_text("OverTime").count() >= 1  # the drifted feature is listed
    page.close()


def test_phone_width_has_no_overlap(browser: Any, ui_url: str, api: Any) -> None:
    page = browser.new_page(viewport=MOBILE, is_mobile=True, has_touch=True)
    _sign_in(page, ui_url, api.keys["admin"])
    page.get_by_role("button", name="Score employee").click()
    page.get_by_text("Attrition risk", exact=True).wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    for index, title in enumerate(PAGES):
        if index:
            _open(page, title)
        _no_exception(page, f"{title} (phone)")
        _layout(page, f"{title} (phone)")
        _screenshot(page, f"phone-{index}-{title.lower()}")
    page.close()


def test_output_folder_is_ignored_by_git() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", str(OUTPUT / "x.png")], cwd=REPO,
                             check=False)  # fmt: skip
    assert ignored.returncode == 0, "test-output/ must stay out of the repository"


def test_model_page_draws_the_capacity_tradeoff_with_the_served_point(
    browser: Any, ui_url: str, api: Any, tmp_path: Path
) -> None:
    """Issue 14: the trade-off curve is on the Model page with the chosen point marked."""
    response = httpx.get(f"{api.api_url}/v1/model", headers={"X-API-Key": api.keys["viewer"]},
                         timeout=30)  # fmt: skip
    chosen = response.json()["capacity"]["chosen"]
    page = browser.new_page(viewport=DESKTOP)
    _sign_in(page, ui_url, api.keys["admin"])
    _open(page, "Model")
    page.get_by_role("heading", name="Capacity", exact=True).wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Capacity trade-off")
    chart.wait_for(timeout=TIMEOUT_MS)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    assert chart.get_by_text(f"served threshold ({chosen['policy']})").count() >= 1  # legend
    assert chart.get_by_text(f"{chosen['share_flagged']:.0%} flagged").count() >= 1  # marker
    sentence = f"flags {chosen['share_flagged']:.1%} of people and catches"
    assert page.get_by_text(sentence).count() == 1
    _no_exception(page, "Model (capacity)")
    _layout(page, "Model (capacity, desktop)")
    shot = tmp_path / "model-capacity-tradeoff.png"
    chart.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    page.screenshot(path=str(tmp_path / "model-page.png"), full_page=True)
    page.close()
