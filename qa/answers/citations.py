"""Citations: a verbatim quote of a clause, located in its document body, checked before it is used.

Every answer, whoever composed it, goes through ``CitedAnswer``: a sentence is added only with the
clause it cites and the span it quotes, and the span is verified against the document body
(``body[quote_start:quote_end] == quote`` and ``quote`` a substring of the clause text).
"""

from __future__ import annotations

import re

from qa.index.collection import Index
from qa.schemas import Answer, AnswerSentence, Citation, ClauseRef, Hit

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
    return Citation(**shared, n=n, quote=hit.text[start:end], quote_start=hit.char_start + start,
                    quote_end=hit.char_start + end)


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
    return (citation.char_start <= citation.quote_start <= citation.quote_end <= citation.char_end
            and citation.quote in citation.text
            and index.body_slice(citation.doc_id, citation.char_start, citation.char_end) == citation.text
            and index.body_slice(citation.doc_id, citation.quote_start, citation.quote_end) == citation.quote)


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
        for existing in self.citations:  # the same quote cited twice gets one number
            if (existing.clause_id, existing.quote_start, existing.quote_end) == \
                    (citation.clause_id, citation.quote_start, citation.quote_end):
                if any(s.text == text and s.citation == existing.n for s in self.sentences):
                    return True
                self.sentences.append(AnswerSentence(text=text, citation=existing.n, verified=verified))
                return True
        self.citations.append(citation)
        self.sentences.append(AnswerSentence(text=text, citation=citation.n, verified=verified))
        return True

    def __len__(self) -> int:
        return len(self.sentences)

    def text(self) -> str:
        """The answer: each sentence followed by its marker ``[n]``."""
        parts = []
        for sentence in self.sentences:
            body = sentence.text.rstrip()
            end = _END.search(body)
            stop = end.group() if end else "。"
            parts.append(f"{body[:-1] if end else body}[{sentence.citation}]{stop}")
        return "".join(parts)

    def answer(self, nearest: list[Hit], answerer: str) -> Answer:
        """The ``Answer`` holding these sentences and citations."""
        return Answer(answer=self.text(), answerable=True, sentences=list(self.sentences),
                      citations=list(self.citations), nearest=nearest, answerer=answerer)


def refusal(nearest: list[Hit], english: bool = False, answerer: str = "extractive") -> Answer:
    """The answer when the evidence is too weak: a plain statement and the nearest clauses."""
    return Answer(answer=REFUSAL_EN if english else REFUSAL_ZH, answerable=False, nearest=nearest,
                  answerer=answerer)
