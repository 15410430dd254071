"""The front end's rendering on its own, no service: highlighting and escaping, cards and heading trails, excerpts
around quotes, citations grouped per clause, and exports that keep quotes verbatim (the app against the real
service: ``test_ui.py``)."""

from __future__ import annotations

import html
import re

from ui import cards as card_markup
from ui import render


def test_highlight_escapes_each_segment_before_marking():
    text = "建设<script>alert(1)</script>审批平台&<b>x</b>"
    out = render.highlight(text, query="审批平台", quote=(0, 10))
    assert "<script" not in out and "<b>" not in out
    assert out.startswith('<mark class="qa-q">建设&lt;script&gt;</mark>alert(1)')
    assert '<mark class="qa-t">审批平台</mark>&amp;&lt;b&gt;x&lt;/b&gt;' in out


def test_rendered_blocks_stay_on_one_line():
    out = card_markup.card_html(title="《a》\n\n# b", doc_number=None, issuer="<i>", region=None, date=None,
                           heading_path=["一、\n\n总体"], label=None, body_html=render.highlight("x\n\n\ny"))
    assert "\n" not in out and "<i>" not in out
    assert render.answer_html("答复[1]。\n\n<img src=x>[2]").count("<sup") == 2
    assert "<img" not in render.answer_html("<img src=x onerror=alert(1)>")


def test_query_terms_skip_question_words():
    terms = render.query_terms("如皋到2025年要培育多少家高新技术企业?", "到2025年,全市高新技术企业数翻番")
    assert "高新技术企业" in terms and "到2025年" not in terms and "2025年" in terms
    assert "多少" not in terms


def test_heading_trail_names_the_clause_itself():
    assert card_markup.heading_trail([], "二、", "二、工作目标\n\n到2025年") == "二、工作目标"
    assert card_markup.heading_trail(["三、重点任务"], "8.", "8.壮大高新技术企业。以量质并举") == "三、重点任务 › 8.壮大高新技术企业"
    assert card_markup.heading_trail([], None, "前言") == ""


def test_long_clause_is_cut_around_the_quote():
    text = "甲" * 500 + "设立天使投资基金" + "乙" * 500
    out = render.highlight(text, quote=(500, 508), limit=200)
    assert '<mark class="qa-q">设立天使投资基金</mark>' in out
    assert out.startswith('<span class="qa-cut">…</span>') and "全文 1008 字" in out
    assert len(html.unescape(re.sub(r"<[^>]+>", "", out))) < 260
    assert render.highlight("短文本", limit=200) == "短文本"


def test_several_quotes_are_all_marked_and_kept_in_the_excerpt():
    text = "甲" * 300 + "第一句。" + "乙" * 300 + "第二句。" + "丙" * 300
    out = render.highlight(text, quotes=[(300, 304), (604, 608)], limit=200)
    assert '<mark class="qa-q">第一句。</mark>' in out and '<mark class="qa-q">第二句。</mark>' in out


def test_grouped_citations_make_one_card_per_clause():
    from qa.schemas import Citation, Quote
    from ui.ask import group_citations

    body = "一、甲乙丙。丁戊己。庚辛壬。"

    def cite(n, start, end, q):
        return Citation(clause_id="d-0001", doc_id="d", doc_title="t", heading_path=[], text=body[start:end],
                        char_start=start, char_end=end, citation="《t》一、", n=n, quote=body[q[0]:q[1]],
                        quote_start=q[0], quote_end=q[1], quotes=[Quote(text=body[q[0]:q[1]], start=q[0], end=q[1])])

    groups = group_citations([cite(1, 0, 8, (2, 8)), cite(2, 8, 15, (8, 15))], body_of=lambda _: body)
    assert len(groups) == 1 and groups[0].refs == [1, 2] and groups[0].quotes == [(2, 8), (8, 15)]
    assert groups[0].item.text == body and groups[0].item.char_start == 0


def test_export_keeps_the_quotes_verbatim():
    import io

    import docx

    from qa.schemas import Answer, AnswerSentence, Citation, Quote
    from ui.export import md_literal, to_docx, to_markdown

    quote = "建立**数据分级**保护制度[1]。"
    citation = Citation(clause_id="d-0001", doc_id="d", doc_title="某方案(2024年)", issuer="某局", date="2024-01-02",
                        heading_path=[], label="(二)", text=quote, char_start=0, char_end=len(quote),
                        citation="《某方案(2024年)》(二)", n=1, quote=quote, quote_start=0, quote_end=len(quote),
                        quotes=[Quote(text=quote, start=0, end=len(quote))])
    answer = Answer(answer=quote + "[1]", answerable=True, sentences=[AnswerSentence(text=quote, citation=1)],
                    citations=[citation])
    markdown = to_markdown("问题？", answer, {})
    assert "某局《某方案（2024年）》（2024年1月2日）（二）" in markdown and f"> {md_literal(quote)}" in markdown
    document = docx.Document(io.BytesIO(to_docx("问题？", answer, {})))
    texts = [p.text for p in document.paragraphs]
    assert quote in texts and any("某局《某方案（2024年）》" in p for p in texts)
