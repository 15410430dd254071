"""Streamlit front end of the policy-document service: 问答, 检索, 相似表述, 文件库.

Run with ``streamlit run ui/app.py``; it talks to the service at ``QA_API_URL`` (default
http://127.0.0.1:8000). All document text is escaped before display (see :mod:`ui.render`). Each mode is
its own module (``ui/ask.py``, ``ui/search.py``, ``ui/similar.py``, ``ui/library.py``); this one draws the
sidebar (language, mode, filters, question history) and dispatches.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # `streamlit run ui/app.py` puts ui/ on the path, not the project root
    sys.path.insert(0, _ROOT)

from qa.schemas import DocumentMeta, Filters  # noqa: E402
from ui import render  # noqa: E402
from ui.ask import history_sidebar, page_ask  # noqa: E402
from ui.client import ApiClient, ClientError, api_url  # noqa: E402
from ui.i18n import LANGUAGES, t  # noqa: E402
from ui.library import page_library  # noqa: E402
from ui.search import page_search  # noqa: E402
from ui.similar import page_similar  # noqa: E402
from ui.style import CSS  # noqa: E402
from ui.widgets import cached_documents, html, show_error  # noqa: E402

MODES = ["问答", "检索", "相似表述", "文件库"]
MODE_ICONS = {"问答": ":material/forum:", "检索": ":material/search:", "相似表述": ":material/compare:",
              "文件库": ":material/folder_open:"}


# -- sidebar -------------------------------------------------------------------------------------------
def _keep_valid(key: str, options: list) -> None:
    """Drop remembered selections that are no longer offered (e.g. after a document was deleted)."""
    if key in st.session_state:
        st.session_state[key] = [v for v in st.session_state[key] if v in options]


def clear_filters() -> None:
    for key in ("f_region", "f_issuer", "f_docs", "f_validity", "f_years"):
        st.session_state.pop(key, None)


def sidebar_filters(docs: list[DocumentMeta]) -> Filters | None:
    st.markdown(f"**{t('filters')}**")
    titles = {d.doc_id: d.title for d in docs}
    regions = sorted({d.region for d in docs if d.region})
    issuers = sorted({d.issuer for d in docs if d.issuer and d.kind != "media"})  # an outlet issues nothing
    validities = sorted({d.validity for d in docs if d.validity})
    years = sorted({d.year for d in docs if d.year})
    for key, options in (("f_region", regions), ("f_issuer", issuers), ("f_docs", list(titles)),
                         ("f_validity", validities)):
        _keep_valid(key, options)
    region = st.multiselect(t("f_region"), regions, key="f_region", placeholder=t("all_regions"))
    issuer = st.multiselect(t("f_issuer"), issuers, key="f_issuer", placeholder=t("all_issuers"))
    doc_ids = st.multiselect(t("f_docs"), list(titles), key="f_docs", format_func=lambda d: titles.get(d, d),
                             placeholder=t("all_docs"))
    year_from = year_to = None
    if len(years) >= 2:
        stored = st.session_state.get("f_years")
        if stored and not (years[0] <= stored[0] <= stored[1] <= years[-1]):
            st.session_state.pop("f_years")
        low, high = st.slider(t("f_years"), years[0], years[-1], (years[0], years[-1]), key="f_years")
        if (low, high) != (years[0], years[-1]):
            year_from, year_to = low, high
    validity = st.multiselect(t("f_validity"), validities, key="f_validity", placeholder=t("any")) \
        if validities else []
    filters = Filters(region=region or None, issuer=issuer or None, doc_ids=doc_ids or None, year_from=year_from,
                      year_to=year_to, validity=validity or None)
    if filters == Filters():
        return None
    st.button(t("clear_filters"), on_click=clear_filters, key="f_clear", icon=":material/filter_alt_off:")
    return filters


def describe_filters(filters: Filters | None, docs: list[DocumentMeta]) -> str:
    if not filters:
        return ""
    titles = {d.doc_id: d.title for d in docs}
    parts = []
    if filters.region:
        parts.append(f"{t('f_region')}：" + "、".join(filters.region))
    if filters.issuer:
        parts.append(f"{t('f_issuer')}：" + "、".join(filters.issuer))
    if filters.doc_ids:
        parts.append(f"{t('f_docs')}：" + "、".join(f"《{titles.get(d, d)}》" for d in filters.doc_ids))
    if filters.year_from or filters.year_to:
        parts.append(f"{t('f_years')}：{filters.year_from}—{filters.year_to}")
    if filters.validity:
        parts.append(f"{t('f_validity')}：" + "、".join(filters.validity))
    return "；".join(parts)


# -- page ----------------------------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title=t("page_title"), page_icon=":material/gavel:", layout="wide")
    html(CSS)
    if "mode" not in st.session_state and st.query_params.get("mode") in MODES:
        st.session_state["mode"] = st.query_params["mode"]
    client = ApiClient(api_url())
    try:
        run(client)
    finally:
        client.close()


# Widget values kept while their mode is not shown (Streamlit forgets the state of widgets it did not draw).
PERSISTENT_KEYS = ("ask_q", "search_q", "search_mode", "search_k", "similar_q", "similar_exclude", "similar_k",
                   "f_region", "f_issuer", "f_docs", "f_years", "f_validity", "lib_doc", "token", "lang")


def run(client: ApiClient) -> None:
    for key in PERSISTENT_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    with st.sidebar:
        st.markdown(f"### {t('app_title')}")
        st.session_state.setdefault("lang", "zh")
        st.segmented_control(t("language"), list(LANGUAGES), key="lang", format_func=LANGUAGES.get,
                             label_visibility="collapsed")
        mode = st.radio("mode", MODES, key="mode", format_func={m: f"{MODE_ICONS[m]} {t('mode.' + m)}" for m in MODES}.get,
                        label_visibility="collapsed")
        st.divider()
    st.markdown(f"#### {MODE_ICONS[mode]} {t('mode.' + mode)}")
    try:
        health = client.health()
        st.session_state["_health"] = health
        docs = cached_documents(client.base_url, health.index_generation)
    except ClientError as error:
        show_error(error)
        st.sidebar.error(t("service_down"), icon=":material/cloud_off:")
        return
    st.session_state["_metas"] = {d.doc_id: d for d in docs}
    filters = None
    with st.sidebar:
        if mode in ("问答", "检索"):
            filters = sidebar_filters(docs)
            st.divider()
        st.caption(":material/check_circle: " + t("service_ok", docs=health.documents, clauses=health.clauses))
        if health.embedder_is_fallback:
            st.caption(t("fallback_model"))
        token = os.environ.get("QA_API_TOKEN") or None
        if token:
            if mode == "文件库":
                st.caption(t("token_from_env"))
        elif mode == "文件库":
            token = st.text_input(t("token"), type="password", key="token", help=t("token_help")) or None
        else:
            token = st.session_state.get("token") or None  # typed in 文件库; also signs 👍/👎
        history_slot = st.container() if mode == "问答" else None  # filled after the page: it may ask
    client.token = token
    st.session_state["_token"] = token
    for key, show in (("_flash", st.success), ("_flash_warning", st.warning), ("_flash_error", st.error)):
        if key in st.session_state:
            show(render.md_escape(st.session_state.pop(key)))
    if not docs and mode != "文件库":
        st.info(t("empty_library"))
    filter_text = describe_filters(filters, docs)
    if mode == "问答":
        page_ask(client, filters, filter_text)
        with history_slot:
            st.divider()
            history_sidebar()
    elif mode == "检索":
        page_search(client, filters, filter_text)
    elif mode == "相似表述":
        page_similar(client, docs, _keep_valid)
    else:
        page_library(client, docs, health, token)


main()
