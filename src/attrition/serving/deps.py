"""What route handlers receive from FastAPI: the app's serving state, a database session
around the handler, and the calling key admitted for a role.

Use them as annotations, ``who: Viewer, state: State, session: DatabaseSession``; declare
the key first, so a refused key is answered before anything else is set up. The fast
prediction routes take none of these (see ``routes/predictions.py``): they call
``state_of`` and ``platform.access.authorize`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from attrition.db.engine import session_scope
from attrition.serving.platform.access import require
from attrition.serving.platform.api_keys import Principal, Role
from attrition.serving.state import ServingState


def state_of(request: Request) -> ServingState:
    """The serving state of the app that took ``request`` (built by ``create_app``)."""
    state: ServingState = request.app.state.serving
    return state


async def serving_state(request: Request) -> ServingState:
    # async: FastAPI would run a plain function in its thread pool, a hop for nothing here
    return state_of(request)


def database_session(state: Annotated[ServingState, Depends(serving_state)]) -> Iterator[Session]:
    """A session on the app's database, committed when the handler returns and rolled back
    when it raises; a database error then answers 503 (``errors.py``)."""
    with session_scope(state.settings.database_url) as session:
        yield session


State = Annotated[ServingState, Depends(serving_state)]
# scope "function": the commit happens before the response is sent, so a failed commit
# answers 503 rather than following a 200.
DatabaseSession = Annotated[Session, Depends(database_session, scope="function")]
Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Predictor = Annotated[Principal, Depends(require(Role.predictor))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
