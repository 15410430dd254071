"""Lexical segments: immutable BM25 postings of the passages of one commit, scored with global statistics.

A segment holds, for its passages (passage ids ``pids``), their token counts and per-term postings
(local row, term frequency) in CSR form, memory-mapped from ``segments/lex-NNNNNN/``. Statistics are
never stored: at query time the document frequency of a term and the average length are computed over
the *live* rows of every segment, so a segmented index scores exactly like one built from scratch
(Lucene's BM25, as in Kamphuis et al. 2020: idf = ln(1 + (N − df + ½)/(df + ½)),
tf part = tf / (tf + k1·(1 − b + b·dl/avgdl))).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1, B = 1.2, 0.75
WEIGHT_CACHE_BYTES = 32 << 20


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(folder: Path, pids: np.ndarray, tokens: list[list[str]]) -> None:
    """Write the postings of ``tokens`` (one list a passage) as a segment folder, atomically.

    Args:
        folder: the segment folder to create (written beside it, then renamed).
        pids: passage ids, one per token list.
        tokens: the passages' tokens.
    """
    counts = [Counter(t) for t in tokens]
    vocabulary = sorted({term for c in counts for term in c})
    term_id = {term: i for i, term in enumerate(vocabulary)}
    sizes = np.fromiter((len(c) for c in counts), dtype=np.int64, count=len(counts))
    terms = np.fromiter((term_id[t] for c in counts for t in c), dtype=np.int64, count=int(sizes.sum()))
    freqs = np.fromiter((n for c in counts for n in c.values()), dtype=np.int64, count=int(sizes.sum()))
    rows = np.repeat(np.arange(len(counts), dtype=np.int32), sizes)
    _write(folder, np.asarray(pids, dtype=np.int64), np.array([len(t) for t in tokens], dtype=np.int32),
           vocabulary, terms, rows, freqs)


def _write(folder: Path, pids: np.ndarray, lengths: np.ndarray, vocabulary: list[str], terms: np.ndarray,
           rows: np.ndarray, freqs: np.ndarray) -> None:
    """Write postings given in row order within each term's first appearance (each caller lists them with
    rows ascending per term), so a stable sort by term alone leaves every term's rows ascending."""
    order = np.argsort(terms, kind="stable")
    indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=len(vocabulary)), out=indptr[1:])
    staging = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    np.save(staging / "pids.npy", pids)
    np.save(staging / "lengths.npy", lengths)
    np.save(staging / "indptr.npy", indptr)
    np.save(staging / "rows.npy", rows[order].astype(np.int32, copy=False))
    del rows
    np.save(staging / "tf.npy", np.minimum(freqs[order], np.iinfo(np.uint16).max).astype(np.uint16, copy=False))
    (staging / "terms.txt").write_text("\n".join(vocabulary), encoding="utf-8")
    _fsync_tree(staging)
    os.rename(staging, folder)


@dataclass
class LexicalSegment:
    """One segment, memory-mapped.

    Args:
        seg: segment number.
        pids: passage ids of its rows.
        lengths: token count of each row.
        terms: term → term number.
        indptr, rows, tf: CSR postings by term number.
    """

    seg: int
    pids: np.ndarray
    lengths: np.ndarray
    terms: dict[str, int]
    indptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray

    @classmethod
    def load(cls, folder: Path, seg: int) -> LexicalSegment:
        text = (folder / "terms.txt").read_text(encoding="utf-8")
        vocabulary = text.split("\n") if text else []
        # plain arrays over the mapped files: a slice of an np.memmap builds a memmap object (a search slices
        # each term's postings in every segment; about 0.8 ms of a LawRefBook query)
        load = lambda name: np.asarray(np.load(folder / name, mmap_mode="r"))  # noqa: E731
        return cls(seg=seg, pids=load("pids.npy"), lengths=load("lengths.npy"),
                   terms={t: i for i, t in enumerate(vocabulary)}, indptr=load("indptr.npy"), rows=load("rows.npy"),
                   tf=load("tf.npy"))

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        number = self.terms.get(term)
        if number is None:
            return _EMPTY_ROWS, _EMPTY_TF
        start, end = int(self.indptr[number]), int(self.indptr[number + 1])
        return self.rows[start:end], self.tf[start:end]


_EMPTY_ROWS = np.zeros(0, dtype=np.int32)
_EMPTY_TF = np.zeros(0, dtype=np.uint16)


