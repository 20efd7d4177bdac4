"""`attrition quickstart`: everything on embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from attrition.cli._common import JsonOption, console, emit, err_console, get_settings

if TYPE_CHECKING:  # the quickstart's steps import the ML stack: only when it runs
    from attrition.operations.quickstart import Step


def register(app: typer.Typer) -> None:
    """Attach quickstart to the root app."""
    app.command()(quickstart)


def quickstart(
    data: Path | None = typer.Option(None, "--data", help="Your CSV (default: synthetic)."),
    trials: int | None = typer.Option(
        None, "--trials", min=1, help="Optuna trials (default: ATTRITION_N_TRIALS)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Migrate, load data, train, promote, and say how to open the API and dashboard."""
    from attrition.operations.quickstart import run_quickstart

    progress = err_console if as_json else console  # keep stdout for the JSON line
    result = run_quickstart(
        get_settings(),
        data,
        trials=trials,
        on_step=lambda step, outcome: _progress(progress, step, outcome),
    )
    emit(result, as_json, lambda: _render_next_steps(result))


def _progress(out: Console, step: Step, outcome: dict[str, Any] | None) -> None:
    if outcome is None:
        out.print(f"[bold cyan]→[/] {escape(step.title)} ...")
        return
    seconds = outcome.get("seconds", 0.0)
    summary = escape(str(outcome.get("summary", "done")))
    out.print(f"[bold green]✓[/] [bold]{step.name}[/] ({seconds:.1f} s): {summary}")
    for warning in outcome.get("warnings", []):
        out.print(f"  [yellow]warning:[/] {escape(str(warning))}")


def _render_next_steps(result: dict[str, Any]) -> None:
    api, dashboard = result["api"], result["dashboard"]
    key = next((s for s in result["steps"] if s["step"] == "key"), None)
    lines = [
        f"Database: {escape(result['database_url'])}",
        f"API:       [bold]{api['command']}[/]  then open {api['url']}/docs",
        f"Dashboard: [bold]{dashboard['command']}[/]  then open {dashboard['url']}",
        "Both at once: [bold]attrition up[/]",
    ]
    if key is not None:
        lines.append(f"Admin API key (shown once, keep it safe): [bold]{key['api_key']}[/]")
    console.print(Panel("\n".join(lines), title="Quickstart done", expand=False))
