"""Writing an index: one atomic commit per change, segments appended, merged in the background.

A commit writes its lexical, vector and sentence segments as new folders, then registers them together with
the documents and passages in one SQLite transaction: either all of it is visible or none. Deleting
a document deletes its rows, which turns its postings and vectors into tombstones; ``merge`` rewrites
small or half-dead segments into one (which ones: ``qa.index.merge_plan``) and retires the old folders.
One writer at a time holds the folder's lock (a POSIX record lock, which the kernel drops when its holder
dies and worker processes do not inherit).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import Unavailable
from qa.index import postings, sentence_segments, vectors
from qa.index.catalog import VECTOR_NONE, VECTOR_TEACHER, Catalog, SegmentRecord, file_digests
from qa.index.collection import SEGMENTS, Index, check_format, segment_folder
from qa.index.merge_plan import all_alive_and_few, merge_plan
from qa.index.milvus import backend, milvus_store
from qa.index.sentence_segments import table_rows
from qa.index.sentence_vectors import SentenceRows, sentence_rows
from qa.schemas import Document

log = logging.getLogger("qa.index")
LOCK_FILE = "write.lock"
Progress = Callable[[str], None]


class WriteLockTimeout(Unavailable, TimeoutError):
    """Another writer held the index for longer than the caller was willing to wait."""


@dataclass
class PreparedDocument:
    """A parsed document with the lexical tokens of each of its passages (computed in a worker)."""

    document: Document
    tokens: list[list[str]]


@dataclass
class CommitResult:
    """What one commit did."""

    commit_no: int = 0
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    passages: int = 0


@contextlib.contextmanager
def write_lock(root: Path, timeout: float = 600.0, progress: Progress | None = None) -> Iterator[None]:
    """Hold the index folder's write lock.

    Args:
        root: the index folder.
        timeout: seconds to wait for another writer before giving up.
        progress: told once when the lock is busy.

    Raises:
        WriteLockTimeout: the lock stayed busy for ``timeout`` seconds.
    """
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise WriteLockTimeout(f"another writer has held the index at {root} for over {timeout:.0f}s; "
                                           "try again later") from None
                if not told:
                    message = f"waiting for another writer to finish with the index at {root}"
                    log.info(message)
                    if progress:
                        progress(message)
                    told = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class IndexWriter:
    """Commits changes to one index folder; use inside ``write_lock``.

    Args:
        root: the index folder (created on first commit).
        progress: one-line progress messages.
    """

    def __init__(self, root: Path, progress: Progress | None = None):
        self.root = Path(root)
        check_format(self.root)
        self.catalog = Catalog(self.root, create=True)
        self.progress = progress
        self.cleanup()

    def close(self) -> None:
        self.catalog.close()

    # -- housekeeping ------------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Remove what a crash left: segment folders no commit registered, half-written folders."""
        folder = self.root / SEGMENTS
        if not folder.exists():
            return []
        registered = {segment_folder(self.root, r.kind, r.seg).name for r in self.catalog.segments()}
        removed = []
        for path in folder.iterdir():
            if path.name not in registered:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                removed.append(path.name)
        if removed:
            log.warning("removed %d leftover segment folder(s) of interrupted writes in %s: %s", len(removed),
                        folder, ", ".join(sorted(removed)[:5]))
        return removed

    # -- commits -----------------------------------------------------------------------------------
    def commit(self, batches: Iterable[list[PreparedDocument]], removals: Iterable[str] = (),
               encode: Callable[[list[str]], tuple[np.ndarray, int]] | None = None,
               embedder_info: dict | None = None, note: str = "ingest",
               encode_sentences: Callable[[list[str]], np.ndarray] | None = None) -> CommitResult:
        """Add or replace the documents of ``batches`` and delete ``removals``, as one commit.

        Each batch is written as its own segments as it arrives (so memory holds one batch), and the
        catalog transaction that makes them all visible is committed after the last one.

        Args:
            batches: prepared documents, in batches; a known doc_id replaces the stored document.
            removals: doc_ids to delete.
            encode: passage texts → (unit vectors, vector kind); None keeps the commit lexical-only.
            encode_sentences: sentence texts → unit vectors, for the clauses that got vectors.
            embedder_info: the embedder to record for the index (when ``encode`` is given).
            note: what the commit was, for the commit log.

        Returns:
            what was added, replaced and removed.
        """
        result = CommitResult()
        written: list[Path] = []
        catalog = self.catalog
        self._dropped: list[int] = []
        try:
            with catalog.write():
                result.commit_no = catalog.record_commit(note)
                for doc_id in removals:
                    self._dropped += self._pids_of(doc_id)
                    if catalog.drop_document(doc_id):
                        result.removed.append(doc_id)
                known = set(catalog.known_hashes())
                for batch in batches:
                    if batch:
                        written.extend(self._write_batch(batch, known, encode, result, encode_sentences))
                if embedder_info is not None:
                    catalog.set_info("embedder", embedder_info)
        except BaseException:
            for path in written:
                shutil.rmtree(path, ignore_errors=True)
            raise
        if self._dropped and backend() == "milvus":  # after the commit: Milvus may hold more, never less
            milvus_store(self._dim()).delete(self._dropped)
        return result

    def _pids_of(self, doc_id: str) -> list[int]:
        return [p for (p,) in self.catalog.db.execute("SELECT pid FROM passages WHERE doc_id = ?", (doc_id,))]

    def _dim(self) -> int:
        return int((self.catalog.get_info("embedder") or {}).get("dim") or 0)

    def _write_batch(self, batch: list[PreparedDocument], known: set[str], encode, result: CommitResult,
                     encode_sentences=None) -> list[Path]:
        catalog = self.catalog
        ids = {p.document.meta.doc_id for p in batch}
        if len(ids) != len(batch):
            raise ValueError("a batch holds two documents with one doc_id")
        count = sum(len(p.document.clauses) for p in batch)
        first = catalog.next_id("next_pid", count)
        pids = np.arange(first, first + count, dtype=np.int64)
        tokens = [t for p in batch for t in p.tokens]
        written = []
        seg = catalog.next_id("next_segment", 3)
        lexical_folder = segment_folder(self.root, "lexical", seg)
        postings.write_segment(lexical_folder, pids, tokens)
        written.append(lexical_folder)
        catalog.add_segment(SegmentRecord(seg, "lexical", count, files=file_digests(lexical_folder)), catalog.commit_no)
        kind = VECTOR_NONE
        if encode is not None and count:
            texts = [passage_text_of(p.document, c) for p in batch for c in p.document.clauses]
            matrix, kind = encode(texts)
        if kind != VECTOR_NONE and backend() == "milvus":
            doc_ids = [p.document.meta.doc_id for p in batch for _ in p.document.clauses]
            milvus_store(matrix.shape[1]).upsert(pids, matrix, np.full(count, kind, dtype=np.int8), doc_ids)
        elif kind != VECTOR_NONE:
            vector_folder = segment_folder(self.root, "vector", seg + 1)
            vectors.write_segment(vector_folder, pids, matrix, kinds=np.full(count, kind, dtype=np.int8))
            written.append(vector_folder)
            catalog.add_segment(SegmentRecord(seg + 1, "vector", count, files=file_digests(vector_folder)),
                                catalog.commit_no)
        offset = 0
        for prepared in batch:
            document = prepared.document
            doc_id = document.meta.doc_id
            if doc_id in known:
                self._dropped += self._pids_of(doc_id)
                catalog.drop_document(doc_id)
                result.replaced.append(doc_id)
            else:
                result.added.append(doc_id)
            n = len(document.clauses)
            catalog.put_document(document, pids[offset:offset + n].tolist(), catalog.commit_no, kind)
            known.add(doc_id)
            offset += n
        if kind != VECTOR_NONE and encode_sentences is not None:
            clauses = [c for p in batch for c in p.document.clauses]
            folder = self._write_sentences(seg + 2, sentence_rows(pids, clauses, encode_sentences), kind)
            written += [folder] if folder is not None else []
        result.passages += count
        return written

    def _write_sentences(self, seg: int, rows: SentenceRows, kind: int) -> Path | None:
        """Write ``rows`` as sentence segment ``seg`` and register it in the open transaction (None: no rows)."""
        if not rows:
            return None
        folder = segment_folder(self.root, "sentence", seg)
        count, passages = sentence_segments.write_segment(folder, rows)
        self.catalog.add_segment(SegmentRecord(seg, "sentence", count, kind, file_digests(folder), passages),
                                 self.catalog.commit_no)
        return folder

    def add_vectors(self, pids: np.ndarray, matrix: np.ndarray, kind: int = VECTOR_TEACHER,
                    note: str = "embed", sentences: SentenceRows | None = None) -> int:
        """Commit vectors for existing passages (the embedding job), with their sentences' vectors; passages
        deleted meanwhile are skipped.

        Returns:
            the number of passages that got the vectors.
        """
        catalog = self.catalog
        with catalog.write():
            live = {p for (p,) in catalog.db.execute(
                f"SELECT pid FROM passages WHERE pid IN ({','.join('?' * len(pids))})", [int(p) for p in pids])}
            keep = np.array([int(p) in live for p in pids], dtype=bool)
            if not keep.any():
                return 0
            catalog.record_commit(note)
            folder = sentence_folder = None
            if backend() == "milvus":
                owners = dict(catalog.db.execute(f"SELECT pid, doc_id FROM passages WHERE pid IN "
                                                 f"({','.join('?' * int(keep.sum()))})",
                                                 [int(p) for p in pids[keep]]).fetchall())
                milvus_store(matrix.shape[1]).upsert(pids[keep], matrix[keep], np.full(int(keep.sum()), kind, np.int8),
                                                     [owners[int(p)] for p in pids[keep]])
            else:
                seg = catalog.next_id("next_segment")
                folder = segment_folder(self.root, "vector", seg)
                vectors.write_segment(folder, pids[keep], matrix[keep], kinds=np.full(int(keep.sum()), kind, np.int8))
            try:
                if folder is not None:
                    catalog.add_segment(SegmentRecord(seg, "vector", int(keep.sum()), files=file_digests(folder)),
                                        catalog.commit_no)
                catalog.set_dense(pids[keep].tolist(), kind)
                if sentences:
                    sentence_folder = self._write_sentences(catalog.next_id("next_segment"),
                                                            [row for row in sentences if row[0] in live], kind)
            except BaseException:
                for written in (folder, sentence_folder):
                    if written is not None:
                        shutil.rmtree(written, ignore_errors=True)
                raise
        return int(keep.sum())

    # -- merging -----------------------------------------------------------------------------------
    def merge(self, force: bool = False, view: Index | None = None) -> int:
        """Rewrite small or half-dead segments of each kind into one; returns the number of segments retired.

        A forced merge also moves the sentence vectors of an index written before sentence segments out of the
        catalog's ``sentences`` table into the merged sentence segment.

        Args:
            force: merge every segment of a kind into one.
            view: an open view of the latest commit (the service's): its loaded segments are merged instead
                of opening them again.
        """
        retired = 0
        for kind in ("lexical", "vector", "sentence"):
            table = force and kind == "sentence" and self.catalog.has_table_sentences()
            if not force and all_alive_and_few(self.catalog, kind):
                continue  # the plan would be empty: do not load the segments to find that out
            current = view is not None and view.generation == self.catalog.commit_no and not view.damaged
            opened = view if current else Index.open(self.root, only=kind)  # per kind: the other kind's would lack it
            segments = [s for s in self.catalog.segments() if s.kind == kind]
            if kind == "lexical":
                loaded, maps = opened.lexical.segments, opened.lexical.row_maps
            elif kind == "sentence":  # maps: which passages of each segment are live and not superseded
                loaded, maps = opened.sentences.segments, opened.sentences.winning
            elif opened.dense is not None and backend() != "milvus":  # Milvus compacts its own segments
                loaded, maps = opened.dense.segments, opened.dense.row_maps
            else:
                continue
            if kind == "sentence":
                sizes = [s.rows for s in loaded]
                alive = [int(s.count[keep].sum()) for s, keep in zip(loaded, maps, strict=True)]
            else:
                sizes, alive = [len(m) for m in maps], [int((m >= 0).sum()) for m in maps]
            chosen = list(range(len(loaded))) if table else \
                merge_plan(sizes, alive, force, flat_below=vectors.APPROXIMATE_ABOVE if kind == "vector" else 0)
            if not chosen and not table:
                continue
            seg = self.catalog.next_id("next_segment")
            folder = segment_folder(self.root, kind, seg)
            picked = [loaded[i] for i in chosen]
            picked_maps = [maps[i] for i in chosen]
            passages = None
            if kind == "lexical":
                rows = postings.merge_segments(picked, picked_maps, folder)
            elif kind == "sentence":
                rows, passages = sentence_segments.merge_segments(picked, picked_maps, folder,
                                                                  table_rows(self.catalog, opened.sentences) if table else None)
            else:
                rows = vectors.merge_segments(picked, picked_maps, folder)
            try:
                with self.catalog.write():
                    self.catalog.record_commit(f"merge {kind} {len(chosen)} segments"
                                               + (" and the sentences table" if table else ""))
                    self.catalog.add_segment(SegmentRecord(seg, kind, rows, files=file_digests(folder),
                                                           passages=passages), self.catalog.commit_no)
                    self.catalog.drop_segments(segments[i].seg for i in chosen)
                    if table:
                        self.catalog.db.execute("DELETE FROM sentences")
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            for i in chosen:  # readers that mapped the old files keep them until they close
                shutil.rmtree(segment_folder(self.root, kind, segments[i].seg), ignore_errors=True)
            retired += len(chosen)
            if self.progress:
                self.progress(f"merged {len(chosen)} {kind} segments into one of {rows} rows")
        return retired


def passage_text_of(document: Document, clause) -> str:
    from qa.index.collection import passage_text

    return passage_text(document.meta.title, clause)
