"""API keys: hash only, constant-time verify, roles, preloaded through an outage; and
`attrition keys create`, `list` and `revoke` through the real command line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from attrition.cli import app
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import ApiKey, AuditEvent
from attrition.errors import AttritionError
from attrition.serving.platform.api_keys import (
    KeyStore,
    Role,
    create_key,
    hash_key,
    hashing_key,
    revoke_key,
    split_key,
)
from attrition.settings import get_settings

SECRET = b"server-secret"
runner = CliRunner()


def last_json(output: str) -> dict[str, Any]:
    return dict(json.loads(output.strip().splitlines()[-1]))


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


def test_keys_create_prints_the_key_once_and_stores_its_hash(serving_env: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--name", "hr", "--role", "predictor", "--json"])
    assert result.exit_code == 0, result.output
    data = last_json(result.output)
    assert data["role"] == "predictor" and data["key"].startswith(f"atk_{data['key_id']}_")
    store = KeyStore(serving_env, get_settings().pseudonym_secret())
    principal = store.verify(data["key"])
    assert principal is not None and principal.role.name == "predictor"
    with session_scope(serving_env) as session:
        stored = session.scalars(select(ApiKey)).one()
    assert data["key"] not in stored.key_hash


def test_keys_list_and_revoke_end_a_key_everywhere_without_showing_secrets(
    serving_env: str,
) -> None:
    created = [
        last_json(
            runner.invoke(app, ["keys", "create", "--name", n, "--role", "viewer", "--json"]).output
        )
        for n in ("old-tool", "new-tool")
    ]
    store = KeyStore(serving_env, get_settings().pseudonym_secret(), ttl_seconds=0)
    assert store.verify(created[0]["key"]) is not None

    # the whole key is accepted too (users paste it), and revoking twice keeps the first time
    first = runner.invoke(app, ["keys", "revoke", created[0]["key"], "--json"])
    again = runner.invoke(app, ["keys", "revoke", created[0]["key_id"], "--json"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert last_json(first.output)["revoked_at"] == last_json(again.output)["revoked_at"]
    assert created[0]["key"].split("_", 2)[2] not in first.output
    assert store.verify(created[0]["key"]) is None
    assert store.verify(created[1]["key"]) is not None

    live = last_json(runner.invoke(app, ["keys", "list", "--json"]).output)["keys"]
    every = last_json(runner.invoke(app, ["keys", "list", "--all", "--json"]).output)["keys"]
    assert [k["name"] for k in live] == ["new-tool"]
    assert [(k["name"], k["revoked_at"] is None) for k in every] == [
        ("old-tool", False),
        ("new-tool", True),
    ]
    table = runner.invoke(app, ["keys", "list", "--all"]).output
    assert created[1]["key_id"] in table and created[1]["key"] not in table
    with session_scope(serving_env) as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["api_key.create", "api_key.create", "api_key.revoke"]


@pytest.mark.parametrize(
    ("given", "message"),
    [("0123456789abcdef", "no API key '0123456789abcdef'"), ("not-a-key", "16 hexadecimal")],
)
def test_keys_revoke_names_the_field_for_a_bad_or_unknown_id(
    serving_env: str, given: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from attrition.cli import main

    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit) as exit_info:
        patch.setattr("sys.argv", ["attrition", "keys", "revoke", given])
        main()
    assert exit_info.value.code == 1
    said = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "key_id" in said and message in said and "Traceback" not in said


def test_keys_create_refuses_an_unknown_role(serving_env: str) -> None:
    from attrition.cli import main

    with pytest.raises(SystemExit) as exit_info:
        import sys

        argv, sys.argv = sys.argv, ["attrition", "keys", "create", "--name", "x", "--role", "root"]
        try:
            main()
        finally:
            sys.argv = argv
    assert exit_info.value.code == 1
