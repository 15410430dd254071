"""问答: the answer beside its cited clauses (one card per clause), parts per place, side-by-side comparison,
the citation list, export, 👍/👎, and the tab's question history."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import streamlit as st

from qa.schemas import Answer, Citation, DocumentMeta, Filters
from ui import render
from ui.client import ApiClient, ClientError
from ui.export import to_docx, to_markdown
from ui.i18n import labels, t
from ui.style import REF_SCRIPT
from ui.widgets import FeedbackContext, cached_document, clause_card, feedback_widget, html, show_error, took

HISTORY_SIZE = 30
_ids = itertools.count(1)


@dataclass
class AskView:
    """One asked question and what came back, as kept in the tab's history."""

    question: str
    answer: Answer
    filter_text: str
    filters: Filters | None
    id: int = field(default_factory=lambda: next(_ids))


@dataclass
class ClauseGroup:
    """The citations of one clause (one card): the markers citing it and every quote, in body offsets."""

    item: Citation
    refs: list[int]
    quotes: list[tuple[int, int]]


def group_citations(citations: list[Citation], body_of=None) -> list[ClauseGroup]:
    """One group per clause, in order of first use. Two citations of the same clause (two parts of a long
    one) become one card whose text runs over both (``body_of(doc_id)`` gives the document body)."""
    groups: dict[str, ClauseGroup] = {}
    for c in citations:
        quotes = [(q.start, q.end) for q in c.quotes] or [(c.quote_start, c.quote_end)]
        group = groups.get(c.clause_id)
        if group is None:
            groups[c.clause_id] = ClauseGroup(item=c, refs=[c.n], quotes=quotes)
            continue
        group.refs.append(c.n)
        group.quotes += [q for q in quotes if q not in group.quotes]
        start, end = min(group.item.char_start, c.char_start), max(group.item.char_end, c.char_end)
        if (start, end) != (group.item.char_start, group.item.char_end) and body_of is not None:
            body = body_of(c.doc_id)
            group.item = group.item.model_copy(update={"char_start": start, "char_end": end, "text": body[start:end]})
    return list(groups.values())


def remember(view: AskView) -> None:
    """Show ``view`` and put it first in this tab's history (Streamlit keeps session state per tab)."""
    history = [v for v in st.session_state.get("history", []) if v.question != view.question or
               v.filter_text != view.filter_text]
    st.session_state["history"] = [view, *history][:HISTORY_SIZE]
    st.session_state["ask_result"] = view


def _reopen(view: AskView) -> None:
    st.session_state["ask_result"] = view
    st.session_state["ask_q"] = view.question


def history_sidebar() -> None:
    history: list[AskView] = st.session_state.get("history", [])
    st.markdown(f"**{t('history')}**")
    if not history:
        st.caption(t("history_empty"))
    for view in history:
        label = view.question if len(view.question) <= 26 else view.question[:25] + "…"
        st.button(render.md_escape(label), key=f"hist-{view.id}", on_click=_reopen, args=(view,),
                  icon=":material/history:", type="tertiary", help=render.md_escape(view.question))


def page_ask(client: ApiClient, filters: Filters | None, filter_text: str) -> None:
    with st.form("ask_form", border=False):
        question = st.text_area(t("question"), key="ask_q", height=80, placeholder=t("question_ph"))
        submitted = st.form_submit_button(t("ask"), type="primary", key="ask_go", icon=":material/send:")
    if submitted:
        if not question.strip():
            st.warning(t("ask_empty"))
        else:
            try:
                with st.spinner(t("asking")):
                    answer = client.ask(question.strip(), filters=filters)
                remember(AskView(question.strip(), answer, filter_text, filters))
            except ClientError as error:
                show_error(error)
    view: AskView | None = st.session_state.get("ask_result")
    if not view:
        st.caption(t("ask_intro"))
        return
    st.html(REF_SCRIPT, unsafe_allow_javascript=True)
    if view.answer.answerable:
        show_answer(client, view)
    else:
        show_refusal(view)


