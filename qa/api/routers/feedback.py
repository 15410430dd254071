"""``/feedback``: officials mark the clauses that answered a question (👍) or did not (👎). A 👍 counts from the
next search on (the feedback memory); ``qa train`` learns from all of them. Writing needs the API token, like
uploads; the export is JSONL, one record a line."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import PlainTextResponse

from qa.api.deps import StateDep, require_token
from qa.api.errors import require_text
from qa.feedback.store import FeedbackStore, UnknownClauses
from qa.index.catalog import Catalog, CatalogError
from qa.schemas import FeedbackRequest, FeedbackResult

router = APIRouter(tags=["feedback"])


def _store(state) -> FeedbackStore:
    try:
        return FeedbackStore(Catalog(state.index_dir))
    except CatalogError as err:
        raise HTTPException(409, f"no index to attach feedback to: {err}") from None


@router.post("/feedback", response_model=FeedbackResult, status_code=201, dependencies=[Depends(require_token)],
             summary="Store which clauses were useful for a question (needs the API token)",
             responses={401: {"description": "missing or wrong bearer token"},
                        403: {"description": "writes are disabled (no QA_API_TOKEN on the server)"},
                        422: {"description": "an unknown clause id, or a malformed record; nothing is stored"}})
def add_feedback(request: FeedbackRequest, state: StateDep) -> FeedbackResult:
    require_text(request.question, "question")
    if not request.useful and not request.not_useful:
        raise HTTPException(422, "useful / not_useful: mark at least one clause")
    store = _store(state)
    try:
        record_id = store.add(request)
    except UnknownClauses as err:
        raise HTTPException(422, str(err)) from None
    finally:
        store.catalog.close()
    if request.useful:
        state.remember()
    return FeedbackResult(id=record_id, stored=1)


@router.get("/feedback/export", response_class=PlainTextResponse, summary="Every feedback record, as JSONL",
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export_feedback(state: StateDep) -> PlainTextResponse:
    store = _store(state)
    try:
        lines = [record.model_dump_json() for record in store.records()]
    finally:
        store.catalog.close()
    return PlainTextResponse("\n".join(lines) + ("\n" if lines else ""), media_type="application/x-ndjson")
