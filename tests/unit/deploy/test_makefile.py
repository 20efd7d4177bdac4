"""`make demo` prints nothing a user has to ignore: its setup recipes are silent (make does
not echo them, pip shows errors only, uv no package list) and say in one line what they do.

A dry run (`make -n -B`) lists the commands without running them; the whole `make demo`
output is checked by hand and its main job by tests/e2e/test_quickstart.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _recipes(target: str) -> list[str]:
    # Under `make test` the suite runs inside make, whose MAKEFLAGS/MAKELEVEL would make this
    # nested make print "Entering/Leaving directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.replace("\\\n", " ").splitlines()


def test_the_demo_setup_is_quiet_and_compiles_bytecode() -> None:
    commands = _recipes("demo")
    pip = next(line for line in commands if "pip install" in line)
    assert re.search(r"--quiet\s+--quiet", pip) and "--root-user-action=ignore" in pip
    sync = next(line for line in commands if " sync " in line)
    assert "--quiet" in sync
    assert "export UV_COMPILE_BYTECODE := 1" in (ROOT / "Makefile").read_text()
    assert commands[-1].endswith("attrition quickstart")
    assert sum(line.startswith("echo ") for line in commands) == 2  # one line per stage


def test_make_does_not_echo_the_setup_recipes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("$(UV):", "install:", "install-dev:", "demo:"):
        body = makefile.split(f"\n{target}", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
        recipe = [line for line in body if line.startswith("\t") and not line.startswith("\t\t")]
        assert recipe and all(line.startswith("\t@") for line in recipe), (target, recipe)
