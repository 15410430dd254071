"""``/documents``: list and read documents; upload, replace and delete them with the API token.

Writes run in a worker thread (these handlers are synchronous, so FastAPI runs them in its thread pool)
one at a time (``write_lock``). Each is one commit of the index; then a fresh snapshot is swapped in with
one assignment, while other requests keep being answered from the snapshot they started with. The small
segments writes leave are merged by the background thread once writes pause (``merge_later``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Response, UploadFile

from qa.api.deps import GENERATION_HEADER, SnapshotDep, StateDep, require_token
from qa.api.uploads import (
    ALLOWED_SUFFIXES,
    Incoming,
    UploadRejected,
    clean_name,
    delete_source,
    parse_check,
    store_and_ingest,
)
from qa.ingest import TEACHER_PASSAGES, remove
from qa.schemas import DeleteResult, Document, DocumentMeta, IngestReport, UploadedFile, UploadResult

router = APIRouter(tags=["documents"])
_AUTH_RESPONSES = {401: {"description": "missing or wrong bearer token"},
                   403: {"description": "uploads and deletes are disabled (no QA_API_TOKEN on the server)"}}
_CHUNK = 1 << 20
_FILES_HELP = "one or more files: " + " ".join(ALLOWED_SUFFIXES)


@router.get("/documents", response_model=list[DocumentMeta], summary="Metadata of every indexed document")
def list_documents(snapshot: SnapshotDep) -> list[DocumentMeta]:
    return list(snapshot.index.metas)


@router.get("/documents/{doc_id}", response_model=Document, summary="One document: metadata, body, clauses",
            responses={404: {"description": "unknown document id"}})
def get_document(doc_id: str, snapshot: SnapshotDep) -> Document:
    """The cleaned body and every clause with its offsets into the body."""
    doc = snapshot.index.documents.get(doc_id)
    if doc is None:
        raise HTTPException(404, f"unknown document id {doc_id!r}")
    return doc


@router.post("/documents", response_model=UploadResult, status_code=201, dependencies=[Depends(require_token)],
             summary="Upload and ingest documents (needs the API token)",
             responses={**_AUTH_RESPONSES, 200: {"description": "nothing new: every file was a duplicate"},
                        413: {"description": "upload too large"},
                        415: {"description": "unsupported file type (every file)"},
                        422: {"description": "no file is a readable document"}})
def upload_documents(response: Response,
                     files: Annotated[list[UploadFile], File(description=_FILES_HELP)],
                     state: StateDep) -> UploadResult:
    """Each file is checked on its own (type, size, parse): readable ones are stored and ingested, each file's
    result (added / duplicate / rejected, with the reason) is listed. A file with the same bytes as a held
    document is reported as its duplicate; a different document under a used name is a new document
    (replacing one is ``PUT /documents/{doc_id}``)."""
    incoming, results = _receive(files, state.settings.max_upload_bytes)
    accepted = []
    for item in incoming:
        reason = parse_check(item, state.sources_dir)
        if reason:
            results.append(UploadedFile(name=item.original, status="rejected", reason=reason))
        else:
            accepted.append(item)
    report = IngestReport()
    if accepted:
        with state.write_lock:
            report, stored = store_and_ingest(accepted, state.sources_dir, state.index_dir, state.model,
                                              _inline(state))
            snapshot = state.reload() if report.added or report.replaced else state.snapshot
        if report.added or report.replaced:
            state.merge_later()
        results.extend(stored)
    else:
        snapshot = state.snapshot
    if not any(r.status in ("added", "replaced", "duplicate") for r in results):
        first = next(r for r in results if r.status == "rejected")
        status = 415 if (first.reason or "").startswith("unsupported file type") else 422
        raise HTTPException(status, f"{first.name}: {first.reason}")
    if not any(r.status in ("added", "replaced") for r in results):
        response.status_code = 200
    response.headers[GENERATION_HEADER] = str(snapshot.generation)
    return UploadResult(files=results, report=report)


@router.put("/documents/{doc_id}", response_model=UploadResult, dependencies=[Depends(require_token)],
            summary="Replace a document's content with a new version (needs the API token)",
            responses={**_AUTH_RESPONSES, 404: {"description": "unknown document id"},
                       413: {"description": "upload too large"}, 415: {"description": "unsupported file type"},
                       422: {"description": "the file is not a readable document"}})
def replace_document(doc_id: str, response: Response,
                     file: Annotated[UploadFile, File(description="the new version")], state: StateDep) -> UploadResult:
    """The document keeps its id; its clauses, vectors and metadata become the new file's."""
    if doc_id not in state.snapshot.index.documents:
        raise HTTPException(404, f"unknown document id {doc_id!r}")
    incoming, results = _receive([file], state.settings.max_upload_bytes)
    if results:
        raise HTTPException(415 if "unsupported" in (results[0].reason or "") else 422,
                            f"{results[0].name}: {results[0].reason}")
    reason = parse_check(incoming[0], state.sources_dir)
    if reason:
        raise HTTPException(422, f"{incoming[0].original}: {reason}")
    with state.write_lock:
        old = state.snapshot.index.meta(doc_id)
        report, stored = store_and_ingest(incoming, state.sources_dir, state.index_dir, state.model, _inline(state),
                                          replace=doc_id)
        if stored[0].status == "rejected":
            raise HTTPException(422, f"{stored[0].name}: {stored[0].reason}")
        if old is not None and old.source_path != str(state.sources_dir / incoming[0].stored_name):
            delete_source(old.source_path, state.sources_dir)
        snapshot = state.reload()
    state.merge_later()
    response.headers[GENERATION_HEADER] = str(snapshot.generation)
    return UploadResult(files=stored, report=report)


