"""相似表述: how other documents word what a draft sentence says, grouped by document."""

from __future__ import annotations

import streamlit as st

from qa.schemas import DocumentMeta
from ui import render
from ui.cards import group_header_html
from ui.client import ApiClient, ClientError
from ui.i18n import t
from ui.widgets import clause_card, html, meta_of, show_error, took


def page_similar(client: ApiClient, docs: list[DocumentMeta], keep_valid) -> None:
    titles = {d.doc_id: d.title for d in docs}
    keep_valid("similar_exclude", list(titles))
    with st.form("similar_form", border=False):
        draft = st.text_area(t("draft"), key="similar_q", height=80, placeholder=t("draft_ph"))
        c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
        exclude = c1.multiselect(t("exclude"), list(titles), key="similar_exclude",
                                 format_func=lambda d: titles.get(d, d), placeholder=t("exclude_none"))
        k = c2.number_input(t("k"), min_value=1, max_value=50, value=10, key="similar_k")
        submitted = st.form_submit_button(t("find_similar"), type="primary", key="similar_go",
                                          icon=":material/compare:")
    if submitted:
        if not draft.strip():
            st.warning(t("draft_empty"))
        else:
            try:
                with st.spinner(t("comparing")):
                    response = client.similar(draft.strip(), k=int(k), exclude_doc_ids=exclude)
                st.session_state["similar_result"] = (draft.strip(), response)
            except ClientError as error:
                show_error(error)
    result = st.session_state.get("similar_result")
    if not result:
        st.caption(t("similar_intro"))
        return
    draft, response = result
    pieces = {sc.hit.text[s.start:s.end] for g in response.groups for sc in g.clauses for s in sc.shared}
    n_clauses = sum(len(g.clauses) for g in response.groups)
    st.markdown(t("draft_label"))
    html(render.draft_html(draft, [p for p in pieces if len(p) >= 2]))
    st.markdown(t("similar_count", docs=len(response.groups), n=n_clauses) + took(response.took_ms))
    if not response.groups:
        st.info(t("similar_none"))
    for g, group in enumerate(response.groups):
        with st.container(border=True):
            html(group_header_html(title=group.doc_title, doc_number=group.doc_number, region=group.region,
                                   date=group.date, count=len(group.clauses), meta=meta_of(group.doc_id)))
            for i, sc in enumerate(group.clauses):
                clause_card(f"similar-{g}-{i}-{sc.hit.passage_id}", sc.hit,
                            shared=[(s.start, s.end) for s in sc.shared], show_title=False)
