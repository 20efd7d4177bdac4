"""The process helper: children in their own process group, supervised, stopped with SIGTERM
and then SIGKILL for whatever ignores it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from attrition.operations.processes import (
    alive,
    attrition_command,
    first_exit,
    free_port,
    log_tail,
    serve_command,
    signals_caught,
    start,
    start_all,
    stop,
    supervise,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
]
# Ignores SIGTERM, and so does the grandchild it starts (an ignored signal stays ignored
# across fork and exec); prints the grandchild's pid once both are in place.
STUBBORN_PARENT = [
    sys.executable,
    "-c",
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print(child.pid, flush=True); time.sleep(60)",
]


def _ended(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _wait_for_line(log: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if text.endswith("\n"):
            return text.strip()
        time.sleep(0.05)
    raise AssertionError(f"no line in {log}")


def test_child_commands_are_attrition_commands_of_this_interpreter() -> None:
    assert attrition_command("ui", python="py") == ["py", "-m", "attrition", "ui"]
    command = serve_command("127.0.0.1", 8001, 2, python="py")
    assert command[3:] == ["serve", "--host", "127.0.0.1", "--port", "8001", "--workers", "2"]
    done = subprocess.run(
        attrition_command("cluster", "--help"), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "--replicas" in done.stdout, done.stderr


def test_a_child_starts_in_its_own_process_group(tmp_path: Path) -> None:
    child = start(SLEEPER, os.environ, log=tmp_path / "child.log")
    try:
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
        assert os.getsid(child.pid) == child.pid  # its own session: no terminal's Ctrl-C
    finally:
        stop({"child": child}, timeout=5)
    assert child.returncode == -signal.SIGTERM


def test_a_child_writes_to_its_log(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    log.write_text("earlier\n")
    child = start([sys.executable, "-c", "print('hello')"], os.environ, log=log)
    assert child.wait(30) == 0
    assert log.read_text() == "earlier\nhello\n"
    assert log_tail(log, 1) == "hello" and log_tail(tmp_path / "none.log") == ""


def test_stop_escalates_to_sigkill_for_the_group_of_a_child_ignoring_sigterm(
    tmp_path: Path,
) -> None:
    log = tmp_path / "stubborn.log"
    child = start(STUBBORN_PARENT, os.environ, log=log)
    grandchild = int(_wait_for_line(log))
    began = time.monotonic()
    stop({"stubborn": child}, timeout=0.5)
    assert child.returncode == -signal.SIGKILL
    assert time.monotonic() - began < 10
    deadline = time.monotonic() + 10
    while not _ended(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ended(grandchild), "the whole group is killed, grandchildren included"


def test_stop_is_safe_on_children_that_already_ended() -> None:
    child = start([sys.executable, "-c", "pass"], os.environ)
    child.wait(30)
    stop({"done": child}, timeout=0.1)
    stop({"done": child}, timeout=0.1)
    assert child.returncode == 0


def test_start_all_stops_those_started_when_one_cannot_start() -> None:
    started: list[subprocess.Popen[bytes]] = []
    import attrition.operations.processes as processes

    real_start = processes.start

    def recording_start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        started.append(real_start(command, env))
        return started[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(processes, "start", recording_start)
        with pytest.raises(OSError):
            start_all({"first": SLEEPER, "second": ["/no/such/program"]}, os.environ)
    assert len(started) == 1 and started[0].poll() == -signal.SIGTERM


def test_supervise_returns_the_first_childs_exit_code_and_stops_the_other() -> None:
    sleeper = start(SLEEPER, os.environ)
    dying = start(
        [sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.exit(3)"], os.environ
    )
    seen: list[tuple[str, int]] = []
    began = time.monotonic()
    code = supervise(
        {"api": dying, "dashboard": sleeper},
        stop_timeout=5,
        on_exit=lambda name, rc: seen.append((name, rc)),
    )
    assert code == 3 and seen == [("api", 3)]
    assert sleeper.poll() is not None and time.monotonic() - began < 10


def test_a_child_that_exits_cleanly_unasked_is_a_failure() -> None:
    clean = start([sys.executable, "-c", "pass"], os.environ)
    assert supervise({"api": clean, "dashboard": start(SLEEPER, os.environ)}, stop_timeout=5) == 1


def test_ctrl_c_stops_both_and_exits_cleanly() -> None:
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in the background
    children = {"api": start(SLEEPER, os.environ), "dashboard": start(SLEEPER, os.environ)}
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code = supervise(children, stop_timeout=5)
    finally:
        timer.cancel()
    assert code == 0
    assert all(child.poll() == -signal.SIGTERM for child in children.values())
    assert signal.getsignal(signal.SIGINT) is before, "the caller's handler is restored"


def test_a_child_that_ignores_sigterm_is_killed() -> None:
    stubborn = start(STUBBORN, os.environ)
    time.sleep(0.5)  # let it install its handler
    dying = subprocess.Popen([sys.executable, "-c", "pass"])
    assert supervise({"api": dying, "dashboard": stubborn}, stop_timeout=0.5) == 1
    assert stubborn.poll() == -signal.SIGKILL


def test_signals_are_caught_in_the_main_thread_only() -> None:
    received: list[int] = []
    with signals_caught(received.append, (signal.SIGUSR1,)):
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.1)
    assert received == [signal.SIGUSR1]
    assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL
    outcome: list[bool] = []

    def in_a_thread() -> None:
        with signals_caught(received.append, (signal.SIGUSR1,)):
            outcome.append(signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join(10)
    assert outcome == [True]


def test_first_exit_alive_and_free_port() -> None:
    done = start([sys.executable, "-c", "raise SystemExit(4)"], os.environ)
    done.wait(30)
    running = start(SLEEPER, os.environ)
    try:
        assert first_exit({"running": running}) is None
        assert first_exit({"running": running, "done": done}) == ("done", 4)
        assert alive(running.pid) and alive(os.getpid())
    finally:
        stop({"running": running}, timeout=5)
    assert 1024 <= free_port() <= 65535


# A parent that starts a sleeper with the helper, prints its pid, then waits to be killed.
PARENT_OF_SLEEPER = [
    sys.executable,
    "-c",
    "import os, sys, time\n"
    "from attrition.operations.processes import start\n"
    f"child = start({SLEEPER!r}, os.environ)\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n",
]


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_dies_with_its_parent_even_when_the_parent_is_sigkilled() -> None:
    parent = subprocess.Popen(PARENT_OF_SLEEPER, stdout=subprocess.PIPE)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _running(child)
    parent.kill()
    parent.wait(10)
    deadline = time.monotonic() + 5
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child)