def _inline(state) -> int:
    """Passages embedded during the upload: none while the embedding job runs (the text is searchable at once
    and its vectors follow within seconds)."""
    return 0 if state.settings.embed_job else TEACHER_PASSAGES


def _receive(files: list[UploadFile], limit: int) -> tuple[list[Incoming], list[UploadedFile]]:
    """The files' bytes (413 past the size limit), and the files refused by name or type."""
    incoming, refused, total = [], [], 0
    for upload in files:
        try:
            name, suffix = clean_name(upload.filename)
        except UploadRejected as err:
            refused.append(UploadedFile(name=err.filename, status="rejected", reason=err.cause))
            continue
        data = _read(upload, limit - total)
        total += len(data)
        incoming.append(Incoming(original=name, suffix=suffix, data=data))
    return incoming, refused


@router.delete("/documents/{doc_id}", response_model=DeleteResult, dependencies=[Depends(require_token)],
               summary="Remove a document from the index (needs the API token)",
               responses={**_AUTH_RESPONSES, 404: {"description": "unknown document id"}})
def delete_document(doc_id: str, response: Response, state: StateDep) -> DeleteResult:
    """Remove the document with all its passages; an uploaded source file is deleted too."""
    with state.write_lock:
        doc = state.snapshot.index.documents.get(doc_id)
        if doc is None or remove([doc_id], state.index_dir, merge=False):
            raise HTTPException(404, f"unknown document id {doc_id!r}")
        delete_source(doc.meta.source_path, state.sources_dir)
        snapshot = state.reload()
    state.merge_later()
    response.headers[GENERATION_HEADER] = str(snapshot.generation)
    return DeleteResult(removed=[doc_id], documents=len(snapshot.index.documents),
                        index_generation=snapshot.generation)


def _read(upload: UploadFile, budget: int) -> bytes:
    """The file's bytes, or 413 once they pass what is left of the size limit."""
    chunks, size = [], 0
    while True:
        chunk = upload.file.read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > budget:
            raise HTTPException(413, f"{upload.filename or '(no name)'}: upload too large: the limit is "
                                     f"{budget // (1024 * 1024) or 1} MB (QA_MAX_UPLOAD_MB) for the whole request")
        chunks.append(chunk)
    return b"".join(chunks)