def show_answer(client: ApiClient, view: AskView) -> None:
    answer = view.answer

    def body_of(doc_id: str) -> str:
        return cached_document(client.base_url, doc_id, st.session_state["_health"].index_generation).body

    groups = group_citations(answer.citations, body_of)
    context = FeedbackContext(view.question, view.filters, [g.item.clause_id for g in groups], key=str(view.id))
    parts = answer.parts if len(answer.parts) >= 2 else []
    layout = "parts"
    if parts:
        layout = st.segmented_control(t("view"), ["parts", "compare"], default="parts", key=f"layout-{view.id}",
                                      format_func=labels("view_", ["parts", "compare"]).get, label_visibility="collapsed") or "parts"
    if layout == "compare":
        compare_view(view, groups, context)
        answer_tools(view, groups, context)
        return
    left, right = st.columns([5, 6], gap="large")
    with left:
        st.markdown(f"##### {t('answer')}")
        if parts:
            for part in parts:
                html(render.sentences_html(_part_sentences(answer, part), part.name, part.reason or t("part_missing")))
        else:
            html(render.answer_html(answer.answer))
        answer_tools(view, groups, context)
    with right:
        st.markdown(f"##### {t('cited_clauses')}")
        with st.container(height=640, border=False, key="ask_cards"):
            if parts:
                shown: set[str] = set()
                for part in parts:
                    mine = [g for g in _part_groups(answer, part, groups) if g.item.clause_id not in shown]
                    if mine:
                        html(f'<div class="qa-part-head">{render.esc(part.name)}</div>')
                    for group in mine:
                        shown.add(group.item.clause_id)
                        _card(view, group, context)
            else:
                for group in groups:
                    _card(view, group, context)


def compare_view(view: AskView, groups: list[ClauseGroup], context: FeedbackContext) -> None:
    """The places side by side: each column its heading, its sentences and its cited clauses."""
    answer = view.answer
    columns = st.columns(len(answer.parts), gap="medium")
    shown: set[str] = set()
    for column, part in zip(columns, answer.parts, strict=True):
        with column:
            html(render.sentences_html(_part_sentences(answer, part), part.name, part.reason or t("part_missing")))
            for group in _part_groups(answer, part, groups):
                if group.item.clause_id not in shown:
                    shown.add(group.item.clause_id)
                    _card(view, group, context)


def _part_sentences(answer: Answer, part) -> list:
    return [answer.sentences[i] for i in part.sentences if i < len(answer.sentences)]


def _part_groups(answer: Answer, part, groups: list[ClauseGroup]) -> list[ClauseGroup]:
    cited = [s.citation for s in _part_sentences(answer, part)]
    return [g for g in groups if any(n in g.refs for n in cited)]


def _card(view: AskView, group: ClauseGroup, context: FeedbackContext) -> None:
    clause_card(f"ask-{view.id}-{group.item.clause_id}", group.item, refs=group.refs, quotes=group.quotes,
                query=view.question, feedback=context)


def answer_tools(view: AskView, groups: list[ClauseGroup], context: FeedbackContext) -> None:
    """Below the answer: checks, the citation list (copy all), export, 👍/👎 on the whole answer."""
    answer = view.answer
    if answer.note:
        st.info(render.md_escape(answer.note), icon=":material/info:")
    unverified = [s for s in answer.sentences if not s.verified]
    if unverified:
        st.warning(t("unverified", n=len(unverified)))
    st.caption(t("cited_count", n=len(groups)) + took(answer.took_ms)
               + (" · " + t("filter_label", text=render.md_escape(view.filter_text)) if view.filter_text else ""))
    if not answer.citations:
        return
    st.markdown(f"##### {t('citation_list')}", help=t("citation_list_help"))
    st.code("\n".join(f"[{c.n}] {c.official}" for c in answer.citations), language=None, wrap_lines=True)
    metas: dict[str, DocumentMeta] = st.session_state.get("_metas", {})
    c1, c2, c3 = st.columns([2, 2, 3], vertical_alignment="center")
    stem = f"答复-{view.id}"
    c1.download_button(t("export_docx"), to_docx(view.question, answer, metas), file_name=f"{stem}.docx",
                       mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                       key=f"docx-{view.id}", icon=":material/description:", on_click="ignore")
    c2.download_button(t("export_md"), to_markdown(view.question, answer, metas), file_name=f"{stem}.md",
                       mime="text/markdown", key=f"md-{view.id}", icon=":material/markdown:", on_click="ignore")
    with c3:
        st.caption(t("answer_useful"))
        feedback_widget(context, [g.item.clause_id for g in groups], "answer")


def show_refusal(view: AskView) -> None:
    answer = view.answer
    left, right = st.columns([5, 6], gap="large")
    with left:
        st.markdown(f"##### {t('answer')}")
        reason = answer.refusal_reason or t("refusal_generic")
        html(render.refusal_html(t("refusal", reason=reason)))
        if answer.note:
            st.info(render.md_escape(answer.note), icon=":material/info:")
        if view.filter_text:
            st.caption(t("relax_filters", text=render.md_escape(view.filter_text)))
    with right:
        st.markdown(f"##### {t('nearest')}")
        with st.container(height=640, border=False, key="ask_cards"):
            if not answer.nearest:
                st.info(t("no_nearest"))
            context = FeedbackContext(view.question, view.filters, [h.clause_id for h in answer.nearest],
                                      key=str(view.id))
            for rank, hit in enumerate(answer.nearest, 1):
                clause_card(f"near-{view.id}-{rank}-{hit.passage_id}", hit, n=rank, query=view.question,
                            feedback=context)
