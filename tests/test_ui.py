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

APP = str(ROOT / "ui" / "app.py")
RUGAO_PLAN = "如皋市建设国家创新型县(市)三年行动方案(2023—2025年)"
RUGAO_OFFICIAL = "如皋市科技创新委员会《如皋市建设国家创新型县（市）三年行动方案（2023—2025年）》（2023年10月26日）"
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
def ask(at: AppTest, question: str) -> AppTest:
    at.text_area(key="ask_q").input(question)
    at.button(key="ask_go").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def service_answer(url: str, question: str) -> dict:
    return httpx.post(f"{url}/ask", json={"question": question}, timeout=120, trust_env=False).json()


def test_ask_shows_answer_beside_cited_source_cards(app, ui_service):
    ask(app, "如皋到2025年要培育多少家高新技术企业?")
    answers = [v for v in markdowns(app) if v.startswith('<div class="qa-answer">')]
    assert len(answers) == 1
    assert "1000" in answers[0] and '<sup class="qa-ref">[1]</sup>' in answers[0]
    assert '<a class="qa-ref-link" href="#qa-cite-1" data-n="1">' in answers[0]  # [n] links to its card
    found = cards(app)
    assert found and any(card_title(c) == RUGAO_PLAN for c in found)
    assert any('<mark class="qa-q">' in c for c in found), "the quoted span is highlighted"
    assert any('<mark class="qa-t">' in c for c in found), "query terms are highlighted"
    expected = service_answer(ui_service, "如皋到2025年要培育多少家高新技术企业?")
    assert len(found) == len({c["clause_id"] for c in expected["citations"]}), "one card per clause"
    for citation in expected["citations"]:
        assert sum(f'id="qa-cite-{citation["n"]}"' in c for c in found) == 1
        card = next(c for c in found if f'id="qa-cite-{citation["n"]}"' in c)
        assert card.count('<mark class="qa-q">') >= len(citation["quotes"]), "every quote of the clause is marked"
    codes = [c.value for c in app.code]
    assert any(v.startswith(RUGAO_OFFICIAL) for v in codes), codes  # the copyable citation, official form
    assert any(v.startswith(f"[1] {RUGAO_OFFICIAL}") for v in codes)  # the citation list
    assert not any("(" in v for v in codes), "citations use full-width brackets only"
    # 查看原文 opens the whole document at the quote
    open_buttons = [b for b in app.button if (b.key or "").startswith("open-ask-")]
    open_buttons[0].click().run()
    assert not app.exception, app.exception
    reader = [v for v in markdowns(app) if v.startswith('<div class="qa-doc">')]
    assert len(reader) == 1 and 'id="qa-target"' in reader[0]
    target = reader[0].split('id="qa-target"', 1)[1]
    assert '<mark class="qa-q" id="qa-quote">' in target.split("</div>", 1)[0]


def test_two_place_question_has_a_part_per_place_and_a_side_by_side_view(app):
    ask(app, "太仓和如皋分别要培育多少家高新技术企业?")
    heads = [re.findall(r'<div class="qa-part-head">(.*?)</div>', v) for v in markdowns(app)]
    answer_heads = [h for v, h in zip(markdowns(app), heads, strict=True) if v.startswith('<div class="qa-answer">')]
    assert [h[0] for h in answer_heads] == ["太仓市", "如皋市"]
    layout = [w for w in app.button_group if (w.key or "").startswith("layout-")]
    assert layout, "a two-place answer offers the side-by-side view"
    layout[0].set_value("compare").run()
    assert not app.exception, app.exception
    assert [h[0] for v, h in zip(markdowns(app), [re.findall(r'<div class="qa-part-head">(.*?)</div>', v)
                                                  for v in markdowns(app)], strict=True)
            if v.startswith('<div class="qa-answer">')] == ["太仓市", "如皋市"]
    taicang = [c for c in cards(app) if "太仓" in card_title(c)]
    assert taicang and all('<div class="qa-warn">' in c and "2020" in c for c in taicang), "expired plan warned"


def test_history_keeps_the_questions_of_this_tab(app):
    ask(app, "南通到2024年全社会研发投入占比目标是多少?")
    ask(app, "如皋到2025年要培育多少家高新技术企业?")
    history = [b for b in app.sidebar.button if (b.key or "").startswith("hist-")]
    assert len(history) == 2 and "如皋" in history[0].label
    history[1].click().run()
    assert not app.exception, app.exception
    assert app.text_area(key="ask_q").value == "南通到2024年全社会研发投入占比目标是多少?"
    assert any(v.startswith("[1] 南通市科技创新委员会办公室《") for v in (c.value for c in app.code))


def test_english_interface_and_note(app):
    app.sidebar.button_group(key="lang").set_value("en").run()
    assert not app.exception, app.exception
    assert app.text_area(key="ask_q").label == "Question"
    ask(app, "How many high-tech enterprises does Rugao aim for by 2025?")
    assert any("Chinese" in i.value for i in app.info), [i.value for i in app.info]  # the quotes are Chinese
    assert "##### Cited clauses" in markdowns(app) or "##### Nearest clauses" in markdowns(app)


def test_ask_without_basis_says_so_and_lists_nearest(app):
    app.text_area(key="ask_q").input("火星探测器的发射窗口是哪一年?")
    app.button(key="ask_go").click().run()
    assert not app.exception, app.exception
    refusals = [v for v in markdowns(app) if v.startswith('<div class="qa-refuse">')]
    assert refusals and "未找到依据" in refusals[0]
    assert not [v for v in markdowns(app) if v.startswith('<div class="qa-answer">')]
    assert "##### 最接近的条款" in markdowns(app)


