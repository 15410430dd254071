"""Questions about a document itself — its 文号, the body that issued it, the day it was signed, whether it is still
in force — answered with the lines the document prints them in: the 文号 at its head, the issuer and the date of its
signature, the title that states its plan period (with the status that period and its stated validity give, as a note).

The values come from the document's metadata; the answer quotes the body where they are printed, so each sentence
is still a verbatim quote with its citation. A value the body does not print is not answered this way.
"""

from __future__ import annotations

import re

from qa.answers.question import Question
from qa.answers.text import normalise, sentence_spans
from qa.documents.official import STATUS_EXPIRED, STATUS_REPEALED, STATUS_VALID
from qa.retrieval.searcher import Searcher
from qa.schemas import Filters, Hit

_QUOTED_TITLE = re.compile(r"《([^《》]+)》")
HEAD_CHARS = 2000  # the notice before a document's own text
# 已经市委常委会讨论通过, 经县政府常务会议审议通过, 经市政府同意: not a project 通过验收 or a body 经批准设立
_APPROVED = re.compile(r"(?:已经?|经)[^，,。；;]{2,24}?(?:讨论通过|审议通过|研究通过|通过|批准|同意)")
_BASED_ON = re.compile(r"依据|根据|按照|参照|落实|转发|引用|\bbased on\b|\bpursuant\b", re.I)


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
    if not (question.doc_number or question.issuer or question.date or question.approval) or not ranked:
        return []
    top = ranked[0][1]
    if _quotes_another(question, top):
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
    if question.approval:  # 已经市委常委会讨论通过,现印发给你们
        wanted.append(("讨论通过 审议通过 印发给你们", _APPROVED))
    if not wanted:
        return []
    found = []
    for value, pattern in wanted:
        line = _line_of(top.doc_id, value, pattern, ranked, searcher, filters)
        if line is None:
            return []
        found.append(line)
    return found


def _quotes_another(question: Question, top: Hit) -> bool:
    """The question names in 《》 a document other than the one found (it asks about that one)."""
    return any(normalise(t) not in normalise(top.doc_title) for t in _QUOTED_TITLE.findall(question.text))


def _line_of(doc_id: str, value: str, pattern: re.Pattern, ranked: list[tuple[int, Hit]], searcher: Searcher,
             filters: Filters | None, first_in_body: bool = False) -> tuple[int, Hit, int, int] | None:
    """The sentence of document ``doc_id`` that matches ``pattern``, among the ranked clauses and those a lexical
    search for ``value`` finds in it; the earliest in the body when ``first_in_body``."""
    scoped = (filters or Filters()).model_copy(update={"doc_ids": [doc_id]})
    candidates = [(rank, hit) for rank, hit in ranked if hit.doc_id == doc_id] + \
        list(enumerate(searcher.search(value, k=5, mode="lexical", filters=scoped)))
    if first_in_body:
        candidates.sort(key=lambda candidate: candidate[1].char_start)
    return next(((rank, hit, a, b) for rank, hit in candidates for a, b in sentence_spans(hit.text)
                 if pattern.search(hit.text[a:b])), None)


def unprinted(question: Question, ranked: list[tuple[int, Hit]], searcher: Searcher) -> str | None:
    """Why a question about a document's 文号, issuer or approval has no answer: the most relevant document states
    none.

    Args:
        question: the analysed question.
        ranked: the part's (rank, clause) pairs, best first.
        searcher: the searcher over the loaded index.

    Returns:
        the refusal's reason (a 文号 quoted from elsewhere in the document would be another document's), or None.
    """
    if not (question.doc_number or question.issuer or question.approval) or not ranked \
            or _BASED_ON.search(question.text):
        return None  # "依据哪份文件…文号是多少" asks for the 文号 of a document the found one cites
    top = ranked[0][1]
    if _quotes_another(question, top):
        return None
    meta = searcher.index.meta(top.doc_id)
    # an approval is stated in the forwarding notice at the document's head, when at all
    approved = question.approval and bool(_APPROVED.search(searcher.index.body_slice(top.doc_id, 0, HEAD_CHARS)))
    lacking = [what for asked, value, what in ((question.doc_number, meta.doc_number, ("文号", "document number")),
                                               (question.issuer, meta.issuer, ("发文机关", "issuing body")),
                                               (question.approval, approved, ("经过哪个会议或机构通过",
                                                                              "approving meeting or body")))
               if asked and not value]
    if not lacking:
        return None
    if question.english:
        return f"The document found, 《{top.doc_title}》, states no {' or '.join(e for _, e in lacking)}."
    return f"文件库中最相关的文件《{top.doc_title}》没有载明{'和'.join(c for c, _ in lacking)}。"


def validity_lines(question: Question, ranked: list[tuple[int, Hit]], searcher: Searcher, filters: Filters | None
                   ) -> tuple[list[tuple[int, Hit, int, int]], str] | None:
    """For "还有效吗": the line of the most relevant document that states its plan period, and what that period and
    its stated validity say as of today (a note: the status is derived, not quoted).

    Args:
        question: the analysed question (``validity``).
        ranked: the part's (rank, clause) pairs, best first.
        searcher: to find the line when it is not among ``ranked``.
        filters: the request's restrictions.

    Returns:
        ([(rank, clause, start, end)], note), or None when nothing is asked or the document states no period.
    """
    if not question.validity or not ranked:
        return None
    top = ranked[0][1]
    meta = searcher.index.meta(top.doc_id)
    if meta is None or meta.period_start is None or meta.period_end is None:
        return None
    years = re.compile(rf"{meta.period_start}\s*[-—–~至到]+\s*(?:{meta.period_end}|{str(meta.period_end)[2:]})")
    line = _line_of(top.doc_id, meta.title, years, ranked, searcher, filters, first_in_body=True)
    if line is None:
        return None
    period = f"{meta.period_start}—{meta.period_end}"
    status = meta.status
    if question.english:
        stated = f" Marked “{meta.validity}” when published." if meta.validity else ""
        verdict = {STATUS_EXPIRED: f"its plan period ({period}) has ended",
                   STATUS_REPEALED: "it is marked as no longer in force",
                   STATUS_VALID: f"it is within its plan period ({period})"}.get(status, f"its plan period is {period}")
        return [line], (f"By the document's own dates, {verdict}.{stated} Whether it was repealed or extended since "
                        "is not in the collection.")
    stated = f"发布时标注的有效性为“{meta.validity}”。" if meta.validity else ""
    verdict = {STATUS_EXPIRED: f"按文件载明的实施期（{period}年），该文件已到期。",
               STATUS_REPEALED: f"文件标注为“{meta.validity}”，已不再有效。",
               STATUS_VALID: f"按文件载明的实施期（{period}年），该文件仍在实施期内。"}.get(status, f"文件载明的实施期为{period}年。")
    return [line], (verdict + (stated if status != STATUS_REPEALED else "")
                    + "文件库中没有其后废止或延期的信息，请以发文机关公布为准。")
