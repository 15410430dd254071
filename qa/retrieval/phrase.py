"""Exact-phrase search: every clause that holds a phrase verbatim, with the true number of occurrences.

Ranked search returns ``k`` clauses whatever their scores; an official asking where "揭榜挂帅" appears
needs every place and only those. The documents' bodies are scanned in SQLite (``instr``) for the ones
holding the phrase; each occurrence is then placed in the clause whose span holds its start (the parts
of a split clause count as one clause), so a phrase crossing a part boundary is still found.
"""

from __future__ import annotations

import bisect

from qa.index.collection import Index
from qa.schemas import Document, Filters, Hit, PhraseDocument, PhraseHit, PhraseResponse, Span


def occurrences(text: str, phrase: str) -> list[int]:
    """Start offsets of every (non-overlapping) occurrence of ``phrase`` in ``text``."""
    found, start = [], text.find(phrase)
    while start >= 0:
        found.append(start)
        start = text.find(phrase, start + len(phrase))
    return found


def _whole_clauses(doc: Document) -> list[tuple[int, int, object]]:
    """(start, end, first part) of each clause, parts joined, in body order."""
    spans: dict[str, list] = {}
    for clause in doc.clauses:
        span = spans.setdefault(clause.clause_id, [clause.char_start, clause.char_end, clause])
        span[0], span[1] = min(span[0], clause.char_start), max(span[1], clause.char_end)
    return sorted((tuple(s) for s in spans.values()), key=lambda s: s[0])


def find_phrase(index: Index, phrase: str, allowed: set[str] | None = None, limit: int = 200) -> PhraseResponse:
    """Every clause of the documents in ``allowed`` (None: all) holding ``phrase`` verbatim.

    Args:
        index: the index to read.
        phrase: the text to find, exactly as written (surrounding whitespace ignored).
        allowed: document ids the filters leave, or None.
        limit: most clauses returned; the counts cover all of them.

    Returns:
        the counts (total and per document) and the clauses with the occurrences' offsets.
    """
    phrase = phrase.strip()
    doc_ids = []
    if index.catalog is not None and phrase:
        doc_ids = [d for (d,) in index.catalog.db.execute(
            "SELECT doc_id FROM documents WHERE instr(body, ?) > 0 ORDER BY seq", (phrase,))]
    hits: list[PhraseHit] = []
    documents: list[PhraseDocument] = []
    total = clause_total = 0
    for doc_id in doc_ids:
        if (allowed is not None and doc_id not in allowed) or doc_id not in index.documents:
            continue
        doc = index.documents[doc_id]
        clauses = _whole_clauses(doc)
        starts = [c[0] for c in clauses]
        by_clause: dict[int, list[int]] = {}
        for position in occurrences(doc.body, phrase):
            at = max(bisect.bisect_right(starts, position) - 1, 0)
            by_clause.setdefault(at, []).append(position)
        if not by_clause:
            continue
        count = sum(len(p) for p in by_clause.values())
        total += count
        clause_total += len(by_clause)
        documents.append(PhraseDocument(doc_id=doc_id, doc_title=doc.meta.title, occurrences=count,
                                        clauses=len(by_clause)))
        for at, positions in sorted(by_clause.items()):
            if len(hits) >= limit:
                continue
            start, end, first = clauses[at]
            start = min(start, positions[0])  # an occurrence before the first clause (a title line)
            hit = Hit(clause_id=first.clause_id, passage_id=first.clause_id, doc_id=doc_id, doc_title=doc.meta.title,
                      doc_number=doc.meta.doc_number, issuer=doc.meta.issuer, region=doc.meta.region,
                      date=doc.meta.date, heading_path=first.heading_path, label=first.label, heading=first.heading,
                      text=doc.body[start:end], char_start=start, char_end=end, citation=first.citation,
                      score=float(len(positions)))
            hits.append(PhraseHit(hit=hit, spans=[Span(start=p - start, end=min(p - start + len(phrase), end - start))
                                                  for p in positions]))
    return PhraseResponse(phrase=phrase, occurrences=total, clauses=clause_total, documents=documents, hits=hits,
                          truncated=clause_total > len(hits))


def allowed_documents(searcher, filters: Filters | None) -> set[str] | None:
    """The document ids the filters leave (the searcher's own filter logic), None for all."""
    mask = searcher.doc_mask(filters)
    if mask is None:
        return None
    return {doc_id for doc_id, keep in zip(searcher.index.doc_order, mask, strict=True) if keep}
