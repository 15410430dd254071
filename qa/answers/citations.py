"""Citations: a verbatim quote of a clause, located in its document body, checked before it is used.

Every answer, whoever composed it, goes through ``CitedAnswer``: a sentence is added only with the
clause it cites and the span it quotes, and the span is verified against the document body
(``body[quote_start:quote_end] == quote`` and ``quote`` a substring of the clause text).
"""

from __future__ import annotations

import re

from qa.index.collection import Index
from qa.schemas import Answer, AnswerPart, AnswerSentence, Citation, ClauseRef, Hit, Quote

REFUSAL_ZH = "现有文件库中没有找到能回答该问题的依据。"
REFUSAL_EN = "The document collection holds no passage that answers this question."
_END = re.compile(r"[。；！？.!?;]$")


def make_citation(n: int, hit: Hit, start: int, end: int) -> Citation:
    """Cite ``hit.text[start:end]``.

    Args:
        n: the marker number (``[n]``).
        hit: the clause.
        start, end: offsets of the quote in the clause text.

    Returns:
        the citation, with the quote's offsets in the document body.
    """
    shared = {name: getattr(hit, name) for name in ClauseRef.model_fields}
    quote = hit.text[start:end]
    return Citation(**shared, n=n, quote=quote, quote_start=hit.char_start + start, quote_end=hit.char_start + end,
                    quotes=[Quote(text=quote, start=hit.char_start + start, end=hit.char_start + end)])


def citation_holds(citation: Citation, index: Index) -> bool:
    """Whether the quote is a non-empty substring of the clause and sits at its offsets in the body.

    Args:
        citation: the citation to check.
        index: the index the clause came from.

    Returns:
        True when the quote can be shown as the clause's own words.
    """
    if citation.doc_id not in index.documents or not citation.quote.strip():
        return False
    first = Quote(text=citation.quote, start=citation.quote_start, end=citation.quote_end)
    quotes = [first] + [q for q in citation.quotes if (q.start, q.end) != (first.start, first.end)]
    if index.body_slice(citation.doc_id, citation.char_start, citation.char_end) != citation.text:
        return False
    return all(q.text.strip() and citation.char_start <= q.start <= q.end <= citation.char_end and q.text in citation.text
               and index.body_slice(citation.doc_id, q.start, q.end) == q.text for q in quotes)


class CitedAnswer:
    """Collects answer sentences with their citations; drops any whose citation does not hold.

    Args:
        index: the index the cited clauses come from.
    """

    def __init__(self, index: Index):
        self.index = index
        self.sentences: list[AnswerSentence] = []
        self.citations: list[Citation] = []

    def add(self, text: str, hit: Hit, start: int, end: int, verified: bool = True) -> bool:
        """Add a sentence citing ``hit.text[start:end]``.

        Args:
            text: the sentence as shown (for an extractive answer, the quote itself).
            hit: the cited clause.
            start, end: the quote's offsets in the clause text.
            verified: whether the sentence was checked against the clause.

        Returns:
            False (and nothing added) when the citation does not hold.
        """
        citation = make_citation(len(self.citations) + 1, hit, start, end)
        if not citation_holds(citation, self.index):
            return False
        for position, existing in enumerate(self.citations):  # one clause, one number, however many of its
            if existing.clause_id != citation.clause_id:        # sentences (and paragraphs) are quoted
                continue
            if (existing.char_start, existing.char_end) != (citation.char_start, citation.char_end):
                existing = self._spanning(existing, citation)
                if existing is None:
                    return False
                self.citations[position] = existing
            if any(s.text == text and s.citation == existing.n for s in self.sentences):
                return True
            if all((q.start, q.end) != (citation.quote_start, citation.quote_end) for q in existing.quotes):
                existing.quotes.append(citation.quotes[0])
            self.sentences.append(AnswerSentence(text=text, citation=existing.n, verified=verified))
            return True
        self.citations.append(citation)
        self.sentences.append(AnswerSentence(text=text, citation=citation.n, verified=verified))
        return True

    def _spanning(self, existing: Citation, other: Citation) -> Citation | None:
        """``existing`` widened to hold ``other``'s span too: two paragraphs of one clause too long for one hit are one
        citation of the clause's text from the first to the last; None when that text cannot be read back."""
        start, end = min(existing.char_start, other.char_start), max(existing.char_end, other.char_end)
        widened = existing.model_copy(update={"char_start": start, "char_end": end, "quotes": list(existing.quotes),
                                              "text": self.index.body_slice(existing.doc_id, start, end)})
        return widened if citation_holds(widened, self.index) else None

    def __len__(self) -> int:
        return len(self.sentences)

    def text(self, indexes: list[int] | None = None) -> str:
        """The answer: each sentence followed by its marker ``[n]``."""
        parts = []
        for position, sentence in enumerate(self.sentences):
            if indexes is not None and position not in indexes:
                continue
            body = sentence.text.rstrip()
            end = _END.search(body)
            stop = end.group() if end else "。"
            parts.append(f"{body[:-1] if end else body}[{sentence.citation}]{stop}")
        return "".join(parts)

    def text_by_part(self, parts: list[AnswerPart]) -> str:
        """The answer of a question over several places: ``name：sentences`` per part, or the part's reason."""
        lines = []
        for part in parts:
            body = self.text(part.sentences) if part.answered else (part.reason or "")
            lines.append(f"{part.name}：{body}" if part.name else body)
        return "\n".join(lines)

    def answer(self, nearest: list[Hit], answerer: str) -> Answer:
        """The ``Answer`` holding these sentences and citations."""
        return Answer(answer=self.text(), answerable=True, sentences=list(self.sentences),
                      citations=list(self.citations), nearest=nearest, answerer=answerer)


def refusal(nearest: list[Hit], english: bool = False, answerer: str = "extractive",
            reason: str | None = None) -> Answer:
    """The answer when the collection holds no basis: why (a missing place, law or year, or no passage that
    answers), and the nearest clauses, which are not an answer."""
    generic = REFUSAL_EN if english else REFUSAL_ZH
    text = reason or generic
    return Answer(answer=text, answerable=False, nearest=nearest, answerer=answerer, refusal_reason=text)
