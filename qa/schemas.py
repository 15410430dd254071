"""The pydantic models shared by the index, the CLI's ``--json``, the service and the UI.

Data flow: ``DocumentMeta`` + body → ``Clause`` list → ``Hit`` (search) → ``Answer`` (ask).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from qa.documents.official import document_status, official_citation

SearchMode = Literal["hybrid", "dense", "lexical"]
DocKind = Literal["policy", "law", "media", "other"]


class DocumentMeta(BaseModel):
    """Metadata of one ingested document.

    Args:
        doc_id: stable id derived from the source file's folder and name.
        title: the document's own title (the plan's title where a notice wraps a plan).
        notice_title: the wrapping notice's title (``关于印发…的通知``), if any.
        doc_number: 文号 normalised to ``〔〕`` brackets.
        issuer: issuing body (发文机关).
        region: city or county the document belongs to.
        written_date: 成文日期, ISO ``YYYY-MM-DD``.
        published_date: 发布日期, ISO ``YYYY-MM-DD``.
        validity: 有效性 as stated (``有效``, ``失效``…).
        source_path: path of the source file when ingested.
        source_name: the file's name as its sender gave it (uploads are stored under generated names).
        sha256: hash of the source bytes; re-ingest skips unchanged files by it.
        format: source format (``txt``, ``md``, ``html``, ``docx``, ``pdf``).
        period_start, period_end: the plan period its title names (``2023—2025年``), if any.
        years: the years its text speaks of (``2025年``), for telling a question about another year apart.
        kind: ``policy`` (政策文件), ``law`` (法律法规), ``media`` (媒体报道) or ``other``, detected at ingest.
    """

    model_config = ConfigDict(extra="forbid")

    doc_id: str
    title: str
    notice_title: str | None = None
    doc_number: str | None = None
    issuer: str | None = None
    region: str | None = None
    written_date: str | None = None
    published_date: str | None = None
    validity: str | None = None
    source_path: str
    source_name: str | None = None
    sha256: str
    format: str
    char_count: int = 0
    clause_count: int = 0
    period_start: int | None = None
    period_end: int | None = None
    years: list[int] = Field(default_factory=list)
    kind: DocKind = "other"

    @property
    def status(self) -> str:
        """有效 / 已到期 (plan period ended before this year) / 失效 / 未注明, as of today (never stored)."""
        return document_status(self.validity, self.period_end)

    @property
    def date(self) -> str | None:
        """The date an official would cite: written date, else published date."""
        return self.written_date or self.published_date

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date else None


class Clause(BaseModel):
    """The smallest numbered unit of a document (or one part of a long one).

    ``text == body[char_start:char_end]`` always holds. Parts of a split clause share
    ``clause_id`` and ``citation`` and differ in ``part``.

    Args:
        clause_id: stable id, ``{doc_id}-{ordinal}``.
        passage_id: unique id of this passage, ``{clause_id}`` or ``{clause_id}#p{part}``.
        heading_path: ancestors as ``label + heading``, outermost first.
        label: the clause's own number as written (``4.``, ``（二）``, ``第十条``); None for unnumbered text.
        heading: the clause's heading text, if it has one.
        kind: numbering style (``article``, ``chapter``, ``cn``, ``paren_cn``, ``digit``, ``paren_digit``, ``circled``, ``preamble``).
        position: the clause's position as officials write it, e.g. ``三、(二)4.`` or ``第十条``.
        citation: ``《title》（文号）position``.
    """

    model_config = ConfigDict(extra="forbid")

    clause_id: str
    passage_id: str
    doc_id: str
    ordinal: int
    part: int = 0
    parts: int = 1
    heading_path: list[str] = Field(default_factory=list)
    label: str | None = None
    heading: str | None = None
    kind: str = "preamble"
    position: str = ""
    text: str
    char_start: int
    char_end: int
    citation: str = ""


class Document(BaseModel):
    """A parsed document: metadata, cleaned body text and its clauses."""

    meta: DocumentMeta
    body: str
    clauses: list[Clause]


class IngestError(BaseModel):
    """One file that could not be ingested, and why."""

    path: str
    error: str


class Duplicate(BaseModel):
    """A file whose bytes are those of a document already held (under another name or id)."""

    path: str
    doc_id: str


class IngestReport(BaseModel):
    """Summary of one ``qa ingest`` run."""

    added: list[str] = Field(default_factory=list)
    replaced: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    duplicates: list[Duplicate] = Field(default_factory=list)
    errors: list[IngestError] = Field(default_factory=list)
    documents: int = 0
    clauses: int = 0
    teacher_vectors: int = 0
    student_vectors: int = 0
    seconds: float = 0.0


class Filters(BaseModel):
    """Restrictions applied to a search."""

    model_config = ConfigDict(extra="forbid")

    region: list[str] | None = None
    issuer: list[str] | None = None
    doc_ids: list[str] | None = None
    year_from: int | None = None
    year_to: int | None = None
    validity: list[str] | None = None


class ClauseRef(BaseModel):
    """A clause as shown to a reader: its text, where it sits, and how to cite it."""

    clause_id: str
    doc_id: str
    doc_title: str
    doc_number: str | None = None
    issuer: str | None = None
    region: str | None = None
    date: str | None = None
    heading_path: list[str]
    label: str | None = None
    heading: str | None = None
    text: str
    char_start: int
    char_end: int
    citation: str

    @computed_field
    @property
    def official(self) -> str:
        """The citation as officials write it: 发文机关《标题》（文号，成文日期）三、（二）4.

        ``citation`` is ``《title》（文号）`` + the clause's parsed position (``qa.documents.loader``), so the
        position is what follows that prefix.
        """
        prefix = f"《{self.doc_title}》" + (f"（{self.doc_number}）" if self.doc_number else "")
        position = self.citation[len(prefix):] if self.citation.startswith(prefix) else (self.label or "")
        return official_citation(title=self.doc_title, issuer=self.issuer, doc_number=self.doc_number,
                                 date=self.date, position=position, label=self.label, heading=self.heading)


class Hit(ClauseRef):
    """One ranked clause, with everything needed to cite it."""

    passage_id: str
    score: float


# -- service requests and responses --------------------------------------------------------------
MAX_QUERY_CHARS = 2000


class SearchRequest(BaseModel):
    """``POST /search``."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=10, ge=1, le=100)
    mode: SearchMode = "hybrid"
    filters: Filters | None = None


