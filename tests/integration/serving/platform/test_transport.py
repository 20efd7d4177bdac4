"""A server process that dies mid-response sends all of it or nothing: uvicorn on loopback with
the coalescing protocol, against a raw socket, with plain uvicorn as the control.

The app sends its response start and then kills its own process with SIGKILL, before or after
its body: the cases in which a balancer is left with headers it can neither finish nor retry.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from attrition.serving.platform.transport import PROTOCOL

pytestmark = pytest.mark.integration

APP = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    import uvicorn

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if scope["path"] == "/die-after-start":
            die()  # the body is never sent
        await send({"type": "http.response.body", "body": b"whole"})
        if scope["path"] == "/die-after-response":
            asyncio.get_running_loop().call_soon(die)  # the next pass of the event loop

    port, http = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(app, host="127.0.0.1", port=port, http=http, log_level="warning")
    """
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(tmp_path: Path, http: str) -> tuple[subprocess.Popen[bytes], int]:
    script = tmp_path / "dying_app.py"
    script.write_text(APP)
    port = free_port()
    process = subprocess.Popen([sys.executable, str(script), str(port), http])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    pytest.fail(f"uvicorn ({http}) did not listen on {port}")


def received(port: int, path: str) -> bytes:
    """Everything the server sent before its connection ended."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        while True:
            try:
                chunk = raw.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def answer_of(tmp_path: Path, http: str, path: str) -> bytes:
    process, port = start_server(tmp_path, http)
    try:
        return received(port, path)
    finally:
        process.kill()
        process.wait(30)


@pytest.mark.parametrize("http", [PROTOCOL, "httptools"])
def test_a_process_dying_after_its_headers_sends_nothing_only_with_coalescing(
    tmp_path: Path, http: str
) -> None:
    answer = answer_of(tmp_path, http, "/die-after-start")
    if http == PROTOCOL:
        assert answer == b"", "nothing sent: the balancer can retry the request elsewhere"
    else:  # the control: plain uvicorn leaves the peer with headers and no body
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n")


def test_a_process_dying_after_its_response_has_sent_all_of_it(tmp_path: Path) -> None:
    answer = answer_of(tmp_path, PROTOCOL, "/die-after-response")
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\nwhole")
