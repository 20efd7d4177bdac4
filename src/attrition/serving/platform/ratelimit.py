"""Per-key rate limits (GCRA): in memory, or shared through Redis across processes.

GCRA keeps one timestamp per key (the "theoretical arrival time"): a steady rate of
``limit`` requests a minute with bursts of up to ``limit`` requests, and an exact
``Retry-After`` for a refused request.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)

_REDIS_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2]) * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - burst
if wait > 0 then return tostring(wait) end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(burst * 1000) + 1000)
return '0'
"""


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a request may go on, and if not how many whole seconds to wait."""

    allowed: bool
    retry_after: int = 0


ALLOW = Decision(True)


def gcra(tat: float, now: float, interval: float, burst: int) -> tuple[float | None, float]:
    """One GCRA step: (new stored time or None when refused, seconds to wait)."""
    new_tat = max(tat, now) + interval
    wait = new_tat - now - burst * interval
    if wait > 0:
        return None, wait
    return new_tat, 0.0


def _refuse(wait: float) -> Decision:
    return Decision(False, max(1, math.ceil(wait)))


class RateLimiter(Protocol):
    async def hit(self, key: str) -> Decision: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """A per-process limiter; each worker process has its own budget."""

    def __init__(self, per_minute: int) -> None:
        self._interval = 60.0 / per_minute
        self._burst = per_minute
        self._tat: dict[str, float] = {}

    async def hit(self, key: str) -> Decision:
        return self.hit_sync(key)

    def hit_sync(self, key: str) -> Decision:
        now = time.monotonic()
        new_tat, wait = gcra(self._tat.get(key, now), now, self._interval, self._burst)
        if new_tat is None:
            return _refuse(wait)
        self._tat[key] = new_tat
        if len(self._tat) > 100_000:  # bounded memory: forget keys that are fully refilled
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        return ALLOW

    async def close(self) -> None:
        return None


class RedisRateLimiter:
    """One budget per key shared by every process using the same Redis.

    If Redis cannot be reached the request is judged by a local in-memory limiter
    instead (logged), so an outage of the limiter does not become an outage of the API.
    """

    def __init__(self, url: str, per_minute: int, prefix: str = "attrition:rl:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_REDIS_GCRA)
        self._interval = 60.0 / per_minute
        self._burst = per_minute
        self._prefix = prefix
        self._fallback = MemoryRateLimiter(per_minute)
        self._warned = False

    async def hit(self, key: str) -> Decision:
        try:
            raw = await self._script(keys=[self._prefix + key], args=[self._interval, self._burst])
        except Exception as error:
            if not self._warned:
                logger.warning(
                    "rate limiter: redis unreachable, limiting per process (%s)",
                    type(error).__name__,
                )
                self._warned = True
            return self._fallback.hit_sync(key)
        self._warned = False
        wait = float(raw.decode() if isinstance(raw, bytes) else raw)
        return _refuse(wait) if wait > 0 else ALLOW

    async def close(self) -> None:
        await self._redis.aclose()


def make_rate_limiter(per_minute: int, redis_url: str | None) -> RateLimiter:
    """Redis-backed when a URL is configured, else in memory."""
    if redis_url:
        return RedisRateLimiter(redis_url, per_minute)
    return MemoryRateLimiter(per_minute)


class FailureLimiter:
    """Failed authentications per client address and per key id, in fixed one-minute
    windows: past ``per_minute`` failures, a name is refused (429) until its window ends.

    In memory, per process, and bounded: at most ``max_names`` names are remembered (the
    oldest forgotten first), so forged key ids cannot grow it. Called on the event loop.
    """

    WINDOW_SECONDS = 60.0

    def __init__(self, per_minute: int, max_names: int = 10_000) -> None:
        from collections import OrderedDict

        self._limit = per_minute
        self._max = max_names
        self._names: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._names)

    def retry_after(self, *names: str | None) -> int:
        """Whole seconds until every named one may try again; 0 when none is blocked."""
        now = time.monotonic()
        waits = [0.0]
        for name in names:
            entry = self._names.get(name) if name else None
            if entry is not None and entry[1] >= self._limit:
                waits.append(self.WINDOW_SECONDS - (now - entry[0]))
        wait = max(waits)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def record(self, *names: str | None) -> None:
        """One failure for each named one."""
        now = time.monotonic()
        for name in names:
            if not name:
                continue
            start, count = self._names.pop(name, (now, 0))
            if now - start >= self.WINDOW_SECONDS:
                start, count = now, 0
            self._names[name] = (start, count + 1)
        while len(self._names) > self._max:
            self._names.popitem(last=False)
