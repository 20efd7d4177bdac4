"""Batch: upload a CSV of the schema, see problems by line and field, score the valid rows
(with their retention levers) in chunks of the API's limit, then sort, filter and download,
and turn them into the ranked action list for HR's capacity."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from attrition.actions import LEVERS_NOTE
from attrition.capacity import DEFAULT_CAPACITY, Capacity
from attrition.dashboard import session
from attrition.dashboard.api.client import ApiError
from attrition.dashboard.panels.batch import (
    BatchCheck,
    action_list,
    check_upload,
    filter_results,
    payloads,
    results_frame,
    score_in_chunks,
    to_csv_bytes,
)
from attrition.errors import AttritionError
from attrition.schema import REQUIRED_COLUMNS, categories_of

RESULTS = "batch.results"
ERRORS_SHOWN = 500


def show_counts(check: BatchCheck) -> None:
    left, middle, right = st.columns(3)
    left.metric("Rows in file", check.total_rows)
    middle.metric("Valid rows", len(check.valid))
    right.metric("Rows with problems", check.invalid_rows)
    if check.ignored_columns:
        st.caption("Ignored columns: " + ", ".join(check.ignored_columns))


def show_problems(check: BatchCheck) -> None:
    """The problems by line and field (the first ``ERRORS_SHOWN``), and all as a CSV."""
    st.warning(
        f"{check.invalid_rows} row(s) have problems and will not be scored. Fix them in the "
        "file and upload it again.",
        icon=":material/rule:",
    )
    shown = check.errors.head(ERRORS_SHOWN)
    session.show_table(shown, "batch-errors")
    if len(check.errors) > ERRORS_SHOWN:
        st.caption(f"Showing {ERRORS_SHOWN} of {len(check.errors)} problems; download all:")
    st.download_button(
        "Download the problems (CSV)",
        to_csv_bytes(check.errors),
        file_name="batch_problems.csv",
        mime="text/csv",
        key="batch-errors-csv",
    )


def show_check(check: BatchCheck) -> None:
    show_counts(check)
    if len(check.errors):
        show_problems(check)
    else:
        st.success("Every row passed the checks.", icon=":material/check_circle:")


def score(check: BatchCheck) -> None:
    rows = payloads(check.valid)
    progress = st.progress(0.0, text=f"Scoring {len(rows)} rows...")

    def advance(done: int, total: int) -> None:
        progress.progress(done / total, text=f"Scored {done} of {total} rows")

    client = session.client()
    try:
        predictions = score_in_chunks(
            rows,
            lambda chunk: client.predict_batch(chunk, levers=True).predictions,
            session.config().max_batch_rows,
            advance,
        )
    except ApiError as error:
        progress.empty()
        session.show_error(error)
        return
    progress.empty()
    st.session_state[RESULTS] = (check.sha256, results_frame(check.valid, predictions))


def filtered(results: pd.DataFrame) -> pd.DataFrame:
    """The results as the filter widgets ask for them."""
    left, middle, right = st.columns(3)
    with left:
        minimum = st.slider("Minimum risk", 0.0, 1.0, 0.0, 0.05, key="batch-min", format="%.2f")
    with middle:
        chosen = st.multiselect("Departments", categories_of("Department"), key="batch-departments")
    with right:
        at_risk_only = st.toggle("At risk only", key="batch-at-risk")
        lowest_first = st.toggle("Lowest risk first", key="batch-ascending")
    return filter_results(
        results,
        min_probability=minimum,
        at_risk_only=at_risk_only,
        departments=chosen,
        ascending=lowest_first,
    )


def show_results(results: pd.DataFrame) -> None:
    st.subheader("Results")
    shown = filtered(results)
    at_risk = int(results["at_risk"].sum())
    st.caption(f"{len(shown)} of {len(results)} employees shown; {at_risk} at risk in total.")
    risk = st.column_config.ProgressColumn("risk", format="percent", min_value=0.0, max_value=1.0)
    session.show_table(shown, "batch-results", {"attrition_probability": risk})
    st.download_button(
        "Download results (CSV)",
        to_csv_bytes(shown),
        type="primary",
        file_name="attrition_scores.csv",
        mime="text/csv",
        key="batch-results-csv",
    )


def capacity_of(results: pd.DataFrame) -> int:
    """How many employees HR can talk to (default: the project's default capacity)."""
    total = len(results)
    default = max(1, Capacity.parse(DEFAULT_CAPACITY).people(total))
    chosen = st.number_input(
        "Employees HR can talk to (capacity)",
        min_value=1,
        max_value=total,
        value=default,
        step=1,
        key="batch-capacity",
    )
    return int(chosen)


def show_action_list(results: pd.DataFrame) -> None:
    st.subheader("Action list")
    st.caption(
        "The highest predicted risks, ranked by score alone (no protected attribute is used "
        "or shown), with each person's top factors and best lever. " + LEVERS_NOTE
    )
    capacity = capacity_of(results)
    listed = action_list(results, capacity)
    risk = st.column_config.ProgressColumn("risk", format="percent", min_value=0.0, max_value=1.0)
    after = st.column_config.NumberColumn("risk after lever", format="percent")
    columns = {"attrition_probability": risk, "risk_after_lever": after}
    session.show_table(listed, "batch-actions", columns)
    st.download_button(
        f"Download the action list of {len(listed)} (CSV)",
        to_csv_bytes(listed),
        type="primary",
        file_name="attrition_action_list.csv",
        mime="text/csv",
        key="batch-actions-csv",
    )


def uploaded_check() -> BatchCheck | None:
    """The checked upload; None (with what to do) when there is none or it is unreadable."""
    upload = st.file_uploader("CSV file", type=["csv"], key="batch-file")
    if upload is None:
        st.info("No file yet: upload a CSV to check and score it.", icon=":material/upload:")
        return None
    try:
        return check_upload(upload.getvalue(), upload.name)
    except AttritionError as error:
        st.error(str(error), icon=":material/error:")
        return None


def render() -> None:
    st.title("Score a batch")
    st.caption(session.DISCLAIMER)
    st.write(
        f"Upload a CSV with the columns {', '.join(REQUIRED_COLUMNS[:4])}, ... (the "
        "IBM HR schema; Attrition and constant columns are optional)."
    )
    check = uploaded_check()
    if check is None:
        return
    show_check(check)
    if not len(check.valid) or not session.model_ready():
        return
    if st.button(f"Score {len(check.valid)} valid rows", type="primary", key="batch-score"):
        score(check)
    stored = st.session_state.get(RESULTS)
    if stored is not None and stored[0] == check.sha256:
        show_action_list(stored[1])
        show_results(stored[1])


if __name__ == "__main__":
    render()
