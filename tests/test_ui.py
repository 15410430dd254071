"""The Streamlit front end (ui/app.py) driven by ``streamlit.testing.v1.AppTest`` against the real service.

The session fixture ingests the seed corpus plus a document full of markup into a temporary index and
starts ``qa serve`` on a free loopback port (about 30–60 s on 2 cores).
"""

from __future__ import annotations

import html
import re

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.ui_support import DISPOSABLE_DOC, TOKEN, build_index, free_port, service
from ui import render

APP = str(ROOT / "ui" / "app.py")
RUGAO_PLAN = "如皋市建设国家创新型县(市)三年行动方案(2023—2025年)"
TIMEOUT = 120


@pytest.fixture(scope="session")
def ui_service(tmp_path_factory) -> str:
    workdir = tmp_path_factory.mktemp("ui-service")
    with service(build_index(workdir), workdir) as url:
        yield url


@pytest.fixture(scope="session")
def documents(ui_service) -> list[dict]:
    return httpx.get(f"{ui_service}/documents", timeout=30, trust_env=False).json()


@pytest.fixture
def app(ui_service, monkeypatch) -> AppTest:
    monkeypatch.setenv("QA_API_URL", ui_service)
    monkeypatch.delenv("QA_API_TOKEN", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def switch(at: AppTest, mode: str) -> AppTest:
    at.sidebar.radio(key="mode").set_value(mode).run()
    assert not at.exception, at.exception
    return at


def markdowns(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def cards(at: AppTest) -> list[str]:
    return [v for v in markdowns(at) if v.startswith('<div class="qa-card">') and 'class="qa-text"' in v]


def card_title(card: str) -> str:
    titles = re.findall(r"《(.*?)》</div>", card)
    return html.unescape(titles[0]) if titles else ""


def doc_id_with_title(documents: list[dict], fragment: str) -> str:
    return next(d["doc_id"] for d in documents if fragment in d["title"])


def library_table(at: AppTest) -> str:
    tables = [v for v in markdowns(at) if v.startswith('<table class="qa-table">')]
    assert len(tables) == 1
    return tables[0]


def assert_no_raw_markup(at: AppTest) -> None:
    for value in markdowns(at):
        assert "<script" not in value.lower()
        assert "<b>x</b>" not in value
        assert "<img src=x" not in value
        assert "](javascript:" not in value


# -- 问答 ----------------------------------------------------------------------------------------------
def test_ask_shows_answer_beside_cited_source_cards(app):
    app.text_area(key="ask_q").input("如皋到2025年要培育多少家高新技术企业?")
    app.button(key="ask_go").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    answers = [v for v in markdowns(app) if v.startswith('<div class="qa-answer">')]
    assert len(answers) == 1
    assert "1000" in answers[0] and '<sup class="qa-ref">[1]</sup>' in answers[0]
    found = cards(app)
    assert found and any(card_title(c) == RUGAO_PLAN for c in found)
    assert any('<mark class="qa-q">' in c for c in found), "the quoted span is highlighted"
    assert any('<mark class="qa-t">' in c for c in found), "query terms are highlighted"
    codes = [c.value for c in app.code]
    assert any(v.startswith(f"《{RUGAO_PLAN}》") for v in codes), codes  # the copyable citation string
    assert any(v.startswith("[1] ") for v in codes)  # the citation list
    # 查看原文 opens the whole document with the cited clause anchored for scrolling
    open_buttons = [b for b in app.button if (b.key or "").startswith("open-ask-1-")]
    open_buttons[0].click().run()
    assert not app.exception, app.exception
    reader = [v for v in markdowns(app) if v.startswith('<div class="qa-doc">')]
    assert len(reader) == 1 and 'id="qa-target"' in reader[0]
    target = reader[0].split('id="qa-target"', 1)[1]
    assert '<mark class="qa-q">' in target.split("</div>", 1)[0]


def test_ask_without_basis_says_so_and_lists_nearest(app):
    app.text_area(key="ask_q").input("火星探测器的发射窗口是哪一年?")
    app.button(key="ask_go").click().run()
    assert not app.exception, app.exception
    refusals = [v for v in markdowns(app) if v.startswith('<div class="qa-refuse">')]
    assert refusals and "未找到依据" in refusals[0]
    assert not [v for v in markdowns(app) if v.startswith('<div class="qa-answer">')]
    assert "##### 最接近的条款" in markdowns(app)


def test_answer_and_question_survive_switching_modes(app):
    app.text_area(key="ask_q").input("南通到2024年全社会研发投入占比目标是多少?")
    app.button(key="ask_go").click().run()
    switch(app, "文件库")
    switch(app, "问答")
    assert app.text_area(key="ask_q").value == "南通到2024年全社会研发投入占比目标是多少?"
    assert [v for v in markdowns(app) if v.startswith(('<div class="qa-answer">', '<div class="qa-refuse">'))]


def test_empty_question_is_not_sent(app):
    app.button(key="ask_go").click().run()
    assert [w.value for w in app.warning] == ["请先输入问题。"]


# -- 检索 ----------------------------------------------------------------------------------------------
def test_search_with_region_filter_only_shows_that_region(app, documents):
    switch(app, "检索")
    assert "如皋市" in app.multiselect(key="f_region").options
    app.multiselect(key="f_region").set_value(["如皋市"])
    app.text_input(key="search_q").input("科技型中小企业")
    app.button(key="search_go").click().run()
    assert not app.exception, app.exception
    rugao_titles = {d["title"] for d in documents if d["region"] == "如皋市"}
    found = cards(app)
    assert found
    assert {card_title(c) for c in found} <= rugao_titles
    assert all("如皋市" in c for c in found)
    summary = [v for v in markdowns(app) if v.startswith("**共 ")]
    assert summary and summary[0].startswith(f"**共 {len(found)} 条结果**")
    assert any("地区：如皋市" in c.value for c in app.caption)


def test_search_without_filter_spans_documents(app):
    switch(app, "检索")
    app.text_input(key="search_q").input("科技型中小企业")
    app.button(key="search_go").click().run()
    assert len({card_title(c) for c in cards(app)}) >= 2


# -- 相似表述 ------------------------------------------------------------------------------------------
def test_similar_wording_shows_other_documents(app, documents):
    switch(app, "相似表述")
    taicang = doc_id_with_title(documents, "太仓")
    app.text_area(key="similar_q").input("设立天使投资基金,推动投贷联动")
    app.button(key="similar_go").click().run()
    assert not app.exception, app.exception
    groups = [v for v in markdowns(app) if v.startswith('<div class="qa-card"><div class="qa-head">')]
    assert groups, markdowns(app)
    assert any("太仓" in g for g in groups)  # where the sentence comes from
    assert any("<mark class=\"qa-s\">" in c for c in cards(app)), "shared wording is highlighted"
    # and with the source document excluded, other documents' wording is shown
    app.multiselect(key="similar_exclude").set_value([taicang])
    app.button(key="similar_go").click().run()
    groups = [v for v in markdowns(app) if v.startswith('<div class="qa-card"><div class="qa-head">')]
    assert groups and not any("太仓" in g for g in groups)


# -- 文件库 and escaping -------------------------------------------------------------------------------
def test_library_lists_documents_and_opens_clause_tree(app, documents):
    switch(app, "文件库")
    table = library_table(app)
    assert f"<td>{RUGAO_PLAN}</td>" in table
    for column in ("标题", "文号", "发文机关", "地区", "成文日期", "发布日期", "有效性", "条款数"):
        assert f"<th>{column}</th>" in table
    assert '<td class="qa-nw">通科委办〔2022〕9号</td>' in table
    app.selectbox(key="lib_doc").set_value(doc_id_with_title(documents, RUGAO_PLAN)).run()
    tree = [v for v in markdowns(app) if v.startswith('<div class="qa-doc">')]
    assert len(tree) == 1
    assert 'style="margin-left:0.0em"><b class="qa-hl">一、指导思想</b><br>坚持以习近平' in tree[0]
    assert 'class="qa-u qa-h" style="margin-left:1.4em"><b class="qa-hl">(一)实施党对科技全面领导工程</b></div>' in tree[0]
    assert 'style="margin-left:2.8em"><b class="qa-hl">1.强化党对科技全面领导</b>。落实' in tree[0]
    assert "上传" not in "".join(c.value for c in app.file_uploader)  # no token → no upload widget
    assert not app.file_uploader


def test_markup_in_a_document_is_shown_escaped(app, documents):
    switch(app, "文件库")
    app.selectbox(key="lib_doc").set_value(doc_id_with_title(documents, "标记安全")).run()
    tree = [v for v in markdowns(app) if v.startswith('<div class="qa-doc">')][0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in tree
    assert "&lt;b&gt;x&lt;/b&gt;" in tree
    assert "&lt;img src=x onerror=alert(2)&gt;" in tree
    assert "**数据分级**" not in tree and "**数据分级**" in html.unescape(tree)  # nor is markdown syntax
    assert_no_raw_markup(app)


def test_markup_in_search_results_is_shown_escaped(app):
    switch(app, "检索")
    app.text_input(key="search_q").input("政务数字化审批平台")
    app.button(key="search_go").click().run()
    found = [c for c in cards(app) if "标记安全" in c]
    assert found and any("&lt;script&gt;alert(1)&lt;/script&gt;" in c for c in found)
    assert_no_raw_markup(app)


def test_delete_with_token(app, documents, monkeypatch):
    monkeypatch.setenv("QA_API_TOKEN", TOKEN)
    switch(app, "文件库")
    doomed = doc_id_with_title(documents, "飞地孵化器")
    assert app.file_uploader  # a token is configured: upload is offered
    app.selectbox(key="delete_doc").set_value(doomed).run()
    app.checkbox(key="delete_confirm").check().run()
    app.button(key="delete_go").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert any("已删除" in s.value for s in app.success)
    assert "测试市飞地孵化器建设实施方案" not in library_table(app)
    assert RUGAO_PLAN in library_table(app)


# -- the HTTP client on its own ------------------------------------------------------------------------
def test_client_upload_delete_and_errors(ui_service):
    from ui.client import ApiClient, ServiceError

    name = "client-upload-test.txt"
    body = DISPOSABLE_DOC.replace("飞地孵化器", "离岸创新中心").replace("〔2025〕3号", "〔2025〕4号")
    with pytest.raises(ServiceError) as refused:
        ApiClient(ui_service, token="wrong-token").upload([(name, body.encode())])
    assert refused.value.status == 401 and "口令" in refused.value.message
    with pytest.raises(ServiceError) as no_token:
        ApiClient(ui_service).delete("anything")
    assert "QA_API_TOKEN" in no_token.value.message
    client = ApiClient(ui_service, token=TOKEN)
    report = client.upload([(name, body.encode())]).report
    assert len(report.added) == 1 and not report.errors
    doc = next(d for d in client.documents() if "离岸创新中心" in d.title)
    assert client.document(doc.doc_id).clauses
    detail = client.clause(client.document(doc.doc_id).clauses[-1].clause_id)
    assert detail.doc.doc_id == doc.doc_id
    client.delete(doc.doc_id)
    assert all("离岸创新中心" not in d.title for d in client.documents())
    with pytest.raises(ServiceError) as missing:
        client.document(doc.doc_id)
    assert missing.value.status == 404 and "未找到" in missing.value.message


# -- the service is down -------------------------------------------------------------------------------
def test_service_down_gives_a_clear_message(monkeypatch):
    monkeypatch.setenv("QA_API_URL", f"http://127.0.0.1:{free_port()}")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    assert any("无法连接检索服务" in e.value and "请确认服务已启动" in e.value for e in at.error)
    for mode in ("检索", "相似表述", "文件库"):
        switch(at, mode)
        assert any("无法连接检索服务" in e.value for e in at.error)


# -- rendering helpers (no service) --------------------------------------------------------------------
def test_highlight_escapes_each_segment_before_marking():
    text = "建设<script>alert(1)</script>审批平台&<b>x</b>"
    out = render.highlight(text, query="审批平台", quote=(0, 10))
    assert "<script" not in out and "<b>" not in out
    assert out.startswith('<mark class="qa-q">建设&lt;script&gt;</mark>alert(1)')
    assert '<mark class="qa-t">审批平台</mark>&amp;&lt;b&gt;x&lt;/b&gt;' in out


def test_rendered_blocks_stay_on_one_line():
    out = render.card_html(title="《a》\n\n# b", doc_number=None, issuer="<i>", region=None, date=None,
                           heading_path=["一、\n\n总体"], label=None, body_html=render.highlight("x\n\n\ny"))
    assert "\n" not in out and "<i>" not in out
    assert render.answer_html("答复[1]。\n\n<img src=x>[2]").count("<sup") == 2
    assert "<img" not in render.answer_html("<img src=x onerror=alert(1)>")


def test_query_terms_skip_question_words():
    terms = render.query_terms("如皋到2025年要培育多少家高新技术企业?", "到2025年,全市高新技术企业数翻番")
    assert "高新技术企业" in terms and "到2025年" not in terms and "2025年" in terms
    assert "多少" not in terms


def test_heading_trail_names_the_clause_itself():
    assert render.heading_trail([], "二、", "二、工作目标\n\n到2025年") == "二、工作目标"
    assert render.heading_trail(["三、重点任务"], "8.", "8.壮大高新技术企业。以量质并举") == "三、重点任务 › 8.壮大高新技术企业"
    assert render.heading_trail([], None, "前言") == ""


def test_long_clause_is_cut_around_the_quote():
    text = "甲" * 500 + "设立天使投资基金" + "乙" * 500
    out = render.highlight(text, quote=(500, 508), limit=200)
    assert '<mark class="qa-q">设立天使投资基金</mark>' in out
    assert out.startswith('<span class="qa-cut">…</span>') and "全文 1008 字" in out
    assert len(html.unescape(re.sub(r"<[^>]+>", "", out))) < 260
    assert render.highlight("短文本", limit=200) == "短文本"
