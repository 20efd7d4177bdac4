"""The dashboard's entry script (``attrition ui`` runs ``streamlit run`` on this file).

Signed out, the only page is Sign in; signed in (a key entered, or ATTRITION_API_KEY set),
the pages are Predict, Batch, Workforce, Model and Monitoring. This is the one module of the
dashboard that reads the settings: the pages get what they need from
:func:`attrition.dashboard.session.config`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from attrition.dashboard import session
from attrition.dashboard.api.client import ApiError
from attrition.dashboard.views import signin as signin_view
from attrition.settings import Settings, get_settings

# The page scripts live in views/, not pages/: Streamlit runs an entry script that has a
# pages/ folder beside it as an old-style multipage app, before st.navigation is reached.
VIEWS = Path(__file__).resolve().parent / "views"
PAGES = (
    ("predict.py", "Predict", ":material/person_search:"),
    ("batch.py", "Batch", ":material/table_view:"),
    ("workforce.py", "Workforce", ":material/groups:"),
    ("model.py", "Model", ":material/model_training:"),
    ("monitoring.py", "Monitoring", ":material/monitor_heart:"),
)


def dashboard_config(settings: Settings) -> session.DashboardConfig:
    """The part of the settings the pages use (an empty key counts as none)."""
    key = settings.api_key.get_secret_value() if settings.api_key is not None else None
    return session.DashboardConfig(settings.api_url, key or None, settings.max_batch_rows)


def content_pages(*, signed_in: bool = True) -> list[st.Page]:
    """The pages of a signed-in user; the first is the default unless signed out."""
    return [
        st.Page(VIEWS / name, title=title, icon=icon, default=signed_in and index == 0)
        for index, (name, title, icon) in enumerate(PAGES)
    ]


def sidebar(connection: session.Connection) -> None:
    """API status, the served model and sign-out."""
    with st.sidebar:
        st.caption(f"API: {connection.api_url}")
        try:
            status = session.ready()
        except ApiError as error:
            st.caption(f":red[API unreachable] - {error}")
        else:
            if status.ready:
                st.caption(f":green[Model v{status.model_version}] ({status.model_source})")
            else:
                st.caption(":orange[API up, no model loaded yet]")
        if st.button("Sign out", icon=":material/logout:", key="sign-out"):
            session.sign_out()
            st.rerun()
        st.caption(session.DISCLAIMER)


def main() -> None:
    st.set_page_config(
        page_title="Attrition risk",
        page_icon=":material/groups:",
        layout="wide",
        initial_sidebar_state="auto",
    )
    session.use_config(dashboard_config(get_settings()))
    connection = session.current_connection()
    if connection is None:
        # Every page is registered (hidden) so that a deep link survives signing in; whatever
        # page was asked for, the sign-in form is what a signed-out visitor sees.
        signin = st.Page(
            VIEWS / "signin.py", title="Sign in", icon=":material/login:", default=True
        )
        st.navigation([signin, *content_pages(signed_in=False)], position="hidden")
        signin_view.render()
        return
    navigation = st.navigation(content_pages())
    sidebar(connection)
    navigation.run()


if __name__ == "__main__":
    main()
