"""The Sign in page's key check, against no API at all (the API's answers are covered by the
integration page tests)."""

from __future__ import annotations

import socket

from attrition.dashboard.panels.signin import NO_KEY, verify


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_empty_key_is_refused_before_any_call() -> None:
    assert verify("http://127.0.0.1:1", "   ") == NO_KEY


def test_an_unreachable_api_says_how_to_start_it() -> None:
    problem = verify(f"http://127.0.0.1:{_closed_port()}", "atk_key")
    assert problem is not None and "Cannot reach the API" in problem
