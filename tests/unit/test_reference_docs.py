"""docs/reference.md is complete and current.

Every command, option and argument of the CLI, every route of the API (with its role, its
parameters and its body and response fields), every table, column, key and index, every
setting (with its default) and every feature (with its categories or range) must be
documented in its section of the reference; and nothing the reference documents there may be
gone from the code. The parts of the document are found by their headings:

- ``## Command line``: one ``### `attrition <command>``` section per command, whose option
  table has a row per option (`` `--name ...` ``) and argument (`` `NAME` ``);
- ``## HTTP API``: a route table (method, `` `path` ``, role, purpose) and one
  ``### `METHOD /path``` section per route of the OpenAPI document;
- ``## Tables``: one ``### `table``` section per table, with a column table and a ``Keys:``
  line (``primary key (...)``, ``unique (...)``, ``index (...)``, ``foreign key (...)``);
- ``## Settings``: a table with a row per `` `ATTRITION_<NAME>` ``;
- ``## Feature schema``: a table with a row per feature;
- ``## Files and formats``: the input columns and the batch output columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import ForeignKeyConstraint, PrimaryKeyConstraint, Table, UniqueConstraint
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from attrition.cli import app as cli_app
from attrition.cli.monitor import DRIFT_EXIT_CODE
from attrition.data.synthetic import SCENARIOS
from attrition.db.models import Base
from attrition.schema import (
    CONSTANT_COLUMNS,
    FEATURES,
    IDENTIFIER,
    IDENTIFIER_RANGE,
    PROTECTED_ATTRIBUTES,
    RAW_COLUMNS,
    TARGET,
    TARGET_LABELS,
    TENURE_ORDER,
    CategoricalFeature,
    NumericFeature,
)
from attrition.settings import Settings, get_settings

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"
MIGRATIONS = "src/attrition/db/migrations/versions"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROLES = ("public", "viewer", "predictor", "admin")  # in increasing power
_HEADING = re.compile(r"^(#{1,6}) +(.+?) *$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_SEPARATOR = re.compile(r"^:?-{3,}:?$")
_CODE = re.compile(r"`([^`]+)`")
_KEY = re.compile(r"(primary key|unique|index|foreign key) \(((?:`\w+`(?:, )?)+)\)")


# --- reading the document ---------------------------------------------------------------
@cache
def document() -> str:
    assert REFERENCE.is_file(), f"{REFERENCE} is missing"
    return REFERENCE.read_text(encoding="utf-8")


def sections(text: str, level: int) -> dict[str, str]:
    """Heading -> body of every heading of ``level`` (up to the next heading of the same or a
    higher level); headings inside code fences do not count."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match and len(match.group(1)) <= level:
            current = None
            if len(match.group(1)) == level:
                title = match.group(2)
                assert title not in found, f"heading {title!r} appears twice"
                current = found[title] = []
            continue
        if current is not None:
            current.append(line)
    return {title: "\n".join(lines) for title, lines in found.items()}


def part(title: str) -> str:
    """The body of the ``## title`` section."""
    parts = sections(document(), 2)
    assert title in parts, f"docs/reference.md has no '## {title}' section"
    return parts[title]


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in ``text`` (separator rows left out)."""
    rows = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [c.strip() for c in _CELL_SPLIT.split(stripped.strip("|"))]
        if not all(_SEPARATOR.match(cell) for cell in cells):
            rows.append(cells)
    return rows


def code(text: str) -> list[str]:
    """The contents of the code spans of ``text``, in order."""
    return _CODE.findall(text)


def first_code(cell: str) -> str | None:
    spans = code(cell)
    return spans[0] if spans else None


def mentions(text: str, name: str) -> bool:
    """``name`` appears as a code span or as a quoted JSON key inside one."""
    return f"`{name}`" in text or f'"{name}"' in text


def compare(kind: str, documented: set[Any], actual: set[Any]) -> None:
    missing = sorted(map(str, actual - documented))
    stale = sorted(map(str, documented - actual))
    assert not missing, f"{kind} missing from docs/reference.md: {missing}"
    assert not stale, f"{kind} in docs/reference.md that the code does not have: {stale}"


# --- command line -----------------------------------------------------------------------
@cache
def leaf_commands() -> dict[str, Any]:
    """Command path ("keys revoke") -> Click command, for every leaf of the Typer app."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found[" ".join(path)] = command
            return
        for name, child in children.items():
            walk(child, [*path, name])

    walk(typer.main.get_command(cli_app), [])
    return found


