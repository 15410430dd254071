"""Read a source file into plain text: .txt/.md (UTF-8 or GB18030/GBK), .html/.htm, .docx, .pdf.

Every failure raises ``DocumentError`` with one line that names the cause; the caller adds the file.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from qa.errors import BadInput

SUPPORTED = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
             ".docx": "docx", ".pdf": "pdf"}
_MAGIC = {b"%PDF": "a PDF", b"PK\x03\x04": "a ZIP/DOCX archive", b"\xd0\xcf\x11\xe0": "a legacy MS Office (.doc) file",
          b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image"}


class DocumentError(BadInput):
    """A source file that cannot be read; the message is one line naming the cause."""


def file_format(path: Path) -> str:
    """The format of ``path`` by its extension, or DocumentError if unsupported."""
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(f"unsupported file type {path.suffix or '(none)'!r}; expected one of "
                            + ", ".join(sorted(SUPPORTED)))
    return fmt


def read_text(data: bytes, fmt: str) -> str:
    """Extract the text of a document.

    Args:
        data: the file's bytes.
        fmt: one of ``txt``, ``md``, ``html``, ``docx``, ``pdf``.

    Returns:
        the text, with ``\\n`` line ends.
    """
    if not data.strip():
        raise DocumentError("empty file")
    _check_magic(data, fmt)
    if fmt in ("txt", "md"):
        text = decode(data)
    elif fmt == "html":
        text = _html_text(decode(data))
    elif fmt == "docx":
        text = _docx_text(data)
    else:
        text = _pdf_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").replace("\x00", "")
    if not text.strip():
        raise DocumentError("no text in document")
    return text


def _check_magic(data: bytes, fmt: str) -> None:
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            expected = {"pdf": b"%PDF", "docx": b"PK\x03\x04"}.get(fmt)
            if magic != expected:
                raise DocumentError(f"mislabelled file: the extension says {fmt} but the content is {what}")
            return
    if fmt == "pdf":
        raise DocumentError("not a PDF: the file does not start with %PDF")
    if fmt == "docx":
        raise DocumentError("not a DOCX: the file is not a ZIP archive")


def decode(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312), else UTF-16
    (with or without BOM: Windows tools write it without one)."""
    if b"\x00" in data[:4096]:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        text = _utf16(data)
        if text is not None:
            return text
        raise DocumentError("binary content (NUL bytes) in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if err.start >= len(data) - 3 and err.reason == "unexpected end of data":
            raise DocumentError("truncated: the file ends in the middle of a UTF-8 character") from None
        utf8_error = err
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _looks_garbled(text):
        return text
    wide = _utf16(data)
    if wide is not None:
        return wide
    if text is None:
        raise DocumentError(f"not valid UTF-8 (byte {utf8_error.start}) nor GB18030/GBK text") from None
    raise DocumentError(f"not valid UTF-8 (byte {utf8_error.start}) and decodes to garbage as GB18030")


def _utf16(data: bytes) -> str | None:
    """The text of UTF-16 bytes without a byte-order mark, if they are that (little- or big-endian)."""
    if len(data) % 2:
        return None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text.strip() and not _looks_garbled(text) and _plausible(text):
            return text
    return None


def _plausible(text: str) -> bool:
    """Mostly CJK, ASCII letters, digits, spaces and punctuation (a wrong byte order is not)."""
    sample = text[:20000]
    good = sum(1 for ch in sample if ch.isascii() or 0x4E00 <= ord(ch) <= 0x9FFF or 0x3000 <= ord(ch) <= 0x303F
               or 0xFF00 <= ord(ch) <= 0xFFEF)
    return good / len(sample) > 0.9


def _looks_garbled(text: str) -> bool:
    """Binary data often 'decodes' as GB18030; real text is mostly common CJK, ASCII and punctuation."""
    sample = text[:20000]
    if not sample:
        return False
    odd = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\n\r\t") or 0xE000 <= ord(ch) <= 0xF8FF
              or 0x3400 <= ord(ch) <= 0x4DBF or ord(ch) > 0xFFFF)
    return odd / len(sample) > 0.05


_BLOCK_TAGS = re.compile(r"^(p|div|br|li|tr|h[1-6]|table|section|article|pre|blockquote|dd|dt)$")


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "iframe", "form", "select",
                     "button", "template", "svg"]):
        tag.decompose()
    root = soup.body or soup
    for br in root.find_all("br"):
        br.replace_with("\n")
    for tag in root.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = root.get_text()
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _docx_text(data: bytes) -> str:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as err:  # pragma: no cover - dependency declared in pyproject
        raise DocumentError(f"python-docx is not installed: {err}") from None
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as err:
        raise DocumentError(f"corrupt DOCX: {err}") from None
    except Exception as err:  # lxml and zip errors of a damaged package
        raise DocumentError(f"corrupt DOCX: {type(err).__name__}: {err}") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise DocumentError(f"unreadable PDF: {err}") from None
    except Exception as err:  # pypdf raises many types on damaged files
        raise DocumentError(f"unreadable PDF: {type(err).__name__}: {err}") from None
    text = "\n".join(pages)
    if not text.strip():
        raise DocumentError("PDF has no text layer (scanned images?); run OCR first")
    return text
