"""``POST /search``: ranked clauses with citations."""

from __future__ import annotations

import time

from fastapi import APIRouter

from qa.api.deps import SnapshotDep
from qa.api.errors import require_text
from qa.schemas import SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponse, summary="Ranked clauses for a query")
def search(request: SearchRequest, snapshot: SnapshotDep) -> SearchResponse:
    """Hybrid (default), dense or lexical search; each hit is a whole clause with its citation."""
    require_text(request.query, "query")
    started = time.perf_counter()
    hits = snapshot.searcher.search(request.query, k=request.k, mode=request.mode, filters=request.filters)
    return SearchResponse(hits=hits, took_ms=round((time.perf_counter() - started) * 1000, 2))
