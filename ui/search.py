"""检索: ranked clauses (hybrid, semantic, keywords) or every verbatim occurrence of a phrase, with scores,
match kind, a relevance floor behind 显示更多, sorting by relevance or date, and per-document counts that
filter the list."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from qa.schemas import Filters, Hit, PhraseResponse, SearchResponse
from ui import render
from ui.client import ApiClient, ClientError
from ui.i18n import labels, t
from ui.widgets import clause_card, meta_of, show_error, took

SEARCH_MODES = ("hybrid", "dense", "lexical", "phrase")
SORTS = ("relevance", "date")
# A ranked hit scoring under this share of the best one is hidden behind 显示更多, unless it holds the query
# verbatim: ranking always returns k clauses, and the tail of a short query's list is noise.
RELEVANCE_FLOOR = 0.5
PHRASE_HINT_CHARS = 16  # queries this short (no spaces) are also counted verbatim, to report the true count


@dataclass
class Entry:
    """One result as listed: the clause, the occurrences to mark in it, how it matched, its score."""

    hit: Hit
    marks: list[tuple[int, int]]
    match: str
    score: float | None


@dataclass
class SearchView:
    query: str
    mode: str
    ranked: SearchResponse | None
    phrase: PhraseResponse | None
    filter_text: str


def match_kind(query: str, text: str) -> str:
    """``phrase`` (the query verbatim), ``terms`` (some of its words) or ``semantic`` (meaning only)."""
    if query.strip() and query.strip() in text:
        return "phrase"
    return "terms" if render.query_terms(query, text) else "semantic"


def entries(view: SearchView) -> list[Entry]:
    if view.mode == "phrase" and view.phrase is not None:
        return [Entry(p.hit, [(s.start, s.end) for s in p.spans], "phrase", None) for p in view.phrase.hits]
    hits = view.ranked.hits if view.ranked else []
    return [Entry(h, [], match_kind(view.query, h.text), h.score) for h in hits]


def split_by_floor(found: list[Entry]) -> tuple[list[Entry], list[Entry]]:
    """(shown, hidden behind 显示更多)."""
    scores = [e.score for e in found if e.score is not None]
    if not scores:
        return found, []
    floor = RELEVANCE_FLOOR * max(scores)
    shown = [e for e in found if e.score is None or e.score >= floor or e.match == "phrase"]
    return shown, [e for e in found if e not in shown]


def _date_key(entry: Entry) -> str:
    return entry.hit.date or ""


def _run_search(client: ApiClient, query: str, mode: str, k: int, filters: Filters | None,
                filter_text: str) -> None:
    ranked = phrase = None
    with st.spinner(t("searching")):
        if mode == "phrase":
            phrase = client.phrase(query, filters=filters)
        else:
            ranked = client.search(query, k=k, mode=mode, filters=filters)
            if len(query) <= PHRASE_HINT_CHARS and not any(ch.isspace() for ch in query):
                phrase = client.phrase(query, filters=filters)
    st.session_state["search_result"] = SearchView(query, mode, ranked, phrase, filter_text)
    st.session_state.pop("search_doc", None)
    st.session_state["search_more"] = False


def _only_phrase() -> None:
    view: SearchView = st.session_state["search_result"]
    st.session_state["search_result"] = SearchView(view.query, "phrase", view.ranked, view.phrase, view.filter_text)
    st.session_state.pop("search_doc", None)


def _pick_doc(doc_id: str | None) -> None:
    st.session_state["search_doc"] = doc_id


def page_search(client: ApiClient, filters: Filters | None, filter_text: str) -> None:
    with st.form("search_form", border=False):
        c1, c2, c3 = st.columns([6, 2, 1], vertical_alignment="bottom")
        query = c1.text_input(t("query"), key="search_q", placeholder=t("query_ph"))
        mode = c2.selectbox(t("search_mode"), SEARCH_MODES, key="search_mode", format_func=labels("sm.", SEARCH_MODES).get)
        k = c3.number_input(t("k"), min_value=1, max_value=100, value=10, key="search_k")
        submitted = st.form_submit_button(t("search"), type="primary", key="search_go", icon=":material/search:")
    if submitted:
        if not query.strip():
            st.warning(t("search_empty"))
        else:
            try:
                _run_search(client, query.strip(), mode, int(k), filters, filter_text)
            except ClientError as error:
                show_error(error)
    view: SearchView | None = st.session_state.get("search_result")
    if view:
        show_results(view)


def show_results(view: SearchView) -> None:
    found = entries(view)
    response = view.phrase if view.mode == "phrase" else view.ranked
    if view.mode == "phrase" and view.phrase is not None:
        p = view.phrase
        if p.occurrences:
            st.markdown(t("phrase_results", phrase=render.md_escape(p.phrase), n=p.occurrences, clauses=p.clauses,
                          docs=len(p.documents)) + took(p.took_ms))
        else:
            st.info(t("phrase_none", phrase=render.md_escape(p.phrase)))
    else:
        st.markdown(t("results", n=len(found), docs=len({e.hit.doc_id for e in found})) + took(response.took_ms))
        if view.phrase is not None and view.phrase.occurrences:
            c1, c2 = st.columns([4, 1], vertical_alignment="center")
            c1.caption(t("phrase_hint", phrase=render.md_escape(view.query), n=view.phrase.occurrences,
                         clauses=view.phrase.clauses))
            c2.button(t("phrase_only"), key="search_phrase_only", on_click=_only_phrase, type="tertiary",
                      icon=":material/format_quote:")
    if view.filter_text:
        st.caption(t("filter_label", text=render.md_escape(view.filter_text)))
    if not found:
        if view.mode != "phrase":
            st.info(t("no_results"))
        return
    chosen = st.session_state.get("search_doc")
    if chosen not in {e.hit.doc_id for e in found}:
        chosen = None
    main, side = st.columns([4, 1], gap="large")
    with side:
        per_document(found, chosen)
    with main:
        order = st.segmented_control(t("sort"), SORTS, default="relevance", key="search_sort",
                                     format_func=labels("sort.", SORTS).get) or "relevance"
        listed = [e for e in found if chosen is None or e.hit.doc_id == chosen]
        if order == "date":
            listed = sorted(listed, key=_date_key, reverse=True)
        shown, hidden = split_by_floor(listed)
        if st.session_state.get("search_more"):
            shown, hidden = listed, []
        for rank, entry in enumerate(shown, 1):
            clause_card(f"search-{rank}-{entry.hit.passage_id}", entry.hit, n=rank, query=view.query,
                        marks=entry.marks, score=entry.score, match=entry.match)
        if hidden:
            st.button(t("show_more", n=len(hidden)), key="search_show_more", icon=":material/expand_more:",
                      on_click=lambda: st.session_state.update(search_more=True))


def per_document(found: list[Entry], chosen: str | None) -> None:
    """Counts per document, each a button that narrows the list to that document."""
    st.markdown(f"**{t('by_doc')}**", help=t("by_doc_help"))
    counts: dict[str, list] = {}
    for entry in found:
        counts.setdefault(entry.hit.doc_id, [entry.hit.doc_title, entry.hit.region, 0])[2] += 1
    st.button(t("all_results") + f" · {len(found)}", key="search_doc_all", on_click=_pick_doc, args=(None,),
              type="primary" if chosen is None else "secondary", width="stretch")
    for doc_id, (title, region, n) in counts.items():
        meta = meta_of(doc_id)
        label = f"《{title}》 · {t('count_unit', n=n)}" + (f" · {region}" if region else "")
        if meta is not None and meta.kind == "media":
            label += f" · {t('kind.media')}"
        st.button(render.md_escape(label), key=f"search_doc-{doc_id}", on_click=_pick_doc, args=(doc_id,),
                  type="primary" if chosen == doc_id else "secondary", width="stretch")
