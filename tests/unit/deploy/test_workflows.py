"""The GitHub Actions workflows: actionlint, SHA-pinned actions, least privilege, secrets."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOW_DIR = Path(__file__).resolve().parents[3] / ".github" / "workflows"
EXPECTED = {"ci.yml", "monitor.yml", "promote.yml", "maintenance.yml"}
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^\s+#\s+v\d+\.\d+\.\d+\s*$")
SECRET_LITERALS = re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|AKIA[0-9A-Z]{16}")
SECRET_ENV_LINE = re.compile(r"\s+[A-Z][A-Z0-9_]*: \$\{\{ secrets\.[A-Z][A-Z0-9_]* \}\}")
WRITE_SCOPES_ALLOWED = {"monitor.yml": {"issues"}}


def workflow_paths() -> list[Path]:
    return sorted(WORKFLOW_DIR.glob("*.yml"))


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name} is not a YAML mapping"
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` block (PyYAML reads the bare key `on` as the boolean True)."""
    block = workflow.get("on", workflow.get(True))
    assert isinstance(block, dict), "`on:` must be a mapping of events"
    return block


def test_the_four_workflows_exist() -> None:
    assert {path.name for path in workflow_paths()} == EXPECTED


def test_actionlint_passes_on_every_workflow(
    actionlint_dir: Path, require_tool: Callable[[str], str]
) -> None:
    node = require_tool("node")
    paths = [str(path) for path in workflow_paths()]
    result = subprocess.run(
        [node, str(actionlint_dir / "lint.cjs"), *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), f"actionlint did not run:\n{result.stderr}"
    problems = json.loads(result.stdout.strip().splitlines()[-1])
    report = "\n".join(
        f"{Path(p['file']).name}:{p['line']}:{p['column']} [{p['kind']}] {p['message']}"
        for p in problems
    )
    assert problems == [], f"actionlint found problems:\n{report}"


def test_actionlint_reports_a_broken_workflow(
    actionlint_dir: Path, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    """The linter is live: an untrusted expression in a script and a typo are caught."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
        "      - run: echo ${{ matrix.missing }}\n"
    )
    result = subprocess.run(
        [require_tool("node"), str(actionlint_dir / "lint.cjs"), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    kinds = [problem["kind"] for problem in json.loads(result.stdout)]
    assert kinds.count("expression") == 2


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    lines = path.read_text().splitlines()
    uses = [match for line in lines if (match := USES.match(line))]
    assert uses, f"{path.name} uses no action"
    for match in uses:
        ref = match.group("ref")
        assert not ref.startswith("./"), f"{path.name}: local actions are not expected ({ref})"
        assert PINNED.match(ref), f"{path.name}: `{ref}` is not pinned to a full commit SHA"
        assert VERSION_COMMENT.match(match.group("rest")), (
            f"{path.name}: `{ref}` lacks a `# vX.Y.Z` comment naming the pinned release"
        )


def test_each_action_is_pinned_to_the_same_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in workflow_paths():
        for line in path.read_text().splitlines():
            if (match := USES.match(line)) and (pinned := PINNED.match(match.group("ref"))):
                pins.setdefault(pinned.group("action"), set()).add(pinned.group("sha"))
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_permissions_are_declared_and_least_privilege(path: Path) -> None:
    workflow = load(path)
    permissions = workflow.get("permissions")
    assert isinstance(permissions, dict), f"{path.name}: top-level `permissions:` mapping missing"
    assert permissions.get("contents") == "read"
    blocks = [permissions] + [
        job["permissions"] for job in workflow["jobs"].values() if "permissions" in job
    ]
    writes = {scope for block in blocks for scope, level in block.items() if level == "write"}
    assert writes <= WRITE_SCOPES_ALLOWED.get(path.name, set()), f"{path.name}: {writes}"


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_secrets_are_referenced_by_name_only(path: Path) -> None:
    text = path.read_text()
    assert not SECRET_LITERALS.search(text), f"{path.name} contains what looks like a token"
    for number, line in enumerate(text.splitlines(), start=1):
        if "secrets." not in line:
            continue
        assert SECRET_ENV_LINE.fullmatch(line), (
            f"{path.name}:{number}: pass a secret only as an env entry NAME: secrets.NAME"
        )


@pytest.mark.parametrize("path", workflow_paths(), ids=lambda path: path.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: job {name}"


def test_ci_lints_type_checks_and_runs_the_same_make_test_as_a_developer() -> None:
    workflow = load(WORKFLOW_DIR / "ci.yml")
    text = (WORKFLOW_DIR / "ci.yml").read_text()
    for command in ("ruff check", "ruff format --check", "mypy"):
        assert command in text, command
    test_job = workflow["jobs"]["test"]
    commands = [str(step.get("run", "")) for step in test_job["steps"]]
    assert any(c.startswith("sudo ") and "scripts/test-deps.sh" in c for c in commands)
    assert any(c.startswith("make test") for c in commands)
    assert "services" not in test_job, "the suite starts its own PostgreSQL and Redis"
    setup_uv = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("astral-sh/setup-uv@")
    ]
    assert setup_uv and all(step["with"]["enable-cache"] is True for step in setup_uv)
    assert "uv sync --frozen" in text


def test_monitor_is_scheduled_and_manual_and_retrains_with_json_output() -> None:
    workflow = load(WORKFLOW_DIR / "monitor.yml")
    events = triggers(workflow)
    assert events["schedule"] and "workflow_dispatch" in events
    text = (WORKFLOW_DIR / "monitor.yml").read_text()
    assert "args=(monitor --json)" in text and "args+=(--retrain)" in text
    env = workflow["jobs"]["monitor"]["env"]
    assert env["ATTRITION_GITHUB_REPOSITORY"] == "${{ github.repository }}"


def test_promote_needs_a_version_and_the_production_environment() -> None:
    workflow = load(WORKFLOW_DIR / "promote.yml")
    inputs = triggers(workflow)["workflow_dispatch"]["inputs"]
    assert inputs["version"]["required"] is True
    job = workflow["jobs"]["promote"]
    assert job["environment"] == "production"
    assert 'attrition promote "$VERSION"' in (WORKFLOW_DIR / "promote.yml").read_text()


def test_maintenance_prunes_and_backs_up_on_a_schedule() -> None:
    workflow = load(WORKFLOW_DIR / "maintenance.yml")
    assert triggers(workflow)["schedule"]
    text = (WORKFLOW_DIR / "maintenance.yml").read_text()
    assert "attrition maintenance prune" in text
    assert "attrition maintenance backup" in text
    assert "upload-artifact" not in text, "backups hold HR data: never workflow artifacts"