def command_sections() -> dict[str, str]:
    """Command path -> its ``### `attrition <path>``` section."""
    found = {}
    for title, body in sections(part("Command line"), 3).items():
        match = re.fullmatch(r"`attrition ([a-z][a-z0-9 -]*)`", title)
        if match:
            found[match.group(1)] = body
    return found


def test_every_command_has_a_section_and_a_summary_row() -> None:
    commands = set(leaf_commands())
    compare("command sections", set(command_sections()), commands)
    summary = {
        cell.removeprefix("attrition ")
        for row in table_rows(part("Command line"))
        if (cell := first_code(row[0]) or "").startswith("attrition ")
    }
    compare("rows of the command summary table", summary, commands)


@pytest.mark.parametrize("path", sorted(leaf_commands()))
def test_every_option_and_argument_has_a_row(path: str) -> None:
    command = leaf_commands()[path]
    options = {
        name
        for param in command.params
        if param.param_type_name == "option"
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    }
    arguments = {
        param.name.upper() for param in command.params if param.param_type_name == "argument"
    }
    body = command_sections().get(path)
    assert body is not None, f"no '### `attrition {path}`' section"
    documented_options, documented_arguments = set(), set()
    for row in table_rows(body):
        word = (first_code(row[0]) or "").split(" ")[0]
        if word.startswith("--"):
            documented_options.add(word)
        elif re.fullmatch(r"[A-Z][A-Z0-9_]*", word):
            documented_arguments.add(word)
    compare(f"options of `attrition {path}`", documented_options, options)
    compare(f"arguments of `attrition {path}`", documented_arguments, arguments)


def test_exit_codes_and_scenarios_are_documented() -> None:
    cli = part("Command line")
    codes = {first_code(row[0]) for row in table_rows(cli)}
    assert {"0", "1", "2", str(DRIFT_EXIT_CODE)} <= codes
    generate = command_sections()["data generate"]
    compare("synthetic scenarios", {n for n in SCENARIOS if f"`{n}`" in generate}, set(SCENARIOS))


# --- HTTP API ---------------------------------------------------------------------------
@pytest.fixture
def api() -> FastAPI:
    """The app as the project builds it (not started: no model is loaded)."""
    from attrition.serving.app import create_app

    app: FastAPI = create_app(get_settings())
    return app


def flat_routes(app: FastAPI) -> list[Any]:
    """Every route of the app, with the routes of the routers it includes (FastAPI keeps an
    included router as one entry that holds the original router)."""

    def walk(routes: Iterable[Any]) -> Iterable[Any]:
        for route in routes:
            included = getattr(route, "original_router", None)
            yield from walk(included.routes) if included is not None else (route,)

    return list(walk(app.routes))


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route: the OpenAPI document's, and the app's own (also
    those left out of the schema, such as the docs pages)."""
    found = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    for route in flat_routes(app):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if isinstance(path, str) and methods:
            found |= {(method, path) for method in methods if method != "HEAD"}
    return found


def documented_routes() -> dict[tuple[str, str], str]:
    """(method, path) -> role, from the route table of the HTTP API section."""
    found = {}
    for row in table_rows(part("HTTP API")):
        if len(row) >= 3 and row[0] in METHODS and (first_code(row[1]) or "").startswith("/"):
            key = (row[0], first_code(row[1]) or "")
            assert key not in found, f"route {key} is listed twice"
            found[key] = row[2].strip("`* ")
    return found


def route_sections() -> dict[tuple[str, str], str]:
    found = {}
    for title, body in sections(part("HTTP API"), 3).items():
        match = re.fullmatch(rf"`({'|'.join(METHODS)}) (/\S*)`", title)
        if match:
            found[(match.group(1), match.group(2))] = body
    return found


def test_every_route_is_in_the_route_table(api: FastAPI) -> None:
    routes = documented_routes()
    compare("routes of the route table", set(routes), app_routes(api))
    unknown = {key: role for key, role in routes.items() if role not in ROLES}
    assert not unknown, f"roles must be one of {ROLES}: {unknown}"


def documented_handlers() -> dict[tuple[str, str], tuple[str, str] | None]:
    """(method, path) -> (module, function) of its handler, from the route table's handler
    column (a file under ``src/attrition/`` and a function); None for FastAPI's own."""
    found: dict[tuple[str, str], tuple[str, str] | None] = {}
    for row in table_rows(part("HTTP API")):
        if len(row) >= 5 and row[0] in METHODS and (first_code(row[1]) or "").startswith("/"):
            spans = code(row[4])
            key = (row[0], first_code(row[1]) or "")
            if not spans:
                found[key] = None
                continue
            assert len(spans) == 2 and spans[0].endswith(".py"), f"{key}: `file.py` `function`"
            module = "attrition." + spans[0].removesuffix(".py").replace("/", ".")
            found[key] = (module, spans[1])
    return found


