"""API keys (hash only, constant-time verify, roles) and GCRA rate limits."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import ApiKey, AuditEvent
from attrition.errors import AttritionError
from attrition.serving.auth import (
    KeyStore,
    Role,
    create_key,
    hash_key,
    hashing_key,
    revoke_key,
    split_key,
)
from attrition.serving.ratelimit import MemoryRateLimiter, gcra

SECRET = b"server-secret"


def test_keys_are_random_prefixed_and_stored_only_as_keyed_hashes(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    first = create_key("dashboard", "viewer", database_url=sqlite_url, server_secret=SECRET)
    second = create_key("dashboard", "viewer", database_url=sqlite_url, server_secret=SECRET)
    assert first.secret != second.secret and first.key_id != second.key_id
    assert first.secret.startswith(f"atk_{first.key_id}_") and len(first.secret) == 64
    assert split_key(first.secret) == first.key_id
    with session_scope(sqlite_url) as session:
        row = session.scalars(select(ApiKey).where(ApiKey.key_id == first.key_id)).one()
        assert row.key_hash == hash_key(first.secret, hashing_key(SECRET))
        dump = "\n".join(str(r) for r in session.execute(text("SELECT * FROM api_key")).all())
        dump += "\n".join(str(r) for r in session.execute(text("SELECT * FROM audit_event")).all())
        assert session.scalars(select(AuditEvent.action)).all() == ["api_key.create"] * 2
    secret_part = first.secret.split("_", 2)[2]
    assert first.secret not in dump and secret_part not in dump


def test_verification_accepts_only_the_exact_live_key(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    key = create_key("hr-tool", "predictor", database_url=sqlite_url, server_secret=SECRET)
    store = KeyStore(sqlite_url, SECRET, ttl_seconds=0)
    principal = store.verify(key.secret)
    assert principal is not None and principal.role is Role.predictor
    assert principal.key_id == key.key_id and principal.name == "hr-tool"
    tampered = key.secret[:-1] + ("A" if key.secret[-1] != "A" else "B")
    assert store.verify(tampered) is None
    assert store.verify("not-a-key") is None
    assert store.verify(f"atk_{'0' * 16}_{'x' * 43}") is None
    assert KeyStore(sqlite_url, b"other secret").verify(key.secret) is None
    with session_scope(sqlite_url) as session:
        row = session.scalars(select(ApiKey)).one()
        row.revoked_at = row.created_at
    assert store.verify(key.secret) is None


def test_known_keys_keep_working_from_cache_when_the_database_is_down(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    key = create_key("svc", "admin", database_url=sqlite_url, server_secret=SECRET)
    store = KeyStore(sqlite_url, SECRET, ttl_seconds=0)
    assert store.verify(key.secret) is not None
    store._url = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # an unreachable database
    assert store.verify(key.secret) is not None


def test_roles_are_ordered_and_parsed_with_a_clear_error() -> None:
    assert Role.viewer < Role.predictor < Role.admin
    assert Role.parse(" Admin ") is Role.admin
    with pytest.raises(AttritionError, match="role: 'root' is not allowed; use one of viewer"):
        Role.parse("root")


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


def test_preloaded_keys_survive_a_database_outage_and_unseen_keys_do_not(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    live = create_key("dashboard", "viewer", database_url=sqlite_url, server_secret=SECRET)
    gone = create_key("old-tool", "viewer", database_url=sqlite_url, server_secret=SECRET)
    revoke_key(gone.key_id, database_url=sqlite_url)
    warm = KeyStore(sqlite_url, SECRET, ttl_seconds=0)  # ttl 0: every check asks the database
    cold = KeyStore(sqlite_url, SECRET, ttl_seconds=0)
    assert warm.warm() == 2
    with session_scope(sqlite_url) as session:  # the database stops answering for keys
        session.execute(text("DROP TABLE api_key"))
    principal = warm.verify(live.secret)
    assert principal is not None and principal.key_id == live.key_id
    assert warm.verify(gone.secret) is None, "a revoked key stays refused"
    assert warm.verify(live.secret[:-2] + "xx") is None, "a wrong secret stays refused"
    with pytest.raises(OperationalError):
        cold.verify(live.secret)  # never seen, cannot be checked: the API answers 503
