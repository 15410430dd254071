"""What the service reports and accepts besides searches: health, clause details, uploads, deletes, feedback."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.schemas.documents import Clause, DocumentMeta, IngestReport
from qa.schemas.search import MAX_QUERY_CHARS, Filters


class DenseCoverage(BaseModel):
    """How many passages dense search reaches, and with whose vectors."""

    model_vectors: int = 0
    student_vectors: int = 0
    without_vectors: int = 0
    share_model: float = 0.0


class Health(BaseModel):
    """``GET /health``: counts, the embedder in use (or why there is none), dense coverage, the embedding job."""

    status: str
    documents: int
    clauses: int
    passages: int
    embedder: dict | None = None
    embedder_is_fallback: bool | None = None
    embedder_error: str | None = None
    dense: DenseCoverage = Field(default_factory=DenseCoverage)
    storage: dict | None = None
    embed_job: dict | None = None
    index_generation: int | None = None
    index_format: int | None = None
    uploads_enabled: bool = False
    max_upload_mb: float | None = None


class ClauseDetail(BaseModel):
    """``GET /clauses/{clause_id}``: the clause and its neighbours in the document."""

    clause: Clause
    doc: DocumentMeta
    previous: Clause | None = None
    next: Clause | None = None


class UploadedFile(BaseModel):
    """What became of one uploaded file: ``added``, ``replaced``, ``duplicate`` (of ``doc_id``) or ``rejected``."""

    name: str
    status: Literal["added", "replaced", "duplicate", "rejected"]
    doc_id: str | None = None
    reason: str | None = None


class UploadResult(BaseModel):
    """``POST /documents``: each file's result, and the ingest report."""

    files: list[UploadedFile] = Field(default_factory=list)
    report: IngestReport


class DeleteResult(BaseModel):
    """``DELETE /documents/{doc_id}``: what was removed and what the index holds now."""

    removed: list[str]
    documents: int
    index_generation: int | None = None


# -- feedback -------------------------------------------------------------------------------------
class FeedbackRequest(BaseModel):
    """``POST /feedback``: which of the clauses shown for a question were useful, and which were not.

    Clause ids must be those of the index (``Hit.clause_id``); an unknown one rejects the whole record.
    """

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    filters: Filters | None = None
    shown: list[str] = Field(default_factory=list, max_length=200)
    useful: list[str] = Field(default_factory=list, max_length=100)
    not_useful: list[str] = Field(default_factory=list, max_length=100)
    client: str | None = Field(default=None, max_length=200)


class FeedbackRecord(FeedbackRequest):
    """One stored piece of feedback."""

    model_config = ConfigDict(extra="forbid")

    id: int
    created: str
    source: str = "api"


class FeedbackResult(BaseModel):
    id: int
    stored: int


class ImportReport(BaseModel):
    """``qa feedback import``: records stored, and the strings that matched no clause (reported, not guessed)."""

    stored: int = 0
    skipped: int = 0
    unmatched: list[dict] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
