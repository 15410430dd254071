"""Load one source file into a ``Document``: read, clean, extract metadata, split into clauses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qa.clauses.parser import MAX_CLAUSE_CHARS, RawClause, parse_clauses
from qa.documents.cleaning import clean
from qa.documents.metadata import (
    document_kind,
    extract,
    iso_date,
    normalise_doc_number,
    plan_period,
    region_of,
    years_mentioned,
)
from qa.documents.readers import SUPPORTED, DocumentError, file_format, read_text
from qa.schemas import Clause, Document, DocumentMeta

SIDECAR_SUFFIX = ".meta.json"
OVERRIDABLE = ("title", "notice_title", "doc_number", "issuer", "region", "written_date", "published_date",
               "validity", "kind")
KINDS = ("policy", "law", "media", "other")


def doc_id_for(path: Path) -> str:
    """A stable id from the file's folder name and file name, so the same file always gets the same id."""
    key = f"{path.parent.name}/{path.name}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def is_source_file(path: Path) -> bool:
    """Whether a file found while walking a folder is a document to ingest."""
    name = path.name
    if name.startswith((".", "_", "~$")) or name.lower().startswith(("readme", "upstream_readme")):
        return False
    return path.suffix.lower() in SUPPORTED


def read_sidecar(path: Path) -> dict[str, str]:
    """Metadata overrides from ``<file>.meta.json``, if present; unknown fields are an error."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise DocumentError(f"sidecar {sidecar.name} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise DocumentError(f"sidecar {sidecar.name} must hold a JSON object")
    unknown = sorted(set(data) - set(OVERRIDABLE))
    if unknown:
        raise DocumentError(f"sidecar {sidecar.name} has unknown field(s) {unknown}; allowed: {list(OVERRIDABLE)}")
    return {k: (str(v) if v is not None else None) for k, v in data.items()}


def load_document(path: Path, max_chars: int = MAX_CLAUSE_CHARS, data: bytes | None = None,
                  doc_id: str | None = None, source_name: str | None = None) -> Document:
    """Parse one file.

    Args:
        path: the source file.
        max_chars: clause length above which a clause is split into parts.
        data: the file's bytes, if already read.
        doc_id: the document's id (default: from the file's folder and name).
        source_name: the file's name as sent (default: its name on disk).

    Returns:
        the document with metadata, cleaned body and clauses.

    Raises:
        DocumentError: the file cannot be read or holds no text.
    """
    fmt = file_format(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DocumentError(f"cannot read file: {err.strerror or err}") from None
    cleaned = clean(read_text(data, fmt), fmt)
    found = extract(cleaned)
    overrides = read_sidecar(path)
    body = cleaned.body
    split_before = found.plan_title_offset
    if found.doc_number and found.doc_number not in body:
        # The 文号 came from the page's index table; print it under the head, as on the paper document.
        prefix = found.doc_number + "\n\n"
        body = prefix + body
        split_before = split_before + len(prefix) if split_before is not None else None
    if not body.strip():
        raise DocumentError("no text left after removing page chrome")
    meta = DocumentMeta(
        doc_id=doc_id or doc_id_for(path), source_name=source_name or path.name, title=found.title, notice_title=found.notice_title,
        doc_number=found.doc_number, issuer=found.issuer, region=found.region,
        written_date=found.written_date, published_date=found.published_date, validity=found.validity,
        source_path=str(path), sha256=hashlib.sha256(data).hexdigest(), format=fmt, char_count=len(body),
    )
    if overrides:
        meta = _apply_overrides(meta, overrides)
    meta.period_start, meta.period_end = plan_period(meta.title)
    meta.years = years_mentioned(body)
    raw = parse_clauses(body, split_before=(split_before,) if split_before is not None else (), max_chars=max_chars)
    clauses = build_clauses(meta, body, raw)
    meta.clause_count = len({c.clause_id for c in clauses})
    meta.kind = overrides.get("kind") or document_kind(
        title=meta.title, issuer=meta.issuer, doc_number=meta.doc_number, notice_title=meta.notice_title,
        fields=cleaned.fields, body=body, articles=sum(1 for c in clauses if c.kind == "article" and c.part == 0))
    return Document(meta=meta, body=body, clauses=clauses)


def _apply_overrides(meta: DocumentMeta, overrides: dict[str, str]) -> DocumentMeta:
    values = dict(overrides)
    if values.get("kind") is not None and values["kind"] not in KINDS:
        raise DocumentError(f"sidecar field 'kind' must be one of {list(KINDS)}: {values['kind']!r}")
    if values.get("doc_number"):
        values["doc_number"] = normalise_doc_number(values["doc_number"]) or values["doc_number"]
    for key in ("written_date", "published_date"):
        if values.get(key):
            parsed = iso_date(values[key])
            if parsed is None:
                raise DocumentError(f"sidecar field {key!r} is not a date: {values[key]!r}")
            values[key] = parsed
    updated = meta.model_copy(update=values)
    if "region" not in overrides and ("issuer" in overrides or "title" in overrides):
        updated.region = region_of(updated.issuer, updated.title) or updated.region
    return updated


def cite_prefix(meta: DocumentMeta) -> str:
    """``《title》（文号）``, the document part of a citation."""
    return f"《{meta.title}》" + (f"（{meta.doc_number}）" if meta.doc_number else "")


def build_clauses(meta: DocumentMeta, body: str, raw: list[RawClause]) -> list[Clause]:
    """Attach ids, positions and citations; parts of one split clause share ``clause_id``."""
    clauses: list[Clause] = []
    groups: list[list[RawClause]] = []
    for clause in raw:
        if groups and clause.part > 0:
            groups[-1].append(clause)
        else:
            groups.append([clause])
    prefix = cite_prefix(meta)
    for ordinal, group in enumerate(groups):
        clause_id = f"{meta.doc_id}-{ordinal:04d}"
        for part, piece in enumerate(group):
            clauses.append(Clause(
                clause_id=clause_id,
                passage_id=clause_id if len(group) == 1 else f"{clause_id}#p{part + 1}",
                doc_id=meta.doc_id, ordinal=ordinal, part=part, parts=len(group),
                heading_path=piece.heading_path, label=piece.label, heading=piece.heading, kind=piece.kind,
                position=piece.position, text=body[piece.start:piece.end], char_start=piece.start,
                char_end=piece.end, citation=prefix + piece.position,
            ))
    return clauses
