"""``POST /search``: ranked clauses with citations."""

from __future__ import annotations

import functools
import time

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from qa.api.deps import SnapshotDep
from qa.api.errors import require_text
from qa.schemas import SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponse, summary="Ranked clauses for a query")
async def search(request: SearchRequest, snapshot: SnapshotDep) -> SearchResponse:
    """Hybrid (default), dense or lexical search; each hit is a whole clause with its citation."""
    require_text(request.query, "query")
    started = time.perf_counter()
    search = functools.partial(snapshot.searcher.search, request.query, k=request.k, mode=request.mode,
                               filters=request.filters)
    # a lexical search is a few milliseconds of work that holds the GIL anyway: answered on the event loop, as a
    # hop to the thread pool and back costs about as much; the model's encoding of a question goes to a thread
    hits = search() if request.mode == "lexical" else await run_in_threadpool(search)
    return SearchResponse(hits=hits, took_ms=round((time.perf_counter() - started) * 1000, 2))
