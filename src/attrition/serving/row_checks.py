"""What the request models cannot see, refused as 422s naming the fields: the cross-field
rules of a row (the same rules and reasons as ingest: ``data.validation.row_problems``) and
an employee sent twice in one request (a batch would be scored, or an outcome recorded,
twice with no way to say which copy is right)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError

from attrition.data.validation import row_problems
from attrition.schema import IDENTIFIER

Location = tuple[str | int, ...]
MAX_NAMED_IDS = 20


def refuse_bad_rows(rows: Sequence[Mapping[str, Any]], where: Callable[[int], Location]) -> None:
    """422 for every row breaking a cross-field rule and every repeated ``EmployeeNumber``;
    ``where(i)`` is row i's location in the body."""
    errors = [
        {"type": "cross_field", "loc": (*where(i), p["field"]), "msg": p["reason"], "input": None}
        for i, row in enumerate(rows)
        for p in row_problems(row)
    ]
    errors += duplicate_errors([row.get(IDENTIFIER) for row in rows], where, IDENTIFIER)
    if errors:
        raise RequestValidationError(errors)


def refuse_duplicates(ids: Sequence[Any], where: Callable[[int], Location], name: str) -> None:
    """422 when an id appears more than once in ``ids`` (None never counts)."""
    errors = duplicate_errors(ids, where, name)
    if errors:
        raise RequestValidationError(errors)


def duplicate_errors(
    ids: Sequence[Any], where: Callable[[int], Location], name: str
) -> list[dict[str, Any]]:
    """One error per repeated copy (every copy after the first), the ids named."""
    first: dict[Any, int] = {}
    repeats: list[tuple[int, Any]] = []
    for i, value in enumerate(ids):
        if value is None:
            continue
        if value in first:
            repeats.append((i, value))
        else:
            first[value] = i
    named = sorted({value for _, value in repeats})[:MAX_NAMED_IDS]
    message = (
        f"{name} sent more than once in this request ({', '.join(map(str, named))}"
        f"{', ...' if len({v for _, v in repeats}) > MAX_NAMED_IDS else ''}); send each once"
    )
    return [
        {"type": "duplicate", "loc": (*where(i), name), "msg": message, "input": None}
        for i, _ in repeats
    ]
