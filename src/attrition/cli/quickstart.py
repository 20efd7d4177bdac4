"""`attrition quickstart`: everything on embedded defaults.

The console shows one progress display and a line per finished step, then the box with
the next steps and the admin key; library messages go to the run log (``--verbose``
shows them too).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.panel import Panel

from attrition.cli._common import JsonOption, VerboseOption, console, emit, get_settings

if TYPE_CHECKING:  # the quickstart's steps import the ML stack: only when it runs
    from attrition.cli.progress import RunDisplay
    from attrition.operations.quickstart import Step


def register(app: typer.Typer) -> None:
    """Attach quickstart to the root app."""
    app.command()(quickstart)


def quickstart(
    data: Path | None = typer.Option(None, "--data", help="Your CSV (default: synthetic)."),
    trials: int | None = typer.Option(
        None, "--trials", min=1, help="Optuna trials (default: ATTRITION_N_TRIALS)."
    ),
    verbose: bool = VerboseOption,
    as_json: bool = JsonOption,
) -> None:
    """Migrate, load data, train, promote, and say how to open the API and dashboard."""
    from rich.console import Console

    from attrition.cli.progress import RunDisplay
    from attrition.cli.runlog import quiet_run
    from attrition.operations.quickstart import quickstart_steps, run_quickstart

    settings = get_settings()
    with quiet_run(settings.var_dir, verbose=verbose) as streams:
        out = Console(file=streams.stderr if as_json else streams.stdout)  # stdout: the JSON
        with RunDisplay(out, steps=len(quickstart_steps()), live=not verbose) as display:
            result = run_quickstart(
                settings,
                data,
                trials=trials,
                on_step=lambda step, outcome: _progress(display, step, outcome),
                on_progress=display.training,
            )
    result["log_file"] = str(streams.log_path)
    emit(result, as_json, lambda: _render_next_steps(result))


def _progress(display: RunDisplay, step: Step, outcome: dict[str, Any] | None) -> None:
    if outcome is None:
        display.step(escape(step.title))
        return
    seconds = outcome.get("seconds", 0.0)
    summary = escape(str(outcome.get("summary", "done")))
    display.line(f"[bold green]✓[/] [bold]{step.name}[/] ({seconds:.1f} s): {summary}")
    for warning in outcome.get("warnings", []):
        display.line(f"  [yellow]warning:[/] {escape(str(warning))}")


def _render_next_steps(result: dict[str, Any]) -> None:
    api, dashboard = result["api"], result["dashboard"]
    key = next((s for s in result["steps"] if s["step"] == "key"), None)
    lines = [
        f"Database: {escape(result['database_url'])}",
        f"Log:      {escape(result['log_file'])}",
        f"API:       [bold]{api['command']}[/]  then open {api['url']}/docs",
        f"Dashboard: [bold]{dashboard['command']}[/]  then open {dashboard['url']}",
        "Both at once: [bold]attrition up[/]",
    ]
    if key is not None:
        lines.append(f"Admin API key (shown once, keep it safe): [bold]{key['api_key']}[/]")
    console.print(Panel("\n".join(lines), title="Quickstart done", expand=False))
