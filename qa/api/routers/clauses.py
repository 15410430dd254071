"""``GET /clauses/{clause_id}``: one clause with its document and its neighbours."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from qa.api.deps import SnapshotDep
from qa.schemas import Clause, ClauseDetail, Document

router = APIRouter(tags=["clauses"])


def whole_clauses(doc: Document) -> list[Clause]:
    """The document's clauses with the parts of a split clause joined back into one."""
    merged: list[Clause] = []
    for clause in doc.clauses:
        if merged and merged[-1].clause_id == clause.clause_id:
            first = merged[-1]
            merged[-1] = first.model_copy(update={"text": doc.body[first.char_start:clause.char_end],
                                                  "char_end": clause.char_end})
        else:
            merged.append(clause.model_copy(update={"passage_id": clause.clause_id, "part": 0}))
    return merged


@router.get("/clauses/{clause_id}", response_model=ClauseDetail, summary="A clause with its neighbours",
            responses={404: {"description": "unknown clause id"}})
def get_clause(clause_id: str, snapshot: SnapshotDep) -> ClauseDetail:
    """The whole clause (parts of a long clause joined), its document's metadata, and the clauses
    before and after it."""
    doc_id = clause_id.rsplit("-", 1)[0]
    doc = snapshot.index.documents.get(doc_id)
    clauses = whole_clauses(doc) if doc is not None else []
    position = next((i for i, c in enumerate(clauses) if c.clause_id == clause_id), None)
    if doc is None or position is None:
        raise HTTPException(404, f"unknown clause id {clause_id!r}")
    return ClauseDetail(clause=clauses[position], doc=doc.meta,
                        previous=clauses[position - 1] if position > 0 else None,
                        next=clauses[position + 1] if position + 1 < len(clauses) else None)