class SearchResponse(BaseModel):
    hits: list[Hit]
    took_ms: float


class AskRequest(BaseModel):
    """``POST /ask``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=5, ge=1, le=20)
    filters: Filters | None = None


class Quote(BaseModel):
    """A verbatim stretch of a cited clause: ``body[start:end] == text``."""

    text: str
    start: int  # offset in the document body
    end: int


class Citation(ClauseRef):
    """A source clause an answer cites as ``[n]``, once however many of its sentences the answer quotes.

    ``quote`` (with ``quote_start``/``quote_end``) is the first sentence quoted; ``quotes`` all of them, in
    the order the answer uses them. Each is a verbatim substring of ``text`` at those body offsets.
    """

    n: int
    quote: str
    quote_start: int  # offset of the quote in the document body
    quote_end: int
    quotes: list[Quote] = Field(default_factory=list)


class AnswerSentence(BaseModel):
    """One sentence of an answer and the citation that supports it."""

    text: str
    citation: int
    verified: bool = True


class AnswerPart(BaseModel):
    """One side of a question over several places: its sentences (indexes into ``sentences``), or why none."""

    name: str | None = None
    answered: bool
    sentences: list[int] = Field(default_factory=list)
    reason: str | None = None


class Answer(BaseModel):
    """``POST /ask`` response: every sentence quotes a cited clause, or ``answerable`` is false.

    A refusal says why in ``refusal_reason`` (a place, law or year the collection lacks, or no passage
    holding the answer); ``nearest`` then lists the closest clauses, which are not an answer.
    """

    answer: str
    answerable: bool
    sentences: list[AnswerSentence] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    parts: list[AnswerPart] = Field(default_factory=list)
    refusal_reason: str | None = None
    note: str | None = None
    nearest: list[Hit] = Field(default_factory=list)
    answerer: str = "extractive"
    took_ms: float = 0.0


class SimilarRequest(BaseModel):
    """``POST /similar``: clauses elsewhere worded like a draft sentence."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=10, ge=1, le=50)
    exclude_doc_ids: list[str] = Field(default_factory=list)


class Span(BaseModel):
    """Offsets into a clause's ``text`` of wording it shares with the draft."""

    start: int
    end: int


class SimilarClause(BaseModel):
    hit: Hit
    shared: list[Span]


class SimilarGroup(BaseModel):
    doc_id: str
    doc_title: str
    doc_number: str | None = None
    region: str | None = None
    date: str | None = None
    clauses: list[SimilarClause]


class SimilarResponse(BaseModel):
    groups: list[SimilarGroup]
    took_ms: float


class PhraseRequest(BaseModel):
    """``POST /search/phrase``: every clause holding ``phrase`` verbatim."""

    model_config = ConfigDict(extra="forbid")

    phrase: str = Field(min_length=1, max_length=200)
    filters: Filters | None = None
    limit: int = Field(default=200, ge=1, le=1000)


class PhraseHit(BaseModel):
    """A clause holding the phrase; ``spans`` are the occurrences, as offsets into ``hit.text``."""

    hit: Hit
    spans: list[Span]


class PhraseDocument(BaseModel):
    doc_id: str
    doc_title: str
    occurrences: int
    clauses: int


class PhraseResponse(BaseModel):
    """The true counts (``occurrences`` of the phrase in ``clauses`` clauses), per document, and the clauses
    (at most ``limit``; ``truncated`` says when more held it), in document order."""

    phrase: str
    occurrences: int
    clauses: int
    documents: list[PhraseDocument]
    hits: list[PhraseHit]
    truncated: bool = False
    took_ms: float = 0.0


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
