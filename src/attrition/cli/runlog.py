"""Where a long command's output goes: the console shows one progress display and the
result; library warnings, MLflow and Optuna messages (per-trial lines included) go to the
log file ``<var_dir>/logs/attrition.log``. ``--verbose`` shows them on the console too.

Libraries write to the console in several ways: through ``logging`` (MLflow, Optuna, our
own modules), through ``warnings`` (MLflow's integer-schema hint, sklearn, lightgbm) and
by printing to ``sys.stderr`` (MLflow's "Successfully registered model"). While a quiet
run lasts, all three end in the log file: logging gets a file handler on the root logger,
warnings are captured into logging, and ``sys.stdout``/``sys.stderr`` are replaced by a
stream that writes lines into the log. The command's own display is given the real
streams (:class:`RunStreams`), which it must use instead of ``sys.stdout``.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Final, TextIO

from attrition.errors import AttritionError

LOG_FILE: Final = Path("logs") / "attrition.log"
LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_BYTES: Final = 5_000_000  # then rotated, three old files kept
# Libraries that attach their own console handler; in a run their records go to ours.
LIBRARY_LOGGERS: Final = ("optuna", "mlflow", "alembic", "sqlalchemy.engine", "lightgbm")
QUIET_ENV: Final = {  # read by MLflow when it is imported or logs an artifact
    "MLFLOW_CONFIGURE_LOGGING": "false",  # its records go to the root logger
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
CONSOLE_LOGGER: Final = "attrition.console"  # what libraries printed to stdout/stderr


@dataclass(frozen=True, slots=True)
class RunStreams:
    """The real console streams of a run, and the log file everything else went to."""

    stdout: TextIO
    stderr: TextIO
    log_path: Path


class LogStream(io.TextIOBase):
    """A text stream that sends each written line to a logger (partial lines wait); it has
    no file descriptor, like ``io.StringIO``."""

    encoding = "utf-8"

    def __init__(self, logger: logging.Logger, level: int = logging.INFO) -> None:
        super().__init__()
        self.logger = logger
        self.level = level
        self.pending = ""
        self.busy = False  # a failing log handler reports to stderr: do not loop

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.busy:
            return len(text)
        lines = (self.pending + text).replace("\r", "\n").split("\n")
        self.pending = lines.pop()
        self.busy = True
        try:
            for line in lines:
                if line.strip():
                    self.logger.log(self.level, line.rstrip())
        finally:
            self.busy = False
        return len(text)

    def flush(self) -> None:
        if self.pending.strip():
            self.logger.log(self.level, self.pending.rstrip())
        self.pending = ""

    def isatty(self) -> bool:
        return False


def log_path(var_dir: Path) -> Path:
    """The run log under the data folder."""
    return var_dir / LOG_FILE


class PrivateLogFile(RotatingFileHandler):
    """A rotating log file that every rollover creates private to the owner (0600)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
        return io.TextIOWrapper(
            io.FileIO(fd, "a"), encoding=self.encoding, errors=self.errors, line_buffering=False
        )


def open_log_handler(path: Path) -> logging.Handler:
    """The run log's handler on ``path``, in a folder private to the owner (0700)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = PrivateLogFile(path, maxBytes=LOG_BYTES, backupCount=3, encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise AttritionError(
            f"cannot write the run log {path}: {reason}; set ATTRITION_VAR_DIR to a folder "
            "you can write to"
        ) from None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler


def adopt_library_loggers() -> None:
    """Send the records of libraries with their own console handler to the root logger.

    Optuna adds its handler when it is first imported, so a run calls this again once the
    search has started.
    """
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not _console_handler(h)]
        logger.propagate = True


def _console_handler(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.StreamHandler) and not isinstance(
        handler, logging.FileHandler
    )


@contextmanager
def quiet_run(var_dir: Path, *, verbose: bool = False) -> Iterator[RunStreams]:
    """Everything but the command's own display goes to the log (and, verbose, to stderr)."""
    streams = RunStreams(sys.stdout, sys.stderr, log_path(var_dir))
    with ExitStack() as stack:
        stack.enter_context(_root_logging(streams, verbose))
        stack.enter_context(_captured_warnings())
        stack.enter_context(_environment_defaults(QUIET_ENV))
        adopt_library_loggers()
        if not verbose:
            stack.enter_context(_redirected_std_streams())
        yield streams


@contextmanager
def _root_logging(streams: RunStreams, verbose: bool) -> Iterator[None]:
    root = logging.getLogger()
    saved_level = root.level
    handlers = [open_log_handler(streams.log_path)]
    if verbose:
        console = logging.StreamHandler(streams.stderr)
        console.setFormatter(logging.Formatter(LOG_FORMAT))
        handlers.append(console)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(saved_level)


@contextmanager
def _environment_defaults(defaults: dict[str, str]) -> Iterator[None]:
    """Set the variables the user has not set, for the run only."""
    added = [name for name in defaults if name not in os.environ]
    os.environ.update({name: defaults[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextmanager
def _captured_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # each warning once per place, into the log
        logging.captureWarnings(True)
        try:
            yield
        finally:
            logging.captureWarnings(False)


@contextmanager
def _redirected_std_streams() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    stream = LogStream(logging.getLogger(CONSOLE_LOGGER))
    sys.stdout = sys.stderr = stream  # type: ignore[assignment]
    try:
        yield
    finally:
        stream.flush()
        sys.stdout, sys.stderr = saved
