"""``/docs``: a plain page listing the API's routes, generated here from the OpenAPI document.

FastAPI's own ``/docs`` (Swagger UI) and ``/redoc`` load their scripts and styles from a
public CDN: they fail offline and tell a third party who reads the docs. This page loads
nothing (no script, no style, no image), so it works under the API's
``Content-Security-Policy: default-src 'none'``. The machine-readable document stays at
``/openapi.json``. Both are served only when ``ATTRITION_API_DOCS`` is on.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    """Every route of the OpenAPI document: method, path, summary, roles; no scripts."""
    document = request.app.openapi()
    rows = "".join(
        _row(method, path, operation)
        for path, operations in document.get("paths", {}).items()
        for method, operation in operations.items()
    )
    title = escape(str(document.get("info", {}).get("title", "API")))
    return HTMLResponse(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>The machine-readable document is at "
        f'<a href="/openapi.json">/openapi.json</a>.</p>'
        f"<table><tr><th>method</th><th>path</th><th>summary</th></tr>{rows}</table>"
        "</body></html>"
    )


def _row(method: str, path: str, operation: dict[str, Any]) -> str:
    summary = operation.get("summary") or operation.get("description") or ""
    first_line = str(summary).strip().split("\n", 1)[0]
    return (
        f"<tr><td>{escape(method.upper())}</td><td><code>{escape(path)}</code></td>"
        f"<td>{escape(first_line)}</td></tr>"
    )
