"""Every supported format reads, encodings are detected, and bad files fail with one clear line."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest

from qa.documents.loader import load_document
from qa.documents.readers import DocumentError
from tests.conftest import corpus_file

PLAN = ("关于印发《测试市科技创新行动方案》的通知\n测政办发[2024]12号\n各有关单位：\n现将《测试市科技创新行动方案》印发给你们。\n"
        "测试市人民政府办公室\n2024年3月1日\n测试市科技创新行动方案\n一、总体要求\n（一）指导思想\n坚持创新驱动。\n"
        "二、重点任务\n1.培育高新技术企业。到2025年高新技术企业达100家。\n2.建设创新平台。\n")


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def check_plan(doc):
    assert doc.meta.title == "测试市科技创新行动方案"
    assert doc.meta.doc_number == "测政办发〔2024〕12号"
    assert doc.meta.issuer == "测试市人民政府办公室" and doc.meta.written_date == "2024-03-01"
    assert doc.meta.region == "测试市"
    labels = [c.position for c in doc.clauses if c.label]
    assert labels == ["一、", "一、（一）", "二、", "二、1.", "二、2."]
    for c in doc.clauses:
        assert doc.body[c.char_start:c.char_end] == c.text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_text_encodings(tmp_path, encoding):
    check_plan(load_document(write(tmp_path, "plan.txt", PLAN.encode(encoding))))


def test_markdown(tmp_path):
    md = "---\ntitle: x\n---\n# 测试条例\n\n2020年1月1日 通过\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n第一条 为了测试，制定本条例。\n\n第二条 本条例自公布之日起施行。\n"
    doc = load_document(write(tmp_path, "law.md", md))
    assert doc.meta.title == "测试条例" and "#" not in doc.body and "INFO END" not in doc.body
    assert [c.label for c in doc.clauses if c.kind == "article"] == ["第一条", "第二条"]
    assert doc.clauses[-1].heading_path == ["第一章 总则"]
    assert doc.clauses[-1].citation == "《测试条例》第二条"


def test_html_body_text_without_chrome_or_script(tmp_path):
    html = ("<html><head><title>t</title><script>alert(1)</script></head><body><nav>首页 | 导航</nav>"
            + "".join(f"<p>{line}</p>" for line in PLAN.splitlines()) + "<p>【加入收藏】 【打印此文】 【关闭】</p>"
            "<footer>版权所有</footer></body></html>")
    doc = load_document(write(tmp_path, "plan.html", html.encode("gbk")))
    check_plan(doc)
    assert "alert" not in doc.body and "导航" not in doc.body and "加入收藏" not in doc.body


def test_docx(tmp_path):
    document = docx.Document()
    for line in PLAN.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    check_plan(load_document(write(tmp_path, "plan.docx", buffer.getvalue())))


def _pdf(lines):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # built into reportlab: no font file
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.setFont("STSong-Light", 11)
    for i, line in enumerate(lines):
        page.drawString(40, 800 - 18 * i, line)
    page.save()
    return buffer.getvalue()


def test_pdf_with_text_layer(tmp_path):
    check_plan(load_document(write(tmp_path, "plan.pdf", _pdf(PLAN.splitlines()))))


def test_pdf_without_text_layer(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(DocumentError, match="no text layer"):
        load_document(write(tmp_path, "scan.pdf", buffer.getvalue()))


@pytest.mark.parametrize("name,data,cause", [
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"   \n\n  ", "empty file"),
    ("binary.txt", b"\x00\x01\x02\x03binary\x00data" * 20, "binary content"),
    ("cut.txt", "一、总体要求".encode()[:-1], "truncated"),
    ("fake.pdf", b"this is not a pdf at all", "not a PDF"),
    ("text.docx", "一、总体要求".encode(), "not a DOCX"),
    ("zip.txt", b"PK\x03\x04" + b"\x00" * 50, "mislabelled"),
    ("pdf.docx", b"%PDF-1.4\n%...", "mislabelled"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF", "PDF"),
    ("broken.docx", b"PK\x03\x04" + b"garbage" * 30, "corrupt DOCX"),
    ("image.png", b"\x89PNG\r\n", "unsupported file type"),
])
def test_bad_files_fail_clearly(tmp_path, name, data, cause):
    with pytest.raises(DocumentError) as info:
        load_document(write(tmp_path, name, data))
    message = str(info.value)
    assert cause in message and "\n" not in message


def test_truncated_docx(tmp_path):
    document = docx.Document()
    document.add_paragraph("一、总体要求")
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(DocumentError, match="corrupt DOCX"):
        load_document(write(tmp_path, "cut.docx", buffer.getvalue()[: len(buffer.getvalue()) // 2]))


def test_docx_zip_without_document_part(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(DocumentError, match="corrupt DOCX"):
        load_document(write(tmp_path, "nodoc.docx", buffer.getvalue()))


def test_sidecar_overrides_and_validates(tmp_path):
    source = corpus_file("taicang")
    path = write(tmp_path, "taicang.txt", source.read_bytes())
    plain = load_document(path)
    assert plain.meta.title == "太仓市科技创新三年行动计划(2018—2020年)"  # the web headline unwrapped
    assert plain.meta.kind == "policy"
    (tmp_path / "taicang.txt.meta.json").write_text(
        '{"title": "太仓市科技创新三年行动计划(2018—2020年)", "doc_number": "太政发(2018)88号", "validity": "失效",'
        ' "kind": "other"}', encoding="utf-8")
    doc = load_document(path)
    assert doc.meta.title == "太仓市科技创新三年行动计划(2018—2020年)"
    assert doc.meta.doc_number == "太政发〔2018〕88号" and doc.meta.validity == "失效"
    assert doc.meta.kind == "other" and doc.meta.status == "失效"
    assert doc.clauses[3].citation.startswith("《太仓市科技创新三年行动计划(2018—2020年)》（太政发〔2018〕88号）")
    (tmp_path / "taicang.txt.meta.json").write_text('{"kind": "magazine"}', encoding="utf-8")
    with pytest.raises(DocumentError, match="'kind' must be one of"):
        load_document(path)
    (tmp_path / "taicang.txt.meta.json").write_text('{"titel": "x"}', encoding="utf-8")
    with pytest.raises(DocumentError, match="unknown field"):
        load_document(path)
