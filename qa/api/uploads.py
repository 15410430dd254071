"""Uploaded files: safe names, size limits, a parse check before anything is written, then ingest.

A batch is checked whole before any file is written: one file that is not a readable document
rejects the request (4xx naming the file and the cause) and nothing changes. Accepted files are
written under ``<index_dir>/sources/`` (temporary name, then ``os.replace``) and ingested with
``qa.ingest.ingest``, which saves a new index generation atomically. A file the ingest still rejects
is removed again (or its previous version restored).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from qa.documents.loader import load_document
from qa.documents.readers import DocumentError
from qa.ingest import TEACHER_PASSAGES, ingest
from qa.schemas import IngestReport

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w\-.()（）【】《》、—·+ ]")
_LEADING = re.compile(r"^[.\s_~$]+")


class UploadRejected(Exception):
    """An uploaded file that cannot be accepted.

    Args:
        status: the HTTP status to answer with.
        filename: the file's name as sent.
        cause: why it was rejected.
    """

    def __init__(self, status: int, filename: str, cause: str):
        super().__init__(f"{filename}: {cause}")
        self.status = status
        self.filename = filename
        self.cause = cause


@dataclass
class Incoming:
    """One uploaded file, checked: its safe name and its bytes."""

    original: str
    name: str
    data: bytes


def safe_name(raw: str | None) -> str:
    """A file name that stays inside the sources folder: no folders, no control or shell characters.

    CJK names are kept (``如皋市科技政策.docx``); ``../../etc/passwd`` becomes ``passwd``.

    Raises:
        UploadRejected: no usable name, or an extension other than .txt .md .html .htm .docx .pdf.
    """
    original = raw or ""
    name = unicodedata.normalize("NFC", original).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _LEADING.sub("", _UNSAFE.sub("_", name)).strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip(" ._"):
        raise UploadRejected(422, original or "(no name)", "the file has no usable name with an extension")
    suffix = "." + suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadRejected(415, original, f"unsupported file type {suffix!r}; allowed: {', '.join(ALLOWED_SUFFIXES)}")
    stem = stem[:MAX_NAME_CHARS - len(suffix)].rstrip(" .")
    return stem + suffix


def check(incoming: list[Incoming], sources: Path) -> None:
    """Parse every file as it would be ingested; the first that is not a document rejects the batch.

    Raises:
        UploadRejected: 422 naming the file and the parser's reason.
    """
    seen: dict[str, str] = {}
    for item in incoming:
        if item.name in seen:
            raise UploadRejected(422, item.original, f"same file name as {seen[item.name]!r} in this upload")
        seen[item.name] = item.original
        try:
            load_document(sources / item.name, data=item.data)
        except DocumentError as err:
            raise UploadRejected(422, item.original, f"not a readable document: {err}") from None
        except Exception as err:  # a parser bug is still this file's problem, not a server error
            raise UploadRejected(422, item.original, f"cannot be parsed: {type(err).__name__}: {err}") from None


def store_and_ingest(incoming: list[Incoming], sources: Path, index_dir: Path, model: str | None,
                     teacher_passages: int = TEACHER_PASSAGES) -> IngestReport:
    """Write the files under ``sources`` and ingest them; files the ingest rejects are rolled back.

    ``teacher_passages`` 0 commits the text at once and leaves the vectors to the embedding job.

    Returns:
        the ingest report (its ``errors`` name any file that was rolled back).
    """
    sources.mkdir(parents=True, exist_ok=True)
    previous: dict[Path, bytes | None] = {}
    targets = []
    for item in incoming:
        target = sources / item.name
        previous[target] = target.read_bytes() if target.exists() else None
        _write(target, item.data)
        targets.append(target)
    try:
        report = ingest(targets, index_dir, model=model, workers=1, teacher_passages=teacher_passages,
                        student_above=None)
    except BaseException:
        _restore(previous)
        raise
    failed = {Path(e.path).name for e in report.errors}
    _restore({path: data for path, data in previous.items() if path.name in failed})
    return report


def delete_source(source_path: str, sources: Path) -> bool:
    """Remove an uploaded file from ``sources`` (files elsewhere are left alone); True if removed."""
    path = Path(source_path)
    try:
        inside = path.resolve().parent == sources.resolve()
    except OSError:
        return False
    if inside and path.is_file():
        path.unlink()
        return True
    return False


def _write(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.upload")
    temporary.write_bytes(data)
    os.replace(temporary, target)


def _restore(previous: dict[Path, bytes | None]) -> None:
    for path, data in previous.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            _write(path, data)
