"""What a reader asks and is shown: search, ask, similar wording and phrase requests, hits, cited answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from qa.documents.official import official_citation

SearchMode = Literal["hybrid", "dense", "lexical"]


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
    holding the answer); ``nearest`` then lists the closest clauses, which are not an answer. ``note`` says what
    the quotes alone do not: that an English question is answered in Chinese, or a document's status as of
    today (derived from its plan period and stated validity, not quoted).
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