def test_answer_and_question_survive_switching_modes(app):
    ask(app, "南通到2024年全社会研发投入占比目标是多少?")
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
    assert "《群众·决策资讯》" not in app.multiselect(key="f_issuer").options  # an outlet issues no documents
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
    more = [b for b in app.button if b.key == "search_show_more"]
    hidden = int(re.search(r"(\d+) 条", more[0].label).group(1)) if more else 0
    assert summary and summary[0].startswith(f"**共 {len(found) + hidden} 条结果**")
    assert any("地区：如皋市" in c.value for c in app.caption)


def test_search_without_filter_spans_documents(app):
    switch(app, "检索")
    app.text_input(key="search_q").input("科技型中小企业")
    app.button(key="search_go").click().run()
    assert len({card_title(c) for c in cards(app)}) >= 2
    assert all('class="qa-score"' in c and 'qa-match' in c for c in cards(app)), "score and match kind shown"


def phrase_count(ui_service: str, documents: list[dict], phrase: str) -> int:
    bodies = [httpx.get(f"{ui_service}/documents/{d['doc_id']}", timeout=30, trust_env=False).json()["body"]
              for d in documents]
    return sum(b.count(phrase) for b in bodies)


def test_exact_phrase_reports_the_true_count(app, ui_service, documents):
    switch(app, "检索")
    app.text_input(key="search_q").input("揭榜挂帅")
    app.selectbox(key="search_mode").set_value("phrase")
    app.button(key="search_go").click().run()
    assert not app.exception, app.exception
    count = phrase_count(ui_service, documents, "揭榜挂帅")
    assert any(v.startswith(f"**“揭榜挂帅”在 {count} 处原文出现**") for v in markdowns(app)), markdowns(app)
    found = cards(app)
    assert found and sum(c.count('<mark class="qa-q">揭榜挂帅</mark>') for c in found) == count
    assert not [b for b in app.button if b.key == "search_show_more"]


def test_ranked_search_hides_the_tail_and_filters_by_document(app):
    switch(app, "检索")
    app.text_input(key="search_q").input("揭榜挂帅")
    app.button(key="search_go").click().run()
    assert not app.exception, app.exception
    shown = cards(app)
    more = [b for b in app.button if b.key == "search_show_more"]
    assert more and len(shown) < 10, "clauses far below the best one wait behind 显示更多"
    assert all("揭榜挂帅" in html.unescape(re.sub(r"<[^>]+>", "", c)) or "qa-score" in c for c in shown)
    assert any("共出现" in c.value for c in app.caption), "the true count of the phrase is reported"
    more[0].click().run()
    assert len(cards(app)) == 10
    per_doc = [b for b in app.button if (b.key or "").startswith("search_doc-")]
    assert len(per_doc) >= 2
    per_doc[1].click().run()
    assert not app.exception, app.exception
    title = re.sub(r"^《(.*?)》.*$", r"\1", per_doc[1].label.replace("\\", ""))
    assert cards(app) and {card_title(c) for c in cards(app)} == {title}
    app.button(key="search_doc_all").click().run()
    app.button_group(key="search_sort").set_value("date").run()
    dates = [re.search(r"日期 (\d{4}-\d{2}-\d{2})", c) for c in cards(app)]
    values = [d.group(1) for d in dates if d]
    assert values == sorted(values, reverse=True)


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
    for column in ("标题", "类型", "文号", "发文机关", "地区", "成文日期", "发布日期", "有效性", "条款数"):
        assert f"<th>{column}</th>" in table
    assert '<td class="qa-nw">通科委办〔2022〕9号</td>' in table
    article = next(r for r in table.split("<tr>") if "最大增量" in r)
    assert "媒体报道" in article and "来源 《群众·决策资讯》" in article  # an outlet is no 发文机关
    taicang = next(r for r in table.split("<tr>") if "太仓市科技创新三年行动计划" in r)
    assert "已到期" in taicang and "2018—2020" in taicang and "政策文件" in taicang
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


def test_mixed_upload_reports_each_file_and_keeps_the_good_ones(ui_service):
    from ui.client import ApiClient
    from ui.library import reason_text, upload_files

    good = DISPOSABLE_DOC.replace("飞地孵化器", "海外创新驿站").replace("〔2025〕3号", "〔2025〕5号").encode()
    client = ApiClient(ui_service, token=TOKEN)
    files = [("good-plan.txt", good), ("empty.txt", b""), ("binary.txt", b"\x00\x01\x02abc" * 10),
             ("notes.exe", b"MZ"), ("again.txt", good)]
    results = {r.name: r for r in upload_files(client, files, 20)}
    assert results["good-plan.txt"].status == "added"
    assert results["again.txt"].status in ("duplicate", "added") or results["again.txt"].status == "rejected"
    assert results["empty.txt"].status == "rejected" and reason_text(results["empty.txt"].reason) == "空文件"
    assert results["binary.txt"].status == "rejected" and "二进制" in reason_text(results["binary.txt"].reason)
    assert results["notes.exe"].status == "rejected" and "不支持的文件类型" in reason_text(results["notes.exe"].reason)
    doc = next(d for d in client.documents() if "海外创新驿站" in d.title)
    client.delete(doc.doc_id)


def test_feedback_through_the_client(ui_service, documents):
    from qa.schemas import FeedbackRequest
    from ui.client import ApiClient

    doc = httpx.get(f"{ui_service}/documents/{documents[0]['doc_id']}", timeout=30, trust_env=False).json()
    clause_id = doc["clauses"][-1]["clause_id"]
    client = ApiClient(ui_service, token=TOKEN)
    result = client.feedback(FeedbackRequest(question="测试问题", shown=[clause_id], useful=[clause_id], client="ui"))
    assert result.stored == 1
    export = httpx.get(f"{ui_service}/feedback/export", timeout=30, trust_env=False).text
    assert "测试问题" in export and clause_id in export


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
