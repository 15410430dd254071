"""Vector segments: passage vectors of one commit (or one batch of the embedding job), searched with FAISS.

A segment folder ``segments/vec-NNNNNN/`` holds ``pids.npy``, ``vectors.npy`` (float32, unit rows) and
``kinds.npy`` (1 student, 2 teacher vector), memory-mapped. A passage may have vectors in several segments (a student vector at ingest, a teacher
vector later): the newest segment holding it wins, the others are tombstones, as are the rows of
deleted passages. Small segments are scored exactly; a merged segment past ``APPROXIMATE_ABOVE`` rows
carries a FAISS IVF index (``ivf.faiss``, ids = local rows, its inverted lists memory-mapped) probed
``nprobe`` lists deep.
"""

from __future__ import annotations

import math
import os
import shutil
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from qa.index.postings import _fsync_tree

APPROXIMATE_ABOVE = 50_000
NPROBE = 48
COPY_ROWS = 16_384  # vectors copied at a time when merging or indexing


def write_segment(folder: Path, pids: np.ndarray, vectors: np.ndarray, kinds: np.ndarray,
                  approximate_above: int = APPROXIMATE_ABOVE, centroids: faiss.Index | None = None) -> None:
    """Write a vector segment atomically (with an IVF index when it is large).

    Args:
        folder: the segment folder to create.
        pids: passage ids, one per vector.
        vectors: float32 unit rows.
        kinds: each vector's kind (student or teacher).
        approximate_above: build an IVF index past this many rows.
        centroids: a trained IVF index whose centroids to reuse.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    staging = _staging(folder)
    np.save(staging / "vectors.npy", vectors)
    _finish(staging, folder, pids, kinds, _ivf(vectors, centroids) if len(vectors) > approximate_above else None)


def _staging(folder: Path) -> Path:
    staging = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _finish(staging: Path, folder: Path, pids: np.ndarray, kinds: np.ndarray, ivf: faiss.Index | None) -> None:
    """Write ids, kinds and the IVF index beside ``staging/vectors.npy``, then publish the folder."""
    np.save(staging / "pids.npy", np.asarray(pids, dtype=np.int64))
    np.save(staging / "kinds.npy", np.asarray(kinds, dtype=np.int8))
    if ivf is not None:
        faiss.write_index(ivf, str(staging / "ivf.faiss"))
    _fsync_tree(staging)
    os.rename(staging, folder)


def _empty_ivf(n: int, dim: int, centroids: faiss.Index | None, sample: Callable[[np.ndarray], np.ndarray]
               ) -> faiss.Index:
    """A trained IVF index with no vectors: over ``centroids``' coarse centroids when the collection has not
    doubled since, else trained on ``sample(rows)`` (a random ``nlist × 64`` of the ``n`` rows, sorted)."""
    if isinstance(centroids, faiss.IndexIVF) and centroids.d == dim and n < 2 * max(centroids.ntotal, 1):
        # a new index over the same centroids (the old one's lists may be a read-only map of its file)
        index = faiss.IndexIVFFlat(faiss.clone_index(centroids.quantizer), dim, centroids.nlist,
                                   faiss.METRIC_INNER_PRODUCT)
        index.is_trained = True
        return index
    nlist = int(min(4 * math.sqrt(n), n // 39))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    index.train(sample(np.sort(rng.choice(n, size=min(n, nlist * 64), replace=False))))
    return index


def _ivf(vectors: np.ndarray, centroids: faiss.Index | None) -> faiss.Index:
    index = _empty_ivf(len(vectors), vectors.shape[1], centroids, lambda rows: vectors[rows])
    index.add(vectors)
    return index


def _live_chunks(segments: list[VectorSegment], live: list[np.ndarray], wanted: np.ndarray | None = None
                 ) -> Iterator[np.ndarray]:
    """The live vectors of ``segments`` in order (only the ``wanted`` positions among them, sorted, if given),
    a chunk at a time, read from the files rather than through their maps: the pages go to the kernel's
    cache, not to this process."""
    position = 0
    for segment, alive in zip(segments, live, strict=True):
        for start in range(0, len(alive), COPY_ROWS):
            block_alive = alive[start:start + COPY_ROWS]
            count = int(block_alive.sum())
            if not count:
                continue
            pick = np.flatnonzero(block_alive)
            if wanted is not None:
                inside = wanted[(wanted >= position) & (wanted < position + count)] - position
                pick, position = pick[inside], position + count
                if not len(pick):
                    continue
            else:
                position += count
            yield _read_rows(segment.vectors, start, start + len(block_alive))[pick]


def _read_rows(vectors: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of a segment's vectors, read from its file when it is memory-mapped."""
    if not isinstance(vectors, np.memmap) or vectors.filename is None:
        return np.asarray(vectors[start:stop], dtype=np.float32)
    dim = vectors.shape[1]
    with open(vectors.filename, "rb") as handle:
        handle.seek(vectors.offset + start * dim * vectors.itemsize)
        data = handle.read((stop - start) * dim * vectors.itemsize)
    return np.frombuffer(data, dtype=vectors.dtype).reshape(stop - start, dim).astype(np.float32, copy=False)


