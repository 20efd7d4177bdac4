"""Sign in with an API key (checked against the API before it is kept)."""

from __future__ import annotations

import streamlit as st

from attrition.dashboard import session
from attrition.dashboard.panels.signin import verify


def sign_in_form() -> tuple[str, str, bool]:
    """The form: (API URL, API key, submitted)."""
    with st.form("sign-in"):
        api_url = st.text_input(
            "API URL",
            value=session.config().api_url,
            help="Where the Attrition API runs (ATTRITION_API_URL).",
        )
        api_key = st.text_input(
            "API key",
            type="password",
            help="A viewer key can look; a predictor key can also score.",
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    return api_url, api_key, submitted


def render() -> None:
    st.title("Attrition risk")
    st.write(
        "Sign in with an API key to score employees, see where risk concentrates and "
        "check the model and its drift."
    )
    st.caption(session.DISCLAIMER)
    api_url, api_key, submitted = sign_in_form()
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
