"""The steps docs/operations.md gives a new user for running replicas without Docker, run as
written: the shell blocks of its "Without Docker" section are read from the file and executed
with bash. Only what is the user's own is supplied by the test: the values the docs leave as
``...`` (database URL, pseudonym key), free ports instead of 8001/8002/8080/8443, and a
certificate where step 2 of the docs puts it.
"""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from attrition.operations.processes import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
SECTION = "### Without Docker: replicas behind Debian's nginx"
KEY = re.compile(r"\batk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\b")
TIMEOUT_S = 150.0


def section_blocks() -> list[str]:
    """The ```bash blocks of the section, in order."""
    text = (REPO / "docs" / "operations.md").read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start)
    return re.findall(r"```bash\n(.*?)```", text[start:end], flags=re.DOTALL)


def without_user_values(block: str) -> str:
    """The block without the `export NAME=...` lines whose values are the user's own."""
    lines = [line for line in block.splitlines() if not re.match(r"export \w+=\S*\.\.\.", line)]
    return "\n".join(lines) + "\n"


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def user_env(
    support: ModuleType, root: Path, database_url: str, champion: dict[str, str]
) -> dict[str, str]:
    """A shell as a new user has it: the project's bin first on PATH, the docs' settings."""
    env = support.cluster_env(root, database_url, champion)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"], "/usr/sbin"])
    return env


def first_steps(blocks: list[str], root: Path, env: dict[str, str]) -> str:
    """Run the settings/migrate/key block; return the printed key."""
    assert "attrition db upgrade" in blocks[0] and "attrition keys create" in blocks[0]
    done = bash(without_user_values(blocks[0]), root, env)
    assert done.returncode == 0, done.stderr
    found = KEY.search(done.stdout)
    assert found, done.stdout
    return found.group(0)


def wait_until(condition: Callable[[], bool], what: str, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if not alive():
            pytest.fail(f"exited while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


def answers(url: str, **options: object) -> bool:
    try:
        status = httpx.get(f"{url}/health/ready", trust_env=False, timeout=2, **options)  # type: ignore[arg-type]
    except httpx.HTTPError:
        return False
    return status.status_code == 200


def test_the_local_cluster_steps(
    support: ModuleType, champion: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    blocks = section_blocks()
    env = user_env(support, tmp_path, postgres_url, champion)
    key = first_steps(blocks, tmp_path, env)
    start_line, *rest = blocks[1].strip().splitlines()
    assert start_line == "attrition up --replicas 2 --api-port 8080", start_line
    port = free_port()
    command = start_line.replace("8080", str(port)) + f" --ui-port {free_port()}"
    log = (tmp_path / "cluster.out").open("wb")
    cluster = subprocess.Popen(
        ["bash", "-c", f"exec {command}"], cwd=tmp_path, env=env, stdout=log, stderr=log,
        start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(url), "the balancer", lambda: cluster.poll() is None)
        curl = "\n".join(line.replace("8080", str(port)) for line in rest)
        done = bash(curl, tmp_path, {**env, "KEY": key})
        assert done.returncode == 0 and '"version"' in done.stdout, done.stderr
        seen = {
            httpx.get(f"{url}/health/live", trust_env=False).headers["x-replica-id"]
            for _ in range(6)
        }
        assert seen == {"replica-1", "replica-2"}
        cluster.send_signal(signal.SIGINT)  # Ctrl-C
        assert cluster.wait(60) == 0
    finally:
        if cluster.poll() is None:
            os.killpg(cluster.pid, signal.SIGKILL)
        log.close()
    runtime = tmp_path / "var" / "scaleout"
    assert (runtime / "replica-2.log").is_file() and (runtime / "access.log").is_file()
    assert not answers(url), "nothing answers once the cluster stopped"


def test_the_steps_by_hand(
    support: ModuleType,
    champion: dict[str, str],
    postgres_url: str,
    tmp_path: Path,
    require_tool: Callable[[str], str],
) -> None:
    """`attrition serve` processes, envsubst and nginx as the docs write them (one replica,
    to keep the test short; the cluster tests run two)."""
    require_tool("curl")
    require_tool("envsubst")
    blocks = section_blocks()
    env = user_env(support, tmp_path, postgres_url, champion)
    key = first_steps(blocks, tmp_path, env)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "nginx").symlink_to(REPO / "deploy" / "nginx")
    cert, _ = support.make_certificate(tmp_path / "deploy" / "certs")
    api, http_port, https_port = free_port(), free_port(), free_port()
    ports_line, *steps = blocks[2].strip().splitlines()
    assert ports_line == 'api_ports="8001 8002" http_port=8080 https_port=8443', ports_line
    script = "\n".join([f'api_ports="{api}" http_port={http_port} https_port={https_port}', *steps])
    log = (tmp_path / "steps.out").open("wb")
    steps_run = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, stdout=log,
        stderr=log, start_new_session=True,
    )  # fmt: skip
    run = tmp_path / "var" / "nginx"
    conf = run / "nginx.conf"
    nginx = [require_tool("nginx"), "-e", str(run / "error.log"), "-p", str(run), "-c", str(conf)]
    try:
        code = _wait_steps(steps_run, tmp_path / "steps.out")
        assert code == 0, (tmp_path / "steps.out").read_text()[-3000:]
        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(
            base_url=f"https://127.0.0.1:{https_port}", verify=context, trust_env=False,
            headers={"Authorization": f"Bearer {key}"},
        ) as client:  # fmt: skip
            model = client.get("/v1/model")
        assert model.status_code == 200, model.text
        # no ATTRITION_REPLICA_ID in these steps: the default, an opaque id per process
        assert re.fullmatch(r"r-[0-9a-f]{12}", model.headers["x-replica-id"])
    finally:
        subprocess.run([*nginx, "-s", "quit"], capture_output=True, timeout=30, check=False)
        with suppress(ProcessLookupError):  # the backgrounded `attrition serve`
            os.killpg(steps_run.pid, signal.SIGTERM)
        log.close()


def _wait_steps(process: subprocess.Popen[bytes], output: Path) -> int:
    """The steps' exit code; fails early when a replica reports it has no model."""
    deadline = time.monotonic() + TIMEOUT_S
    while (code := process.poll()) is None:
        text = output.read_text(errors="replace")
        if "starting without a model" in text:
            pytest.fail(f"`attrition serve` started without a model:\n{text[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"the steps did not finish in {TIMEOUT_S:.0f}s:\n{text[-3000:]}")
        time.sleep(0.3)
    return code
