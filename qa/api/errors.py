"""Error responses: every client error is a 4xx JSON body naming the field or cause; no tracebacks.

Validation errors keep FastAPI's ``detail`` list (``loc``, ``msg``, ``type``; without echoing the
input) and add a one-line ``message``. qa's own errors map to one status each (``STATUS``): bad input
422, not found 404, a conflict with the index's state (another model built it) 409, an index that is
damaged, of an old format or busy 503 with its message. Anything unexpected becomes a JSON 500 with no
internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.errors import BadInput, Conflict, NotFound, QAError, Unavailable

log = logging.getLogger("qa.api")


def field_error(field: str, message: str, location: str = "body") -> RequestValidationError:
    """A validation error on one request field, reported like pydantic's own."""
    return RequestValidationError([{"type": "value_error", "loc": (location, field), "msg": message}])


def require_text(value: str, field: str) -> str:
    """``value`` unless it is empty or whitespace only.

    Raises:
        RequestValidationError: naming ``field``.
    """
    if not value.strip():
        raise field_error(field, f"{field} must not be empty or whitespace only")
    return value


def _location(loc) -> str:
    parts = [str(p) for p in loc if p != "body"] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts) or "body"


def _clean(error: dict) -> dict:
    message = str(error.get("msg", ""))
    cause = (error.get("ctx") or {}).get("error")
    if error.get("type") == "json_invalid" and cause:
        message = f"{message}: {cause}"
    return {"loc": list(error.get("loc", ())), "msg": message, "type": error.get("type", "")}


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_clean(e) for e in exc.errors()]
    if any(e["type"] == "json_invalid" for e in errors):
        message = "malformed JSON body: " + "; ".join(e["msg"] for e in errors if e["type"] == "json_invalid")
    else:
        message = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
    return JSONResponse(status_code=422, content={"detail": errors, "message": message})


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if exc.detail is not None else "error"
    return JSONResponse(status_code=exc.status_code, content={"detail": detail},
                        headers=getattr(exc, "headers", None))


STATUS: dict[type[QAError], int] = {BadInput: 422, NotFound: 404, Conflict: 409, Unavailable: 503}


async def qa_error(request: Request, exc: QAError) -> JSONResponse:
    """qa's own errors: the status of the first kind in ``STATUS`` the error is, and its message."""
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
    if status >= 500:
        log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    return JSONResponse(status_code=status, content={"detail": str(exc)})


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(QAError, qa_error)
    app.add_exception_handler(Exception, unexpected_error)
