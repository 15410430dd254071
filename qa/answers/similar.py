"""Precedent wording: clauses elsewhere worded like a draft sentence, grouped by document, with the
stretches of each clause that the draft shares marked for highlighting.

Shared stretches are runs of clause characters covered by character n-grams (``min_chars``, default 3)
of word characters that also occur in the draft, compared after NFKC and lower-casing one character at
a time (so the offsets stay those of the clause text).
"""

from __future__ import annotations

import time
import unicodedata

from qa.retrieval.searcher import Searcher
from qa.schemas import Filters, SimilarClause, SimilarGroup, SimilarResponse, Span

MIN_SHARED_CHARS = 3
MAX_DEPTH = 100


def _fold(text: str) -> str:
    """Per-character NFKC + lower case, keeping the length (a character that expands is kept as is)."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _is_word(ch: str) -> bool:
    return ch.isalnum()


def shared_spans(clause: str, draft: str, min_chars: int = MIN_SHARED_CHARS) -> list[Span]:
    """Stretches of ``clause`` whose wording also occurs in ``draft``.

    Args:
        clause: the clause text (offsets refer to it).
        draft: the draft sentence.
        min_chars: shortest shared stretch, in characters.

    Returns:
        non-overlapping spans in order; ``clause[span.start:span.end]`` is shared wording.
    """
    a, b = _fold(clause), _fold(draft)
    n = max(1, min_chars)
    if len(a) < n or len(b) < n:
        return []
    grams = {b[i:i + n] for i in range(len(b) - n + 1) if all(map(_is_word, b[i:i + n]))}
    covered = [False] * len(a)
    for i in range(len(a) - n + 1):
        if a[i:i + n] in grams:  # n-grams with punctuation never match, so spans do not bridge commas
            covered[i:i + n] = [True] * n
    spans: list[Span] = []
    i = 0
    while i < len(a):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j < len(a) and covered[j]:
            j += 1
        start, end = i, j
        while start < end and not _is_word(a[start]):
            start += 1
        while end > start and not _is_word(a[end - 1]):
            end -= 1
        if end - start >= n and sum(_is_word(ch) for ch in a[start:end]) >= min(n, 2):
            spans.append(Span(start=start, end=end))
        i = j
    return spans


class SimilarFinder:
    """Finds clauses worded like a draft.

    Args:
        searcher: the searcher over the loaded index.
        min_chars: shortest shared stretch to highlight.
    """

    def __init__(self, searcher: Searcher, min_chars: int = MIN_SHARED_CHARS):
        self.searcher = searcher
        self.min_chars = min_chars

    def find(self, text: str, k: int = 10, exclude_doc_ids: list[str] | None = None) -> SimilarResponse:
        """Clauses close to ``text`` outside ``exclude_doc_ids``, grouped by document.

        Args:
            text: the draft sentence.
            k: clauses wanted (over all groups).
            exclude_doc_ids: documents to leave out (e.g. the draft's own).

        Returns:
            groups in the order of their best clause, each clause with its shared spans.
        """
        started = time.perf_counter()
        filters = None
        excluded = set(exclude_doc_ids or [])
        if excluded:
            allowed = [d for d in self.searcher.index.doc_order if d not in excluded]
            if not allowed:
                return SimilarResponse(groups=[], took_ms=_ms(started))
            filters = Filters(doc_ids=allowed)
        hits = self.searcher.search(text, k=min(MAX_DEPTH, 2 * k + 10), mode="hybrid", filters=filters)
        hits = [h for h in hits if h.doc_id not in excluded][:k]
        groups: dict[str, SimilarGroup] = {}
        for hit in hits:
            group = groups.get(hit.doc_id)
            if group is None:
                group = groups[hit.doc_id] = SimilarGroup(doc_id=hit.doc_id, doc_title=hit.doc_title,
                                                          doc_number=hit.doc_number, region=hit.region,
                                                          date=hit.date, clauses=[])
            group.clauses.append(SimilarClause(hit=hit, shared=shared_spans(hit.text, text, self.min_chars)))
        return SimilarResponse(groups=list(groups.values()), took_ms=_ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)

