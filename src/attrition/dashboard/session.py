"""Streamlit glue: the configuration, who is signed in, the API client, cached API reads,
error states.

The entry point (``app.py``) reads the settings and hands this module the part the pages
need (:class:`DashboardConfig`, kept per session); nothing here reads settings itself.
Slow-changing reads (model, reports, workforce summary) go through ``st.cache_data`` with a
short TTL, keyed by the API URL and key so that two users never share results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from attrition.dashboard.api.client import (
    ApiClient,
    ApiError,
    ApiUnavailableError,
    AuthenticationError,
    NoModelError,
    NotSupportedError,
    PermissionDeniedError,
    RateLimitedError,
)
from attrition.dashboard.api.responses import (
    Me,
    ModelInfo,
    ModelVersions,
    Ready,
    ReportDetail,
    ReportPage,
    WorkforceSummary,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

CONFIG = "config"
CONNECTION = "connection"
SIGNED_OUT = "signed_out"
CHART_CONFIG = {"displayModeBar": False, "responsive": True}
DISCLAIMER = (
    "Decision support only: a risk score is a prompt for a conversation, never a decision "
    "about a person on its own."
)


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    """What the pages take from the settings: the API to sign in to (and the key that signs
    in without the form, when one is configured) and the Batch page's first chunk size."""

    api_url: str
    api_key: str | None
    max_batch_rows: int


@dataclass(frozen=True, slots=True)
class Connection:
    """Where the API is and the key to use."""

    api_url: str
    api_key: str


def configured_connection(config: DashboardConfig) -> Connection | None:
    """A connection from the configured API URL and key, if a key is configured."""
    if not config.api_key:
        return None
    return Connection(config.api_url, config.api_key)


def use_config(config: DashboardConfig) -> None:
    """Keep the entry point's configuration for the pages of this run."""
    st.session_state[CONFIG] = config


def config() -> DashboardConfig:
    """The configuration the entry point gave (it does so before any page runs)."""
    found = st.session_state.get(CONFIG)
    if not isinstance(found, DashboardConfig):
        raise RuntimeError("the dashboard's entry point (app.py) sets the configuration first")
    return found


def current_connection() -> Connection | None:
    """The signed-in connection: from this session, else from the configured key."""
    found = st.session_state.get(CONNECTION)
    if isinstance(found, Connection):
        return found
    if st.session_state.get(SIGNED_OUT):
        return None  # signed out on purpose: do not fall back to the configured key
    configured = configured_connection(config())
    if configured is not None:
        st.session_state[CONNECTION] = configured
    return configured


def sign_in(connection: Connection) -> None:
    st.session_state[CONNECTION] = connection
    st.session_state[SIGNED_OUT] = False


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[CONNECTION] = None
    st.session_state[SIGNED_OUT] = True
    st.cache_data.clear()


@st.cache_resource(show_spinner=False)
def _client(api_url: str, api_key: str) -> ApiClient:
    return ApiClient(api_url, api_key)


def _args() -> tuple[str, str]:
    """The signed-in API URL and key: the key of every cached read and of the client."""
    connection = current_connection()
    if connection is None:
        raise AuthenticationError("Not signed in. Open the Sign in page and enter an API key.")
    return connection.api_url, connection.api_key


def client() -> ApiClient:
    """The API client of the signed-in user (the app only shows pages once signed in)."""
    return _client(*_args())


@st.cache_data(ttl=10, show_spinner=False)
def _ready(api_url: str, api_key: str) -> Ready:
    return _client(api_url, api_key).ready()


@st.cache_data(ttl=60, show_spinner="Loading the model...")
def _model(api_url: str, api_key: str) -> ModelInfo:
    return _client(api_url, api_key).model()


@st.cache_data(ttl=300, show_spinner=False)
def _versions(api_url: str, api_key: str) -> ModelVersions:
    return _client(api_url, api_key).model_versions()


