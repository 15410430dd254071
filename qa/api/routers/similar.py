"""``POST /similar``: how other documents word what a draft sentence says."""

from __future__ import annotations

from fastapi import APIRouter

from qa.api.deps import SnapshotDep
from qa.api.errors import require_text
from qa.schemas import SimilarRequest, SimilarResponse

router = APIRouter(tags=["similar"])


@router.post("/similar", response_model=SimilarResponse, summary="Clauses worded like a draft sentence")
def similar(request: SimilarRequest, snapshot: SnapshotDep) -> SimilarResponse:
    """Clauses close to ``text`` outside ``exclude_doc_ids``, grouped by document; ``shared`` spans
    (offsets into each clause's ``text``) mark the wording the draft shares."""
    require_text(request.text, "text")
    return snapshot.similar.find(request.text, k=request.k, exclude_doc_ids=request.exclude_doc_ids)
