"""Files that may hold personal data are private: every `attrition` process creates files
0600 and folders 0700, and backups and keys are private whatever the umask."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from attrition.privacy.files import private_dir, private_file


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in root.rglob("*")}


def test_an_attrition_command_creates_private_files_under_a_permissive_umask(
    tmp_path: Path,
) -> None:
    var = tmp_path / "state" / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
    env |= {"ATTRITION_VAR_DIR": str(var), "ATTRITION_PSEUDONYM_KEY": "k"}
    done = subprocess.run(
        [sys.executable, "-m", "attrition", "db", "upgrade"],
        env=env,
        capture_output=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),  # what a login shell usually has
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modes = _modes(var)
    assert modes.get("attrition.db") == 0o600
    assert set(modes.values()) <= {0o600, 0o700}, modes
    assert var.stat().st_mode & 0o777 == 0o700


def test_private_files_and_folders_ignore_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        folder = private_dir(tmp_path / "a" / "b")
        written = private_file(folder / "secret", b"x")
    finally:
        os.umask(previous)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700
    assert folder.stat().st_mode & 0o777 == 0o700
    assert written.stat().st_mode & 0o777 == 0o600 and written.read_bytes() == b"x"
