"""Ingest files and folders into an index: parse, compare by content hash, apply, save atomically.

Bad files are reported one line each and skipped; the other files of the run are ingested, and
nothing already in the index is lost.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from qa.documents.loader import doc_id_for, is_source_file, load_document
from qa.documents.readers import DocumentError, file_format
from qa.index.collection import Index
from qa.index.embedding import embedder_for_ingest
from qa.schemas import Document, IngestError, IngestReport

Progress = Callable[[str], None]


def collect_files(paths: Iterable[Path]) -> tuple[list[Path], list[IngestError]]:
    """Expand folders (recursively, skipping hidden, ``_``-prefixed and README files); named files are kept."""
    files: list[Path] = []
    errors: list[IngestError] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_source_file(p)))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(IngestError(path=str(path), error="no such file or folder"))
    return files, errors


def _parse(path: Path) -> Document | IngestError:
    try:
        return load_document(path)
    except DocumentError as err:
        return IngestError(path=str(path), error=str(err))
    except Exception as err:  # a parser bug must not abort the other files of the run
        return IngestError(path=str(path), error=f"internal error while parsing: {type(err).__name__}: {err}")


def parse_files(files: list[Path], known: dict[str, str], workers: int, progress: Progress | None
                ) -> tuple[list[Document], list[str], list[IngestError]]:
    """Parse the files whose bytes changed; returns (documents, unchanged doc_ids, errors)."""
    todo, unchanged, errors = [], [], []
    for path in files:
        try:
            file_format(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except DocumentError as err:
            errors.append(IngestError(path=str(path), error=str(err)))
            continue
        except OSError as err:
            errors.append(IngestError(path=str(path), error=f"cannot read file: {err.strerror or err}"))
            continue
        if known.get(doc_id_for(path)) == digest:
            unchanged.append(doc_id_for(path))
        else:
            todo.append(path)
    documents: list[Document] = []
    started = time.monotonic()
    if workers > 1 and len(todo) > 50:
        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_parse, todo, chunksize=16)
            for i, result in enumerate(results, 1):
                _collect(result, documents, errors)
                _tick(progress, i, len(todo), documents, started)
    else:
        for i, path in enumerate(todo, 1):
            _collect(_parse(path), documents, errors)
            _tick(progress, i, len(todo), documents, started)
    return documents, unchanged, errors


def _collect(result: Document | IngestError, documents: list[Document], errors: list[IngestError]) -> None:
    (errors if isinstance(result, IngestError) else documents).append(result)


def _tick(progress: Progress | None, done: int, total: int, documents: list[Document], started: float) -> None:
    if progress and (done == total or done % 100 == 0):
        clauses = sum(len(d.clauses) for d in documents)
        progress(f"parsed {done}/{total} files, {clauses} passages, {time.monotonic() - started:.1f}s")


def ingest(paths: Iterable[Path], index_dir: Path, *, model: str | None = None, rebuild: bool = False,
           workers: int = 2, progress: Progress | None = None) -> IngestReport:
    """Ingest ``paths`` into the index at ``index_dir``.

    Args:
        paths: files and folders.
        index_dir: the index folder (created if absent).
        model: embedding model name or folder; None for the configured default.
        rebuild: ignore the stored index and build from these files alone.
        workers: parser processes.
        progress: called with one-line progress messages.

    Returns:
        what was added, replaced, left unchanged and what failed.
    """
    started = time.monotonic()
    files, errors = collect_files(paths)
    index = Index(index_dir)
    with index.store.lock():
        if not rebuild:
            index = Index.open(index_dir)
        known = {doc_id: doc.meta.sha256 for doc_id, doc in index.documents.items()}
        documents, unchanged, parse_errors = parse_files(files, known, workers, progress)
        errors.extend(parse_errors)
        documents = _dedupe(documents, errors)
        report = IngestReport(unchanged=unchanged, errors=errors)
        if documents or rebuild:
            report.added = [d.meta.doc_id for d in documents if d.meta.doc_id not in index.documents]
            report.replaced = [d.meta.doc_id for d in documents if d.meta.doc_id in index.documents]
            _apply_and_save(index, documents, [], model, progress)
    report.documents = len(index.documents)
    report.clauses = sum(d.meta.clause_count for d in index.documents.values())
    report.seconds = round(time.monotonic() - started, 2)
    return report


def remove(doc_ids: list[str], index_dir: Path, *, model: str | None = None,
           progress: Progress | None = None) -> list[str]:
    """Delete documents with all their passages, vectors and postings; returns the ids not found."""
    index = Index(index_dir)
    with index.store.lock():
        index = Index.open(index_dir)
        missing = [d for d in doc_ids if d not in index.documents]
        present = [d for d in doc_ids if d in index.documents]
        if present:
            _apply_and_save(index, [], present, model, progress)
    return missing


def _apply_and_save(index: Index, documents: list[Document], removals: list[str], model: str | None,
                    progress: Progress | None) -> None:
    embedder, embedder_dir, reembed = embedder_for_ingest(index, documents, model, progress)
    if progress:
        progress(f"indexing {sum(len(d.clauses) for d in documents)} new passages with {embedder.name}")
    index.apply(documents, removals, embedder, embedder_dir=embedder_dir, reembed=reembed)
    index.save()
    if embedder_dir is not None and embedder_dir.parent == index.root and embedder_dir.name.startswith("embedder-"):
        shutil.rmtree(embedder_dir, ignore_errors=True)  # the trained model now lives in the generation


def _dedupe(documents: list[Document], errors: list[IngestError]) -> list[Document]:
    """Two files with the same folder and file name in one run would share an id: keep the first."""
    seen: dict[str, Document] = {}
    for doc in documents:
        if doc.meta.doc_id in seen:
            errors.append(IngestError(path=doc.meta.source_path,
                                      error=f"same folder and file name as {seen[doc.meta.doc_id].meta.source_path}; "
                                            "rename one of them"))
        else:
            seen[doc.meta.doc_id] = doc
    return list(seen.values())
