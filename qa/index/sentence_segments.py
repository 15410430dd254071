"""Sentence segments: the vectors of each clause's sentences, in immutable files beside the other segments.

A segment folder ``segments/sen-NNNNNN/`` holds ``pids.npy`` (int64, one per sentence row; a passage's rows are
consecutive and in text order), ``spans.npy`` (int32 ``[n, 2]``: start and end offsets into the clause text) and
``vectors.npy`` (float16 ``[n, dim]``, unit rows). A hybrid search scores the sentences of its few hundred
candidate clauses: each run of consecutive rows is read with one ``preadv`` from a descriptor kept open, so the
pages live in the kernel's page cache (shared, reclaimable), not in the process, and SQLite is not in the search's
path (its reads were the serial part of eight concurrent searches, ``bench/README.md``).

A passage may have rows in several segments (the student's at ingest, the model's from the embedding job later):
the newest segment holding it wins; older rows and rows of deleted passages are dead, and ``merge_segments``
drops them. Sentence segments are written to the index folder whatever the vector backend. Indexes written before
them keep their sentence vectors in the catalog's ``sentences`` table: it is read for the pids no segment holds,
and a forced merge moves its rows into a segment.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from qa.index.postings import _fsync_tree
from qa.index.vectors import _staging, read_rows

COPY_PASSAGES = 4096  # passages copied at a time when merging


def write_segment(folder: Path, rows: Iterable[tuple[int, int, int, np.ndarray]]) -> tuple[int, int]:
    """Write sentence rows ``(pid, start, end, unit vector)`` as a segment folder, atomically.

    Returns:
        (sentence rows, passages) written.
    """
    rows = list(rows)
    pids = np.array([r[0] for r in rows], dtype=np.int64)
    spans = np.array([(r[1], r[2]) for r in rows], dtype=np.int32).reshape(-1, 2)
    order = np.lexsort((spans[:, 0], pids)) if len(rows) else np.zeros(0, dtype=np.int64)
    vectors = np.stack([np.asarray(r[3], dtype=np.float16) for r in rows]) if rows else np.zeros((0, 0), np.float16)
    staging = _staging(folder)
    np.save(staging / "vectors.npy", np.ascontiguousarray(vectors[order]))
    return _finish(staging, folder, pids[order], spans[order])


def _finish(staging: Path, folder: Path, pids: np.ndarray, spans: np.ndarray) -> tuple[int, int]:
    np.save(staging / "pids.npy", np.asarray(pids, dtype=np.int64))
    np.save(staging / "spans.npy", np.asarray(spans, dtype=np.int32).reshape(-1, 2))
    _fsync_tree(staging)
    os.rename(staging, folder)
    return len(pids), len(_runs(pids)[0])


def _runs(pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row, row count) of each run of equal pids."""
    if not len(pids):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.r_[True, pids[1:] != pids[:-1]])
    return first, np.diff(np.r_[first, len(pids)])


