"""Who is signed in, from the configuration the entry point hands over (Streamlit's session
state in bare mode, no server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st

from attrition.dashboard import session
from attrition.dashboard.api.client import AuthenticationError

CONFIGURED = session.DashboardConfig("http://api.test", "configured-key", 50)


@pytest.fixture(autouse=True)
def empty_session() -> Iterator[None]:
    st.session_state.clear()
    yield
    st.session_state.clear()


def test_the_configuration_comes_from_the_entry_point() -> None:
    with pytest.raises(RuntimeError, match="entry point"):
        session.config()
    session.use_config(CONFIGURED)
    assert session.config() == CONFIGURED


def test_a_configured_key_signs_in_until_signing_out() -> None:
    session.use_config(CONFIGURED)
    assert session.current_connection() == session.Connection("http://api.test", "configured-key")
    session.sign_out()
    session.use_config(CONFIGURED)  # the entry point runs again on the next rerun
    assert session.current_connection() is None  # signed out on purpose: no fallback
    with pytest.raises(AuthenticationError, match="Not signed in"):
        session.client()
    session.sign_in(session.Connection("http://other.test", "typed-key"))
    assert session.current_connection() == session.Connection("http://other.test", "typed-key")


def test_without_a_configured_key_the_sign_in_form_is_needed() -> None:
    session.use_config(session.DashboardConfig("http://api.test", None, 50))
    assert session.configured_connection(session.config()) is None
    assert session.current_connection() is None
