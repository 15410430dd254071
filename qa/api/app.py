"""The FastAPI application: ``create_app(index_dir)`` loads the index and embedder once and mounts
one router per resource. OpenAPI at ``/docs`` (Swagger UI) and ``/openapi.json``.

Every response that depends on the index carries ``X-Index-Generation``: the generation it was
answered from.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.api import errors
from qa.api.background import Background
from qa.api.routers import ask, clauses, documents, feedback, health, phrase, search, similar
from qa.api.state import ServiceSettings, ServiceState

MULTIPART_SLACK = 64 * 1024  # multipart boundaries and headers on top of the files themselves

DESCRIPTION = """Semantic search and cited question answering over Chinese government policy documents.

* `POST /search` — ranked clauses, each with its citation (《title》（文号）position) and its official form.
* `POST /search/phrase` — every clause holding a phrase verbatim, with the true number of occurrences.
* `POST /ask` — an answer whose every sentence ends with `[n]`, pointing into `citations` (verbatim
  quotes with their offsets in the document body), or `answerable: false` with the nearest clauses.
* `POST /similar` — how other documents word a draft sentence, with the shared wording marked.
* `GET /documents`, `GET /documents/{doc_id}`, `GET /clauses/{clause_id}` — browse the collection.
* `POST /documents`, `DELETE /documents/{doc_id}` — change it; need `Authorization: Bearer $QA_API_TOKEN`.
* `POST /feedback`, `GET /feedback/export` — which clauses answered a question; `qa train` learns from them.
"""


class UploadSizeLimit:
    """Refuse an upload whose declared size is over the limit before its body is read (413).

    Args:
        app: the wrapped ASGI app.
        limit: largest accepted body, in bytes.
    """

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/") == "/documents":
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.limit + MULTIPART_SLACK:
                response = JSONResponse(status_code=413, content={
                    "detail": f"upload too large: {int(length)} bytes; the limit is {self.limit} bytes "
                              "(QA_MAX_UPLOAD_MB)"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _mount_local_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the assets of the swagger-ui-bundle package: air-gapped offices have no CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/_swagger", StaticFiles(directory=swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title,
                                   swagger_js_url="/_swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/_swagger/swagger-ui.css",
                                   swagger_favicon_url="/_swagger/favicon-32x32.png")


def create_app(index_dir: Path, model: str | None = None, settings: ServiceSettings | None = None) -> FastAPI:
    """Build the service over the index at ``index_dir``.

    Args:
        index_dir: the index folder (an empty or missing one serves an empty collection).
        model: embedding model override; None uses the model that built the index.
        settings: token, upload limit and LLM endpoint; None reads them from the environment.

    Returns:
        the FastAPI app, with the index loaded.

    Raises:
        EmbedderMismatchError: the model that built the index cannot be loaded.
    """
    settings = settings or ServiceSettings.from_env()
    state = ServiceState(Path(index_dir), model, settings)
    background = Background(state, poll_seconds=settings.poll_seconds, embed_job=settings.embed_job)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        background.start()
        yield
        background.stop()

    app = FastAPI(title="qa — policy document search and cited answers", version="0.1.0",
                  description=DESCRIPTION, docs_url=None, lifespan=lifespan)
    _mount_local_docs(app)
    app.state.service = state
    app.state.background = background
    errors.install(app)
    for module in (health, search, phrase, ask, similar, documents, clauses, feedback):
        app.include_router(module.router)
    app.add_middleware(UploadSizeLimit, limit=settings.max_upload_bytes)
    return app
