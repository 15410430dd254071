"""``POST /ask``: an answer whose every sentence quotes (or is checked against) the clause it cites."""

from __future__ import annotations

import time

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from qa.api.deps import SnapshotDep
from qa.api.errors import require_text
from qa.schemas import Answer, AskRequest

router = APIRouter(tags=["ask"])


@router.post("/ask", response_model=Answer, summary="A cited answer, or a refusal with the nearest clauses")
async def ask(request: AskRequest, snapshot: SnapshotDep) -> Answer:
    """Sentences end with ``[n]`` markers pointing into ``citations``; ``answerable`` is false when
    the documents hold no sufficient evidence (``nearest`` still lists the closest clauses)."""
    require_text(request.question, "question")
    started = time.perf_counter()
    answer = await run_in_threadpool(snapshot.answerer.answer, request.question, k=request.k, filters=request.filters)
    answer.took_ms = round((time.perf_counter() - started) * 1000, 2)
    return answer
