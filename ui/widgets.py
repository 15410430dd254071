"""Widgets shared by the UI's modes: cached document look-ups, error lines, clause cards, the reader."""

from __future__ import annotations

import streamlit as st

from qa.schemas import Document, DocumentMeta, Health
from ui import render
from ui.client import ApiClient, ClientError, api_url

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


def show_error(error: ClientError) -> None:
    st.error(render.md_escape(error.message), icon=":material/error:")


def took(ms: float) -> str:
    return f" · 用时 {ms / 1000:.2f} 秒" if ms >= 1000 else (f" · 用时 {ms:.0f} 毫秒" if ms >= 1 else "")


def html(markup: str) -> None:
    """Insert markup built by :mod:`ui.render` (which escapes all text it is given)."""
    st.markdown(markup, unsafe_allow_html=True)


# -- the document reader -------------------------------------------------------------------------------
@st.dialog("查看原文", width="large")
def reader_dialog(doc_id: str, clause_id: str | None, citation: str | None, quote: tuple[int, int] | None,
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
        html(render.document_html(doc, clause_id, quote, query))
    if clause_id:
        st.html(render.SCROLL_SCRIPT, unsafe_allow_javascript=True)


def document_header(meta: DocumentMeta) -> None:
    rows = [("文号", meta.doc_number), ("发文机关", meta.issuer), ("地区", meta.region), ("成文日期", meta.written_date),
            ("发布日期", meta.published_date), ("有效性", meta.validity), ("条款数", meta.clause_count)]
    cells = '<span class="qa-sep">·</span>'.join(f"<b>{render.esc(k)}</b> {render.esc(v)}"
                                                   for k, v in rows if v not in (None, ""))
    notice = f'<div class="qa-meta">印发通知：{render.esc(meta.notice_title)}</div>' if meta.notice_title else ""
    html(f'<div class="qa-card"><div class="qa-head">《{render.esc(meta.title)}》</div>{notice}'
         f'<div class="qa-meta">{cells}</div></div>')


# -- clause cards --------------------------------------------------------------------------------------
def clause_card(key: str, *, doc_id: str, clause_id: str, title: str, doc_number: str | None, issuer: str | None,
                region: str | None, date: str | None, heading_path: list[str], label: str | None, text: str,
                citation: str, char_start: int, n: int | None = None,
                query: str | None = None, quote: tuple[int, int] | None = None,
                shared: list[tuple[int, int]] = (), show_title: bool = True) -> None:
    """A bordered card: source, 文号/issuer/date, heading path, highlighted text, citation (copyable), 查看原文.

    ``quote`` is in document-body offsets; it is shown relative to the clause text.
    """
    rel_quote = (quote[0] - char_start, quote[1] - char_start) if quote else None
    body = render.highlight(text, query, rel_quote, shared, limit=CARD_CHARS)
    with st.container(border=True):
        if show_title:
            html(render.card_html(title=title, doc_number=doc_number, issuer=issuer, region=region, date=date,
                                  heading_path=heading_path, label=label, body_html=body, n=n, text=text))
        else:
            trail = render.heading_trail(heading_path, label, text) or "（文件开头部分）"
            html(f'<div class="qa-card"><div class="qa-path">{render.esc(trail)}</div>'
                 f'<div class="qa-text">{body}</div></div>')
        st.code(citation, language=None, wrap_lines=True)
        if st.button("查看原文", key=f"open-{key}", icon=":material/article:", help="打开全文，定位到本条"):
            reader_dialog(doc_id, clause_id, citation, quote, query)


def hit_card(key: str, hit, **kwargs) -> None:
    clause_card(key, doc_id=hit.doc_id, clause_id=hit.clause_id, title=hit.doc_title, doc_number=hit.doc_number,
                issuer=hit.issuer, region=hit.region, date=hit.date, heading_path=hit.heading_path, label=hit.label,
                text=hit.text, citation=hit.citation, char_start=hit.char_start, **kwargs)
