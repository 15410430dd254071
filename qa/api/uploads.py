"""Uploaded files: identified by their content, stored under generated names, checked one by one, ingested.

Two offices both sending ``附件1.txt`` must not overwrite each other: an upload's document id comes
from its bytes (``u`` + sha256), so a different document under a used name is a new document, and the
same bytes again are reported as a duplicate of the document already held. Replacing is explicit
(``PUT /documents/{doc_id}``). Files are stored as ``sources/<sha256>.<ext>`` (no name length limit, no
path in any message); the name as sent is kept, whole, as the document's ``source_name``. Each file is
checked on its own: the readable ones go in, the others come back with their reason.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from qa.documents.loader import load_document
from qa.documents.readers import DocumentError
from qa.ingest import TEACHER_PASSAGES, ingest
from qa.schemas import IngestReport, UploadedFile

log = logging.getLogger("qa.api")
ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
MAX_SOURCE_NAME_CHARS = 1000


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
    """One uploaded file: its name as sent (cleaned of control characters), suffix and bytes."""

    original: str
    suffix: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def doc_id(self) -> str:
        return "u" + self.sha256[:11]

    @property
    def stored_name(self) -> str:
        return self.sha256[:32] + self.suffix


def clean_name(raw: str | None) -> tuple[str, str]:
    """The name as sent without folders or control characters, and its suffix.

    Raises:
        UploadRejected: no usable name, or an extension other than .txt .md .html .htm .docx .pdf.
    """
    original = raw or ""
    name = unicodedata.normalize("NFC", original).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip(" ._"):
        raise UploadRejected(422, original or "(no name)", "the file has no usable name with an extension")
    suffix = "." + suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadRejected(415, name, f"unsupported file type {suffix!r}; allowed: {', '.join(ALLOWED_SUFFIXES)}")
    return name[:MAX_SOURCE_NAME_CHARS], suffix


def parse_check(item: Incoming, sources: Path) -> str | None:
    """Why the file is not a readable document, or None."""
    try:
        load_document(sources / item.stored_name, data=item.data)
    except DocumentError as err:
        return f"not a readable document: {err}"
    except Exception as err:  # a parser bug is still this file's problem, not a server error
        return f"cannot be parsed: {type(err).__name__}"
    return None


def store_and_ingest(accepted: list[Incoming], sources: Path, index_dir: Path, model: str | None,
                     teacher_passages: int = TEACHER_PASSAGES, replace: str | None = None
                     ) -> tuple[IngestReport, list[UploadedFile]]:
    """Write the files under ``sources`` and ingest them; a file the ingest rejects is removed again.

    Args:
        accepted: files that passed ``parse_check``.
        sources: the folder of uploaded files.
        index_dir: the index folder.
        model: embedding model override.
        teacher_passages: passages embedded right away (0: the embedding job does it).
        replace: a document id whose content the (single) file replaces.

    Returns:
        the ingest report and each file's result.
    """
    sources.mkdir(parents=True, exist_ok=True)
    identities, written = {}, []
    for item in accepted:
        target = sources / item.stored_name
        if not target.exists():
            _write(target, item.data)
            written.append(target)
        identities[str(target)] = (replace or item.doc_id, item.original)
    try:
        report = ingest([Path(p) for p in identities], index_dir, model=model, workers=1,
                        teacher_passages=teacher_passages, student_above=None, identities=identities, merge=False)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    failed = {e.path for e in report.errors}
    duplicates = {d.path: d.doc_id for d in report.duplicates}
    results = []
    for item in accepted:
        path = str(sources / item.stored_name)
        doc_id = identities[path][0]
        if path in failed:
            reason = next(e.error for e in report.errors if e.path == path)
            results.append(UploadedFile(name=item.original, status="rejected", reason=reason))
        elif path in duplicates:
            results.append(UploadedFile(name=item.original, status="duplicate", doc_id=duplicates[path],
                                        reason="the same bytes are already in the collection"))
        elif doc_id in report.replaced:
            results.append(UploadedFile(name=item.original, status="replaced", doc_id=doc_id))
        elif doc_id in report.added:
            results.append(UploadedFile(name=item.original, status="added", doc_id=doc_id))
        else:
            results.append(UploadedFile(name=item.original, status="duplicate", doc_id=doc_id,
                                        reason="the same bytes are already in the collection"))
    for path in written:
        if str(path) in failed or str(path) in duplicates:
            path.unlink(missing_ok=True)
    for error in report.errors:  # the server's folders stay out of what the client sees
        error.path = Path(error.path).name if str(error.path).startswith(str(sources)) else error.path
    return report, results


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


def orphans(sources: Path, referenced: set[str]) -> list[Path]:
    """Files in ``sources`` that no document comes from (an upload killed before its commit); removed."""
    if not sources.is_dir():
        return []
    removed = []
    for path in sources.iterdir():
        if path.is_file() and str(path) not in referenced and str(path.resolve()) not in referenced:
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.warning("removed %d uploaded file(s) no document comes from (an interrupted upload)", len(removed))
    return removed


def _write(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.upload")
    temporary.write_bytes(data)
    os.replace(temporary, target)
