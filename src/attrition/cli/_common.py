"""Helpers shared by the command modules: JSON output, user errors, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print one JSON object on the last line.")


def emit(result: Mapping[str, Any], as_json: bool, render: Callable[[], None]) -> None:
    """Show a result: as a single JSON line, or with the command's own rendering."""
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
    else:
        render()

