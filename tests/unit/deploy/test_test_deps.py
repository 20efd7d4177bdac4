"""`scripts/test-deps.sh`, the machine's part of `make test`: quick, clear, never half-run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "test-deps.sh"
PACKAGES = ["chromium", "nginx", "wrk", "docker-compose", "shellcheck", "redis-server"]


@pytest.fixture
def tree() -> Iterator[Path]:
    """A folder any user can read (pytest's own is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="attrition-test-deps-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def bare_tree(tmp_path: Path, *tools: str) -> dict[str, str]:
    """An environment whose tree holds only ``tools`` (and no browser, no PostgreSQL)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).symlink_to(f"/usr/bin/{tool}")
    return {
        "PATH": "/usr/bin:/bin",
        "TEST_DEPS_ROOT": str(tmp_path / "root"),
        "TEST_DEPS_PATH": str(bin_dir),
        "PYTHON": "python3",
    }


def run(
    env: dict[str, str], *args: str, as_user: str | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    command = ["/bin/bash", str(SCRIPT), *args]
    if as_user is not None:
        # The other user runs a copy in the (world-readable) tree: the checkout itself may
        # sit in a private folder (``mktemp -d`` makes them 0700).
        script = Path(env["TEST_DEPS_ROOT"]).parent / SCRIPT.name
        shutil.copy(SCRIPT, script)
        script.chmod(0o755)
        command = [
            "setpriv",
            f"--reuid={as_user}",
            f"--regid={as_user}",
            "--clear-groups",
            "/bin/bash",
            str(script),
            *args,
        ]
    start = time.monotonic()
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=30, check=False
    )
    return time.monotonic() - start, result


def test_shellcheck_passes(require_tool: Callable[[str], str]) -> None:
    result = subprocess.run(
        [require_tool("shellcheck"), "--shell=bash", "--severity=style", str(SCRIPT)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout


def test_a_user_without_the_packages_hears_what_is_missing_and_how_to_install_it(
    tree: Path,
) -> None:
    """Not root: one message naming every missing package and the install command, within
    seconds, exit 1, and nothing installed or run."""
    user = "65534" if os.geteuid() == 0 else None
    seconds, result = run(bare_tree(tree, "openssl"), as_user=user)
    assert result.returncode == 1
    assert seconds < 10
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    missing = lines[0].split(": ")[-1].split()
    assert set(PACKAGES) <= set(missing)
    assert "openssl" not in missing
    assert lines[1].endswith(f"sudo apt-get install -y --no-install-recommends {' '.join(missing)}")
    assert "nothing was run" in lines[2]


def test_check_only_never_installs_even_as_root(tmp_path: Path) -> None:
    _, result = run(bare_tree(tmp_path), "--check")
    assert result.returncode == 1
    assert "installing" not in result.stdout
    assert "nginx" in result.stderr.splitlines()[0]


def test_this_machine_has_everything_the_suite_drives() -> None:
    """`make test` ran the script before this suite, so the check passes here."""
    env = {**os.environ, "PYTHON": sys.executable}
    _, result = run(env, "--check")
    assert result.returncode == 0, result.stderr
    assert "every tool the suite drives is installed" in result.stdout