class LexicalView:
    """BM25 over the live rows of a set of segments.

    Args:
        segments: the segments, oldest first.
        row_maps: for each segment, local row → live row (−1: a deleted passage).
        size: number of live rows.
        k1, b: BM25 parameters.
    """

    def __init__(self, segments: list[LexicalSegment], row_maps: list[np.ndarray], size: int,
                 k1: float = K1, b: float = B):
        self.segments, self.row_maps, self.size = segments, row_maps, size
        self.k1, self.b = k1, b
        self.lengths = np.zeros(size, dtype=np.float32)
        for segment, row_map in zip(segments, row_maps, strict=True):
            alive = row_map >= 0
            self.lengths[row_map[alive]] = segment.lengths[alive]
        self.avgdl = float(self.lengths.mean()) if size else 1.0
        self._norm = (self.k1 * (1 - self.b + self.b * self.lengths / max(self.avgdl, 1e-9))).astype(np.float32)
        # a view never changes, so a term's weighted postings hold for its lifetime: kept for the terms asked
        # most recently, up to WEIGHT_CACHE_BYTES (common words have the longest postings and recur most)
        self._weights: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._weights_bytes = 0
        self._weights_lock = threading.Lock()

    def _live_postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        found_rows, found_tf = [], []
        for segment, row_map in zip(self.segments, self.row_maps, strict=True):
            local, tf = segment.postings(term)
            if not len(local):
                continue
            rows = row_map[local]
            alive = rows >= 0
            found_rows.append(rows[alive])
            found_tf.append(tf[alive])
        if not found_rows:
            return _EMPTY_ROWS, _EMPTY_TF
        return np.concatenate(found_rows), np.concatenate(found_tf)

    def doc_freq(self, term: str) -> int:
        """Number of live passages containing ``term``."""
        return int(len(self._weighted(term)[0]))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every live row for ``query_tokens`` (a repeated token counts again, as in bm25s)."""
        scores = np.zeros(self.size, dtype=np.float32)
        if not self.size:
            return scores
        for term in query_tokens:
            rows, weights = self._weighted(term)
            if len(rows):
                scores[rows] += weights
        return scores

    def _weighted(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The live rows holding ``term`` and its BM25 weight in each (idf × tf part)."""
        with self._weights_lock:
            found = self._weights.get(term)
            if found is not None:
                self._weights.move_to_end(term)
                return found
        rows, tf = self._live_postings(term)
        if len(rows):
            df = len(rows)
            idf = np.float32(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))
            tf32 = tf.astype(np.float32)
            weights = idf * tf32 / (tf32 + self._norm[rows])
        else:
            weights = np.zeros(0, dtype=np.float32)
        with self._weights_lock:
            if term not in self._weights:
                self._weights[term] = (rows, weights)
                self._weights_bytes += rows.nbytes + weights.nbytes
                while self._weights_bytes > WEIGHT_CACHE_BYTES and len(self._weights) > 1:
                    old_rows, old_weights = self._weights.popitem(last=False)[1]
                    self._weights_bytes -= old_rows.nbytes + old_weights.nbytes
        return rows, weights


def merge_segments(segments: list[LexicalSegment], row_maps: list[np.ndarray], folder: Path) -> int:
    """Write the live rows of ``segments`` as one segment; returns its row count.

    Rows keep their passage ids; postings are concatenated term by term, so no text is re-tokenised.
    """
    vocabulary = sorted({term for segment in segments for term in segment.terms})
    union = {term: i for i, term in enumerate(vocabulary)}
    pids, lengths, terms, rows, freqs = [], [], [], [], []
    offset = 0
    for segment, row_map in zip(segments, row_maps, strict=True):
        alive = row_map >= 0
        new_row = np.full(len(row_map), -1, dtype=np.int64)
        new_row[alive] = offset + np.arange(int(alive.sum()))
        pids.append(segment.pids[alive])
        lengths.append(segment.lengths[alive])
        local_terms = np.empty(len(segment.terms), dtype=np.int32)
        for term, number in segment.terms.items():
            local_terms[number] = union[term]
        mapped = new_row[np.asarray(segment.rows)]
        keep = mapped >= 0
        # narrow types: a whole-library merge holds every posting (9 million for LawRefBook) at once
        terms.append(np.repeat(local_terms, np.diff(np.asarray(segment.indptr)))[keep])
        rows.append(mapped[keep].astype(np.int32))
        freqs.append(np.asarray(segment.tf)[keep])
        del mapped, keep
        offset += int(alive.sum())
    cat = lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)  # noqa: E731
    _write(folder, cat(pids, np.int64), cat(lengths, np.int32), vocabulary, cat(terms, np.int32),
           cat(rows, np.int32), cat(freqs, np.uint16))
    return offset
