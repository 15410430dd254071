"""Dependencies shared by the routers: the state, the request's snapshot, the write token.

They are ``async`` because they only read attributes: FastAPI runs a plain ``def`` dependency in its thread
pool, a hop that costs more than the lexical search itself.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa.api.state import ServiceState, Snapshot

GENERATION_HEADER = "X-Index-Generation"
_bearer = HTTPBearer(auto_error=False, description="the value of QA_API_TOKEN on the server")


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_snapshot(response: Response, state: StateDep) -> Snapshot:
    """The index this request is answered from (taken once), named in ``X-Index-Generation``."""
    snapshot = state.snapshot
    response.headers[GENERATION_HEADER] = str(snapshot.generation)
    return snapshot


async def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                  state: StateDep) -> None:
    """Allow the request only with ``Authorization: Bearer <QA_API_TOKEN>``.

    Raises:
        HTTPException: 403 when the server has no token (writes disabled), 401 for a missing or wrong one.
    """
    expected = state.settings.api_token
    if not expected:
        raise HTTPException(403, "uploads and deletes are disabled: the server was started without QA_API_TOKEN")
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <QA_API_TOKEN>'",
                            headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(401, "wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
