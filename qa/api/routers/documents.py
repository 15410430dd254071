"""``/documents``: list and read documents; upload and delete them with the API token.

Uploads and deletes run in a worker thread (these handlers are synchronous, so FastAPI runs them in
its thread pool) one at a time (``write_lock``). The index on disk is replaced atomically by the
ingest; then a fresh snapshot is loaded and swapped in with one assignment, while other requests
keep being answered from the snapshot they started with.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Response, UploadFile

from qa.api.deps import GENERATION_HEADER, SnapshotDep, StateDep, require_token
from qa.api.uploads import (
    ALLOWED_SUFFIXES,
    Incoming,
    UploadRejected,
    check,
    delete_source,
    safe_name,
    store_and_ingest,
)
from qa.ingest import TEACHER_PASSAGES, remove
from qa.schemas import DeleteResult, Document, DocumentMeta, UploadResult

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
             responses={**_AUTH_RESPONSES, 413: {"description": "upload too large"},
                        415: {"description": "unsupported file type"},
                        422: {"description": "a file is not a readable document"}})
def upload_documents(response: Response,
                     files: Annotated[list[UploadFile], File(description=_FILES_HELP)],
                     state: StateDep) -> UploadResult:
    """Check every file (type, size, parse), save them under ``<index>/sources/`` and ingest them.
    A file that is not a readable document rejects the whole upload and nothing changes."""
    limit = state.settings.max_upload_bytes
    incoming: list[Incoming] = []
    total = 0
    try:
        for upload in files:
            name = safe_name(upload.filename)
            data = _read(upload, limit - total)
            total += len(data)
            incoming.append(Incoming(original=upload.filename or name, name=name, data=data))
        check(incoming, state.sources_dir)
        with state.write_lock:
            # with the embedding job running, the text is searchable at once and its vectors follow
            inline = 0 if state.settings.embed_job else TEACHER_PASSAGES
            report = store_and_ingest(incoming, state.sources_dir, state.index_dir, state.model, inline)
            if report.errors and not (report.added or report.replaced or report.unchanged):
                first = report.errors[0]
                raise UploadRejected(422, first.path.rsplit("/", 1)[-1], first.error)
            snapshot = state.reload() if report.added or report.replaced else state.snapshot
    except UploadRejected as err:
        raise HTTPException(err.status, f"{err.filename}: {err.cause}") from None
    response.headers[GENERATION_HEADER] = str(snapshot.generation)
    return UploadResult(report=report)


@router.delete("/documents/{doc_id}", response_model=DeleteResult, dependencies=[Depends(require_token)],
               summary="Remove a document from the index (needs the API token)",
               responses={**_AUTH_RESPONSES, 404: {"description": "unknown document id"}})
def delete_document(doc_id: str, response: Response, state: StateDep) -> DeleteResult:
    """Remove the document with all its passages; an uploaded source file is deleted too."""
    with state.write_lock:
        doc = state.snapshot.index.documents.get(doc_id)
        if doc is None or remove([doc_id], state.index_dir):
            raise HTTPException(404, f"unknown document id {doc_id!r}")
        delete_source(doc.meta.source_path, state.sources_dir)
        snapshot = state.reload()
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
            raise UploadRejected(413, upload.filename or "(no name)",
                                 "upload too large: the limit is QA_MAX_UPLOAD_MB for the whole request")
        chunks.append(chunk)
    return b"".join(chunks)
