"""The handlers' dependencies: the app's state, and a database session committed before
the response (a failed commit answers 503) and rolled back when the handler raises."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from attrition.db.engine import session_scope
from attrition.errors import ConflictError
from attrition.serving.deps import DatabaseSession, State, state_of
from attrition.serving.errors import DATABASE_UNAVAILABLE, install_error_handlers


@pytest.fixture
def app(sqlite_url: str) -> FastAPI:
    with session_scope(sqlite_url) as session:
        session.execute(text("CREATE TABLE note (body TEXT)"))
    app = FastAPI()
    app.state.serving = SimpleNamespace(settings=SimpleNamespace(database_url=sqlite_url))
    install_error_handlers(app)

    @app.post("/notes/{body}")
    def add(body: str, session: DatabaseSession) -> str:
        session.execute(text("INSERT INTO note VALUES (:body)"), {"body": body})
        if body == "refused":
            raise ConflictError("refused after writing")
        return body

    @app.get("/state")
    async def same(state: State) -> bool:
        return state is app.state.serving

    return app


def notes(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(text("SELECT body FROM note")))


def test_the_session_commits_when_the_handler_returns(app: FastAPI, sqlite_url: str) -> None:
    assert TestClient(app).post("/notes/kept").status_code == 200
    assert notes(sqlite_url) == ["kept"]


def test_the_session_rolls_back_when_the_handler_raises(app: FastAPI, sqlite_url: str) -> None:
    response = TestClient(app).post("/notes/refused")
    assert response.status_code == 409 and response.json() == {"detail": "refused after writing"}
    assert notes(sqlite_url) == []


def test_a_failed_commit_answers_503_not_200(
    app: FastAPI, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Session, "commit", fail)
    response = TestClient(app).post("/notes/lost")
    assert response.status_code == 503 and response.json() == {"detail": DATABASE_UNAVAILABLE}


def test_the_state_is_the_apps(app: FastAPI) -> None:
    assert TestClient(app).get("/state").json() is True
    request = SimpleNamespace(app=app)
    assert state_of(request) is app.state.serving  # type: ignore[arg-type]
