"""How far a training run is, told to whoever shows it (the command line's progress display).

Training reports a :class:`TrainingProgress` after each trial of the search and when it
moves on to fitting and to recording. The listener is given in ``TrainingOptions``; the
library never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    import optuna

Stage = Literal["search", "fit", "record"]
STAGE_TITLES: Final[dict[str, str]] = {
    "search": "searching",
    "fit": "fitting and evaluating the best model",
    "record": "logging to MLflow, registering, gating",
}


@dataclass(frozen=True, slots=True)
class TrainingProgress:
    """One step of a training run: its stage and, in the search, the trials this process
    finished out of those it runs and the best CV ROC-AUC of the study so far."""

    stage: Stage
    trials_done: int = 0
    trials_total: int = 0
    best_cv_roc_auc: float | None = None
    time_limit_s: float | None = None  # the search stops at this limit even with trials left

    @property
    def title(self) -> str:
        return STAGE_TITLES[self.stage]


ProgressListener = Callable[[TrainingProgress], None]


def tell(listener: ProgressListener | None, stage: Stage) -> None:
    """Report that the run moved on to ``stage`` (nothing when nobody listens)."""
    if listener is not None:
        listener(TrainingProgress(stage))


class SearchProgress:
    """Optuna callback: reports every trial this process finishes (complete, pruned, failed)."""

    def __init__(
        self, listener: ProgressListener, total: int, time_limit_s: float | None = None
    ) -> None:
        self.listener = listener
        self.total = total
        self.time_limit_s = time_limit_s
        self.done = 0

    def start(self) -> None:
        self.listener(TrainingProgress("search", 0, self.total, None, self.time_limit_s))

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.done += 1
        best = best_value(study)
        self.listener(TrainingProgress("search", self.done, self.total, best, self.time_limit_s))


def best_value(study: optuna.Study) -> float | None:
    """The study's best value so far (None until a trial completes)."""
    try:
        return float(study.best_value)
    except ValueError:  # no completed trial yet
        return None
