"""Monitoring: drift reports, per-feature drift (drifted first), distributions, prediction
drift, realised performance, fairness in production and data quality (now and per check),
alert history and the full HTML report."""

from __future__ import annotations

import streamlit as st

from attrition.dashboard import session
from attrition.dashboard.api.client import ApiError
from attrition.dashboard.api.responses import ReportDetail, ReportSummary
from attrition.dashboard.panels.monitoring import (
    alert_history,
    distribution_figure,
    feature_drift_table,
    find_feature,
    performance_figure,
    performance_rows,
    prediction_drift,
    reports_table,
    window_caption,
    window_rows,
)
from attrition.dashboard.panels.monitoring_findings import (
    FAIRNESS_METRICS,
    fairness_figure,
    fairness_history,
    fairness_table,
    findings_table,
    quality_figure,
    quality_history,
    top_fields_table,
    unseen_table,
)

HISTORY = 20


def run_check() -> None:
    with st.expander("Run a drift check now (admin key)"):
        if st.button("Run check", key="mon-run"):
            try:
                with st.spinner("Running the drift and performance check..."):
                    summary = session.client().run_monitoring()
            except ApiError as error:
                session.show_error(error)
                return
            session.refresh()
            st.success(f"Report {summary.id} created.")


def show_verdicts(detail: ReportDetail) -> None:
    columns = st.columns(4)
    columns[0].metric("Dataset drift", "yes" if detail.dataset_drift else "no")
    columns[1].metric("Drifted share", f"{detail.drift_share:.0%}")
    columns[2].metric("Prediction drift", "yes" if detail.prediction_drift else "no")
    columns[3].metric("Performance decay", "yes" if detail.performance_decay else "no")
    checked = window_caption(detail.summary, detail.current_rows, detail.source)
    st.caption(
        f"Model v{detail.model_version}; {detail.reference_rows:,} reference rows vs {checked}."
    )


def show_feature_drift(detail: ReportDetail) -> None:
    st.subheader("Drift by feature")
    table = feature_drift_table(detail.summary)
    if table.empty:
        st.info("This report has no per-feature results.")
        return
    formats = {
        "p_adjusted": st.column_config.NumberColumn(format="%.2g"),
        "effect": st.column_config.NumberColumn(format="%.3f"),
    }
    session.show_table(table, "mon-features", formats)
    name = st.selectbox("Distribution of", list(table["feature"]), key="mon-feature")
    feature = find_feature(detail.summary, str(name))
    if feature is not None:
        session.show_chart(distribution_figure(feature), "mon-distribution")


def show_windows(detail: ReportDetail) -> None:
    windows = window_rows(detail.summary)
    if len(windows):
        st.subheader("Realised performance in this check")
        session.show_chart(
            performance_figure(windows, "Realised performance by window"), "mon-windows"
        )


def show_prediction_drift(detail: ReportDetail) -> None:
    scores = prediction_drift(detail.summary)
    st.subheader("Prediction drift")
    if scores is None:
        st.info("This report has no prediction-score comparison.")
    else:
        session.show_chart(distribution_figure(scores), "mon-prediction")


def show_fairness(detail: ReportDetail) -> None:
    st.subheader("Fairness in production")
    table = fairness_table(detail.summary)
    if table.empty:
        st.info("No realised outcomes in this check: fairness needs recorded outcomes.")
        return
    formats = {
        name: st.column_config.NumberColumn(format="%.2f")
        for name in ("recall", "training_recall", "selection_rate", "training_selection_rate")
    }
    session.show_table(table, "mon-fairness", formats)


def show_quality(detail: ReportDetail) -> None:
    st.subheader("Data quality")
    fields = top_fields_table(detail.summary)
    if fields.empty:
        st.info("No refused or quarantined inputs in this check's period.")
    else:
        session.show_table(fields, "mon-quality-fields")
    unseen = unseen_table(detail.summary)
    if not unseen.empty:
        st.caption("Categories never seen in training")
        session.show_table(unseen, "mon-unseen")


def show_findings(detail: ReportDetail) -> None:
    findings = findings_table(detail.summary)
    if not findings.empty:
        st.warning("\n".join(f"- {m}" for m in findings["finding"]), icon=":material/warning:")


def show_report(detail: ReportDetail) -> None:
    show_verdicts(detail)
    show_findings(detail)
    show_feature_drift(detail)
    show_windows(detail)
    show_prediction_drift(detail)
    show_fairness(detail)
    show_quality(detail)


def show_html(report_id: int) -> None:
    try:
        html = session.report_html(report_id)
    except ApiError as error:
        session.show_error(error)
        return
    st.download_button(
        "Download the full HTML report",
        html.encode("utf-8"),
        file_name=f"drift_report_{report_id}.html",
        mime="text/html",
        key="mon-html",
    )
    st.caption(f"Also at {session.client().report_html_url(report_id)} (send the API key).")


def show_history(items: list[ReportSummary]) -> None:
    st.subheader("Realised performance over time")
    details = []
    for item in items[:HISTORY]:
        try:
            details.append(session.report(item.id))
        except ApiError as error:
            session.show_error(error)
            return
    performance = performance_rows(details)
    if len(performance) == 0:
        st.info(
            "No realised performance yet: record outcomes with POST /v1/outcomes and the "
            "next check measures the model against them."
        )
    else:
        session.show_chart(
            performance_figure(performance, "Realised performance per check"), "mon-performance"
        )
    show_findings_history(details)
    st.subheader("Alert history")
    alerts = alert_history(items)
    if alerts.empty:
        st.info("No alerts raised.")
    else:
        session.show_table(alerts, "mon-alerts")


def show_findings_history(details: list[ReportDetail]) -> None:
    st.subheader("Fairness per group over time")
    fairness = fairness_history(details)
    if fairness.empty:
        st.info("No fairness figures yet: they come with recorded outcomes.")
    else:
        columns = st.columns(2)
        attributes = sorted(fairness["attribute"].unique())
        attribute = columns[0].selectbox("Attribute", attributes, key="mon-fair-attribute")
        metric = columns[1].selectbox("Measure", FAIRNESS_METRICS, key="mon-fair-metric")
        figure = fairness_figure(fairness, str(attribute), str(metric))
        session.show_chart(figure, "mon-fairness-history")
    quality = quality_history(details)
    if not quality.empty:
        session.show_chart(quality_figure(quality), "mon-quality-history")


def show_reports(items: list[ReportSummary]) -> None:
    session.show_table(reports_table(items), "mon-reports")
    chosen = st.selectbox(
        "Report", [r.id for r in items], key="mon-report", format_func=lambda i: f"#{i}"
    )
    try:
        detail = session.report(int(chosen))
    except ApiError as error:
        session.show_error(error)
        return
    show_report(detail)
    show_html(detail.id)
    show_history(items)


def render() -> None:
    st.title("Monitoring")
    try:
        page = session.reports()
    except ApiError as error:
        session.show_error(error)
        return
    run_check()
    if not page.items:
        st.info(
            "No drift reports yet. Run `attrition monitor` (or an administrator can run a "
            "check above) once predictions have been logged.",
            icon=":material/info:",
        )
        return
    show_reports(page.items)


if __name__ == "__main__":
    render()