@dataclass
class VectorSegment:
    """One vector segment, memory-mapped."""

    seg: int
    pids: np.ndarray
    vectors: np.ndarray
    kinds: np.ndarray
    ivf: faiss.Index | None = None
    _fd: int | None = field(default=None, repr=False, compare=False)  # vectors.npy, open for reading rows

    @classmethod
    def load(cls, folder: Path, seg: int, nprobe: int = NPROBE) -> VectorSegment:
        ivf = None
        if (folder / "ivf.faiss").exists():
            # the inverted lists stay in the file: only the lists a search probes are read, as page cache
            ivf = faiss.read_index(str(folder / "ivf.faiss"), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            ivf.nprobe = nprobe
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        segment = cls(seg=seg, pids=np.asarray(np.load(folder / "pids.npy", mmap_mode="r")), vectors=vectors,
                      kinds=np.asarray(np.load(folder / "kinds.npy")), ivf=ivf)
        # kept open for reading candidates' rows, also after a merge has deleted the file
        segment._fd = os.open(folder / "vectors.npy", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        weakref.finalize(segment, os.close, segment._fd)
        return segment

    def rows(self, local: np.ndarray) -> np.ndarray:
        """The vectors of local rows ``local``, read from the file rather than through its mapping.

        Searches want a few hundred scattered rows each; a 1.5 KB row shares its 4 KB page with others, so
        through the mapping 200 questions had made 230 MB of a 260 MB file resident in the service. Read, the
        rows live in the kernel's page cache, which it shares and reclaims, not in the process.
        """
        local = np.asarray(local, dtype=np.int64)
        fd = self._fd
        if fd is None or not isinstance(self.vectors, np.memmap):
            return np.asarray(self.vectors[local], dtype=np.float32)
        order = np.argsort(local, kind="stable")  # neighbouring rows (clauses of one document) read at once
        found = np.empty((len(local), self.vectors.shape[1]), dtype=self.vectors.dtype)
        read_rows(fd, self.vectors.offset, found, local[order], np.ones(len(local), dtype=np.int64))
        out = np.empty_like(found)
        out[order] = found
        return out.astype(np.float32, copy=False)


def read_rows(fd: int, offset: int, out: np.ndarray, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Fill ``out`` with rows ``first[i] : first[i] + count[i]`` of the array stored from byte ``offset`` of the file
    ``fd`` (rows of ``out``'s width and type), concatenated in that order; ranges that follow one another in the
    file are read with one ``preadv``."""
    row_bytes = out.shape[1] * out.itemsize if out.ndim == 2 else out.itemsize
    if not len(out) or not row_bytes:
        return out
    starts = np.r_[0, np.flatnonzero(first[1:] != first[:-1] + count[:-1]) + 1]
    lengths = np.add.reduceat(count, starts)
    buffer = memoryview(out).cast("B")
    at = 0
    for row, length in zip(first[starts].tolist(), lengths.tolist(), strict=True):
        done, size, position = 0, length * row_bytes, offset + row * row_bytes
        while done < size:
            got = os.preadv(fd, [buffer[at + done:at + size]], position + done)
            if got <= 0:
                raise OSError(f"{out.dtype} rows end early in their file (row {row})")
            done += got
        at += size
    return out


class VectorView:
    """Nearest live rows over a set of vector segments.

    Args:
        segments: the segments, oldest first.
        row_maps: for each segment, local row → live row, −1 for tombstones (deleted passages, and
            vectors superseded by a newer segment).
        size: number of live rows.
        dim: vector dimension.
    """

    def __init__(self, segments: list[VectorSegment], row_maps: list[np.ndarray], size: int, dim: int):
        self.segments, self.row_maps, self.size, self.dim = segments, row_maps, size, dim
        self.covered = np.zeros(size, dtype=bool)
        self.kind = np.zeros(size, dtype=np.int8)
        self._selectors: dict[int, tuple] = {}
        # which segment holds each live row's vector, at which local row (the maps never share a live row)
        self._owner = np.full(size, -1, dtype=np.int32)
        self._owner_row = np.zeros(size, dtype=np.int64)
        for number, (segment, row_map) in enumerate(zip(segments, row_maps, strict=True)):
            alive = row_map >= 0
            self.covered[row_map[alive]] = True
            self.kind[row_map[alive]] = segment.kinds[alive]
            self._owner[row_map[alive]] = number
            self._owner_row[row_map[alive]] = np.flatnonzero(alive)

    def _live_selector(self, segment: VectorSegment, live: np.ndarray) -> faiss.SearchParametersIVF:
        """IVF search parameters that skip the segment's tombstones (built once per view)."""
        cached = self._selectors.get(segment.seg)
        if cached is None:
            bitmap = np.packbits(live.astype(np.uint8), bitorder="little")
            selector = faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(bitmap))
            cached = (faiss.SearchParametersIVF(sel=selector, nprobe=segment.ivf.nprobe), selector, bitmap)
            self._selectors[segment.seg] = cached
        return cached[0]

    @property
    def coverage(self) -> int:
        return int(self.covered.sum())

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` live rows nearest ``query`` (inner product), optionally only among ``rows``.

        Returns:
            (scores, rows), best first.
        """
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        allowed = None
        if rows is not None:
            allowed = np.zeros(self.size, dtype=bool)
            allowed[rows] = True
        found_rows, found_scores = [], []
        for segment, row_map in zip(self.segments, self.row_maps, strict=True):
            live = row_map >= 0 if allowed is None else (row_map >= 0) & allowed[np.maximum(row_map, 0)]
            if not live.any():
                continue
            if segment.ivf is not None and allowed is None:
                scores, local = segment.ivf.search(query.reshape(1, -1), min(len(row_map), k),
                                                   params=self._live_selector(segment, live))
                local, scores = local[0], scores[0]
                keep = local >= 0
                local, scores = local[keep], scores[keep]
            else:
                local = np.flatnonzero(live)
                scores = np.asarray(segment.vectors[local] if len(local) < len(live) else segment.vectors) @ query
                if len(scores) > k:
                    top = np.argpartition(-scores, k - 1)[:k]
                    local, scores = local[top], scores[top]
            found_rows.append(row_map[local])
            found_scores.append(scores.astype(np.float32))
        if not found_rows:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        rows_all, scores_all = np.concatenate(found_rows).astype(np.int64), np.concatenate(found_scores)
        order = np.lexsort((rows_all, -scores_all))[:k]
        return scores_all[order], rows_all[order]

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        """The live vector of each of ``rows`` (a row may repeat; zeros where a row has none)."""
        rows = np.asarray(rows, dtype=np.int64)
        unique, inverse = np.unique(rows, return_inverse=True)
        found = np.zeros((len(unique), self.dim), dtype=np.float32)
        owners = self._owner[unique]
        for number in np.unique(owners[owners >= 0]).tolist():
            wanted = np.flatnonzero(owners == number)
            found[wanted] = self.segments[number].rows(self._owner_row[unique[wanted]])
        return found[inverse]

    def exact_scores(self, query: np.ndarray) -> np.ndarray:
        """Inner product of ``query`` with every live row's vector (0 for rows without one)."""
        scores = np.zeros(self.size, dtype=np.float32)
        for segment, row_map in zip(self.segments, self.row_maps, strict=True):
            live = row_map >= 0
            scores[row_map[live]] = np.asarray(segment.vectors)[live] @ query
        return scores


def merge_segments(segments: list[VectorSegment], row_maps: list[np.ndarray], folder: Path,
                   approximate_above: int = APPROXIMATE_ABOVE) -> int:
    """Write the live vectors of ``segments`` as one segment (with IVF when large); returns its row count.

    The vectors stream from the old files to the new one (and into the IVF index) a chunk at a time: a merge
    of the whole LawRefBook library would otherwise hold three copies of its 260 MB of vectors.
    """
    live = [row_map >= 0 for row_map in row_maps]
    dim = segments[0].vectors.shape[1]
    total = sum(int(alive.sum()) for alive in live)
    pids = np.concatenate([s.pids[alive] for s, alive in zip(segments, live, strict=True)])
    kinds = np.concatenate([s.kinds[alive] for s, alive in zip(segments, live, strict=True)])
    ivf = None
    if total > approximate_above:
        centroids = next((s.ivf for s in segments if s.ivf is not None), None)
        ivf = _empty_ivf(total, dim, centroids, lambda rows: np.concatenate(list(_live_chunks(segments, live, rows))))
    staging = _staging(folder)
    with open(staging / "vectors.npy", "wb") as handle:
        np.lib.format.write_array_header_2_0(handle, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                                                      "fortran_order": False, "shape": (total, dim)})
        for chunk in _live_chunks(segments, live):
            handle.write(np.ascontiguousarray(chunk).tobytes())
            if ivf is not None:
                ivf.add(chunk)
    _finish(staging, folder, pids, kinds, ivf)
    return total
