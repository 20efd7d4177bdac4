"""The shape the codebase keeps: short modules and functions, settings read only by entry
points, request handlers that can be imported and found by name."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[2] / "src" / "attrition"
MAX_MODULE_LINES = 500
MAX_P90_FUNCTION_LINES = 25
# The command line, the API's app factory and the dashboard's entry point read settings;
# everything else is handed its configuration.
SETTINGS_READERS = ("cli/", "serving/app.py", "dashboard/app.py", "settings.py")
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "api_route"}


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_no_module_is_over_500_lines() -> None:
    long = {relative(p): n for p in modules() if (n := len(p.read_text().splitlines())) > 500}
    assert not long, long


def test_the_90th_percentile_function_is_at_most_25_lines() -> None:
    lengths = [
        node.end_lineno - node.lineno + 1
        for path in modules()
        for node in functions(ast.parse(path.read_text()))
        if node.end_lineno is not None
    ]
    assert len(lengths) > 500
    assert np.percentile(lengths, 90) <= MAX_P90_FUNCTION_LINES


def test_only_entry_points_read_the_settings() -> None:
    readers = []
    for path in modules():
        calls = [
            node
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "get_settings"
        ]
        if calls and not relative(path).startswith(SETTINGS_READERS):
            readers.append(relative(path))
    assert not readers, f"get_settings() outside the entry points: {readers}"


def _is_route(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS


def test_no_request_handler_is_defined_inside_another_function() -> None:
    nested = []
    for path in modules():
        for outer in functions(ast.parse(path.read_text())):
            for inner in functions(outer):
                if inner is not outer and any(_is_route(d) for d in inner.decorator_list):
                    nested.append(f"{relative(path)}:{inner.lineno} {inner.name}")
    assert not nested, nested