@st.cache_data(ttl=30, show_spinner="Loading the workforce summary...")
def _workforce(
    api_url: str, api_key: str, days: int, department: str | None, job_role: str | None
) -> WorkforceSummary:
    return _client(api_url, api_key).workforce(days, department=department, job_role=job_role)


@st.cache_data(ttl=300, show_spinner=False)
def _me(api_url: str, api_key: str) -> Me:
    return _client(api_url, api_key).me()


@st.cache_data(ttl=30, show_spinner="Loading drift reports...")
def _reports(api_url: str, api_key: str, limit: int) -> ReportPage:
    return _client(api_url, api_key).reports(limit=limit)


@st.cache_data(ttl=300, show_spinner="Loading the report...")
def _report(api_url: str, api_key: str, report_id: int) -> ReportDetail:
    return _client(api_url, api_key).report(report_id)


@st.cache_data(ttl=300, show_spinner=False)
def _report_html(api_url: str, api_key: str, report_id: int) -> str:
    return _client(api_url, api_key).report_html(report_id)


def ready() -> Ready:
    return _ready(*_args())


def model() -> ModelInfo:
    return _model(*_args())


def versions() -> ModelVersions:
    return _versions(*_args())


def workforce(
    days: int, *, department: str | None = None, job_role: str | None = None
) -> WorkforceSummary:
    return _workforce(*_args(), days, department, job_role)


def me() -> Me | None:
    """The signed-in key's role; None if the API cannot say (older API or unreachable)."""
    try:
        return _me(*_args())
    except ApiError:
        return None


def is_admin() -> bool:
    """Whether to show admin actions (the API enforces the role either way)."""
    found = me()
    return found is not None and found.is_admin


def reports(limit: int = 50) -> ReportPage:
    return _reports(*_args(), limit)


def report(report_id: int) -> ReportDetail:
    return _report(*_args(), report_id)


def report_html(report_id: int) -> str:
    return _report_html(*_args(), report_id)


NO_MODEL = (
    "No model yet: the API runs but has no champion to score with. Train one with "
    "`attrition train` (or `attrition quickstart`); the API loads it by itself."
)


def model_ready() -> bool:
    """True if the API can score; otherwise shows why not (unreachable, no model)."""
    try:
        status = ready()
    except ApiError as error:
        show_error(error)
        return False
    if not status.ready:
        st.info(NO_MODEL, icon=":material/model_training:")
    return status.ready


def refresh() -> None:
    """Forget cached API reads (after an action that changes them)."""
    st.cache_data.clear()


def show_chart(figure: go.Figure, key: str) -> None:
    """A plotly figure at full width, without the mode bar (the same on every page)."""
    st.plotly_chart(figure, width="stretch", config=CHART_CONFIG, key=key)


def show_table(frame: pd.DataFrame, key: str, columns: dict[str, Any] | None = None) -> None:
    """A table at full width without its index; ``columns`` configures some of them."""
    st.dataframe(frame, hide_index=True, width="stretch", key=key, column_config=columns)


def show_error(error: ApiError) -> None:
    """One clear message per failure, with what to do about it."""
    if isinstance(error, ApiUnavailableError):
        st.error(f"API unreachable. {error}", icon=":material/cloud_off:")
    elif isinstance(error, AuthenticationError):
        st.error(
            f"Wrong or revoked key. {error} Use **Sign out** in the sidebar to enter another key.",
            icon=":material/key_off:",
        )
    elif isinstance(error, PermissionDeniedError):
        st.warning(
            f"{error} Ask an administrator for a key with the needed role.", icon=":material/lock:"
        )
    elif isinstance(error, NoModelError):
        st.info(f"No model yet. {error}", icon=":material/model_training:")
    elif isinstance(error, NotSupportedError):
        st.info(str(error), icon=":material/info:")
    elif isinstance(error, RateLimitedError):
        st.warning(str(error), icon=":material/hourglass_top:")
    else:
        st.error(str(error), icon=":material/error:")
