"""The repository stands alone: no file reaches outside it, and only CI names the real data."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Built from parts so this file does not match itself.
OUTSIDE = re.compile(
    "|".join(["shared/" + "data", r"\.\./" + "shared", "DESIGN" + r"\.md", "ATTRITION_" + "SHARED"])
)
CHECKED = [
    *("src", "tests", "benchmarks", "docs", "deploy", "configs", "scripts", ".github"),
    *("Makefile", "README.md", "CONTRIBUTING.md", "pyproject.toml", ".env.example"),
]
SKIPPED_PARTS = {"__pycache__", "node_modules", ".pytest_cache"}


def repository_files() -> list[Path]:
    files: list[Path] = []
    for name in CHECKED:
        path = REPO / name
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [p for p in found if not SKIPPED_PARTS & set(p.parts)]
    return files


def test_there_are_files_to_check() -> None:
    assert len(repository_files()) > 200


def test_no_file_refers_to_anything_outside_the_repository() -> None:
    offenders = []
    for path in repository_files():
        text = path.read_bytes().decode("utf-8", errors="replace")
        offenders += [
            f"{path.relative_to(REPO)}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line)
        ]
    assert not offenders, "\n".join(offenders)


def test_only_one_line_of_the_ci_entry_point_names_the_real_data() -> None:
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    naming = [line for line in lines if OUTSIDE.search(line)]
    assert len(naming) == 1, naming
    assert "ATTRITION_REAL_DATA=" in naming[0]
    assert lines[-1] == "exec make test", "CI must be a thin call of make test"
