"""The command line imports only what a command runs: `attrition --help` loads no ML stack.

Checked in a fresh interpreter (this test process has imported everything already); a
module check, not a timing test (benchmarks/cli_startup.py measures the time).
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "mlflow",
    "sklearn",
    "pandas",
    "plotly",
    "numpy",
    "scipy",
    "optuna",
    "lightgbm",
    "pandera",
    "alembic",
    "sqlalchemy",
    "pydantic_settings",
    "fastapi",
    "streamlit",
)


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(set(sys.modules))))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return sorted({name.split(".")[0] for name in modules} & set(HEAVY))


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert _loaded_after("import attrition.cli") == []


def test_help_loads_no_heavy_library() -> None:
    code = (
        "import sys\nfrom attrition.cli import app\nsys.argv = ['attrition', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert _loaded_after(code) == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a module that imports pandas is reported."""
    assert {"numpy", "pandas"} <= set(_loaded_after("import attrition.data.synthetic"))
