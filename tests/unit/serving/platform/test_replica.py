"""The X-Replica-Id middleware and how a replica's id is chosen (the local cluster and the
compose stack name each replica; see tests/integration/operations for the cluster)."""

from __future__ import annotations

import asyncio
import os
import re
import socket

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attrition.errors import AttritionError
from attrition.serving.platform.replica import (
    ReplicaIdMiddleware,
    default_replica_id,
    replica_id_for,
    validate_replica_id,
)
from attrition.settings import Settings


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    status = 200 if scope["path"] == "/" else 404
    headers = [(b"content-type", b"text/plain"), (b"x-replica-id", b"spoofed")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"hi"})


def _call(app: ASGIApp, path: str) -> tuple[int, list[tuple[bytes, bytes]]]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "path": path, "headers": []}, receive, send))
    return sent[0]["status"], list(sent[0]["headers"])


def test_every_response_names_its_replica_once() -> None:
    app = ReplicaIdMiddleware(_hello, "replica-7")
    for path, status in (("/", 200), ("/nowhere", 404)):
        got, headers = _call(app, path)
        assert got == status
        assert [v for k, v in headers if k == b"x-replica-id"] == [b"replica-7"]
        assert (b"content-type", b"text/plain") in headers


def test_replica_id_comes_from_the_setting_or_an_opaque_id_per_process() -> None:
    assert replica_id_for(Settings(_env_file=None, replica_id=" api-2 ")) == "api-2"  # type: ignore[call-arg]
    assert replica_id_for(Settings(_env_file=None)) == default_replica_id()  # type: ignore[call-arg]
    opaque = default_replica_id()
    assert re.fullmatch(r"r-[0-9a-f]{12}", opaque) and opaque == default_replica_id()
    assert str(os.getpid()) not in opaque and socket.gethostname() not in opaque


@pytest.mark.parametrize("bad", ["", "two words", "x" * 65, "new\nline", "é"])
def test_unsafe_replica_ids_are_refused(bad: str) -> None:
    with pytest.raises(AttritionError, match="ATTRITION_REPLICA_ID"):
        validate_replica_id(bad)
