"""What the index stores: a document's metadata, its clauses, and the report of an ingest."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.documents.official import document_status

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
