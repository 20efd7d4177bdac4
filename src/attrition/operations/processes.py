"""Child processes: started in their own process group, supervised, stopped.

Every child gets its own session, so its own process group: a terminal's Ctrl-C reaches only
the supervising process, which then stops the children itself, in the order it chooses.
Stopping sends a signal (SIGTERM unless told otherwise), waits up to a timeout, and SIGKILLs
the child's whole group after it, so the workers a child forked (uvicorn's) go with it.
Children are other ``attrition`` commands (:func:`attrition_command`), nginx and Streamlit.

A child also dies with its parent, even when the parent is killed with SIGKILL and stops
nothing itself: on Linux each child asks the kernel for SIGTERM when its parent exits
(``PR_SET_PDEATHSIG``), so ``attrition up``'s API and dashboard stop (and stop their own
children, which are armed the same way) and their ports are free again. The kernel sends it
when the *thread* that started the child ends: children are started by the thread that
supervises them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_S = 15.0
KILL_WAIT_S = 10.0
POLL_S = 0.2
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
Process = subprocess.Popen[bytes]
ExitListener = Callable[[str, int], None]


def attrition_command(*args: str, python: str = sys.executable) -> list[str]:
    """An ``attrition`` command in a child interpreter of this environment (``python -m
    attrition``), whether or not the console script is on PATH."""
    return [python, "-m", "attrition", *args]


def serve_command(host: str, port: int, workers: int, python: str = sys.executable) -> list[str]:
    """``attrition serve``: the API (or one replica of it) in a child interpreter."""
    options = ["--host", host, "--port", str(port), "--workers", str(workers)]
    return attrition_command("serve", *options, python=python)


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel send ``signum`` to the child when this process
    (the thread calling this) exits; None where the kernel has no such request (not Linux).

    If the parent is already gone when the child arms it, the child signals itself."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signum)

    return arm


def start(command: Sequence[str], env: Mapping[str, str], *, log: Path | None = None) -> Process:
    """A child in its own session, stopped when we die; its output goes to ``log``
    (appended) or to ours."""
    if log is None:
        return subprocess.Popen(
            list(command), env=dict(env), start_new_session=True, preexec_fn=die_with_parent()
        )
    with log.open("ab") as handle:
        return subprocess.Popen(
            list(command),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )


def start_all(commands: Mapping[str, Sequence[str]], env: Mapping[str, str]) -> dict[str, Process]:
    """Start every named command; if one cannot start, stop those already started."""
    started: dict[str, Process] = {}
    try:
        for name, command in commands.items():
            started[name] = start(command, env)
    except OSError:
        stop(started)
        raise
    return started


def stop(
    children: Mapping[str, Process], signum: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S
) -> None:
    """Send ``signum`` to every running child, wait up to ``timeout`` for all of them, then
    kill the process group of any child still running. Safe to call more than once."""
    for process in children.values():
        if process.poll() is None:
            process.send_signal(signum)
    deadline = time.monotonic() + timeout
    for name, process in children.items():
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning(
                "%s (pid %d) did not stop in %.0f s; killing it", name, process.pid, timeout
            )
            kill(process)


def kill(process: Process) -> None:
    """SIGKILL the child and, when it leads its own group, everything in that group."""
    with suppress(ProcessLookupError):
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    process.wait(KILL_WAIT_S)


def first_exit(children: Mapping[str, Process]) -> tuple[str, int] | None:
    """The first child (in the mapping's order) that is no longer running, with its code."""
    for name, process in children.items():
        code = process.poll()
        if code is not None:
            return name, code
    return None


@contextmanager
def signals_caught(
    handler: Callable[[int], None], signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM)
) -> Iterator[None]:
    """Call ``handler(signum)`` for these signals inside the block; the caller's handlers are
    restored after it. Python sets handlers in the main thread only: elsewhere (a supervisor
    run by a test's thread) nothing is caught."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, lambda got, _: handler(got)) for signum in signals}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def supervise(
    children: Mapping[str, Process],
    *,
    stop_timeout: float = STOP_TIMEOUT_S,
    on_exit: ExitListener = lambda name, code: None,
) -> int:
    """Wait until SIGINT/SIGTERM arrives or a child exits; then stop the others.

    Returns 0 after a signal, else the exit code of the child that exited first (1 if that
    code was 0: it was not asked to stop), after ``on_exit(name, code)``.
    """
    received: list[int] = []
    with signals_caught(received.append):
        exited = first_exit(children)
        while not received and exited is None:
            time.sleep(POLL_S)
            exited = first_exit(children)
        stop(children, timeout=stop_timeout)
    if received or exited is None:
        return 0
    on_exit(*exited)
    return exited[1] or 1


def alive(pid: int) -> bool:
    """Whether a process with this id exists (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a child's log, for an error message ("" when there is none)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    """A TCP port free on loopback a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])
