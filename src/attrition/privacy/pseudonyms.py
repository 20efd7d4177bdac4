"""Pseudonymisation of employee identifiers (keyed HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymise(employee_number: int | str, key: bytes) -> str:
    """A stable, non-reversible token for an employee id; same key, same token."""
    message = str(int(employee_number)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
