"""Streamlit front end of the policy-document service: 问答, 检索, 相似表述, 文件库.

Run with ``streamlit run ui/app.py``; it talks to the service at ``QA_API_URL`` (default
http://127.0.0.1:8000). All document text is escaped before display (see :mod:`ui.render`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # `streamlit run ui/app.py` puts ui/ on the path, not the project root
    sys.path.insert(0, _ROOT)

from qa.schemas import DocumentMeta, Filters, Health  # noqa: E402
from ui import render  # noqa: E402
from ui.client import ApiClient, ClientError, api_url  # noqa: E402
from ui.widgets import (  # noqa: E402
    cached_document,
    cached_documents,
    clause_card,
    document_header,
    hit_card,
    html,
    show_error,
    took,
)

MODES = ["问答", "检索", "相似表述", "文件库"]
MODE_ICONS = {"问答": ":material/forum:", "检索": ":material/search:", "相似表述": ":material/compare:",
              "文件库": ":material/folder_open:"}
SEARCH_MODES = {"混合": "hybrid", "语义": "dense", "关键词": "lexical"}
UPLOAD_TYPES = ["txt", "md", "html", "htm", "docx", "pdf"]



# -- sidebar -------------------------------------------------------------------------------------------
def _keep_valid(key: str, options: list) -> None:
    """Drop remembered selections that are no longer offered (e.g. after a document was deleted)."""
    if key in st.session_state:
        st.session_state[key] = [v for v in st.session_state[key] if v in options]


def clear_filters() -> None:
    for key in ("f_region", "f_issuer", "f_docs", "f_validity", "f_years"):
        st.session_state.pop(key, None)


def sidebar_filters(docs: list[DocumentMeta]) -> Filters | None:
    st.markdown("**筛选条件**")
    titles = {d.doc_id: d.title for d in docs}
    regions = sorted({d.region for d in docs if d.region})
    issuers = sorted({d.issuer for d in docs if d.issuer})
    validities = sorted({d.validity for d in docs if d.validity})
    years = sorted({d.year for d in docs if d.year})
    for key, options in (("f_region", regions), ("f_issuer", issuers), ("f_docs", list(titles)),
                         ("f_validity", validities)):
        _keep_valid(key, options)
    region = st.multiselect("地区", regions, key="f_region", placeholder="全部地区")
    issuer = st.multiselect("发文机关", issuers, key="f_issuer", placeholder="全部机关")
    doc_ids = st.multiselect("文件", list(titles), key="f_docs", format_func=lambda d: titles.get(d, d),
                             placeholder="全部文件")
    year_from = year_to = None
    if len(years) >= 2:
        stored = st.session_state.get("f_years")
        if stored and not (years[0] <= stored[0] <= stored[1] <= years[-1]):
            st.session_state.pop("f_years")
        low, high = st.slider("年份", years[0], years[-1], (years[0], years[-1]), key="f_years")
        if (low, high) != (years[0], years[-1]):
            year_from, year_to = low, high
    validity = st.multiselect("有效性", validities, key="f_validity", placeholder="不限") if validities else []
    filters = Filters(region=region or None, issuer=issuer or None, doc_ids=doc_ids or None, year_from=year_from,
                      year_to=year_to, validity=validity or None)
    if filters == Filters():
        return None
    st.button("清除筛选", on_click=clear_filters, key="f_clear", icon=":material/filter_alt_off:")
    return filters


def describe_filters(filters: Filters | None, docs: list[DocumentMeta]) -> str:
    if not filters:
        return ""
    titles = {d.doc_id: d.title for d in docs}
    parts = []
    if filters.region:
        parts.append("地区：" + "、".join(filters.region))
    if filters.issuer:
        parts.append("发文机关：" + "、".join(filters.issuer))
    if filters.doc_ids:
        parts.append("文件：" + "、".join(f"《{titles.get(d, d)}》" for d in filters.doc_ids))
    if filters.year_from or filters.year_to:
        parts.append(f"年份：{filters.year_from}—{filters.year_to}")
    if filters.validity:
        parts.append("有效性：" + "、".join(filters.validity))
    return "；".join(parts)


# -- modes ---------------------------------------------------------------------------------------------
def page_ask(client: ApiClient, filters: Filters | None, docs: list[DocumentMeta]) -> None:
    with st.form("ask_form", border=False):
        question = st.text_area("问题", key="ask_q", height=80,
                                placeholder="例如：如皋到2025年要培育多少家高新技术企业？")
        submitted = st.form_submit_button("提问", type="primary", key="ask_go", icon=":material/send:")
    if submitted:
        if not question.strip():
            st.warning("请先输入问题。")
        else:
            try:
                with st.spinner("正在检索条款并核对依据…"):
                    answer = client.ask(question.strip(), filters=filters)
                st.session_state["ask_result"] = (question.strip(), answer, describe_filters(filters, docs))
            except ClientError as error:
                show_error(error)
    result = st.session_state.get("ask_result")
    if not result:
        st.caption("答复只摘录已收录文件中的原文，每句后标注出处编号 [n]，右侧列出对应条款。")
        return
    question, answer, filter_text = result
    left, right = st.columns([5, 6], gap="large")
    with left:
        st.markdown("##### 答复")
        if answer.answerable:
            html(render.answer_html(answer.answer))
            unverified = [s for s in answer.sentences if not s.verified]
            if unverified:
                st.warning(f"有 {len(unverified)} 句未能与原文逐字核对，请以右侧原文为准。")
            st.caption(f"引用 {len(answer.citations)} 条条款" + took(answer.took_ms)
                       + (f" · 筛选：{render.md_escape(filter_text)}" if filter_text else ""))
            if answer.citations:
                st.markdown("##### 引用清单")
                st.code("\n".join(f"[{c.n}] {c.citation}" for c in answer.citations), language=None,
                        wrap_lines=True)
        else:
            html(render.refusal_html("未找到依据：已收录的文件中没有能够回答该问题的条款，系统不作答复。"
                                     "右侧列出最接近的条款，仅供参考。"))
            if filter_text:
                st.caption(f"当前筛选：{render.md_escape(filter_text)}（可放宽筛选后重试）")
    with right:
        st.markdown("##### 引用条款" if answer.answerable else "##### 最接近的条款")
        with st.container(height=640, border=False, key="ask_cards"):
            if answer.answerable:
                for c in answer.citations:
                    clause_card(f"ask-{c.n}-{c.clause_id}", doc_id=c.doc_id, clause_id=c.clause_id,
                                title=c.doc_title, doc_number=c.doc_number, issuer=c.issuer, region=c.region,
                                date=c.date, heading_path=c.heading_path, label=c.label, text=c.text,
                                citation=c.citation, char_start=c.char_start, n=c.n, query=question,
                                quote=(c.quote_start, c.quote_end))
            elif answer.nearest:
                for rank, hit in enumerate(answer.nearest, 1):
                    hit_card(f"near-{rank}-{hit.passage_id}", hit, n=rank, query=question)
            else:
                st.info("没有相近的条款。")


def page_search(client: ApiClient, filters: Filters | None, docs: list[DocumentMeta]) -> None:
    with st.form("search_form", border=False):
        c1, c2, c3 = st.columns([6, 2, 1], vertical_alignment="bottom")
        query = c1.text_input("检索内容", key="search_q", placeholder="例如：科技型中小企业 研发费用加计扣除")
        mode = c2.selectbox("方式", list(SEARCH_MODES), key="search_mode")
        k = c3.number_input("条数", min_value=1, max_value=100, value=10, key="search_k")
        submitted = st.form_submit_button("检索", type="primary", key="search_go", icon=":material/search:")
    if submitted:
        if not query.strip():
            st.warning("请先输入检索内容。")
        else:
            try:
                with st.spinner("正在检索…"):
                    response = client.search(query.strip(), k=int(k), mode=SEARCH_MODES[mode], filters=filters)
                st.session_state["search_result"] = (query.strip(), response, describe_filters(filters, docs))
            except ClientError as error:
                show_error(error)
    result = st.session_state.get("search_result")
    if not result:
        return
    query, response, filter_text = result
    hits = response.hits
    n_docs = len({h.doc_id for h in hits})
    st.markdown(f"**共 {len(hits)} 条结果**，来自 {n_docs} 份文件" + took(response.took_ms))
    if filter_text:
        st.caption(f"筛选：{render.md_escape(filter_text)}")
    if not hits:
        st.info("没有符合条件的条款。可换个说法，或放宽侧栏中的筛选条件。")
        return
    main, side = st.columns([4, 1], gap="large")
    with main:
        for rank, hit in enumerate(hits, 1):
            hit_card(f"search-{rank}-{hit.passage_id}", hit, n=rank, query=query)
    with side:
        st.markdown("**按文件**")
        counts: dict[str, list] = {}
        for hit in hits:
            counts.setdefault(hit.doc_id, [hit.doc_title, hit.region, 0])[2] += 1
        html('<div class="qa-meta">' + "".join(
            f"<div>《{render.esc(t)}》<br><b>{n}</b> 条{' · ' + render.esc(r) if r else ''}</div><br>"
            for t, r, n in counts.values()) + "</div>")


def page_similar(client: ApiClient, docs: list[DocumentMeta]) -> None:
    titles = {d.doc_id: d.title for d in docs}
    _keep_valid("similar_exclude", list(titles))
    with st.form("similar_form", border=False):
        draft = st.text_area("草拟表述", key="similar_q", height=80,
                             placeholder="粘贴一句拟写的政策表述，例如：设立天使投资基金，推动投贷联动")
        c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
        exclude = c1.multiselect("排除文件（如正在起草的文件本身）", list(titles), key="similar_exclude",
                                 format_func=lambda d: titles.get(d, d), placeholder="不排除")
        k = c2.number_input("条数", min_value=1, max_value=50, value=10, key="similar_k")
        submitted = st.form_submit_button("查找相似表述", type="primary", key="similar_go",
                                          icon=":material/compare:")
    if submitted:
        if not draft.strip():
            st.warning("请先输入草拟的表述。")
        else:
            try:
                with st.spinner("正在比对各文件的表述…"):
                    response = client.similar(draft.strip(), k=int(k), exclude_doc_ids=exclude)
                st.session_state["similar_result"] = (draft.strip(), response)
            except ClientError as error:
                show_error(error)
    result = st.session_state.get("similar_result")
    if not result:
        st.caption("输入拟写的一句话，查看各文件如何表述同一措施；与草稿相同的字句以绿色标出。"
                   "起草中的文件若已收录，可在“排除文件”中选中它。")
        return
    draft, response = result
    pieces = {sc.hit.text[s.start:s.end] for g in response.groups for sc in g.clauses for s in sc.shared}
    n_clauses = sum(len(g.clauses) for g in response.groups)
    st.markdown("**草稿**（绿色为下列条款中出现过的字句）")
    html(render.draft_html(draft, [p for p in pieces if len(p) >= 2]))
    st.markdown(f"**{len(response.groups)} 份文件中有 {n_clauses} 条相近表述**" + took(response.took_ms))
    if not response.groups:
        st.info("其他文件中没有相近的表述。")
    for g, group in enumerate(response.groups):
        with st.container(border=True):
            html(render.group_header_html(title=group.doc_title, doc_number=group.doc_number, region=group.region,
                                          date=group.date, count=len(group.clauses)))
            for i, sc in enumerate(group.clauses):
                hit_card(f"similar-{g}-{i}-{sc.hit.passage_id}", sc.hit, shared=[(s.start, s.end) for s in sc.shared],
                         show_title=False)


def page_library(client: ApiClient, docs: list[DocumentMeta], health: Health, token: str | None) -> None:
    st.markdown(f"**已收录 {len(docs)} 份文件，共 {sum(d.clause_count for d in docs)} 条条款**")
    if docs:
        html(render.library_table_html(docs))
    titles = {d.doc_id: d.title for d in docs}
    if st.session_state.get("lib_doc") not in titles:
        st.session_state.pop("lib_doc", None)
    doc_id = st.selectbox("打开文件", list(titles), key="lib_doc", index=None,
                          format_func=lambda d: titles.get(d, d), placeholder="选择一份文件，按条款层级查看全文")
    if doc_id:
        try:
            with st.spinner("正在读取文件…"):
                doc = cached_document(client.base_url, doc_id, health.index_generation)
        except ClientError as error:
            show_error(error)
        else:
            with st.container(border=True):
                document_header(doc.meta)
                with st.container(height=560, border=False, key="lib_body"):
                    html(render.document_html(doc))
    library_admin(client, docs, health, token)


def library_admin(client: ApiClient, docs: list[DocumentMeta], health: Health, token: str | None) -> None:
    with st.expander("管理文件：上传 / 删除", expanded=bool(token), icon=":material/admin_panel_settings:"):
        if not health.uploads_enabled:
            st.info("服务端未开启上传和删除（启动服务时需设置 QA_API_TOKEN）。")
        if not token:
            st.caption("上传和删除需要管理口令：设置环境变量 QA_API_TOKEN，或在侧栏填写。")
            return
        files = st.file_uploader("上传政策文件（txt、md、html、docx、pdf，可多选）", type=UPLOAD_TYPES,
                                 accept_multiple_files=True, key="upload_files")
        if st.button("上传并入库", key="upload_go", type="primary", disabled=not files, icon=":material/upload:"):
            try:
                with st.spinner("正在解析并建立索引，文件较多时需要一些时间…"):
                    result = client.upload([(f.name, f.getvalue()) for f in files])
            except ClientError as error:
                show_error(error)
            else:
                r = result.report
                st.success(f"新增 {len(r.added)} 份，更新 {len(r.replaced)} 份，未变化 {len(r.unchanged)} 份；"
                           f"文件库现有 {r.documents} 份文件、{r.clauses} 条条款。")
                for e in r.errors:
                    st.error(render.md_escape(f"{e.path}：{e.error}"))
                st.cache_data.clear()
        titles = {d.doc_id: d.title for d in docs}
        if st.session_state.get("delete_doc") not in titles:
            st.session_state.pop("delete_doc", None)
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        doc_id = c1.selectbox("删除文件", list(titles), key="delete_doc", index=None,
                              format_func=lambda d: f"{titles.get(d, d)}（{d}）", placeholder="选择要删除的文件")
        confirm = c2.checkbox("确认删除", key="delete_confirm")
        if st.button("删除", key="delete_go", disabled=not (doc_id and confirm), icon=":material/delete:"):
            try:
                client.delete(doc_id)
            except ClientError as error:
                show_error(error)
            else:
                st.cache_data.clear()
                st.session_state["_flash"] = f"已删除《{titles.get(doc_id, doc_id)}》。"
                st.session_state.pop("delete_doc", None)
                st.session_state.pop("delete_confirm", None)
                st.rerun()


# -- page ----------------------------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="政策文件问答与检索", page_icon=":material/gavel:", layout="wide")
    html(render.CSS)
    if "mode" not in st.session_state and st.query_params.get("mode") in MODES:
        st.session_state["mode"] = st.query_params["mode"]
    client = ApiClient(api_url())
    try:
        run(client)
    finally:
        client.close()


# Widget values kept while their mode is not shown (Streamlit forgets the state of widgets it did not draw).
PERSISTENT_KEYS = ("ask_q", "search_q", "search_mode", "search_k", "similar_q", "similar_exclude", "similar_k",
                   "f_region", "f_issuer", "f_docs", "f_years", "f_validity", "lib_doc")


def run(client: ApiClient) -> None:
    for key in PERSISTENT_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    with st.sidebar:
        st.markdown("### 政策文件助手")
        mode = st.radio("功能", MODES, key="mode", format_func=lambda m: f"{MODE_ICONS[m]} {m}",
                        label_visibility="collapsed")
        st.divider()
    st.markdown(f"#### {MODE_ICONS[mode]} {mode}")
    try:
        health = client.health()
        st.session_state["_health"] = health
        docs = cached_documents(client.base_url, health.index_generation)
    except ClientError as error:
        show_error(error)
        st.sidebar.error("检索服务未连接", icon=":material/cloud_off:")
        return
    filters = None
    with st.sidebar:
        if mode in ("问答", "检索"):
            filters = sidebar_filters(docs)
            st.divider()
        st.caption(f":material/check_circle: 服务正常 · {health.documents} 份文件 · {health.clauses} 条条款")
        if health.embedder_is_fallback:
            st.caption("语义模型：内置备用模型")
        env_token = os.environ.get("QA_API_TOKEN")
        if env_token:
            token = env_token
            if mode == "文件库":
                st.caption("管理口令：已从环境变量 QA_API_TOKEN 读取")
        elif mode == "文件库":
            token = st.text_input("管理口令", type="password", key="token", help="上传、删除文件时使用") or None
        else:
            token = None
    client.token = token
    if "_flash" in st.session_state:
        st.success(render.md_escape(st.session_state.pop("_flash")))
    if not docs and mode != "文件库":
        st.info("文件库为空：请先在“文件库”中上传文件，或用 `qa ingest` 导入。")
    if mode == "问答":
        page_ask(client, filters, docs)
    elif mode == "检索":
        page_search(client, filters, docs)
    elif mode == "相似表述":
        page_similar(client, docs)
    else:
        page_library(client, docs, health, token)


main()
