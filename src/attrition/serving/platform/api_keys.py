"""API keys: random secrets with a public key id, stored only as keyed hashes.

A key looks like ``atk_<key id>_<secret>``. The key id is public (it goes in logs and the
audit trail); the database keeps ``HMAC-SHA256(server secret, key)`` and nothing else, so
verification is one HMAC and a constant-time compare, not a slow password hash.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from attrition.audit import AuditAction, record_event
from attrition.db.engine import session_scope
from attrition.db.models import ApiKey
from attrition.db.types import utcnow
from attrition.errors import AttritionError

KEY_PREFIX = "atk"
_KEY_RE = re.compile(r"^atk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_HASH_LABEL = b"attrition/api-key-hash/v1"


class Role(enum.IntEnum):
    """Roles in increasing power: each one may do what the ones below it may."""

    viewer = 1
    predictor = 2
    admin = 3

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.strip().lower()]
        except KeyError:
            allowed = ", ".join(role.name for role in cls)
            raise AttritionError(f"role: {value!r} is not allowed; use one of {allowed}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the public key id, the key's name and its role."""

    key_id: str
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created key; ``secret`` is shown once and never stored."""

    key_id: str
    name: str
    role: Role
    secret: str


def hashing_key(server_secret: bytes) -> bytes:
    """The HMAC key for API keys, derived from the server secret (domain separated)."""
    return hmac.new(server_secret, _HASH_LABEL, hashlib.sha256).digest()


def hash_key(raw_key: str, hmac_key: bytes) -> str:
    """The stored form of a key: hex HMAC-SHA256."""
    return hmac.new(hmac_key, raw_key.encode(), hashlib.sha256).hexdigest()


def split_key(raw_key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    match = _KEY_RE.match(raw_key)
    return match.group(1) if match else None


def generate_key() -> tuple[str, str]:
    """A new (key id, full key) pair: 64 bits of public id, 256 bits of secret."""
    key_id = secrets.token_hex(8)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def create_key(name: str, role: str, *, database_url: str, server_secret: bytes) -> NewKey:
    """Store a new key's hash and an audit event; return the key (the only time it is seen)."""
    clean_name = name.strip()
    if not clean_name or len(clean_name) > 255:
        raise AttritionError("name: must be 1 to 255 characters")
    parsed = Role.parse(role)
    key_id, raw_key = generate_key()
    with session_scope(database_url) as session:
        session.add(
            ApiKey(
                key_id=key_id,
                name=clean_name,
                role=parsed.name,
                key_hash=hash_key(raw_key, hashing_key(server_secret)),
            )
        )
        record_event(
            session,
            actor="cli",
            action=AuditAction.API_KEY_CREATE,
            target=key_id,
            details={"name": clean_name, "role": parsed.name},
        )
    return NewKey(key_id=key_id, name=clean_name, role=parsed, secret=raw_key)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What may be shown about a key: never its secret or its hash."""

    key_id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> KeyInfo:
        return cls(row.key_id, row.name, row.role, row.created_at, row.revoked_at)

    def as_dict(self) -> dict[str, str | None]:
        revoked = self.revoked_at.isoformat() if self.revoked_at else None
        return {"key_id": self.key_id, "name": self.name, "role": self.role,
                "created_at": self.created_at.isoformat(), "revoked_at": revoked}  # fmt: skip


def list_keys(database_url: str, *, include_revoked: bool = False) -> list[KeyInfo]:
    """Every live key (and the revoked ones if asked), oldest first."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    with session_scope(database_url) as session:
        return [KeyInfo.of(row) for row in session.scalars(query)]


def parse_key_id(value: str) -> str:
    """A key id from a key id or a whole key (whose secret part is ignored)."""
    candidate = value.strip()
    key_id = split_key(candidate) or (candidate if _KEY_ID_RE.match(candidate) else None)
    if key_id is None:
        raise AttritionError(
            "key_id: expected the 16 hexadecimal characters after `atk_` "
            "(as `attrition keys list` shows them), or the whole key"
        )
    return key_id


