"""The entry point reads the settings once and hands the pages their part of them."""

from __future__ import annotations

import ast
from pathlib import Path

from pydantic import SecretStr

from attrition.dashboard import app, session
from attrition.settings import Settings

DASHBOARD = Path(app.__file__).resolve().parent


def test_the_pages_get_the_api_url_key_and_batch_size() -> None:
    settings = Settings(api_url="http://api.test:9000", api_key=SecretStr("k"), max_batch_rows=7)
    config = app.dashboard_config(settings)
    assert config == session.DashboardConfig("http://api.test:9000", "k", 7)


def test_no_key_or_an_empty_one_means_the_sign_in_form() -> None:
    for key in (None, SecretStr("")):
        config = app.dashboard_config(Settings(api_key=key))
        assert config.api_key is None


def test_only_the_entry_point_reads_the_settings() -> None:
    callers = []
    for path in sorted(DASHBOARD.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if "get_settings" in names:
            callers.append(path.relative_to(DASHBOARD).as_posix())
    assert callers == ["app.py"]
