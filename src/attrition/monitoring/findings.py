"""Findings besides drift and decay: a fairness regression or a data-quality rise.

A :class:`Finding` is what the report, the alert, MLflow and the dashboard show: its kind,
a stable ``code`` (part of the alert fingerprint, so the same finding is not re-sent while
it lasts) and one line for people. Aggregates only: group names and field names, never a
person or a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FindingKind = Literal["fairness", "data_quality"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One confirmed problem of a check, beyond drift and performance decay."""

    kind: FindingKind
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "message": self.message}