def test_every_route_handler_is_where_the_route_table_says(api: FastAPI) -> None:
    """A newcomer finds a route's handler from the table: file and function are checked
    against the endpoint the app really calls."""
    actual: dict[tuple[str, str], tuple[str, str] | None] = {}
    for route in flat_routes(api):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None) or ()
        endpoint = getattr(route, "endpoint", None)
        project = endpoint is not None and endpoint.__module__.startswith("attrition.")
        for method in set(methods) - {"HEAD"}:
            actual[(method, str(path))] = (
                (endpoint.__module__, endpoint.__name__) if project and endpoint else None
            )
    documented = documented_handlers()
    compare("routes with a handler column", set(documented), set(actual))
    wrong = {
        key: (documented[key], actual[key]) for key in documented if documented[key] != actual[key]
    }
    assert not wrong, f"handlers not where the route table says (documented, actual): {wrong}"


def _properties(schema: dict[str, Any], components: dict[str, Any], stop: str) -> set[str]:
    """Property names of a JSON schema, through references, lists and unions (not into the
    component ``stop``, whose fields are the feature schema's)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return set() if name == stop else _properties(components[name], components, stop)
    names: set[str] = set()
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            names |= _properties(option, components, stop)
    if isinstance(schema.get("items"), dict):
        names |= _properties(schema["items"], components, stop)
    for name, value in schema.get("properties", {}).items():
        names.add(name)
        names |= _properties(value, components, stop)
    return names


def _json_schema(entry: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = entry.get("content", {}).get("application/json", {}).get("schema")
    return schema or {}


def test_every_route_section_names_its_parameters_and_fields(api: FastAPI) -> None:
    from attrition.serving.payloads import employee_model

    spec = api.openapi()
    components = spec.get("components", {}).get("schemas", {})
    stop = employee_model().__name__
    documented = route_sections()
    operations = {
        (method.upper(), path): operation
        for path, items in spec["paths"].items()
        for method, operation in items.items()
    }
    compare("route sections (### `METHOD /path`)", set(documented), set(operations))
    problems = []
    for key, operation in sorted(operations.items()):
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        names |= _properties(_json_schema(operation.get("requestBody", {})), components, stop)
        names |= _properties(_json_schema(operation["responses"].get("200", {})), components, "")
        missing = sorted(name for name in names if not mentions(documented[key], name))
        if missing:
            problems.append(f"{key[0]} {key[1]}: {missing}")
    assert not problems, "parameters or fields not named in their route section:\n" + "\n".join(
        problems
    )


def test_every_status_code_the_api_declares_is_explained(api: FastAPI) -> None:
    declared = {
        code
        for items in api.openapi()["paths"].values()
        for operation in items.values()
        for code in operation["responses"]
        if code.startswith(("4", "5"))
    }
    explained = {row[0] for row in table_rows(part("HTTP API")) if re.fullmatch(r"\d{3}", row[0])}
    compare("error status codes", explained & declared, declared)


def test_every_documented_role_is_the_one_the_api_enforces(api: FastAPI) -> None:
    """A key of the role below the documented one is refused; the documented role is not."""
    from attrition.db.migrate import upgrade
    from attrition.serving.platform.api_keys import create_key

    settings = get_settings()
    upgrade(settings.database_url)
    secret = settings.pseudonym_secret()
    headers: dict[str, dict[str, str]] = {"public": {}}
    for role in ROLES[1:]:
        key = create_key(
            f"docs-{role}", role, database_url=settings.database_url, server_secret=secret
        )
        headers[role] = {"X-API-Key": key.secret}
    wrong = []
    client = TestClient(api)  # no lifespan: nothing is loaded or started
    for (method, path), role in sorted(documented_routes().items()):
        allowed = _status(client, method, path, headers[role])
        if allowed in (401, 403):
            wrong.append(f"{method} {path}: documented {role}, refused ({allowed})")
        if role != "public":
            below = ROLES[ROLES.index(role) - 1]
            refused = _status(client, method, path, headers[below])
            if refused != (401 if below == "public" else 403):
                wrong.append(f"{method} {path}: documented {role}, {below} got {refused}")
    assert not wrong, "\n".join(wrong)


def _status(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    """The status of a request to ``path`` (path parameters 1) with an invalid JSON body on
    POST, so that a route that checks its body runs nothing."""
    url = re.sub(r"\{[^/]+\}", "1", path)
    body: dict[str, Any] = {} if method == "GET" else {"json": []}
    status: int = client.request(method, url, headers=headers, **body).status_code
    return status


# --- tables -----------------------------------------------------------------------------
def table_sections() -> dict[str, str]:
    found = {}
    for title, body in sections(part("Tables"), 3).items():
        match = re.fullmatch(r"`(\w+)`", title)
        if match:
            found[match.group(1)] = body
    return found


def test_every_table_has_a_section() -> None:
    compare("table sections", set(table_sections()), set(Base.metadata.tables))
    tables = part("Tables")
    assert MIGRATIONS in tables, f"the Tables section must say that migrations live in {MIGRATIONS}"
    assert "pseudonym" in tables


def _keys(table: Table) -> set[tuple[str, str]]:
    def columns(items: Iterable[Any]) -> str:
        return ", ".join(f"`{column.name}`" for column in items)

    found = {("index", columns(index.columns)) for index in table.indexes}
    kinds = {
        PrimaryKeyConstraint: "primary key",
        UniqueConstraint: "unique",
        ForeignKeyConstraint: "foreign key",
    }
    for constraint in table.constraints:
        kind = kinds.get(type(constraint))
        if kind is not None and isinstance(constraint, ColumnCollectionConstraint):
            found.add((kind, columns(constraint.columns)))
    return found


@pytest.mark.parametrize("name", sorted(Base.metadata.tables))
def test_every_column_and_key_of_a_table_is_documented(name: str) -> None:
    table = Base.metadata.tables[name]
    body = table_sections().get(name)
    assert body is not None, f"no '### `{name}`' section"
    rows = {
        column: row
        for row in table_rows(body)
        if (column := first_code(row[0])) is not None and len(row) >= 3
    }
    compare(f"columns of {name}", set(rows), {column.name for column in table.columns})
    for column in table.columns:
        nullable = "nullable" in rows[column.name][1]
        assert nullable == bool(column.nullable), (
            f"{name}.{column.name}: the type cell must say 'nullable' exactly when it is"
        )
    documented = set(_KEY.findall(" ".join(body.split())))
    compare(f"keys and indexes of {name} (the Keys: line)", documented, _keys(table))


# --- settings ---------------------------------------------------------------------------
def _default_text(value: Any) -> str | None:
    """How the Settings table writes a default; None for unset."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{item}"' for item in value) + "]"
    return str(value)


