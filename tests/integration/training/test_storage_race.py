"""Search workers that start together on a fresh PostgreSQL database all get the storage."""

from __future__ import annotations

import subprocess
import sys

import pytest

from attrition.training.search import open_storage

pytestmark = pytest.mark.integration
OPEN = "import sys; from attrition.training.search import open_storage; open_storage(sys.argv[1])"


def test_simultaneous_workers_all_open_the_storage(postgres_url: str) -> None:
    workers = [
        subprocess.Popen([sys.executable, "-c", OPEN, postgres_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    failures = [w.communicate(timeout=120)[1].decode()[-500:] for w in workers if w.wait(120)]
    assert failures == []


def test_no_url_means_in_memory() -> None:
    assert open_storage(None) is None
