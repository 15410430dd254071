"""Citations in the official form, document kinds and status, web headlines unwrapped (no index needed)."""

from __future__ import annotations

from datetime import date

import pytest

from qa.documents.loader import load_document
from qa.documents.metadata import document_kind, unwrap_headline
from qa.documents.official import document_status, normalise_position, official_citation
from qa.schemas import Hit
from tests.conftest import CORPUS


def test_official_form_has_issuer_title_number_date_and_full_width_path():
    got = official_citation(title="南通市建设更高水平国家创新型城市三年行动方案(2022—2024年)", issuer="南通市科技创新委员会办公室",
                            doc_number="通科委办〔2022〕9号", date="2022-10-28", position="二、(二)10.")
    assert got == ("南通市科技创新委员会办公室《南通市建设更高水平国家创新型城市三年行动方案（2022—2024年）》"
                   "（通科委办〔2022〕9号，2022年10月28日）二、（二）10.")
    assert official_citation(title="某方案", date="2018-07-13", position="一、(二)") == "《某方案》（2018年7月13日）一、（二）"
    assert official_citation(title="关于《某办法》的解读") == "《关于〈某办法〉的解读》"


@pytest.mark.parametrize(("position", "label", "heading", "expected"), [
    ("三、(二)4．", "4．", None, "三、（二）4."),
    ("三、（二）4、", "4、", None, "三、（二）4."),
    ("二、", "二、", "工作目标", "二、工作目标"),
    ("二、", "二、", None, "第二部分"),
    ("第十条", "第十条", None, "第十条"),
])
def test_clause_path_is_normalised(position, label, heading, expected):
    assert normalise_position(position, label, heading) == expected


def test_media_report_is_cited_by_title_outlet_and_date():
    got = official_citation(title="让科技创新成高质量发展“最大增量”", issuer="《群众·决策资讯》", date="2023-09-26")
    assert got == "《让科技创新成高质量发展“最大增量”》，《群众·决策资讯》，2023年9月26日"


def test_hit_carries_the_official_form_in_its_json():
    hit = Hit(clause_id="d-0001", passage_id="d-0001", doc_id="d", doc_title="某市行动方案(2023—2025年)",
              doc_number="某政发〔2023〕1号", issuer="某市人民政府", date="2023-10-26", heading_path=["三、重点任务"],
              label="(三)", text="(三)实施工程", char_start=0, char_end=6,
              citation="《某市行动方案(2023—2025年)》（某政发〔2023〕1号）三、(三)", score=1.0)
    official = "某市人民政府《某市行动方案（2023—2025年）》（某政发〔2023〕1号，2023年10月26日）三、（三）"
    assert hit.official == official and hit.model_dump()["official"] == official
    assert Hit.model_validate_json(hit.model_dump_json()).official == official  # read back, recomputed


def test_status_expired_repealed_valid_unstated():
    today = date(2026, 1, 5)
    assert document_status(None, 2020, today) == "已到期"
    assert document_status("有效", 2024, today) == "已到期"  # said when published; the period has ended since
    assert document_status("有效", 2026, today) == "有效"
    assert document_status("已废止", None, today) == "失效"
    assert document_status("失效", 2030, today) == "失效"
    assert document_status(None, None, today) == "未注明"


def test_headline_wrapping_the_title_is_unwrapped():
    assert unwrap_headline("太仓市人民政府发布科技创新三年行动计划(2018—2020年)") == (
        "太仓市科技创新三年行动计划(2018—2020年)", "太仓市人民政府")
    assert unwrap_headline("某县人民政府办公室印发《某县数字乡村建设实施方案》") == ("某县数字乡村建设实施方案", "某县人民政府办公室")
    assert unwrap_headline("某市人民政府关于印发某方案的通知")[1] is None
    assert unwrap_headline("市统计局发布会顺利召开")[1] is None


def test_seed_corpus_kinds():
    kinds = {p.name: load_document(p).meta.kind for p in sorted(CORPUS.glob("*.txt"))}
    assert kinds.pop("rugao-2023-innovation-article.txt") == "media"
    assert set(kinds.values()) == {"policy"}


def test_law_kind():
    body = "中华人民共和国测试法\n第一条 为了规范测试，制定本法。\n第二条 本法适用于测试。\n第三条 国家鼓励测试。"
    assert document_kind(title="中华人民共和国测试法", issuer=None, doc_number=None, notice_title=None, fields={},
                         body=body, articles=3) == "law"
    assert document_kind(title="随笔", issuer="某人", doc_number=None, notice_title=None, fields={}, body="随笔",
                         articles=0) == "other"
