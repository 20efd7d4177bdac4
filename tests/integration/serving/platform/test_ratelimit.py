"""Rate limits shared through the real Redis: two limiters (two replicas) share one budget."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from attrition.serving.platform.ratelimit import MemoryRateLimiter, RedisRateLimiter
from attrition_services import redis_test_url

pytestmark = pytest.mark.integration


def test_replicas_share_one_budget_per_key() -> None:
    async def run() -> list[bool]:
        prefix = f"attrition:test:{uuid.uuid4().hex}:"
        first = RedisRateLimiter(redis_test_url(), per_minute=4, prefix=prefix)
        second = RedisRateLimiter(redis_test_url(), per_minute=4, prefix=prefix)
        try:
            decisions = [await limiter.hit("key-a") for limiter in (first, second) * 3]
            other = await second.hit("key-b")
        finally:
            await first.close()
            await second.close()
        assert other.allowed
        refused = [d for d in decisions if not d.allowed]
        assert all(d.retry_after >= 1 for d in refused)
        return [d.allowed for d in decisions]

    assert asyncio.run(run()) == [True, True, True, True, False, False]


def test_an_unreachable_redis_falls_back_to_a_local_budget() -> None:
    async def run() -> list[bool]:
        limiter = RedisRateLimiter("redis://127.0.0.1:1/0", per_minute=2)
        try:
            return [(await limiter.hit("k")).allowed for _ in range(3)]
        finally:
            await limiter.close()

    local = MemoryRateLimiter(per_minute=2)
    expected = [asyncio.run(local.hit("k")).allowed for _ in range(3)]
    assert asyncio.run(run()) == expected == [True, True, False]
