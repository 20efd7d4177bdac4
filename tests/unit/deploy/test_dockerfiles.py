"""The service images: hadolint, multi-stage builds from the lock, non-root, health checks."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY = REPO_ROOT / "deploy"
SERVICES = ("api", "dashboard", "monitor", "mlflow")
RUNTIME_BASE = re.compile(r"^python:3\.11\.\d+-slim-bookworm$")
PINNED_IMAGE = re.compile(r"^[\w.-]+(/[\w.-]+)*:\d+(\.\d+)+[\w.-]*$")

Instruction = tuple[str, str]


def parse(path: Path) -> list[Instruction]:
    """(KEYWORD, arguments) per instruction; continuations joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions split at each FROM (the FROM starts its stage)."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction[0] == "FROM":
            result.append([])
        result[-1].append(instruction)
    return result


def dockerfile(service: str) -> Path:
    return DEPLOY / service / "Dockerfile"


def test_one_dockerfile_per_service() -> None:
    found = {path.parent.name for path in DEPLOY.glob("*/Dockerfile")}
    assert found == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_hadolint_passes(service: str, require_tool: Callable[[str], str]) -> None:
    hadolint = require_tool("hadolint")
    result = subprocess.run(
        [
            hadolint,
            "--no-color",
            "--config",
            str(DEPLOY / "hadolint.yaml"),
            str(dockerfile(service)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"hadolint on {service}:\n{result.stdout}{result.stderr}"


def test_hadolint_rejects_an_unpinned_root_image(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    """The linter and its settings are live: a latest tag and an untrusted registry fail."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM quay.io/example/python:latest\nRUN pip install requests\n")
    result = subprocess.run(
        [
            require_tool("hadolint"),
            "--no-color",
            "--config",
            str(DEPLOY / "hadolint.yaml"),
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    for rule in ("DL3007", "DL3026", "DL3013"):
        assert rule in result.stdout


@pytest.mark.parametrize("service", SERVICES)
def test_every_base_image_is_pinned_to_an_exact_version(service: str) -> None:
    for keyword, arguments in parse(dockerfile(service)):
        if keyword == "FROM":
            image = arguments.split()[0]
            assert PINNED_IMAGE.match(image), f"{service}: base image `{image}` is not pinned"


@pytest.mark.parametrize("service", SERVICES)
def test_builder_installs_the_locked_runtime_dependencies_only(service: str) -> None:
    built = stages(parse(dockerfile(service)))
    assert len(built) >= 3, "uv, builder and runtime stages expected"
    builder = " ".join(arguments for keyword, arguments in built[-2] if keyword == "RUN")
    assert "uv sync --frozen --no-dev" in builder
    assert "--extra" not in builder and "--all-extras" not in builder, "dev extra in an image"
    copies = [arguments for keyword, arguments in built[-2] if keyword == "COPY"]
    assert any("uv.lock" in arguments for arguments in copies)


@pytest.mark.parametrize("service", SERVICES)
def test_runtime_stage_is_slim_non_root_and_health_checked(service: str) -> None:
    runtime = stages(parse(dockerfile(service)))[-1]
    base = runtime[0][1].split()
    assert RUNTIME_BASE.match(base[0]) and base[-1] == "runtime", runtime[0]
    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert users, f"{service}: the runtime stage sets no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    healthchecks = [arguments for keyword, arguments in runtime if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "CMD" in healthchecks[0]
    assert not any(k == "COPY" and "--from=builder /src/src" in a for k, a in runtime)


@pytest.mark.parametrize("service", SERVICES)
def test_files_copied_from_the_context_exist_and_are_not_docker_ignored(service: str) -> None:
    ignored = {
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for keyword, arguments in parse(dockerfile(service)):
        if keyword != "COPY" or "--from=" in arguments:
            continue
        sources = [word for word in arguments.split() if not word.startswith("--")][:-1]
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"{service}: COPY source {source} missing"
            assert source.split("/")[0] not in ignored, f"{service}: {source} is docker-ignored"


def test_dockerignore_keeps_secrets_data_and_local_state_out() -> None:
    ignored = set((REPO_ROOT / ".dockerignore").read_text().splitlines())
    for pattern in (".env", "var", ".venv", ".git", "**/*.csv", "deploy/certs", "**/*.key"):
        assert pattern in ignored, pattern
