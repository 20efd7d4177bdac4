"""The operations docs stay true to the code: commands, options and settings they name exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
import typer.main

from attrition.cli import app
from attrition.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
DOCS = [REPO_ROOT / "docs" / name for name in ("architecture.md", "operations.md", "security.md")]
# `attrition WORDS...` and the rest of its line; not `--entrypoint attrition SERVICE ...`.
COMMAND = re.compile(r"(?<![\w/-])(?<!--entrypoint )attrition((?: [a-z][a-z-]*)+)((?: [^`|\n]*)?)")
SETTING = re.compile(r"\bATTRITION_[A-Z0-9_]+\b")
DEPLOY_TEXTS = [
    *sorted((REPO_ROOT / "deploy").rglob("*.sh")),
    *sorted((REPO_ROOT / "deploy").rglob("*.template")),
    *sorted((REPO_ROOT / "deploy").rglob("Dockerfile")),
    REPO_ROOT / "deploy" / "compose.yaml",
    *sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml")),
]


def is_group(command: Any) -> bool:
    """Typer's groups are click-like without subclassing click.Group."""
    return hasattr(command, "get_command") and hasattr(command, "list_commands")


def resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The deepest registered command the words name, and the words left after it."""
    command: Any = typer.main.get_command(app)
    rest = list(words)
    while rest and is_group(command):
        sub = command.get_command(click.Context(command), rest[0])
        if sub is None:
            break
        command, rest = sub, rest[1:]
    return command, rest


def mentions() -> list[tuple[str, str, str]]:
    """(doc, command words, the rest of the line) for every `attrition ...` in the docs."""
    found = []
    for doc in DOCS:
        for match in COMMAND.finditer(doc.read_text()):
            found.append((doc.name, match.group(1).strip(), match.group(2)))
    return found


def test_the_docs_name_commands() -> None:
    assert len(mentions()) > 20


@pytest.mark.parametrize(("doc", "words", "rest"), mentions())
def test_every_command_and_option_in_the_docs_exists(doc: str, words: str, rest: str) -> None:
    command, _ = resolve(words.split())
    assert not is_group(command), f"{doc}: `attrition {words}` is no command"
    known = {option for param in command.params for option in param.opts}
    for option in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", rest):
        assert option in known, f"{doc}: `attrition {words}` has no option {option}"


def test_every_setting_named_in_the_docs_exists() -> None:
    fields = {f"ATTRITION_{name.upper()}" for name in Settings.model_fields}
    deploy_names = {name for path in DEPLOY_TEXTS for name in SETTING.findall(path.read_text())}
    for doc in DOCS:
        for name in SETTING.findall(doc.read_text()):
            assert name in fields | deploy_names, f"{doc.name}: {name} is no setting"


def test_the_documented_envsubst_list_covers_every_nginx_placeholder() -> None:
    """The manual scale-out steps render both templates completely."""
    operations = (REPO_ROOT / "docs" / "operations.md").read_text()
    listed = re.search(r"vars='([^']*)'", operations)
    assert listed, "operations.md lost its envsubst variable list"
    documented = set(re.findall(r"\$(ATTRITION_[A-Z_]+)", listed.group(1)))
    exported = set(re.findall(r"(ATTRITION_[A-Z_]+)=", operations))
    placeholders = {
        name
        for template in (REPO_ROOT / "deploy" / "nginx").glob("*.template")
        for name in re.findall(r"\$\{(ATTRITION_[A-Z_]+)\}", template.read_text())
    }
    assert documented == placeholders
    assert placeholders <= exported, placeholders - exported
