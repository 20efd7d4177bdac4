"""The one progress display of a long command (`quickstart`, `train`).

A live rich display with the current step and, while training, one bar: trials done out
of the trials this process runs, the best CV ROC-AUC so far, elapsed time and ETA. It is
transient: when the command ends it disappears and only the lines printed through
:meth:`RunDisplay.line` and the command's result stay. On a console that is not a terminal
(a pipe, a CI log) nothing of the live part is written.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

from attrition.cli.runlog import adopt_library_loggers

if TYPE_CHECKING:  # the training package imports the ML stack
    from attrition.training.progress import TrainingProgress

SPEED_WINDOW_S = 120.0  # trials take seconds each: average the speed over a longer window


class _Trials(ProgressColumn):
    """``12/40 trials, best CV ROC-AUC 0.8123`` on one line."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True))

    def render(self, task: Task) -> Text:
        total = "?" if task.total is None else f"{task.total:.0f}"
        text = Text(f"{task.completed:.0f}/{total} trials")
        best = task.fields.get("best")
        if best is not None:
            text.append(", best CV ROC-AUC ").append(f"{best:.4f}", style="bold green")
        return text


class _Eta(ProgressColumn):
    """Time left: the estimate from the trials' speed, capped by the search's time limit."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        remaining = 0.0 if task.finished else task.time_remaining
        deadline = task.fields.get("deadline")
        if deadline is not None and not task.finished:
            left = max(0.0, deadline - time.monotonic())
            remaining = left if remaining is None else min(remaining, left)
        if remaining is None:
            return Text("-:--:--", style="progress.remaining")
        minutes, seconds = divmod(int(remaining), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"{hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")


def _steps(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis")),
        TimeElapsedColumn(),
        console=console,
    )


def _trials(console: Console) -> Progress:
    return Progress(
        TextColumn("  "),
        BarColumn(bar_width=24),
        _Trials(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        _Eta(),
        TextColumn(
            "[dim]{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis")
        ),
        console=console,
        speed_estimate_period=SPEED_WINDOW_S,
    )


class RunDisplay:
    """The live display of one run; use as a context manager.

    With ``live=False`` (``--verbose``: log lines go to the console, which a live display
    would garble) each step is a line of its own instead.
    """

    def __init__(self, console: Console, steps: int | None = None, live: bool = True) -> None:
        self.is_live = live
        self.progress = _steps(console)
        self.trials = _trials(console)
        self.live = Live(
            Group(self.progress, self.trials),
            console=console,
            transient=True,
            redirect_stdout=False,  # the run log has the streams; the display writes to its own
            redirect_stderr=False,
        )
        self.steps = steps
        self.step_index = 0
        self.step_task: TaskID | None = None
        self.trials_task: TaskID | None = None
        self.trials_done = 0

    def __enter__(self) -> RunDisplay:
        if self.is_live:
            self.live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.is_live:
            self.live.stop()

    def line(self, renderable: RenderableType) -> None:
        """A line that stays (printed above the live part)."""
        self.live.console.print(renderable)

    def step(self, title: str) -> None:
        """A new step starts: the step line shows it (the previous trials bar goes)."""
        self.step_index += 1
        of = f"{self.step_index}/{self.steps} " if self.steps else ""
        description = f"[bold cyan]{of}[/]{title}"
        if not self.is_live:
            self.line(f"[bold cyan]→[/] {description} ...")
        if self.step_task is None:
            self.step_task = self.progress.add_task(description, total=None)
        else:
            self.progress.reset(self.step_task, description=description)
        self._drop_trials()

    def training(self, event: TrainingProgress) -> None:
        """A training progress event: the trials bar follows the search, then the stages."""
        if self.trials_task is None:
            adopt_library_loggers()  # Optuna is loaded now: its lines go to the run log
            limit = event.time_limit_s
            self.trials_task = self.trials.add_task(
                event.title,
                total=event.trials_total or None,
                best=None,
                deadline=None if limit is None else time.monotonic() + limit,
            )
        if event.stage == "search":
            self.trials_done = event.trials_done
            self.trials.update(
                self.trials_task,
                description=event.title,
                completed=event.trials_done,
                best=event.best_cv_roc_auc,
            )
        else:  # the search is over (all trials, or its time limit): no ETA any more
            self.trials.update(self.trials_task, description=event.title, total=self.trials_done)

    def _drop_trials(self) -> None:
        if self.trials_task is not None:
            self.trials.remove_task(self.trials_task)
            self.trials_task = None