class RowFile:
    """The rows of one ``.npy`` file, read with ``preadv`` from a descriptor kept open (also after a merge
    deleted the file); the array is never mapped."""

    def __init__(self, path: Path):
        with open(path, "rb") as handle:
            major, _ = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, _, self.dtype = read_header(handle)
            self.offset = handle.tell()
        self.shape = shape if len(shape) == 2 else (shape[0], 1)
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        weakref.finalize(self, os.close, self.fd)

    def read(self, first: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Rows ``first[i] : first[i] + count[i]`` for each i, concatenated in that order; ranges that follow one
        another in the file are read with one call."""
        first, count = np.asarray(first, dtype=np.int64), np.asarray(count, dtype=np.int64)
        out = np.empty((int(count.sum()), self.shape[1]), dtype=self.dtype)
        return read_rows(self.fd, self.offset, out, first, count)


class SentenceSegment:
    """One sentence segment: its passages (one entry per run of rows) and its row files."""

    def __init__(self, folder: Path, seg: int):
        self.seg = seg
        rows = np.load(folder / "pids.npy")  # read, not mapped: only the runs are kept
        self.rows = len(rows)
        self.first, self.count = _runs(rows)
        self.pids = rows[self.first] if len(rows) else np.zeros(0, dtype=np.int64)
        self.vectors = RowFile(folder / "vectors.npy")
        self.spans = RowFile(folder / "spans.npy")
        self.dim = self.vectors.shape[1]
        problem = self.problem()
        if problem is not None:
            raise ValueError(f"{folder.name}: {problem}")

    @classmethod
    def load(cls, folder: Path, seg: int) -> SentenceSegment:
        return cls(Path(folder), seg)

    def problem(self) -> str | None:
        """What is inconsistent in the segment's files (None: nothing)."""
        if self.vectors.shape[0] != self.rows or self.spans.shape != (self.rows, 2):
            return f"{self.rows} pids, {self.spans.shape[0]} spans and {self.vectors.shape[0]} vectors"
        if len(np.unique(self.pids)) != len(self.pids):
            return "a passage's sentence rows are not consecutive"
        return None


class SentenceView:
    """Each live passage's sentence rows: in the newest sentence segment holding it, else in the catalog's table.

    Args:
        segments: the sentence segments, oldest first.
        live: for each segment, which of its passages are live.
        catalog: the view's catalog, read for passages no segment holds when ``table`` says it has rows.
        table: whether the catalog's ``sentences`` table holds rows (an index written before sentence segments).
    """

    def __init__(self, segments: list[SentenceSegment], live: list[np.ndarray], catalog=None, table: bool = False):
        self.segments, self.catalog, self.table = segments, catalog, table and catalog is not None
        number = np.concatenate([np.full(int(a.sum()), i, dtype=np.int32) for i, a in enumerate(live)] or [[]])
        group = np.concatenate([np.flatnonzero(a) for a in live] or [[]]).astype(np.int64)
        pids = np.concatenate([s.pids[a] for s, a in zip(segments, live, strict=True)] or [[]]).astype(np.int64)
        order = np.lexsort((number, pids))  # by pid, then segment: the last of each pid is the newest
        newest = order[np.r_[pids[order][1:] != pids[order][:-1], True]] if len(order) else order
        self.pids, self.owner, group = pids[newest], number[newest].astype(np.int32), group[newest]
        self.first = np.zeros(len(newest), dtype=np.int64)
        self.count = np.zeros(len(newest), dtype=np.int64)
        self.winning = [np.zeros(len(s.pids), dtype=bool) for s in segments]  # live, not superseded: kept by merge
        for i, segment in enumerate(segments):
            mine = self.owner == i
            self.first[mine], self.count[mine] = segment.first[group[mine]], segment.count[group[mine]]
            self.winning[i][group[mine]] = True

    def _position(self, pids: np.ndarray) -> np.ndarray:
        """Each pid's position in this view, -1 where no segment holds it."""
        if not len(self.pids):
            return np.full(len(pids), -1, dtype=np.int64)
        position = np.minimum(np.searchsorted(self.pids, pids), len(self.pids) - 1)
        return np.where(self.pids[position] == pids, position, -1)

    def _read(self, positions: np.ndarray, spans: bool = False):
        """For each segment holding some of ``positions``: (which of them, in file order; their vectors[, spans])."""
        for number in np.unique(self.owner[positions]).tolist():
            mine = np.flatnonzero(self.owner[positions] == number)
            mine = mine[np.argsort(self.first[positions[mine]], kind="stable")]
            at, segment = positions[mine], self.segments[number]
            vectors = segment.vectors.read(self.first[at], self.count[at])
            yield (mine, vectors, segment.spans.read(self.first[at], self.count[at])) if spans else (mine, vectors)

    def best(self, pids: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Each of ``pids``' best sentence similarity to ``vector``, NaN for a pid without sentence vectors: float16
        rows made float32, one matrix product per segment, no Python object per pid (the search's path)."""
        pids, vector = np.asarray(pids, dtype=np.int64), np.asarray(vector, dtype=np.float32)
        position = self._position(pids)
        found = np.full(len(pids), np.nan, dtype=np.float32)
        held = np.flatnonzero(position >= 0)
        for mine, vectors in self._read(position[held]):
            scores = _float32(vectors) @ vector
            found[held[mine]] = np.maximum.reduceat(scores, np.r_[0, np.cumsum(self.count[position[held[mine]]])[:-1]])
        if self.table and len(held) < len(pids):
            missing = np.flatnonzero(position < 0)
            stored = self.catalog.table_best_sentence_scores(pids[missing].tolist(), vector)
            found[missing] = [stored.get(pid, np.nan) for pid in pids[missing].tolist()]
        return found

    def best_scores(self, pids: Iterable[int], vector: np.ndarray) -> dict[int, float]:
        """``best`` as a dict, pids without sentence vectors left out."""
        wanted = np.unique(np.fromiter((int(p) for p in pids), dtype=np.int64))
        scores = self.best(wanted, vector)
        keep = ~np.isnan(scores)
        return dict(zip(wanted[keep].tolist(), scores[keep].tolist(), strict=True))

    def sentences(self, pids: Iterable[int]) -> dict[int, list[tuple[int, int, np.ndarray]]]:
        """Sentence vectors by pid: ``[(start, end, float32 vector)]`` in text order."""
        wanted = np.unique(np.fromiter((int(p) for p in pids), dtype=np.int64))
        position = self._position(wanted)
        found: dict[int, list[tuple[int, int, np.ndarray]]] = {}
        held = position[position >= 0]
        for mine, vectors, spans in self._read(held, spans=True):
            at = 0
            for pid, count in zip(self.pids[held[mine]].tolist(), self.count[held[mine]].tolist(), strict=True):
                found[pid] = [(int(s), int(e), v.astype(np.float32)) for (s, e), v in
                              zip(spans[at:at + count].tolist(), vectors[at:at + count], strict=True)]
                at += count
        if self.table and (position < 0).any():
            found.update(self.catalog.table_sentences(wanted[position < 0].tolist()))
        return found


def _float32(matrix: np.ndarray) -> np.ndarray:
    """float16 rows as float32 (exactly, so scores equal numpy's cast): torch's conversion is vectorised, 7× numpy's
    on a search's 1,500 × 384 (0.16 against 1.2 ms of a core); torch is loaded with the model anyway."""
    import torch

    return torch.from_numpy(matrix).float().numpy()


def merge_segments(segments: list[SentenceSegment], winning: list[np.ndarray], folder: Path,
                   table: tuple[np.ndarray, np.ndarray, object] | None = None) -> tuple[int, int]:
    """Write the winning rows of ``segments`` (and of the catalog's table) as one segment, streamed a few
    thousand passages at a time; returns (sentence rows, passages).

    Args:
        segments: the segments to merge.
        winning: for each, which of its passages to keep (live and not superseded).
        folder: the new segment folder.
        table: (pids, their row counts, catalog) of rows to move from the catalog's ``sentences`` table.
    """
    parts = [(s, np.flatnonzero(w)) for s, w in zip(segments, winning, strict=True)]
    total = sum(int(s.count[kept].sum()) for s, kept in parts) + (int(table[1].sum()) if table else 0)
    chunks = _chain(_segment_chunks(parts), _table_chunks(*table) if table is not None else ())
    head = next(chunks, None)  # its width is the vectors'
    staging = _staging(folder)
    pids, spans = [], []
    with open(staging / "vectors.npy", "wb") as handle:
        np.lib.format.write_array_header_2_0(handle, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)),
                                                      "fortran_order": False,
                                                      "shape": (total, head[2].shape[1] if head else 0)})
        for chunk_pids, chunk_spans, chunk_vectors in _chain([head] if head else [], chunks):
            pids.append(chunk_pids)
            spans.append(chunk_spans)
            handle.write(np.ascontiguousarray(chunk_vectors, dtype=np.float16).tobytes())
    if sum(len(p) for p in pids) != total:
        raise RuntimeError(f"merged sentence rows: {sum(len(p) for p in pids)} written, {total} expected")
    return _finish(staging, folder, np.concatenate(pids or [np.zeros(0, np.int64)]),
                   np.concatenate(spans or [np.zeros((0, 2), np.int32)]))


def table_rows(catalog, view: SentenceView) -> tuple[np.ndarray, np.ndarray, object]:
    """The live passages whose sentence vectors only the catalog's table holds: (pids, row counts, catalog), what
    ``merge_segments`` moves into a segment."""
    pids, counts = catalog.table_sentence_counts()
    alone = ~np.isin(pids, view.pids)
    return pids[alone], counts[alone], catalog


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def _segment_chunks(parts):
    for segment, kept in parts:
        for start in range(0, len(kept), COPY_PASSAGES):
            groups = kept[start:start + COPY_PASSAGES]
            first, count = segment.first[groups], segment.count[groups]
            yield (np.repeat(segment.pids[groups], count), segment.spans.read(first, count),
                   segment.vectors.read(first, count))


def _table_chunks(pids: np.ndarray, counts: np.ndarray, catalog):
    for start in range(0, len(pids), COPY_PASSAGES):
        rows = catalog.table_sentence_rows(pids[start:start + COPY_PASSAGES].tolist())
        if rows:
            yield (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1:3] for r in rows], dtype=np.int32),
                   np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float16).reshape(len(rows), -1))
