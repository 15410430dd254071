"""The embedding job: model vectors for every passage, in the background, resumable.

Passages without a model vector (none yet, or the student's) are taken from the documents officials
marked useful first (most marked first, so what is asked about is served by the model soonest), then
newest document first, in batches; each batch is encoded without holding the write lock and committed
as one vector segment and one sentence segment, so a kill loses at most the batch in flight and the next run
resumes where it stopped. Uploads and deletes interleave between batches (a passage deleted meanwhile is skipped). For a large first
ingest the job also fits the student (``qa.embed.student``) on a random sample and gives every
remaining passage a student vector, so dense search covers the library within the ingest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.embed.base import Embedder
from qa.embed.student import StudentEmbedder, train_student
from qa.index.catalog import VECTOR_STUDENT, VECTOR_TEACHER, Catalog
from qa.index.collection import Index, passage_text
from qa.index.sentence_vectors import sentence_rows
from qa.index.writer import IndexWriter, write_lock
from qa.memory import release_freed_memory
from qa.schemas import Clause

log = logging.getLogger("qa.embed_job")
Progress = Callable[[str], None]
BATCH = 256
STUDENT_SAMPLE = 8000
STUDENT_ABOVE = 5000  # passages without vectors past which a student covers them first
CHUNK = 8192  # passages read and encoded at a time
MODELS = "models"


@dataclass
class JobReport:
    """What a run of the job did."""

    embedded: int = 0
    student_encoded: int = 0
    remaining: int = 0
    bridge_terms: int = 0
    seconds: float = 0.0
    student: dict | None = None


def _texts(catalog: Catalog, rows: list[tuple[int, str, str]]) -> tuple[np.ndarray, list[str], list[Clause]]:
    titles: dict[str, str] = {}
    texts, clauses = [], []
    for _, doc_id, clause_json in rows:
        if doc_id not in titles:
            meta = catalog.db.execute("SELECT json_extract(meta, '$.title') FROM documents WHERE doc_id = ?",
                                      (doc_id,)).fetchone()
            titles[doc_id] = meta[0] if meta else ""
        clause = Clause.model_validate_json(clause_json)
        clauses.append(clause)
        texts.append(passage_text(titles[doc_id], clause))
    return np.array([r[0] for r in rows], dtype=np.int64), texts, clauses


def student_for(root: Path, embedder: Embedder) -> StudentEmbedder | None:
    """The index's student of ``embedder``, if one was fitted."""
    catalog = Catalog(root)
    try:
        info = catalog.get_info("student")
    finally:
        catalog.close()
    if not info or info.get("teacher_fingerprint") != embedder.fingerprint:
        return None
    folder = Path(root) / info["folder"]
    return StudentEmbedder(folder, embedder.model.tokenizer) if folder.exists() else None


def cover_with_student(root: Path, embedder: Embedder, progress: Progress | None = None,
                       sample: int = STUDENT_SAMPLE, seed: int = 0, lock_timeout: float = 600.0,
                       chunk: int = CHUNK) -> JobReport:
    """Give every passage without a vector one: fit a student on a model-encoded random sample, then encode.

    The sample's model vectors are committed too (they count as covered). The library is read and encoded
    ``chunk`` passages at a time, each chunk one commit, so memory holds one chunk.
    """
    report = JobReport()
    started = time.monotonic()
    root = Path(root)
    with write_lock(root, timeout=lock_timeout, progress=progress):
        writer = IndexWriter(root, progress)
        try:
            catalog = writer.catalog
            waiting = np.array([p for (p,) in catalog.db.execute(
                "SELECT pid FROM passages WHERE dense = 0 ORDER BY pid")], dtype=np.int64)
            if not len(waiting):
                return report
            student = student_for(root, embedder)
            if student is None:
                rng = np.random.default_rng(seed)
                chosen = np.sort(rng.choice(waiting, size=min(sample, len(waiting)), replace=False))
                if progress:
                    progress(f"encoding a sample of {len(chosen)} passages with {embedder.name} to fit the student")
                pids, sample_texts, clauses = _texts(catalog, _rows(catalog, chosen))
                sample_vectors = _encode(embedder, sample_texts, progress)
                writer.add_vectors(pids, sample_vectors, VECTOR_TEACHER, note="embed sample",
                                   sentences=sentence_rows(pids, clauses, embedder.encode_passages))
                report.embedded += len(pids)
                name = f"{MODELS}/student-{embedder.fingerprint[:12]}"
                library = (text for part in _chunks(waiting, chunk) for text in _texts(catalog, _rows(catalog, part))[1])
                student = train_student(embedder.model, sample_texts, sample_vectors, library, root / name,
                                        embedder.name, embedder.fingerprint, seed=seed)
                release_freed_memory()  # the fit's token bags, optimiser state and tokenised library
                with catalog.write():
                    catalog.set_info("student", {**student.info_record, "folder": name})
                report.student = student.info_record
                if progress:
                    progress(f"student fitted: held-out cosine {student.info_record['held_out_cosine']}")
                waiting = np.setdiff1d(waiting, chosen)
            for part in _chunks(waiting, chunk):
                pids, texts, clauses = _texts(catalog, _rows(catalog, part))
                writer.add_vectors(pids, student.encode_passages(texts), VECTOR_STUDENT, note="student vectors",
                                   sentences=sentence_rows(pids, clauses, student.encode_passages))
                report.student_encoded += len(pids)
                if progress:
                    progress(f"student vectors {report.student_encoded}/{len(waiting)}")
            release_freed_memory()
            writer.merge()
            counts = catalog.counts()
            report.remaining = counts["passages"] - counts["teacher_vectors"]
        finally:
            writer.close()
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _chunks(values: np.ndarray, size: int):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _rows(catalog: Catalog, pids: np.ndarray) -> list[tuple[int, str, str]]:
    rows = []
    for part in _chunks(np.asarray(pids), 900):
        marks = ",".join("?" * len(part))
        rows.extend(catalog.db.execute(f"SELECT pid, doc_id, clause FROM passages WHERE pid IN ({marks}) ORDER BY pid",
                                       [int(p) for p in part]).fetchall())
    return rows


