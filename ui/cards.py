"""HTML of what surrounds document text: clause cards, document badges (kind, status, plan period), the
library table. Every value is escaped with :func:`ui.render.esc`; clause text arrives already made safe
by :func:`ui.render.highlight`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.documents.official import STATUS_EXPIRED, STATUS_REPEALED, STATUS_UNSTATED, STATUS_VALID
from qa.schemas import DocumentMeta
from ui.i18n import t
from ui.render import esc

_STATUS_CLASS = {STATUS_VALID: "valid", STATUS_EXPIRED: "expired", STATUS_REPEALED: "repealed",
                 STATUS_UNSTATED: "unstated"}


def _meta_parts(doc_number: str | None, issuer: str | None, region: str | None, date: str | None,
                kind: str | None = None) -> str:
    parts = []
    if doc_number:
        parts.append(f'<span class="qa-docno">{esc(doc_number)}</span>')
    if issuer:  # a media report's "issuer" is the outlet it appeared in
        parts.append(f"{t('source')} {esc(issuer)}" if kind == "media" else esc(issuer))
    if region:
        parts.append(esc(region))
    if date:
        parts.append(f"{t('date')} {esc(date)}")
    return '<span class="qa-sep">·</span>'.join(parts) if parts else t("no_meta")


def clause_heading(label: str | None, text: str, limit: int = 30) -> str | None:
    """The clause's own number and heading as written at its start (``二、工作目标``, ``8.壮大高新技术企业``),
    else just its number."""
    if not label:
        return None
    first = re.split(r"[\n。；：:]", text.lstrip(), maxsplit=1)[0].strip()
    return first if first.startswith(label) and len(first) <= limit else label


def heading_trail(heading_path: Sequence[str], label: str | None = None, text: str = "") -> str:
    """``一、总体要求 › (二)主要目标 › 1.加强……`` as plain text."""
    trail = list(heading_path)
    own = clause_heading(label, text)
    if own:
        trail.append(own)
    return " › ".join(trail)


def badges_html(meta: DocumentMeta | None, match: str | None = None) -> str:
    """Kind, status and plan period of a document (and how a search hit matched) as small labels."""
    if meta is None and not match:
        return ""
    badges = []
    if meta is not None:
        badges.append(f'<span class="qa-badge qa-k-{esc(meta.kind)}">{esc(t("kind." + meta.kind))}</span>')
        status = meta.status
        badges.append(f'<span class="qa-badge qa-st-{_STATUS_CLASS.get(status, "unstated")}">'
                      f'{esc(t("status." + status))}</span>')
        if meta.period_start and meta.period_end:
            badges.append(f'<span class="qa-badge">{esc(t("period", start=meta.period_start, end=meta.period_end))}'
                          "</span>")
    if match:
        badges.append(f'<span class="qa-badge qa-match">{esc(t("match." + match))}</span>')
    return f'<div class="qa-badges">{"".join(badges)}</div>'


def warning_text(meta: DocumentMeta | None) -> str | None:
    """Why a clause of this document should not be cited as in force, or None."""
    if meta is None:
        return None
    status = meta.status
    if status == STATUS_REPEALED:
        return t("warn_repealed", validity=meta.validity or STATUS_REPEALED)
    if status == STATUS_EXPIRED:
        return t("warn_expired", end=meta.period_end)
    return None


def card_html(*, title: str, doc_number: str | None, issuer: str | None, region: str | None, date: str | None,
              heading_path: Sequence[str], label: str | None, body_html: str, n: int | None = None,
              score: float | None = None, text: str = "", refs: Sequence[int] = (), meta: DocumentMeta | None = None,
              match: str | None = None, show_title: bool = True) -> str:
    """One clause card: title, 文号 · issuer · region · date, badges, a warning for a document not in force,
    heading path, then the (already safe) text.

    ``refs`` are the answer's markers citing this clause: each gets an anchor ``qa-cite-N`` its ``[N]`` link
    scrolls to, and they are shown as the card's numbers.
    """
    numbers = list(refs) or ([n] if n is not None else [])
    badge = "".join(f'<span class="qa-n">{int(k)}</span>' for k in numbers)
    anchors = "".join(f'<span class="qa-anchor" id="qa-cite-{int(k)}"></span>' for k in refs)
    score_html = f'<span class="qa-score">{esc(t("score", score=score))}</span>' if score is not None else ""
    trail = heading_trail(heading_path, label, text)
    path_html = f'<div class="qa-path">{esc(trail or t("doc_start"))}</div>'
    kind = meta.kind if meta is not None else None
    warning = warning_text(meta)
    warn_html = f'<div class="qa-warn">⚠ {esc(warning)}</div>' if warning else ""
    head = (f'<div class="qa-title">{score_html}{badge}《{esc(title)}》</div>'
            f'<div class="qa-meta">{_meta_parts(doc_number, issuer, region, date, kind)}</div>') if show_title else \
        (f'<div class="qa-title">{score_html}{badge}</div>' if badge or score_html else "")
    return (f'<div class="qa-card">{anchors}{head}{badges_html(meta, match) if show_title else ""}{warn_html}'
            f'{path_html}<div class="qa-text">{body_html}</div></div>')


def group_header_html(*, title: str, doc_number: str | None, region: str | None, date: str | None,
                      count: int, meta: DocumentMeta | None = None) -> str:
    return (f'<div class="qa-card"><div class="qa-head">《{esc(title)}》</div>'
            f'<div class="qa-meta">{_meta_parts(doc_number, None, region, date)}'
            f'<span class="qa-sep">·</span>{esc(t("similar_group", n=count))}</div>{badges_html(meta)}</div>')


def library_table_html(docs: Sequence[DocumentMeta]) -> str:
    """The documents as a table: title, kind, 文号, issuer, region, dates, status, clauses."""
    columns = ("col.n", "col.title", "col.kind", "col.doc_number", "col.issuer", "col.region", "col.written",
               "col.published", "col.validity", "col.clauses")
    head = "".join(f"<th>{esc(t(c))}</th>" for c in columns)
    rows = []
    for i, d in enumerate(docs, 1):
        status = d.status
        status_html = f'<span class="qa-badge qa-st-{_STATUS_CLASS.get(status, "unstated")}">' \
                      f'{esc(t("status." + status))}</span>'
        if d.period_start and d.period_end:
            status_html += f'<br><span class="qa-cut">{esc(t("period", start=d.period_start, end=d.period_end))}</span>'
        issuer = f"{t('source')} {d.issuer}" if d.kind == "media" and d.issuer else d.issuer
        cells = [(esc(i), "qa-num"), (esc(d.title), ""),
                 (f'<span class="qa-badge qa-k-{esc(d.kind)}">{esc(t("kind." + d.kind))}</span>', "qa-nw"),
                 (esc(d.doc_number), "qa-nw"), (esc(issuer), ""), (esc(d.region), "qa-nw"),
                 (esc(d.written_date), "qa-nw"), (esc(d.published_date), "qa-nw"), (status_html, "qa-nw"),
                 (esc(d.clause_count), "qa-num")]
        rows.append("<tr>" + "".join(f'<td class="{c}">{v or "—"}</td>' if c else f"<td>{v or '—'}</td>"
                                     for v, c in cells) + "</tr>")
    return f'<table class="qa-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
