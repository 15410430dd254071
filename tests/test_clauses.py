"""Clause splitting on hand-written cases, on LawRefBook, and on arbitrary text (hypothesis)."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.clauses.numbering import cn_to_int, int_to_cn, match_marker, normalise_article_refs
from qa.clauses.parser import article_paragraph, parse_clauses
from qa.documents.loader import load_document
from tests.conftest import LAWS

ARTICLE_LINE = re.compile(r"^第[零〇一二两三四五六七八九十百千0-9]+条(之[一二三四五六七八九十]+)?[ \t\u3000]", re.M)


def texts(body):
    return [body[c.start:c.end] for c in parse_clauses(body)]


@pytest.mark.parametrize("text,expected", [("十", 10), ("十二", 12), ("二十一", 21), ("一百零五", 105),
                                           ("二〇二三", 2023), ("１２", 12), ("两千", 2000), ("一千零一", 1001)])
def test_chinese_numerals(text, expected):
    assert cn_to_int(text) == expected


def test_int_to_cn_round_trip():
    for n in [1, 9, 10, 11, 20, 99, 100, 101, 110, 999, 1000, 1024, 20000]:
        assert cn_to_int(int_to_cn(n)) == n
    assert normalise_article_refs("依照第3条和第１２款") == "依照第三条和第十二款"


@pytest.mark.parametrize("line,kind", [("一、指导思想", "cn"), ("（一）加强领导", "paren_cn"), ("(二)强化", "paren_cn"),
                                       ("1.强化", "digit"), ("1、强化", "digit"), ("1．强化", "digit"),
                                       ("4. 着力", "digit"), ("（1）项目", "paren_digit"), ("(2)项目", "paren_digit"),
                                       ("①推进", "circled"), ("第十条 内容", "article"), ("第3条　内容", "article"),
                                       ("第一章 总则", "chapter"), ("第二节 登记", "section"), ("第一编 总则", "part")])
def test_markers(line, kind):
    marker = match_marker(line)
    assert marker is not None and marker.kind == kind


@pytest.mark.parametrize("line", ["2023.10月完成", "3.3%的增长", "1.5亿元投入", "2025年目标", "十分重要",
                                  "第十条规定的情形", "一是加强", "12月底前"])
def test_not_markers(line):
    assert match_marker(line) is None


def test_cross_reference_and_figures_do_not_open_clauses():
    body = ("一、总体目标\n到2025年.研发投入占比达3.3%,\n2023.10启动。\n依照本法第十条规定执行。\n"
            "二、重点任务\n（一）企业培育\n1.高企培育。数量达到1000家。\n2.平台建设。\n（二）人才\n1.引才。\n")
    clauses = parse_clauses(body)
    assert [c.position for c in clauses] == ["一、", "二、", "二、（一）", "二、（一）1.", "二、（一）2.",
                                             "二、（二）", "二、（二）1."]
    assert clauses[0].heading == "总体目标"
    assert clauses[4].heading_path == ["二、重点任务", "（一）企业培育"]


def test_numbering_out_of_sequence_stays_in_paragraph():
    body = "一、任务\n1.第一项。\n2.第二项。\n7、这一行是上一项的续行而非新条目。\n3.第三项。"
    clauses = parse_clauses(body)
    assert [c.label for c in clauses] == ["一、", "1.", "2.", "3."]
    assert "7、这一行" in body[clauses[2].start:clauses[2].end]


def test_law_article_keeps_its_paragraphs_and_items():
    body = ("第一章 总则\n\n第一条 为了规范登记，制定本条例。\n\n第二条 登记机关按照下列规定办理：\n\n"
            "(一)申请材料齐全的，当场登记；\n\n(二)需要核实的，依法核查。\n\n予以登记的，发给执照。\n\n"
            "第二章 登记\n\n第三条 申请登记，应当提交申请书。\n")
    clauses = parse_clauses(body)
    assert [(c.kind, c.label) for c in clauses] == [("chapter", "第一章"), ("article", "第一条"), ("article", "第二条"),
                                                    ("chapter", "第二章"), ("article", "第三条")]
    art2 = clauses[2]
    assert "(二)需要核实的" in body[art2.start:art2.end] and "予以登记的" in body[art2.start:art2.end]
    assert art2.heading_path == ["第一章 总则"] and art2.position == "第二条"
    assert clauses[4].heading_path == ["第二章 登记"]
    assert article_paragraph(body, art2.start, body.index("(二)需要")) == 1
    assert article_paragraph(body, art2.start, body.index("予以登记")) == 2


def test_long_clause_split_at_sentence_ends():
    sentence = "这是一个用于测试的较长句子，包含若干内容。"
    body = "一、目标\n" + sentence * 60
    clauses = parse_clauses(body, max_chars=200)
    assert len(clauses) > 1 and all(c.label == "一、" for c in clauses)
    assert all(body[c.end - 1] == "。" for c in clauses)
    assert [c.part for c in clauses] == list(range(len(clauses)))


PIECES = list("一二三四五十、（）()1234.．第条章节编①②\n 　\t文本。；项款%") + ["第十条 ", "(一)", "1.", "\n\n", "二、目标",
                                                                       "第二章 总则\n", "2023.10", "3.3%"]


def assert_covers(body, clauses):
    previous_end = 0
    for c in clauses:
        text = body[c.start:c.end]
        assert text and text == text.strip()
        assert c.start >= previous_end
        assert body[previous_end:c.start].strip() == ""
        previous_end = c.end
    assert body[previous_end:].strip() == ""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=200).map("".join), st.integers(min_value=20, max_value=600))
def test_parser_never_crashes_and_covers_body(body, max_chars):
    assert_covers(body, parse_clauses(body, max_chars=max_chars))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_parser_on_any_unicode(body):
    assert_covers(body, parse_clauses(body, max_chars=50))


def _law_sample(n=40, seed=7):
    files = sorted(p for p in LAWS.rglob("*.md") if not p.name.startswith("_") and "README" not in p.name)
    return random.Random(seed).sample(files, n) if files else []


@pytest.mark.parametrize("path", _law_sample(), ids=lambda p: p.name[:20])
def test_lawrefbook_article_count(path, shared):
    doc = load_document(path)
    body_lines = len(ARTICLE_LINE.findall(doc.body))
    source_lines = len(ARTICLE_LINE.findall(path.read_text(encoding="utf-8")))
    articles = [c for c in doc.clauses if c.kind == "article" and c.part == 0]
    assert len(articles) == body_lines == source_lines
    for clause in doc.clauses:
        assert doc.body[clause.char_start:clause.char_end] == clause.text
        if clause.kind == "article":
            # 款 and 项 stay inside the article: no clause is labelled as an item
            assert clause.label.startswith("第")
    assert not any(c.kind in ("paren_cn", "digit", "cn") for c in doc.clauses if any(
        a.kind == "article" for a in doc.clauses))
