"""An answer with its citations and quoted text, as Markdown and as a Word file, for pasting into a draft.

The quotes are the documents' own words: Markdown escapes its syntax characters with backslashes (so the
rendered text is the quote, character for character); the Word file holds them as plain runs.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from qa.schemas import Answer, Citation, DocumentMeta
from ui.cards import warning_text

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~$])")


@dataclass
class ExportSection:
    """One heading of the answer (a place of a multi-part answer, or None) and its text."""

    heading: str | None
    text: str


def md_literal(text: str) -> str:
    """``text`` as Markdown that renders to exactly ``text`` (one line per line)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def sections(answer: Answer) -> list[ExportSection]:
    """The answer as the page shows it: one section per place for a multi-part answer."""
    if len(answer.parts) < 2:
        return [ExportSection(None, answer.answer)]
    out = []
    for part in answer.parts:
        sentences = [answer.sentences[i] for i in part.sentences if i < len(answer.sentences)]
        text = "".join(_with_marker(s.text, s.citation) for s in sentences) if part.answered else (part.reason or "")
        out.append(ExportSection(part.name, text))
    return out


def _with_marker(text: str, n: int) -> str:
    body = text.rstrip()
    if body and body[-1] in "。；！？.!?;":
        return f"{body[:-1]}[{n}]{body[-1]}"
    return f"{body}[{n}]。"


def _quotes(citation: Citation) -> list[str]:
    return [q.text for q in citation.quotes] or [citation.quote]


def to_markdown(question: str, answer: Answer, metas: dict[str, DocumentMeta], note: str | None = None) -> str:
    lines = [f"# {md_literal(question)}", ""]
    if note:
        lines += [f"*{md_literal(note)}*", ""]
    for section in sections(answer):
        if section.heading:
            lines += [f"## {md_literal(section.heading)}", ""]
        lines += [md_literal(section.text), ""]
    if answer.citations:
        lines += ["## 引用 / Citations", ""]
    for citation in answer.citations:
        lines.append(f"{citation.n}. {md_literal(citation.official)}")
        warning = warning_text(metas.get(citation.doc_id))
        if warning:
            lines.append(f"   - ⚠ {md_literal(warning)}")
        lines += [f"   > {md_literal(q)}" for q in _quotes(citation)]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_docx(question: str, answer: Answer, metas: dict[str, DocumentMeta], note: str | None = None) -> bytes:
    """A .docx (python-docx) with the question, the answer, and each citation with its quoted sentences."""
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")  # Chinese text in a Chinese face
    document.add_heading(question, level=1)
    if note:
        document.add_paragraph(note).runs[0].italic = True
    for section in sections(answer):
        if section.heading:
            document.add_heading(section.heading, level=2)
        document.add_paragraph(section.text)
    if answer.citations:
        document.add_heading("引用 / Citations", level=2)
    for citation in answer.citations:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"[{citation.n}] ").bold = True
        paragraph.add_run(citation.official)
        warning = warning_text(metas.get(citation.doc_id))
        if warning:
            document.add_paragraph(f"⚠ {warning}")
        for quote in _quotes(citation):
            document.add_paragraph(quote, style="Quote")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