def _encode(embedder: Embedder, texts: list[str], progress: Progress | None, batch: int = 1024) -> np.ndarray:
    parts = []
    started = time.monotonic()
    for start in range(0, len(texts), batch):
        parts.append(embedder.encode_passages(texts[start:start + batch]))
        done = min(start + batch, len(texts))
        if progress:
            rate = done / max(time.monotonic() - started, 1e-9)
            progress(f"  {done}/{len(texts)} passages, {rate:.1f}/s, ETA {_eta((len(texts) - done) / rate)}")
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)


def _eta(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def run(root: Path, embedder: Embedder, batch: int = BATCH, progress: Progress | None = None,
        max_seconds: float | None = None, should_stop: Callable[[], bool] | None = None,
        lock_timeout: float = 600.0, marked_only: bool = False) -> JobReport:
    """Encode passages lacking a model vector with ``embedder``, one committed batch at a time.

    Documents officials marked useful are encoded first (``Catalog.without_teacher``).

    Args:
        root: the index folder.
        embedder: the index's model.
        batch: passages per commit.
        progress: progress lines (passages done, rate, time left).
        max_seconds: stop after this long (the next run resumes).
        should_stop: polled between batches.
        lock_timeout: seconds to wait for the write lock per batch.
        marked_only: stop when every document with a useful mark has the model's vectors.

    Returns:
        counts of what was encoded and what remains.
    """
    root = Path(root)
    report = JobReport()
    started = time.monotonic()
    catalog = Catalog(root)
    try:
        counts = catalog.counts()
        missing = catalog.db.execute("SELECT count(*) FROM passages WHERE dense = 0").fetchone()[0]
        if missing > STUDENT_ABOVE and embedder.model is not None:
            from qa.config import settings

            student_report = cover_with_student(root, embedder, progress, sample=settings().student_sample,
                                                lock_timeout=lock_timeout)
            report.embedded += student_report.embedded
            report.student_encoded = student_report.student_encoded
            report.student = student_report.student
        total = catalog.counts()["passages"]
        while True:
            if should_stop is not None and should_stop():
                break
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            rows = catalog.without_teacher(batch, marked_only)
            if not rows:
                break
            pids, texts, clauses = _texts(catalog, rows)
            vectors = embedder.encode_passages(texts)
            sentences = sentence_rows(pids, clauses, embedder.encode_passages)
            with write_lock(root, timeout=lock_timeout, progress=progress):
                writer = IndexWriter(root)
                try:
                    report.embedded += writer.add_vectors(pids, vectors, VECTOR_TEACHER, sentences=sentences)
                    if max(len(writer.catalog.segments(kind)) for kind in ("vector", "sentence")) > 16:
                        writer.merge()
                finally:
                    writer.close()
            if progress:
                rate = report.embedded / max(time.monotonic() - started, 1e-9)
                whole, done = catalog.marked_counts() if marked_only else \
                    (total, catalog.counts()["teacher_vectors"])
                scope = "of the marked documents " if marked_only else ""
                progress(f"model vectors {scope}{done}/{whole} ({100 * done / max(whole, 1):.1f}%), "
                         f"{rate:.1f} passages/s, ETA {_eta((whole - done) / max(rate, 1e-9))}")
        counts = catalog.counts()
        report.remaining = counts["passages"] - counts["teacher_vectors"]
    finally:
        catalog.close()
    if report.embedded:
        with write_lock(root, timeout=lock_timeout):
            writer = IndexWriter(root)
            try:
                writer.merge()
            finally:
                writer.close()
    from qa.retrieval.bridge import TermBridge

    bridge = TermBridge.refresh(Index.open(root), embedder)  # the term bridge learns the new words too
    report.bridge_terms = len(bridge.terms) if bridge is not None else 0
    report.seconds = round(time.monotonic() - started, 1)
    return report