def _derived_defaults(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Defaults derived from the state folder, written with ``<ATTRITION_VAR_DIR>``."""
    folder = "/STATE"
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ATTRITION_{name.upper()}", raising=False)
    derived = Settings(_env_file=None, var_dir=Path(folder))
    blank = Settings.model_construct()
    return {
        f"ATTRITION_{name.upper()}": str(getattr(derived, name)).replace(
            folder, "<ATTRITION_VAR_DIR>"
        )
        for name in Settings.model_fields
        if getattr(blank, name) == "" and getattr(derived, name)
    }


def test_every_setting_is_documented_with_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.model_config.get("env_prefix") == "ATTRITION_"
    settings = part("Settings")
    assert "`.env`" in settings
    rows = {
        name: row
        for row in table_rows(settings)
        if (name := first_code(row[0]) or "").startswith("ATTRITION_") and len(row) >= 4
    }
    fields = {f"ATTRITION_{name.upper()}": info for name, info in Settings.model_fields.items()}
    compare("settings", set(rows), set(fields))
    derived = _derived_defaults(monkeypatch)
    wrong = []
    for name, info in sorted(fields.items()):
        default = derived.get(name, info.get_default(call_default_factory=True))
        expected, cell = _default_text(default), rows[name][2]
        if (expected is None and not cell.startswith("unset")) or (
            expected is not None and f"`{expected}`" not in cell
        ):
            wrong.append(f"{name}: default is {expected or 'unset'}, documented {cell!r}")
    assert not wrong, "\n".join(wrong)


# --- feature schema ---------------------------------------------------------------------
def feature_rows() -> dict[str, list[str]]:
    return {
        first_code(row[0]) or "": row
        for row in table_rows(part("Feature schema"))
        if len(row) >= 3 and row[1].startswith(("integer", "categorical"))
    }


def test_every_feature_is_documented_with_its_values() -> None:
    rows = feature_rows()
    compare("features", set(rows), set(FEATURES))
    wrong = []
    for name, feature in FEATURES.items():
        kind, values = rows[name][1], rows[name][2]
        if ("protected" in kind) != (name in PROTECTED_ATTRIBUTES):
            wrong.append(f"{name}: the type cell must say 'protected' exactly when it is")
        if isinstance(feature, CategoricalFeature):
            if not kind.startswith("categorical") or code(values) != list(feature.categories):
                wrong.append(f"{name}: categorical, {list(feature.categories)}")
        else:
            assert isinstance(feature, NumericFeature)
            ordinal = "(ordinal)" in kind
            if not kind.startswith("integer") or ordinal != feature.ordinal:
                wrong.append(f"{name}: integer{' (ordinal)' if feature.ordinal else ''}")
            if values != f"`{feature.low}` to `{feature.high}`":
                wrong.append(f"{name}: range `{feature.low}` to `{feature.high}`")
    assert not wrong, "\n".join(wrong)


def test_identifier_target_constants_and_rules_are_documented() -> None:
    schema = part("Feature schema")
    rows = {first_code(row[0]): " | ".join(row[1:]) for row in table_rows(schema)}
    low, high = IDENTIFIER_RANGE
    assert f"`{low}`" in rows[IDENTIFIER] and f"`{high}`" in rows[IDENTIFIER]
    assert all(f"`{label}`" in rows[TARGET] for label in TARGET_LABELS)
    for name, value in CONSTANT_COLUMNS.items():
        assert f"`{value}`" in rows[name], f"constant column {name} = {value!r}"
    for smaller, larger in TENURE_ORDER:
        assert f"`{smaller}` <= `{larger}`" in schema, f"tenure rule {smaller} <= {larger}"


# --- files and formats ------------------------------------------------------------------
def test_input_columns_and_batch_output_are_documented() -> None:
    from attrition.serving.inference.csv_scoring import OUTPUT_COLUMNS

    files = sections(part("Files and formats"), 3)
    listed = [name for name in code(files["Input CSV"]) if name in RAW_COLUMNS]
    assert list(dict.fromkeys(listed)) == list(RAW_COLUMNS), "the IBM column order"
    output = [
        first_code(row[0]) for row in table_rows(files["Batch scores of `attrition predict`"])
    ]
    assert [name for name in output if name] == list(OUTPUT_COLUMNS)
