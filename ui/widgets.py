"""Widgets shared by the UI's modes: cached document look-ups, error lines, clause cards, the reader, 👍/👎."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import streamlit as st

from qa.schemas import ClauseRef, Document, DocumentMeta, FeedbackRequest, Filters, Health
from ui import cards, render
from ui.client import ApiClient, ClientError, api_url
from ui.document_view import document_html
from ui.i18n import t
from ui.style import SCROLL_SCRIPT

CARD_CHARS = 420  # longer clause texts are shown as an excerpt around the highlight


# -- data access (cached by service address and index generation) -------------------------------------
@st.cache_data(ttl=60, show_spinner=False)
def cached_documents(base_url: str, generation: int | None) -> list[DocumentMeta]:
    client = ApiClient(base_url)
    try:
        return client.documents()
    finally:
        client.close()


@st.cache_data(ttl=300, show_spinner=False, max_entries=32)
def cached_document(base_url: str, doc_id: str, generation: int | None) -> Document:
    client = ApiClient(base_url)
    try:
        return client.document(doc_id)
    finally:
        client.close()


def meta_of(doc_id: str) -> DocumentMeta | None:
    """The document's metadata from the list the page loaded (kind, status, period for the badges)."""
    return st.session_state.get("_metas", {}).get(doc_id)


def show_error(error: ClientError) -> None:
    st.error(render.md_escape(error.message), icon=":material/error:")


def took(ms: float) -> str:
    if ms >= 1000:
        return " · " + t("took_s", s=ms / 1000)
    return " · " + t("took_ms", ms=ms) if ms >= 1 else ""


def html(markup: str) -> None:
    """Insert markup built by :mod:`ui.render` / :mod:`ui.cards` (which escape all text they are given)."""
    st.markdown(markup, unsafe_allow_html=True)


# -- the document reader -------------------------------------------------------------------------------
@st.dialog("查看原文 · Document", width="large")
def reader_dialog(doc_id: str, clause_id: str | None, citation: str | None, quotes: Sequence[tuple[int, int]],
                  query: str | None) -> None:
    health: Health = st.session_state["_health"]
    try:
        doc = cached_document(api_url(), doc_id, health.index_generation)
    except ClientError as error:
        show_error(error)
        return
    document_header(doc.meta)
    if citation:
        st.code(citation, language=None, wrap_lines=True)
    with st.container(height=560, key="reader_body"):
        html(document_html(doc, clause_id, quotes=quotes, query=query))
    if clause_id:
        st.html(SCROLL_SCRIPT, unsafe_allow_javascript=True)


def document_header(meta: DocumentMeta) -> None:
    issuer_label = t("source") if meta.kind == "media" else t("col.issuer")
    rows = [(t("col.doc_number"), meta.doc_number), (issuer_label, meta.issuer), (t("col.region"), meta.region),
            (t("col.written"), meta.written_date), (t("col.published"), meta.published_date),
            (t("col.clauses"), meta.clause_count)]
    cells = '<span class="qa-sep">·</span>'.join(f"<b>{render.esc(k)}</b> {render.esc(v)}"
                                                   for k, v in rows if v not in (None, ""))
    notice = f'<div class="qa-meta">{render.esc(t("notice", title=meta.notice_title))}</div>' \
        if meta.notice_title else ""
    warning = cards.warning_text(meta)
    warn = f'<div class="qa-warn">⚠ {render.esc(warning)}</div>' if warning else ""
    html(f'<div class="qa-card"><div class="qa-head">《{render.esc(meta.title)}》</div>{notice}'
         f'<div class="qa-meta">{cells}</div>{cards.badges_html(meta)}{warn}</div>')


# -- feedback ------------------------------------------------------------------------------------------
@dataclass
class FeedbackContext:
    """What a 👍/👎 is about: the question, its filters, and the clauses shown with it."""

    question: str
    filters: Filters | None
    shown: list[str] = field(default_factory=list)
    key: str = ""


def _send_feedback(context: FeedbackContext, widget_key: str, clause_ids: list[str]) -> None:
    """``st.feedback``'s callback: 1 is 👍 (the clauses were useful), 0 is 👎."""
    value = st.session_state.get(widget_key)
    if value is None:
        return
    token = st.session_state.get("_token")
    if not token:
        st.session_state["_flash_warning"] = t("feedback_needs_token")
        st.session_state[widget_key] = None
        return
    request = FeedbackRequest(question=context.question[:2000], filters=context.filters,
                              shown=context.shown[:200] or clause_ids, client="ui",
                              useful=clause_ids if value == 1 else [], not_useful=clause_ids if value == 0 else [])
    client = ApiClient(api_url(), token=token)
    try:
        client.feedback(request)
        st.session_state["_flash"] = t("feedback_saved")
    except ClientError as error:
        st.session_state["_flash_error"] = error.message
        st.session_state[widget_key] = None
    finally:
        client.close()


def feedback_widget(context: FeedbackContext, clause_ids: list[str], key: str) -> None:
    """👍/👎 on ``clause_ids`` for the question (stored through ``POST /feedback``)."""
    widget_key = f"fb-{context.key}-{key}"
    st.feedback("thumbs", key=widget_key, on_change=_send_feedback, args=(context, widget_key, clause_ids))


# -- clause cards --------------------------------------------------------------------------------------
def clause_card(key: str, item: ClauseRef, *, refs: Sequence[int] = (), quotes: Sequence[tuple[int, int]] = (),
                marks: Sequence[tuple[int, int]] = (), query: str | None = None,
                shared: Sequence[tuple[int, int]] = (), show_title: bool = True, n: int | None = None,
                score: float | None = None, match: str | None = None,
                feedback: FeedbackContext | None = None) -> None:
    """A bordered card: source, 文号/issuer/date, badges, heading path, highlighted text, the official
    citation (copyable), 查看原文 and 👍/👎.

    ``quotes`` are in document-body offsets (shown relative to the clause text, and in the reader);
    ``marks`` (a phrase's occurrences) and ``shared`` are offsets into ``item.text``.
    """
    relative = [(s - item.char_start, e - item.char_start) for s, e in quotes] + list(marks)
    body = render.highlight(item.text, query, shared=shared, quotes=relative, limit=CARD_CHARS,
                            excerpt_note=t("excerpt", n="{n}"))
    with st.container(border=True):
        html(cards.card_html(title=item.doc_title, doc_number=item.doc_number, issuer=item.issuer,
                             region=item.region, date=item.date, heading_path=item.heading_path, label=item.label,
                             body_html=body, n=n, text=item.text, refs=refs, meta=meta_of(item.doc_id),
                             score=score, match=match, show_title=show_title))
        st.code(item.official, language=None, wrap_lines=True)
        left, right = st.columns([3, 2], vertical_alignment="center")
        with left:
            if st.button(t("open"), key=f"open-{key}", icon=":material/article:", help=t("open_help")):
                reader_quotes = list(quotes) or [(item.char_start + s, item.char_start + e) for s, e in marks]
                reader_dialog(item.doc_id, item.clause_id, item.official, reader_quotes, query)
        if feedback is not None:
            with right:
                feedback_widget(feedback, [item.clause_id], f"clause-{item.clause_id}")