def revoke_key(value: str, *, database_url: str, actor: str = "cli") -> KeyInfo:
    """Revoke a key by id (idempotent: an already revoked key keeps its first revocation
    time); audited. Replicas stop accepting it within their key cache's lifetime."""
    key_id = parse_key_id(value)
    with session_scope(database_url) as session:
        row = session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).first()
        if row is None:
            raise AttritionError(f"key_id: no API key {key_id!r}; `attrition keys list` shows them")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            record_event(session, actor=actor, action=AuditAction.API_KEY_REVOKE, target=key_id,
                         details={"name": row.name, "role": row.role})  # fmt: skip
        session.flush()
        return KeyInfo.of(row)


@dataclass(frozen=True, slots=True)
class _Record:
    name: str
    role: Role
    key_hash: str
    revoked: bool


class KeyStore:
    """Verifies keys against the ``api_key`` table through a short-lived in-memory cache.

    The cache keeps the request path free of database round-trips and keeps known keys
    working while the database is briefly unreachable. Revocations take effect within
    ``ttl_seconds``. Key ids found in the table are cached (as many as the table holds);
    unknown ones only in a bounded set of the ``max_unknown`` most recent, so forged key ids
    cannot grow memory.
    """

    def __init__(
        self,
        database_url: str,
        server_secret: bytes,
        ttl_seconds: float = 10.0,
        max_unknown: int = 1024,
    ):
        self._url = database_url
        self._hmac_key = hashing_key(server_secret)
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, _Record | None]] = {}
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._max_unknown = max_unknown
        self._lock = threading.Lock()

    @property
    def cached_ids(self) -> int:
        """How many key ids the cache holds (known and unknown)."""
        return len(self._cache) + len(self._unknown)

    def knows(self, raw_key: str) -> bool:
        """Whether the key's id is one the table had when last read (however long ago)."""
        key_id = split_key(raw_key)
        return key_id is not None and key_id in self._cache

    def cached(self, raw_key: str) -> tuple[bool, Principal | None]:
        """(hit, principal) from the cache alone: hit False means look in the database."""
        key_id = split_key(raw_key)
        if key_id is None:
            return True, None
        entry = self._cache.get(key_id)
        if entry is None:
            seen = self._unknown.get(key_id)
            entry = (seen, None) if seen is not None else None
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return False, None
        return True, self._check(raw_key, key_id, entry[1])

    def verify(self, raw_key: str) -> Principal | None:
        """The principal for a key, or None; may read the database (call off the event loop)."""
        hit, principal = self.cached(raw_key)
        if hit:
            return principal
        key_id = split_key(raw_key)
        assert key_id is not None  # a malformed key is always a cache hit
        record = self._load(key_id)
        return self._check(raw_key, key_id, record)

    def _check(self, raw_key: str, key_id: str, record: _Record | None) -> Principal | None:
        expected = record.key_hash if record is not None else "0" * 64
        matches = hmac.compare_digest(hash_key(raw_key, self._hmac_key), expected)
        if record is None or record.revoked or not matches:
            return None
        return Principal(key_id=key_id, name=record.name, role=record.role)

    def warm(self) -> int:
        """Cache every key of the table now (one query), so that this process honours known
        keys through a database outage even if none of them reached it before the outage.
        Returns how many keys were cached; raises if the database is unreachable."""
        with session_scope(self._url) as session:
            rows = session.scalars(select(ApiKey)).all()
            records = {row.key_id: _record_of(row) for row in rows}
        now = time.monotonic()
        with self._lock:
            for key_id, record in records.items():
                self._cache.setdefault(key_id, (now, record))
        return len(records)

    def _load(self, key_id: str) -> _Record | None:
        try:
            with session_scope(self._url) as session:
                row = session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).first()
        except Exception:
            stale = self._cache.get(key_id)
            if stale is not None:  # database down: keep honouring a key we already know,
                with self._lock:  # and ask again only after another ttl
                    self._cache[key_id] = (time.monotonic(), stale[1])
                return stale[1]
            raise
        record = _record_of(row) if row is not None else None
        with self._lock:
            if row is None:
                self._unknown.pop(key_id, None)
                self._unknown[key_id] = time.monotonic()
                while len(self._unknown) > self._max_unknown:
                    self._unknown.popitem(last=False)
            else:
                self._unknown.pop(key_id, None)
                self._cache[key_id] = (time.monotonic(), record)
        return record


def _record_of(row: ApiKey) -> _Record | None:
    """The cached form of a row; None for a role this version does not know (refused)."""
    if row.role not in Role.__members__:
        return None
    return _Record(row.name, Role[row.role], row.key_hash, row.revoked_at is not None)
