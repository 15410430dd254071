"""文件库: the table of documents with kind and status, the clause tree of one, and (with the admin token)
upload with a result per file in the reader's language, and delete."""

from __future__ import annotations

import re

import streamlit as st

from qa.schemas import DocumentMeta, Health, UploadedFile
from ui import render
from ui.cards import library_table_html
from ui.client import ApiClient, ClientError
from ui.document_view import document_html
from ui.i18n import lang, t
from ui.widgets import cached_document, document_header, html, show_error

UPLOAD_TYPES = ("txt", "md", "html", "htm", "docx", "pdf")
MULTIPART_SLACK = 64 * 1024  # what a request's multipart framing adds to its files (the service allows it too)

# The service's reasons for rejecting a file (English, for logs and scripts), as an official reads them.
REASONS: list[tuple[re.Pattern, str, str]] = [(re.compile(p), zh, en) for p, zh, en in (
    (r"unsupported file type '?(\.?\w*)'?", "不支持的文件类型 {0}（可上传 txt、md、html、htm、docx、pdf）",
     "unsupported file type {0} (allowed: txt, md, html, htm, docx, pdf)"),
    (r"no usable name", "文件名无效（需带扩展名）", "no usable file name with an extension"),
    (r"same bytes are already", "与文件库中已有文件内容完全相同", "same content as a document already held"),
    (r"empty file", "空文件", "empty file"),
    (r"mislabelled file: the extension says (\w+) but the content is (.+)$", "扩展名为 {0}，但内容是 {1}",
     "the extension says {0} but the content is {1}"),
    (r"not a PDF", "不是有效的 PDF 文件", "not a PDF file"),
    (r"not a DOCX", "不是有效的 DOCX 文件", "not a DOCX file"),
    (r"corrupt DOCX", "DOCX 文件已损坏", "corrupt DOCX file"),
    (r"unreadable PDF", "PDF 文件无法读取", "unreadable PDF"),
    (r"no text layer", "PDF 没有文字层（扫描件？请先做文字识别）", "the PDF has no text layer (scanned? run OCR)"),
    (r"binary content", "文本文件中含有二进制内容", "binary content in a text file"),
    (r"truncated", "文件不完整（在一个字符中间截断）", "truncated in the middle of a character"),
    (r"not valid UTF-8", "无法识别的文字编码（既不是 UTF-8，也不是 GB18030/GBK）", "unknown text encoding"),
    (r"no text", "文件中没有正文", "no text in the file"),
    (r"too large", "文件过大：超过服务端上传限制", "too large for the service's upload limit"),
    (r"cannot be parsed", "文件无法解析", "the file cannot be parsed"),
)]


def reason_text(reason: str | None) -> str:
    """The service's reason in the UI's language (unknown reasons are shown as sent)."""
    for pattern, zh, en in REASONS:
        m = pattern.search(reason or "")
        if m:
            return (en if lang() == "en" else zh).format(*m.groups())
    return reason or ""


def page_library(client: ApiClient, docs: list[DocumentMeta], health: Health, token: str | None) -> None:
    st.markdown(t("library_count", docs=len(docs), clauses=sum(d.clause_count for d in docs)))
    if docs:
        html(library_table_html(docs))
    titles = {d.doc_id: d.title for d in docs}
    if st.session_state.get("lib_doc") not in titles:
        st.session_state.pop("lib_doc", None)
    doc_id = st.selectbox(t("open_doc"), list(titles), key="lib_doc", index=None,
                          format_func=lambda d: titles.get(d, d), placeholder=t("open_doc_ph"))
    if doc_id:
        try:
            with st.spinner(t("reading")):
                doc = cached_document(client.base_url, doc_id, health.index_generation)
        except ClientError as error:
            show_error(error)
        else:
            with st.container(border=True):
                document_header(doc.meta)
                with st.container(height=560, border=False, key="lib_body"):
                    html(document_html(doc))
    library_admin(client, docs, health, token)


def plan_batches(files: list[tuple[str, bytes]], limit_bytes: int) -> tuple[list[list[tuple[str, bytes]]],
                                                                              list[UploadedFile]]:
    """Requests that each stay under the service's limit, and the files refused before sending (a type the
    service does not take, or a file larger than the limit on its own)."""
    batches: list[list[tuple[str, bytes]]] = []
    refused: list[UploadedFile] = []
    size = 0
    for name, data in files:
        suffix = name.rpartition(".")[2].lower() if "." in name else ""
        if suffix not in UPLOAD_TYPES:
            refused.append(UploadedFile(name=name, status="rejected", reason=f"unsupported file type '.{suffix}'"))
            continue
        if len(data) + MULTIPART_SLACK // 2 > limit_bytes:
            refused.append(UploadedFile(name=name, status="rejected", reason="upload too large"))
            continue
        if not batches or size + len(data) > limit_bytes - MULTIPART_SLACK // 2:
            batches.append([])
            size = 0
        batches[-1].append((name, data))
        size += len(data)
    return batches, refused


