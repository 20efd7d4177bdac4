"""The run log: while a long command runs, what libraries say goes to the log file, not to
the console; `--verbose` shows it on the console too; the command's own display does not
go to the log."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import sys
import time
import warnings
from pathlib import Path

import pytest
from rich.console import Console

from attrition.cli.progress import RunDisplay
from attrition.cli.runlog import (
    LogStream,
    PrivateLogFile,
    log_path,
    open_log_handler,
    quiet_run,
)
from attrition.errors import AttritionError
from attrition.training.progress import TrainingProgress


def _library_noise() -> None:
    warnings.warn("Hint: Inferred schema contains integer column(s)", UserWarning, stacklevel=1)
    logging.getLogger("mlflow.sklearn").warning("Saving scikit-learn models in the pickle ...")
    logging.getLogger("optuna.study.study").info("Trial 0 finished with value: 0.8")
    print("Successfully registered model 'attrition-classifier'.", file=sys.stderr)
    print("a stray print to stdout")


def test_a_quiet_run_sends_library_output_to_the_log_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with quiet_run(tmp_path) as streams:
        _library_noise()
        Console(file=streams.stdout).print("the command's own line")
    console = capsys.readouterr()
    assert console.out == "the command's own line\n"
    assert console.err == ""
    log = log_path(tmp_path).read_text()
    for said in ("integer column", "pickle", "Trial 0 finished", "Successfully registered"):
        assert said in log
    assert "a stray print to stdout" in log
    assert "the command's own line" not in log
    assert stat.S_IMODE(log_path(tmp_path).stat().st_mode) == 0o600


def test_verbose_shows_library_output_on_the_console_and_still_logs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with quiet_run(tmp_path, verbose=True):
        _library_noise()
    console = capsys.readouterr()
    assert "integer column" in console.err
    assert "Trial 0 finished" in console.err
    assert "Trial 0 finished" in log_path(tmp_path).read_text()


def test_the_run_restores_streams_logging_and_environment(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = (sys.stdout, sys.stderr, list(root.handlers), root.level)
    assert "MLFLOW_CONFIGURE_LOGGING" not in os.environ
    with pytest.raises(RuntimeError), quiet_run(tmp_path):
        assert os.environ["MLFLOW_CONFIGURE_LOGGING"] == "false"
        raise RuntimeError("boom")
    assert (sys.stdout, sys.stderr, list(root.handlers), root.level) == before
    assert "MLFLOW_CONFIGURE_LOGGING" not in os.environ


def test_log_stream_writes_whole_lines() -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("attrition.test.logstream")
    logger.addHandler(Keep())
    logger.propagate = False
    logger.setLevel(logging.INFO)
    stream = LogStream(logger)
    stream.write("half a ")
    stream.write("line\nprogress 1%\rprogress 2%\n\n")
    stream.write("tail")
    assert records == ["half a line", "progress 1%", "progress 2%"]
    stream.flush()
    assert records[-1] == "tail"


def _snapshot(display: RunDisplay) -> str:
    out = Console(file=io.StringIO(), width=140, force_terminal=False)
    out.print(display.live.renderable)
    return out.file.getvalue()  # type: ignore[attr-defined]


def test_the_display_shows_trials_best_auc_elapsed_and_eta() -> None:
    console = Console(file=io.StringIO(), width=140, force_terminal=True)
    with RunDisplay(console, steps=6) as display:
        display.step("Training")
        display.training(TrainingProgress("search", 0, 40))
        display.training(TrainingProgress("search", 3, 40, 0.81234))
        shown = _snapshot(display)
        assert "4/6" not in shown and "1/6 Training" in shown
        assert "3/40 trials, best CV ROC-AUC 0.8123" in shown
        assert "elapsed" in shown and "ETA" in shown
        display.training(TrainingProgress("fit"))
        assert "3/3 trials" in _snapshot(display)  # the search is over (or timed out)
        display.line("✓ train done")
        display.step("Checking the champion alias")
        shown = _snapshot(display)
        assert "2/6 Checking the champion alias" in shown and "trials" not in shown


def test_the_display_leaves_only_its_lines_on_a_console_that_is_not_a_terminal() -> None:
    console = Console(file=io.StringIO(), width=100)
    with RunDisplay(console, steps=2) as display:
        display.step("Migrating")
        display.training(TrainingProgress("search", 1, 4, 0.8))
        display.line("✓ migrate")
    assert console.file.getvalue().strip() == "✓ migrate"  # type: ignore[attr-defined]


def test_without_the_live_part_each_step_is_a_line() -> None:
    """`--verbose`: log lines share the console, so the steps are plain lines."""
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    with RunDisplay(console, steps=2, live=False) as display:
        display.step("Migrating")
        display.training(TrainingProgress("search", 1, 4, 0.8))
        display.line("✓ migrate")
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines == ["→ 1/2 Migrating ...", "✓ migrate"]


def test_the_log_stays_private_after_it_rotates(tmp_path: Path) -> None:
    path = tmp_path / "attrition.log"
    handler = PrivateLogFile(path, maxBytes=200, backupCount=2, encoding="utf-8")
    logger = logging.getLogger("attrition.test.rotation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for n in range(20):
            logger.warning("line %d of a log that rotates", n)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == ["attrition.log", "attrition.log.1", "attrition.log.2"]
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}


def test_a_run_log_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "var"
    blocked.write_text("a file where the data folder should be")
    with pytest.raises(AttritionError, match=r"cannot write the run log .*ATTRITION_VAR_DIR"):
        open_log_handler(log_path(blocked))


def test_the_eta_never_passes_the_search_time_limit() -> None:
    console = Console(file=io.StringIO(), width=160, force_terminal=True)
    with RunDisplay(console) as display:
        display.step("Training")
        display.training(TrainingProgress("search", 0, 40, None, time_limit_s=5))
        time.sleep(0.3)
        display.training(TrainingProgress("search", 1, 40, 0.8, time_limit_s=5))
        eta = re.search(r"ETA (\d+):(\d\d):(\d\d)", _snapshot(display))
        assert eta is not None
        # by speed alone: 39 trials x 0.3 s; the search stops at 5 s
        assert int(eta.group(1)) * 3600 + int(eta.group(2)) * 60 + int(eta.group(3)) <= 5
