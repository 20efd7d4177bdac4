"""Model: the champion's metrics, confusion matrix, fairness, importance, versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from attrition.dashboard import session
from attrition.dashboard.api.client import ApiError, NotSupportedError
from attrition.dashboard.api.responses import ModelInfo
from attrition.dashboard.panels.capacity import capacity_caption, capacity_figure, capacity_table
from attrition.dashboard.panels.model import (
    auc_interval,
    confusion_counts,
    confusion_figure,
    curve_figure,
    fairness_caption,
    fairness_table,
    importance_figure,
    metric_table,
    versions_table,
)

CURVES = (("roc", "ROC"), ("pr", "Precision-recall"), ("calibration", "Calibration"))


def show_summary(info: ModelInfo) -> None:
    columns = st.columns(4)
    columns[0].metric("Champion", f"v{info.version}")
    columns[1].metric("Threshold", f"{info.threshold:.2f}")
    auc = info.metrics.get("holdout_roc_auc", info.metrics.get("roc_auc"))
    columns[2].metric("ROC-AUC (holdout)", "n/a" if auc is None else f"{auc:.3f}")
    columns[3].metric("Features", len(info.features))
    interval = auc_interval(info.metrics)
    if interval is not None:
        st.caption(f"ROC-AUC 95% bootstrap interval: {interval[0]:.3f} to {interval[1]:.3f}.")
    st.caption(
        f"{info.name} v{info.version}, run {info.run_id or 'unknown'}, trained "
        f"{info.trained_at or 'unknown'}, served from the {info.source}."
    )
    if info.threshold_reason:
        st.caption(f"Threshold: {info.threshold_reason}")
    if info.aliases:
        names = ", ".join(
            f"{alias} → v{version}" for alias, version in sorted(info.aliases.items())
        )
        st.caption(f"Aliases: {names}.")


def show_metric_table(info: ModelInfo) -> None:
    table = metric_table(info.metrics)
    if table.empty:
        st.info("The API sent no evaluation metrics for this model.")
        return
    three_places = st.column_config.NumberColumn(format="%.3f")
    session.show_table(
        table, "model-metrics", {"holdout": three_places, "out-of-fold": three_places}
    )


def show_confusion(info: ModelInfo) -> None:
    counts = confusion_counts(info.metrics)
    if counts is None:
        st.info("Confusion matrix: not available from this API version.")
    else:
        session.show_chart(confusion_figure(counts, info.threshold), "model-confusion")


def show_metrics(info: ModelInfo) -> None:
    st.subheader("Metrics")
    left, right = st.columns(2)
    with left:
        show_metric_table(info)
    with right:
        show_confusion(info)


def show_curves(curves: dict[str, dict[str, list[float]]]) -> None:
    columns = st.columns(len(CURVES))
    for column, (kind, _label) in zip(columns, CURVES, strict=True):
        if kind in curves:
            with column:
                session.show_chart(curve_figure(curves[kind], kind), f"model-curve-{kind}")


def show_capacity(curve: dict[str, Any]) -> None:
    """The capacity trade-off: how many leavers each share of people flagged catches."""
    st.subheader("Capacity")
    st.caption(
        "If HR can talk to a given share of people, highest risk first: the share of leavers "
        "among them and the precision. Pick a capacity knowingly; train with the capacity "
        "threshold policy (`ATTRITION_THRESHOLD_POLICY=capacity`) to flag exactly that share."
    )
    session.show_chart(capacity_figure(curve), "model-capacity")
    st.caption(capacity_caption(curve))
    percent = st.column_config.NumberColumn(format="percent")
    one_place = st.column_config.NumberColumn(format="%.1f")
    session.show_table(
        capacity_table(curve),
        "model-capacity-table",
        {"leavers caught": percent, "precision": percent, "people flagged": one_place,
         "expected leavers caught": one_place},
    )  # fmt: skip


def show_fairness(report: dict[str, Any]) -> None:
    caption = fairness_caption(report)
    if caption:
        st.caption(caption)
    session.show_table(fairness_table(report), "model-fairness")


def show_extras(info: ModelInfo) -> None:
    """Curves, fairness and importance, each when the API sends it; one note for the rest."""
    missing = []
    if info.curves:
        show_curves(info.curves)
    else:
        missing.append("ROC, precision-recall and calibration curves")
    if info.capacity:
        show_capacity(info.capacity)
    else:
        missing.append("the capacity trade-off")
    st.subheader("Fairness")
    if info.fairness:
        show_fairness(info.fairness)
    else:
        missing.append("the fairness table (four-fifths rule per group)")
    if info.importance:
        session.show_chart(importance_figure(info.importance), "model-importance")
    else:
        missing.append("global feature importance")
    if missing:
        st.info(
            "Not available from this API version: " + "; ".join(missing) + ". They are "
            "in the model's MLflow run.",
            icon=":material/info:",
        )


def show_versions(info: ModelInfo) -> None:
    st.subheader("Versions")
    try:
        listing = session.versions()
    except NotSupportedError:
        st.info(
            "Version history with aliases: not available from this API version. "
            "Promote or roll back with `attrition promote VERSION` / `attrition rollback`.",
            icon=":material/info:",
        )
        return
    except ApiError as error:
        session.show_error(error)
        return
    session.show_table(versions_table(listing.versions), "model-versions")
    if session.is_admin():
        admin_actions([v.version for v in listing.versions if v.version != info.version])


def admin_actions(candidates: list[str]) -> None:
    with st.expander("Administrator actions (admin key; audited by the API)"):
        version = st.selectbox("Version to promote", candidates, key="model-promote-version")
        left, right = st.columns(2)
        if left.button("Promote to champion", disabled=version is None, key="model-promote"):
            run_action(lambda: session.client().promote(str(version)))
        if right.button("Roll back to previous champion", key="model-rollback"):
            run_action(lambda: session.client().rollback())


def run_action(action: Callable[[], dict[str, Any]]) -> None:
    try:
        result = action()
    except ApiError as error:
        session.show_error(error)
        return
    session.refresh()
    if isinstance(result, dict) and "version" in result:
        st.success(
            f"Champion is now v{result['version']} (was v{result.get('previous')}); "
            f"the API serves v{result.get('serving_version')}."
        )
    else:
        st.success(f"Done: {result}")


def reload_action() -> None:
    with st.expander("Reload the champion in the API (admin key)"):
        st.caption("The API also picks up a moved champion alias by itself.")
        if st.button("Reload champion", key="model-reload"):
            try:
                result = session.client().reload_model()
            except ApiError as error:
                session.show_error(error)
                return
            session.refresh()
            st.success(f"Serving v{result.version} (was v{result.previous_version}).")


def render() -> None:
    st.title("Model")
    try:
        info = session.model()
    except ApiError as error:
        session.show_error(error)
        return
    show_summary(info)
    show_metrics(info)
    show_extras(info)
    show_versions(info)
    if session.is_admin():
        reload_action()


if __name__ == "__main__":
    render()
