"""Ids are version 4 UUIDs from the kernel's random source, drawn from a per-process pool:
never repeated, and a forked child does not replay its parent's pool."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

from attrition.serving.platform.ids import IdSource


def test_ids_are_version_4_uuids_and_never_repeat_across_pool_refills() -> None:
    source = IdSource()
    ids = [source.uuid() for _ in range(5_000)] + [source.hex() for _ in range(5_000)]
    assert len({i.replace("-", "") for i in ids}) == len(ids)
    for value in (ids[0], ids[-1]):
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_threads_drawing_at_once_get_distinct_ids() -> None:
    source = IdSource()
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [source.uuid() for _ in range(2_000)], range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids)


def test_a_forked_child_draws_its_own_ids() -> None:
    source = IdSource()
    source.uuid()  # the parent's pool is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child writes its next id and leaves at once
        os.write(write, source.uuid().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert child != source.uuid()
