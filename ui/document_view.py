"""The whole document as a clause tree, for the reader dialog and 文件库 (text escaped by :mod:`ui.render`)."""

from __future__ import annotations

from collections.abc import Sequence

from qa.schemas import Document
from ui.render import QUOTE, Span, mark_html, query_terms, term_spans


def document_html(doc: Document, target_clause_id: str | None = None, quote: tuple[int, int] | None = None,
                  query: str | None = None, quotes: Sequence[tuple[int, int]] = ()) -> str:
    """The whole document as a clause tree (indent by heading depth), the target clause marked and anchored.

    ``quote`` and ``quotes`` are (start, end) offsets into ``doc.body``; the first quote carries the id
    ``qa-quote`` the reader scrolls to (a long clause's quote may be far below its start). Text between
    clauses that belongs to no clause is shown too, so nothing of the document is hidden.
    """
    all_quotes = ([quote] if quote else []) + [q for q in quotes if q != quote]
    body = doc.body
    units: dict[str, list] = {}
    order: list[str] = []
    for clause in doc.clauses:
        if clause.clause_id not in units:
            units[clause.clause_id] = [clause, clause.char_start, clause.char_end]
            order.append(clause.clause_id)
        else:
            unit = units[clause.clause_id]
            unit[1] = min(unit[1], clause.char_start)
            unit[2] = max(unit[2], clause.char_end)
    order.sort(key=lambda cid: units[cid][1])
    out: list[str] = []
    cursor = 0

    def plain(start: int, end: int) -> None:
        if body[start:end].strip():
            out.append(f'<div class="qa-u">{mark_html(body[start:end])}</div>')

    for cid in order:
        clause, start, end = units[cid]
        if start < cursor:  # overlapping parts: show the remainder only
            start = cursor
        if start > cursor:
            plain(cursor, start)
        text = body[start:end]
        depth = len(clause.heading_path)
        is_header = bool(clause.heading) and text.strip() == f"{clause.label or ''}{clause.heading}"
        classes = ["qa-u"] + (["qa-h"] if is_header else [])
        spans: list[Span] = []
        anchor = ""
        if cid == target_clause_id:
            classes.append("qa-target")
            anchor = ' id="qa-target"'
            spans += [(q[0] - start, q[1] - start, QUOTE) for q in all_quotes]
            if query:
                spans += term_spans(query_terms(query, text), text)
        lead = f"{clause.label or ''}{clause.heading or ''}"
        cut = len(lead) if clause.heading and text.startswith(lead) else 0
        shown = mark_html(text, spans)
        if cut:  # the clause's own number and heading in bold, as a run-in heading
            head = mark_html(text[:cut], [(s, min(e, cut), k) for s, e, k in spans if s < cut])
            rest = mark_html(text[cut:], [(s - cut, e - cut, k) for s, e, k in spans if e > cut])
            sep = "<br>" if rest and text[cut:cut + 1] in ("\n", "\r") else ""
            shown = f'<b class="qa-hl">{head}</b>{sep}{rest}'
        if cid == target_clause_id and all_quotes:
            shown = shown.replace('<mark class="qa-q">', '<mark class="qa-q" id="qa-quote">', 1)
        out.append(f'<div class="{" ".join(classes)}"{anchor} style="margin-left:{1.4 * depth:.1f}em">'
                   f"{shown}</div>")
        cursor = max(cursor, end)
    plain(cursor, len(body))
    return f'<div class="qa-doc">{"".join(out)}</div>'
