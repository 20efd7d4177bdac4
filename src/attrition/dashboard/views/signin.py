"""Sign in with an API key (checked against the API before it is kept)."""

from __future__ import annotations

import streamlit as st

from attrition.dashboard import session
from attrition.dashboard.api.client import ApiClient, ApiError, NoModelError
from attrition.settings import get_settings


def verify(api_url: str, api_key: str) -> str | None:
    """None if the API accepts the key, else a message saying what is wrong."""
    if not api_key.strip():
        return "Enter an API key (create one with `attrition keys create --role viewer`)."
    with ApiClient(api_url, api_key.strip()) as client:
        try:
            client.model()
        except NoModelError:
            return None  # the key passed authentication; there is just no model yet
        except ApiError as error:
            return str(error)
    return None


def render() -> None:
    st.title("Attrition risk")
    st.write(
        "Sign in with an API key to score employees, see where risk concentrates and "
        "check the model and its drift."
    )
    st.caption(session.DISCLAIMER)
    with st.form("sign-in"):
        api_url = st.text_input(
            "API URL",
            value=get_settings().api_url,
            help="Where the Attrition API runs (ATTRITION_API_URL).",
        )
        api_key = st.text_input(
            "API key",
            type="password",
            help="A viewer key can look; a predictor key can also score.",
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    with st.spinner("Checking the key..."):
        problem = verify(api_url.strip(), api_key)
    if problem:
        st.error(problem)
        return
    session.sign_in(session.Connection(api_url.strip().rstrip("/"), api_key.strip()))
    st.rerun()


if __name__ == "__main__":
    render()
