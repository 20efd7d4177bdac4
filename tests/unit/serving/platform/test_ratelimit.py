"""GCRA rate limits: a burst then the steady rate, per key, with Retry-After."""

from __future__ import annotations

import asyncio

import pytest

from attrition.serving.platform.ratelimit import MemoryRateLimiter, gcra


def test_gcra_allows_a_burst_then_the_steady_rate() -> None:
    interval, burst = 1.0, 3
    tat, now = 0.0, 100.0
    allowed = 0
    for _ in range(5):
        new, wait = gcra(tat, now, interval, burst)
        if new is None:
            assert wait == pytest.approx(1.0)
            break
        tat, allowed = new, allowed + 1
    assert allowed == 3
    new, _ = gcra(tat, now + 1.0, interval, burst)
    assert new is not None  # one more after one interval


def test_memory_limiter_refuses_with_retry_after_per_key() -> None:
    limiter = MemoryRateLimiter(per_minute=2)

    async def run() -> list[tuple[bool, int]]:
        results = []
        for key in ("a", "a", "a", "b"):
            decision = await limiter.hit(key)
            results.append((decision.allowed, decision.retry_after))
        return results

    results = asyncio.run(run())
    assert [r[0] for r in results] == [True, True, False, True]
    assert results[2][1] == 30  # one request every 30 s
