"""Fixtures for the dashboard tests: real API stacks (see stack.py) and AppTest factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from attrition.operations.launcher import DASHBOARD_APP as APP
from attrition.settings import get_settings
from attrition_testkit import load_module

STACK_FILE = Path(__file__).with_name("stack.py")
MakeApp = Callable[..., AppTest]


def load_stack() -> ModuleType:
    """stack.py as one shared module (the browser test loads the same one)."""
    return load_module("attrition_dashboard_test_stack", STACK_FILE)


@pytest.fixture(scope="session")
def stack_module() -> Iterator[ModuleType]:
    module = load_stack()
    yield module
    module.stop_all()


@pytest.fixture(scope="session")
def full_stack(stack_module: ModuleType, tmp_path_factory: pytest.TempPathFactory,
               dev_csv: Path) -> object:  # fmt: skip
    return stack_module.shared(tmp_path_factory.getbasetemp() / "dashboard-full", dev_csv)


@pytest.fixture(scope="session")
def empty_stack(stack_module: ModuleType, tmp_path_factory: pytest.TempPathFactory,
                dev_csv: Path) -> object:  # fmt: skip
    root = tmp_path_factory.getbasetemp() / "dashboard-empty"
    return stack_module.shared(root, dev_csv, empty=True)


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch) -> MakeApp:
    """An AppTest of the real app, signed in through ATTRITION_API_URL/KEY (or not)."""

    def make(api_url: str, api_key: str | None) -> AppTest:
        monkeypatch.setenv("ATTRITION_API_URL", api_url)
        if api_key is None:
            monkeypatch.delenv("ATTRITION_API_KEY", raising=False)
        else:
            monkeypatch.setenv("ATTRITION_API_KEY", api_key)
        get_settings.cache_clear()
        st.cache_data.clear()
        app = AppTest.from_file(str(APP), default_timeout=90).run()
        assert not app.exception, app.exception
        return app

    return make