def _send(client: ApiClient, batch: list[tuple[str, bytes]]) -> list[UploadedFile]:
    """One request's results. A request the service refuses whole (every file in it rejected) is sent again
    one file at a time, so each file gets its own reason."""
    try:
        return client.upload(batch).files
    except ClientError as error:
        if error.status is None or error.status in (401, 403):  # no service, or no right to upload: say so once
            raise
        if len(batch) > 1:
            return [result for item in batch for result in _send(client, [item])]
        return [UploadedFile(name=batch[0][0], status="rejected", reason=error.message)]


def upload_files(client: ApiClient, files: list[tuple[str, bytes]], max_upload_mb: float) -> list[UploadedFile]:
    """Each file's result, in the order chosen; the good files go in whatever happens to the others."""
    batches, results = plan_batches(files, int(max_upload_mb * 1024 * 1024))
    for batch in batches:
        results += _send(client, batch)
    order = {name: i for i, (name, _) in enumerate(files)}
    return sorted(results, key=lambda r: order.get(r.name, len(order)))


def upload_report(results: list[UploadedFile], docs: list[DocumentMeta]) -> None:
    titles = {d.doc_id: d.title for d in docs}
    count = {s: sum(r.status == s for r in results) for s in ("added", "replaced", "duplicate", "rejected")}
    summary = t("upload_summary", n=len(results), added=count["added"], replaced=count["replaced"],
                dup=count["duplicate"], rejected=count["rejected"])
    (st.success if count["added"] or count["replaced"] else st.warning)(summary)
    rows = []
    for r in results:
        if r.status == "rejected":
            note = reason_text(r.reason)
        elif r.status == "duplicate":
            note = f"《{titles[r.doc_id]}》" if r.doc_id in titles else (r.doc_id or "")
        else:
            note = f"《{titles[r.doc_id]}》" if r.doc_id in titles else ""
        rows.append(f'<tr class="qa-up-{r.status}"><td>{render.esc(r.name)}</td>'
                    f'<td class="qa-nw"><span class="qa-badge qa-up-{r.status}">{render.esc(t("up." + r.status))}'
                    f'</span></td><td>{render.esc(note)}</td></tr>')
    html(f'<table class="qa-table qa-upload"><tbody>{"".join(rows)}</tbody></table>')


def library_admin(client: ApiClient, docs: list[DocumentMeta], health: Health, token: str | None) -> None:
    with st.expander(t("admin"), expanded=bool(token), icon=":material/admin_panel_settings:"):
        if not health.uploads_enabled:
            st.info(t("uploads_off"))
        if not token:
            st.caption(t("needs_token"))
            return
        if st.session_state.get("upload_results"):
            upload_report(st.session_state["upload_results"], docs)
        limit_mb = health.max_upload_mb or 20
        nonce = st.session_state.get("upload_nonce", 0)  # a new key empties the widget after an upload
        files = st.file_uploader(t("upload_label"), accept_multiple_files=True, key=f"upload_files-{nonce}",
                                 max_upload_size=max(1, int(limit_mb)))
        st.caption(t("upload_limit", mb=f"{limit_mb:g}"))
        if st.button(t("upload_go"), key="upload_go", type="primary", disabled=not files, icon=":material/upload:"):
            try:
                with st.spinner(t("uploading")):
                    results = upload_files(client, [(f.name, f.getvalue()) for f in files], limit_mb)
            except ClientError as error:
                show_error(error)
            else:
                st.session_state["upload_results"] = results
                st.session_state["upload_nonce"] = nonce + 1
                st.cache_data.clear()
                st.rerun()  # the header and the sidebar count the new documents
        delete_panel(client, docs)


def delete_panel(client: ApiClient, docs: list[DocumentMeta]) -> None:
    titles = {d.doc_id: d.title for d in docs}
    if st.session_state.get("delete_doc") not in titles:
        st.session_state.pop("delete_doc", None)
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    doc_id = c1.selectbox(t("delete_doc"), list(titles), key="delete_doc", index=None,
                          format_func=lambda d: f"{titles.get(d, d)}（{d}）", placeholder=t("delete_ph"))
    confirm = c2.checkbox(t("delete_confirm"), key="delete_confirm")
    if st.button(t("delete"), key="delete_go", disabled=not (doc_id and confirm), icon=":material/delete:"):
        try:
            client.delete(doc_id)
        except ClientError as error:
            show_error(error)
        else:
            st.cache_data.clear()
            st.session_state["_flash"] = t("deleted", title=titles.get(doc_id, doc_id))
            st.session_state.pop("delete_doc", None)
            st.session_state.pop("delete_confirm", None)
            st.rerun()
