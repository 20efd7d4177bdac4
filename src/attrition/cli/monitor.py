"""`attrition monitor`: drift and performance checks, alerts, retraining."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from attrition.cli._common import (
    JsonOption,
    console,
    emit,
    err_console,
    get_settings,
    migrated_database,
)

DRIFT_EXIT_CODE = 3
MAX_FEATURES_SHOWN = 15


def register(app: typer.Typer) -> None:
    """Attach the monitoring command to the root app."""
    app.command()(monitor)


def monitor(
    current: Path | None = typer.Option(
        None, "--current", help="CSV of current data (default: the prediction log)."
    ),
    snapshot_date: datetime | None = typer.Option(
        None, "--snapshot-date", formats=["%Y-%m-%d"], help="Check a database snapshot."
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Prediction-log window start, ISO date or time (default: since the last report, "
        "or the last --days days when too few predictions arrived since).",
    ),
    days: float | None = typer.Option(
        None, "--days", min=0.001, help="Look-back in days (default: performance.window_days)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="Monitoring config (default: ATTRITION_MONITORING_CONFIG)."
    ),
    retrain: bool = typer.Option(
        False, "--retrain", help="Retrain (and gate) when drift or decay is confirmed."
    ),
    fail_on_drift: bool = typer.Option(
        False, "--fail-on-drift", help="Exit 3 when drift or decay is confirmed."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Check drift and performance against the champion's reference data."""
    from attrition.monitoring.service import run_monitoring

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # keep stderr clean
    settings = get_settings()
    migrated_database(settings)
    result = run_monitoring(
        retrain=retrain,
        settings=settings,
        current=current,
        snapshot_date=snapshot_date.date() if snapshot_date else None,
        since=since,
        days=days,
        config=config,
    )
    emit(result, as_json, lambda: _render(result))
    if result["retrain"]["status"] == "failed":
        err_console.print(f"[yellow]Retraining failed:[/] {escape(result['retrain']['reason'])}")
    if fail_on_drift and result["drift_detected"]:
        raise typer.Exit(DRIFT_EXIT_CODE)


def _yes(value: bool) -> str:
    return "[red]yes[/]" if value else "[green]no[/]"


def _features_table(result: dict[str, Any]) -> Table:
    table = Table(title="Drifted features")
    for column in ("feature", "kind", "effect", "p adjusted", "why"):
        table.add_column(column, justify="left" if column in ("feature", "why") else "right")
    features = result["drifted_details"]
    for feature in features[:MAX_FEATURES_SHOWN]:
        effect = feature.get("effect")
        p_adjusted = feature.get("p_adjusted")
        table.add_row(
            feature["name"],
            feature["kind"],
            "–" if effect is None else f"{effect:.3f}",
            "–" if p_adjusted is None else f"{p_adjusted:.2g}",
            ", ".join(feature.get("reasons", [])),
        )
    if len(features) > MAX_FEATURES_SHOWN:
        table.add_row(f"... and {len(features) - MAX_FEATURES_SHOWN} more", "", "", "", "")
    return table


def _window_line(window: dict[str, Any]) -> str:
    from attrition.monitoring.service import source_line  # imported already by `monitor`

    text = source_line(window)
    if window.get("window_start"):
        text += f" from {window['window_start']} to {window['window_end']} ({window['rule']})"
    return escape(text)


def _performance_line(performance: dict[str, Any] | None) -> str:
    if performance is None:
        return "no outcomes yet"
    overall = performance["overall"]
    auc = overall.get("roc_auc")
    auc_text = "–" if auc is None else f"{auc:.3f}"
    status = performance["status"].replace("_", " ")
    reasons = ", ".join(overall.get("reasons") or [])
    colour = "red" if performance["status"] == "decay" else "green"
    return (
        f"[{colour}]{status}[/]{f' ({reasons})' if reasons else ''}: "
        f"{overall['outcomes']} outcomes, realised ROC-AUC {auc_text} "
        f"(holdout {performance['holdout']['roc_auc']:.3f})"
    )


def _retrain_line(retrain: dict[str, Any]) -> str:
    status = retrain["status"]
    if status == "trained":
        where = "promoted to champion" if retrain["promoted"] else "kept as challenger"
        return f"trained v{retrain['new_version']}, {where} ({escape(retrain['reason'])})"
    return escape(
        f"{status.replace('_', ' ')}{': ' + retrain['reason'] if retrain['reason'] else ''}"
    )


def _render(result: dict[str, Any]) -> None:
    console.print(
        f"Drift report [bold]{result['report_id']}[/] for {escape(result['model_name'])} "
        f"v{result['model_version']} ({result['reference_rows']:,} reference rows)"
    )
    console.print(f"Current data: {_window_line(result['window'])}; scores {result['scores']}")
    drifted = result["drifted_features"]
    console.print(
        f"Dataset drift: {_yes(result['dataset_drift'])} (drift share "
        f"{result['drift_share']:.2f}, {len(drifted)} feature(s) drifted)"
    )
    if drifted:
        console.print(_features_table(result))
    against = result["prediction_reference"].replace("_", "-")
    console.print(
        f"Prediction drift: {_yes(result['prediction_drift'])} (against {against} scores)"
    )
    console.print(f"Performance: {_performance_line(result['performance'])}")
    for finding in result.get("findings", []):  # fairness and data quality
        console.print(f"[red]Finding:[/] {escape(finding['message'])}")
    alert = result["alert"]
    console.print(f"Alert: {alert['status']}")
    console.print(f"Retraining: {_retrain_line(result['retrain'])}")
    console.print(f"Report: {escape(result['report_url'])}")
