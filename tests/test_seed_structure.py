"""The five seed documents parse into their real structure, metadata and clean text."""

from __future__ import annotations

import re

import pytest

from qa.documents.loader import load_document
from tests.conftest import CORPUS, corpus_file

CHROME = ["累计次数", "字体:[", "加入收藏", "打印此文", "分享到", "社交媒体分享", "索 引 号", "索引号", "发布机构",
          "成文日期", "有效性", "无标题文档", "在线咨询", "微信咨询", "政策解读:http", "责任编辑", "时效说明"]


@pytest.fixture(scope="module")
def rugao():
    return load_document(corpus_file("rugao-2023-innovative-county"))


def whole_clauses(doc):
    return [c for c in doc.clauses if c.part == 0]


def test_rugao_top_level_parts(rugao):
    top = [c for c in whole_clauses(rugao) if c.kind == "cn"]
    assert [c.label for c in top] == ["一、", "二、", "三、", "四、"]
    assert [c.heading for c in top] == ["指导思想", "工作目标", "重点任务", "保障措施"]
    assert all(c.heading_path == [] for c in top)


def test_rugao_groups_and_tasks(rugao):
    groups = [c for c in whole_clauses(rugao) if c.kind == "paren_cn" and c.heading_path == ["三、重点任务"]]
    assert [c.label for c in groups] == ["(一)", "(二)", "(三)", "(四)", "(五)", "(六)", "(七)", "(八)"]
    tasks = [c for c in whole_clauses(rugao) if c.kind == "digit"]
    assert [c.label for c in tasks] == [f"{i}." for i in range(1, 27)]
    per_group = {g.label: [t.label for t in tasks if t.heading_path[1].startswith(g.label)] for g in groups}
    assert per_group["(二)"] == ["4.", "5.", "6."]
    assert per_group["(八)"] == ["24.", "25.", "26."]
    task4 = next(t for t in tasks if t.label == "4.")
    assert task4.heading_path == ["三、重点任务", "(二)实施产业发展引领支撑工程"]
    assert task4.heading == "开展产业集群集聚建设行动"
    assert task4.citation == "《如皋市建设国家创新型县(市)三年行动方案(2023—2025年)》三、(二)4."
    # the safeguards under 四、 are (一)–(四) with their own path
    safeguards = [c for c in whole_clauses(rugao) if c.heading_path == ["四、保障措施"]]
    assert [c.label for c in safeguards] == ["(一)", "(二)", "(三)", "(四)"]


def test_rugao_metadata(rugao):
    m = rugao.meta
    assert m.title == "如皋市建设国家创新型县(市)三年行动方案(2023—2025年)"
    assert m.notice_title == "关于印发《如皋市建设国家创新型县(市)三年行动方案(2023—2025年)》的通知"
    assert m.issuer == "如皋市科技创新委员会" and m.region == "如皋市"
    assert m.written_date == "2023-10-26" and m.published_date == "2025-01-23"


def test_nantong_and_lianshui_numbers_and_dates():
    nantong = load_document(corpus_file("nantong")).meta
    assert nantong.doc_number == "通科委办〔2022〕9号"
    assert (nantong.written_date, nantong.published_date) == ("2022-10-28", "2022-12-09")
    assert nantong.validity == "有效" and nantong.issuer == "南通市科技创新委员会办公室"
    lianshui = load_document(corpus_file("lianshui")).meta
    assert lianshui.doc_number == "涟政办发〔2024〕7号"
    assert (lianshui.written_date, lianshui.published_date) == ("2024-04-26", "2024-04-26")
    assert lianshui.title == "涟水县域科技创新跃升行动计划(2024-2025年)" and lianshui.region == "涟水县"
    assert lianshui.issuer == "涟水县人民政府办公室"


def test_taicang_heading_glued_to_paragraph_opens_its_clause():
    doc = load_document(corpus_file("taicang"))
    top = [c for c in whole_clauses(doc) if c.kind == "cn"]
    assert [c.label + c.heading for c in top] == ["一、总体要求", "二、重点任务", "三、保障措施"]
    # numbering restarts at 1. in every group
    group2 = [c.label for c in whole_clauses(doc) if c.heading_path[:2] == ["二、重点任务", "(二)搭建创新载体平台,打造创新驱动新引擎"]]
    assert group2 == ["1.", "2.", "3."]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_no_chrome_and_exact_offsets(path):
    doc = load_document(path)
    for clause in doc.clauses:
        assert doc.body[clause.char_start:clause.char_end] == clause.text
        for marker in CHROME:
            assert marker not in clause.text, (marker, clause.citation)
    # clauses in order cover the body; only whitespace lies between them
    covered = "".join(c.text for c in doc.clauses)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", doc.body)


def test_doc_number_from_index_table_is_citable():
    doc = load_document(corpus_file("lianshui"))
    assert doc.clauses[0].text.startswith("涟政办发〔2024〕7号")
    assert doc.clauses[5].citation.startswith("《涟水县域科技创新跃升行动计划(2024-2025年)》（涟政办发〔2024〕7号）")


def test_same_file_same_ids():
    a = load_document(corpus_file("rugao-2023-innovative-county"))
    b = load_document(corpus_file("rugao-2023-innovative-county"))
    assert a.meta.doc_id == b.meta.doc_id
    assert [c.passage_id for c in a.clauses] == [c.passage_id for c in b.clauses]
    assert len({c.passage_id for c in a.clauses}) == len(a.clauses)


def test_long_clause_parts_share_identity():
    doc = load_document(corpus_file("rugao-2023-innovative-county"), max_chars=200)
    parts = [c for c in doc.clauses if c.parts > 1]
    assert parts
    first = parts[0]
    siblings = [c for c in doc.clauses if c.clause_id == first.clause_id]
    assert [c.part for c in siblings] == list(range(first.parts))
    assert len({c.citation for c in siblings}) == 1
    assert all(len(c.text) <= 200 or not re.search(r"[。；]", c.text[:-1]) for c in siblings)
