"""Ingest files and folders into an index: parse and tokenise in workers, embed, commit once.

Files are parsed and tokenised in worker processes (which die with the ingest), in batches, so memory
holds one batch; each batch becomes a segment, and all of them become visible together when the
run's single commit is written. Unchanged files (same sha256) are skipped. Bad files are reported
one line each; the rest of the run is ingested and nothing already in the index is lost.

Vectors: the first ``teacher_passages`` new passages of a run are embedded by the model right away;
the rest are searchable lexically at once. When many are left, the index's static student (fitted on
a model-encoded sample of the library) gives them vectors before the ingest returns; the model's own
vectors then come from ``qa embed`` (the background job), which the service also runs.
"""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from qa.documents.loader import doc_id_for, is_source_file, load_document
from qa.documents.readers import DocumentError, file_format
from qa.index.catalog import VECTOR_NONE, VECTOR_TEACHER
from qa.index.collection import Index, passage_text
from qa.index.embedding import embedder_for_ingest
from qa.index.lexical import shared_tokenizer
from qa.index.writer import IndexWriter, PreparedDocument, write_lock
from qa.memory import release_freed_memory
from qa.schemas import Duplicate, IngestError, IngestReport

Progress = Callable[[str], None]
BATCH_FILES = 200
TEACHER_PASSAGES = 2000  # embedded during ingest; the rest by the embedding job
STUDENT_ABOVE = 5000  # more passages than this without vectors: the student covers them within the ingest


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


