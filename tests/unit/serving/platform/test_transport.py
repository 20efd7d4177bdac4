"""The write-coalescing transport: the writes of one event-loop step leave as one write."""

from __future__ import annotations

import asyncio
from typing import Any

from attrition.serving.platform.transport import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    """Stands in for the socket transport: records what reaches the socket, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.closing = True
        self.calls.append(("close", None))

    def abort(self) -> None:
        self.closing = True
        self.calls.append(("abort", None))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5)}.get(name, default)


async def _step_then_settle(action: Any) -> None:
    action()
    await asyncio.sleep(0)  # one pass of the event loop: the scheduled flush runs


def test_writes_of_one_step_leave_together_in_order() -> None:
    inner = RecordingTransport()

    async def scenario() -> None:
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"hi")
        assert inner.calls == []  # nothing reaches the socket within the step
        assert transport.get_write_buffer_size() == 40
        await _step_then_settle(lambda: transport.writelines([b"a", bytearray(b"b"), b""]))

    asyncio.run(scenario())
    assert inner.calls == [
        ("write", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiab"),
    ]


def test_close_sends_what_is_held_first_and_abort_drops_it() -> None:
    closed, aborted = RecordingTransport(), RecordingTransport()

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        first = CoalescingTransport(closed, loop)
        first.write(b"last words")
        first.close()
        second = CoalescingTransport(aborted, loop)
        second.write(b"never sent")
        second.abort()
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert closed.calls == [("write", b"last words"), ("close", None)]
    assert aborted.calls == [("abort", None)]


def test_nothing_is_written_to_a_connection_already_closing() -> None:
    inner = RecordingTransport()

    async def scenario() -> None:
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"late")
        inner.closing = True  # the peer went away before the flush
        await asyncio.sleep(0)
        assert transport.is_closing()
        assert transport.get_extra_info("peername") == ("127.0.0.1", 5)

    asyncio.run(scenario())
    assert inner.calls == []
