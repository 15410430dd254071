"""``POST /search/phrase``: every clause holding a phrase verbatim, with the true number of occurrences."""

from __future__ import annotations

import time

from fastapi import APIRouter

from qa.api.deps import SnapshotDep
from qa.api.errors import require_text
from qa.retrieval.phrase import allowed_documents, find_phrase
from qa.schemas import PhraseRequest, PhraseResponse

router = APIRouter(tags=["search"])


@router.post("/search/phrase", response_model=PhraseResponse, summary="Every clause holding a phrase verbatim")
def search_phrase(request: PhraseRequest, snapshot: SnapshotDep) -> PhraseResponse:
    """Counts of the phrase over the whole (filtered) collection and per document, and the clauses holding it
    (``spans``: the occurrences in each clause's ``text``), in document order; nothing below a score, nothing
    padded."""
    require_text(request.phrase, "phrase")
    started = time.perf_counter()
    allowed = allowed_documents(snapshot.searcher, request.filters)
    response = find_phrase(snapshot.index, request.phrase, allowed, limit=request.limit)
    response.took_ms = round((time.perf_counter() - started) * 1000, 2)
    return response