def _die_with_parent() -> None:
    """Worker initialiser: the kernel kills this worker when its parent (the forkserver, which ends with the
    ingest) dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers still end when the pool is shut down
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)
    shared_tokenizer()  # loaded before the first file arrives


def prepare(source: Path | tuple[Path, str | None, str | None]) -> PreparedDocument | IngestError:
    """Parse a file (``path``, or ``(path, doc_id, source_name)``) and tokenise its passages."""
    path, doc_id, name = source if isinstance(source, tuple) else (source, None, None)
    try:
        document = load_document(path, doc_id=doc_id, source_name=name)
    except DocumentError as err:
        return IngestError(path=str(path), error=str(err))
    except Exception as err:  # a parser bug must not abort the other files of the run
        return IngestError(path=str(path), error=f"internal error while parsing: {type(err).__name__}: {err}")
    tokenizer = shared_tokenizer()
    tokens = [tokenizer(passage_text(document.meta.title, c)) for c in document.clauses]
    return PreparedDocument(document=document, tokens=tokens)


def _changed(files: list[Path], known: dict[str, str], identities: dict[str, tuple[str, str]]
             ) -> tuple[list[Path], list[str], list[Duplicate], list[IngestError]]:
    """Which files to parse: not unchanged (same id, same bytes) and not a duplicate of another document."""
    todo, unchanged, duplicates, errors = [], [], [], []
    by_hash = {digest: doc_id for doc_id, digest in known.items()}
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
        doc_id = identities.get(str(path), (doc_id_for(path), None))[0]
        if known.get(doc_id) == digest:
            unchanged.append(doc_id)
        elif digest in by_hash and by_hash[digest] != doc_id:
            duplicates.append(Duplicate(path=str(path), doc_id=by_hash[digest]))
        else:
            by_hash[digest] = doc_id
            todo.append(path)
    return todo, unchanged, duplicates, errors


def prepared_batches(files: list[Path], workers: int, errors: list[IngestError], progress: Progress | None,
                     batch_files: int = BATCH_FILES, identities: dict[str, tuple[str, str]] | None = None
                     ) -> Iterator[list[PreparedDocument]]:
    """Parsed and tokenised documents, ``batch_files`` files at a time; failures go to ``errors``."""
    started = time.monotonic()
    identities = identities or {}
    done = passages = 0
    seen: dict[str, str] = {}
    pool = None
    if workers > 1 and len(files) > 20:
        # forkserver: workers start from a fresh interpreter that imported this module, not from a copy of
        # this process, which may already hold the model (0.7 GB a worker, shared only until touched)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_die_with_parent)
    try:
        for start in range(0, len(files), batch_files):
            chunk = files[start:start + batch_files]
            sources = [(p, *identities[str(p)]) if str(p) in identities else p for p in chunk]
            results = pool.map(prepare, sources, chunksize=8) if pool else map(prepare, sources)
            batch = []
            for result in results:
                if isinstance(result, IngestError):
                    errors.append(result)
                    continue
                meta = result.document.meta
                if meta.doc_id in seen:  # same folder and file name twice in one run
                    errors.append(IngestError(path=meta.source_path, error=f"same folder and file name as "
                                              f"{seen[meta.doc_id]}; rename one of them"))
                    continue
                seen[meta.doc_id] = meta.source_path
                batch.append(result)
            done += len(chunk)
            passages += sum(len(p.document.clauses) for p in batch)
            if progress:
                progress(f"parsed {done}/{len(files)} files, {passages} passages, {time.monotonic() - started:.1f}s")
            yield batch
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def ingest(paths: Iterable[Path], index_dir: Path, *, model: str | None = None, rebuild: bool = False,
           workers: int = 2, progress: Progress | None = None, teacher_passages: int = TEACHER_PASSAGES,
           student_above: int | None = STUDENT_ABOVE, lock_timeout: float = 600.0,
           identities: dict[str, tuple[str, str]] | None = None, merge: bool = True) -> IngestReport:
    """Ingest ``paths`` into the index at ``index_dir`` as one commit.

    Args:
        paths: files and folders.
        index_dir: the index folder (created if absent).
        model: embedding model name or folder; None for the configured default.
        rebuild: replace the whole index with these files.
        workers: parser processes.
        progress: called with one-line progress messages.
        teacher_passages: new passages embedded right away; the rest wait for the embedding job.
        student_above: when more passages than this lack vectors, fit (or reuse) the index's student and
            give them student vectors before returning; None leaves them to ``qa embed``.
        lock_timeout: seconds to wait for another writer.
        identities: path → (doc_id, name as sent), for uploads (default: id from folder and file name).
        merge: compact small segments after the commit (the service does it after answering: ``compact``).

    Returns:
        what was added, replaced, left unchanged and what failed.
    """
    started = time.monotonic()
    index_dir = Path(index_dir)
    files, errors = collect_files(paths)
    embedder = None
    with write_lock(index_dir, timeout=lock_timeout, progress=progress):
        writer = IndexWriter(index_dir, progress)
        try:
            known = {} if rebuild else writer.catalog.known_hashes()
            todo, unchanged, duplicates, read_errors = _changed(files, known, identities or {})
            errors.extend(read_errors)
            removals = list(writer.catalog.known_hashes()) if rebuild else []
            report = IngestReport(unchanged=unchanged, duplicates=duplicates, errors=errors)
            if todo or removals:
                # the catalog alone says which model the index holds; its segments need not be loaded for that
                embedder = embedder_for_ingest(Index.open(index_dir, only="catalog"), model, rebuild=rebuild,
                                               progress=progress)
                budget = [teacher_passages if embedder is not None else 0]

                def encode(texts: list[str]) -> tuple[np.ndarray | None, int]:
                    if embedder is None or budget[0] <= 0:
                        return None, VECTOR_NONE
                    take = min(budget[0], len(texts))
                    budget[0] -= take
                    if take < len(texts):
                        return None, VECTOR_NONE  # this batch waits for the embedding job as a whole
                    return embedder.encode_passages(texts), VECTOR_TEACHER

                info = _embedder_record(embedder) if embedder is not None else None
                result = writer.commit(prepared_batches(todo, workers, errors, progress, identities=identities), removals,
                                       encode=encode if embedder is not None else None, embedder_info=info,
                                       encode_sentences=embedder.encode_passages if embedder is not None else None)
                report.added, report.replaced = result.added, result.replaced
                release_freed_memory()  # the batches' parsed documents and token lists
                if merge:
                    writer.merge()
            counts = writer.catalog.counts()
        finally:
            writer.close()
    if embedder is not None and student_above is not None and counts["passages"] - counts["teacher_vectors"] \
            - counts["student_vectors"] > student_above:
        from qa.config import settings
        from qa.index.embed_job import cover_with_student

        cover_with_student(index_dir, embedder, progress, sample=settings().student_sample, lock_timeout=lock_timeout)
        counts = _counts(index_dir)
    report.errors = list(errors)  # the batches appended parse errors as they went
    report.teacher_vectors, report.student_vectors = counts["teacher_vectors"], counts["student_vectors"]
    report.documents, report.clauses = counts["documents"], counts["clauses"]
    report.seconds = round(time.monotonic() - started, 2)
    return report


def _counts(index_dir: Path) -> dict[str, int]:
    from qa.index.catalog import Catalog

    catalog = Catalog(index_dir)
    try:
        return catalog.counts()
    finally:
        catalog.close()


def _embedder_record(embedder) -> dict:
    info = {k: v for k, v in embedder.info().items() if k not in ("load_error", "device")}
    if embedder.load_error:
        info["configured_error"] = embedder.load_error
    return info


def remove(doc_ids: list[str], index_dir: Path, *, progress: Progress | None = None,
           lock_timeout: float = 600.0, merge: bool = True) -> list[str]:
    """Delete documents with all their passages, vectors and postings; returns the ids not found (``merge``:
    as for ``ingest``)."""
    with write_lock(Path(index_dir), timeout=lock_timeout, progress=progress):
        writer = IndexWriter(Path(index_dir), progress)
        try:
            known = writer.catalog.known_hashes()
            missing = [d for d in doc_ids if d not in known]
            present = [d for d in doc_ids if d in known]
            if present:
                writer.commit([], present, note="remove")
                if merge:
                    writer.merge()
        finally:
            writer.close()
    return missing


def compact(index_dir: Path, lock_timeout: float = 600.0, view=None, force: bool = False) -> int:
    """Merge small or half-dead segments (what ``ingest`` and ``remove`` do after their commit unless told
    not to); returns the number of segments retired. ``view``: an open view of the latest commit whose loaded
    segments the merge may use; ``force``: merge every segment of a kind into one (and move an older index's
    sentence vectors out of the catalog into a sentence segment)."""
    with write_lock(Path(index_dir), timeout=lock_timeout):
        writer = IndexWriter(Path(index_dir))
        try:
            return writer.merge(force=force, view=view)
        finally:
            writer.close()
