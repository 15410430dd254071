"""Questions about a document itself — its 文号, the body that issued it, the day it was signed — answered with
the lines the document prints them in: the 文号 at its head, the issuer and the date of its signature.

The values come from the document's metadata; the answer quotes the body where they are printed, so each sentence
is still a verbatim quote with its citation. A value the body does not print is not answered this way.
"""

from __future__ import annotations

import re

from qa.answers.question import Question
from qa.answers.text import normalise, sentence_spans
from qa.retrieval.searcher import Searcher
from qa.schemas import Filters, Hit

_QUOTED_TITLE = re.compile(r"《([^《》]+)》")


def printed_lines(question: Question, ranked: list[tuple[int, Hit]], searcher: Searcher, filters: Filters | None
                  ) -> list[tuple[int, Hit, int, int]]:
    """The lines of the most relevant document that print what ``question`` asks of it, in the asked order.

    Args:
        question: the analysed question (``doc_number``, ``issuer``, ``date``).
        ranked: the part's (rank, clause) pairs, best first.
        searcher: to find the printed line when it is not among ``ranked``.
        filters: the request's restrictions.

    Returns:
        (rank, clause, start, end) of each line; empty when nothing is asked, or when one line asked for is not
        printed, or when the question asks about a document it quotes in 《》 rather than the one found.
    """
    if not (question.doc_number or question.issuer or question.date) or not ranked:
        return []
    top = ranked[0][1]
    if any(normalise(t) not in normalise(top.doc_title) for t in _QUOTED_TITLE.findall(question.text)):
        return []  # the 文号 of a document it quotes, not its own
    meta = searcher.index.meta(top.doc_id)
    if (question.doc_number and not meta.doc_number) or (question.issuer and not meta.issuer):
        return []  # a value the document does not carry cannot be quoted
    wanted: list[tuple[str, re.Pattern]] = []  # (what to search the line by, what the line must match)
    if question.doc_number:
        wanted.append((meta.doc_number, re.compile(re.escape(meta.doc_number))))
    if question.issuer:
        wanted.append((meta.issuer, re.compile(r"^\s*" + re.escape(meta.issuer) + r"\s*$")))
    if question.date and meta.date:  # the date line sits under the issuer's in the signature
        year, month, day = (int(part) for part in meta.date.split("-"))
        wanted.append((meta.issuer or meta.date,
                       re.compile(rf"^\s*{year}\s*年\s*0?{month}\s*月\s*0?{day}\s*日\s*$")))
    if not wanted:
        return []
    scoped = (filters or Filters()).model_copy(update={"doc_ids": [top.doc_id]})
    found = []
    for value, pattern in wanted:
        candidates = [(rank, hit) for rank, hit in ranked if hit.doc_id == top.doc_id] + \
            list(enumerate(searcher.search(value, k=5, mode="lexical", filters=scoped)))
        line = next(((rank, hit, a, b) for rank, hit in candidates for a, b in sentence_spans(hit.text)
                     if pattern.search(hit.text[a:b])), None)
        if line is None:
            return []
        found.append(line)
    return found


def unprinted(question: Question, ranked: list[tuple[int, Hit]], searcher: Searcher) -> str | None:
    """Why a question about a document's 文号 or issuer has no answer: the most relevant document carries none.

    Args:
        question: the analysed question.
        ranked: the part's (rank, clause) pairs, best first.
        searcher: the searcher over the loaded index.

    Returns:
        the refusal's reason (a 文号 quoted from elsewhere in the document would be another document's), or None.
    """
    if not (question.doc_number or question.issuer) or not ranked:
        return None
    top = ranked[0][1]
    if any(normalise(t) not in normalise(top.doc_title) for t in _QUOTED_TITLE.findall(question.text)):
        return None
    meta = searcher.index.meta(top.doc_id)
    lacking = [what for asked, value, what in ((question.doc_number, meta.doc_number, ("文号", "document number")),
                                               (question.issuer, meta.issuer, ("发文机关", "issuing body")))
               if asked and not value]
    if not lacking:
        return None
    if question.english:
        return f"The document found, 《{top.doc_title}》, states no {' or '.join(e for _, e in lacking)}."
    return f"文件库中最相关的文件《{top.doc_title}》没有载明{'和'.join(c for c, _ in lacking)}。"
