"""Dense index: FAISS inner product over L2-normalised clause vectors.

Exact search (``IndexFlatIP``) for small collections; past ``approximate_above`` vectors an IVF index
(``IndexIVFFlat``, probing ``nprobe`` lists), whose recall against exact search ``bench/`` measures.
Rows are passage positions; removing a document drops its rows and re-adds the rest, which for IVF
reuses the trained centroids.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

APPROXIMATE_ABOVE = 50_000


class DenseIndex:
    """Vectors and the FAISS structure over them.

    Args:
        dim: vector dimension.
        approximate_above: collection size from which an IVF index replaces exact search.
        nprobe: IVF lists probed per query.
    """

    def __init__(self, dim: int, approximate_above: int = APPROXIMATE_ABOVE, nprobe: int = 48):
        self.dim = dim
        self.approximate_above = approximate_above
        self.nprobe = nprobe
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.index: faiss.Index = faiss.IndexFlatIP(dim)

    @property
    def approximate(self) -> bool:
        return isinstance(self.index, faiss.IndexIVF)

    def build(self, vectors: np.ndarray, centroids_from: DenseIndex | None = None) -> None:
        """Index ``vectors`` (rows = passages). IVF centroids are reused from ``centroids_from`` when the
        collection has not doubled since they were trained."""
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        n = len(self.vectors)
        if n <= self.approximate_above:
            self.index = faiss.IndexFlatIP(self.dim)
            self.index.add(self.vectors)
            return
        previous = centroids_from.index if centroids_from is not None else None
        if isinstance(previous, faiss.IndexIVF) and previous.ntotal and n < 2 * previous.ntotal:
            index = faiss.clone_index(previous)
            index.reset()
        else:
            nlist = int(min(4 * math.sqrt(n), n // 39))
            quantizer = faiss.IndexFlatIP(self.dim)
            index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            sample = self.vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
            index.train(sample)
        index.add(self.vectors)
        index.nprobe = self.nprobe
        self.index = index

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` passages for one query vector.

        Args:
            query: (dim,) normalised vector.
            k: results wanted.
            rows: restrict to these passage rows (exact scoring over the subset).

        Returns:
            (scores, rows), best first.
        """
        if len(self.vectors) == 0 or k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        if rows is not None:
            scores = self.vectors[rows] @ query
            top = np.argsort(-scores, kind="stable")[:k]
            return scores[top], rows[top]
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), min(k, len(self.vectors)))
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep].astype(np.int64)

    def exact_scores(self, query: np.ndarray) -> np.ndarray:
        """Inner product of ``query`` with every vector."""
        return self.vectors @ query

    def save(self, folder: Path) -> None:
        np.save(folder / "vectors.npy", self.vectors)
        if self.approximate:
            faiss.write_index(self.index, str(folder / "dense.ivf.faiss"))

    def load(self, folder: Path) -> None:
        self.vectors = np.load(folder / "vectors.npy")
        self.dim = self.vectors.shape[1] if self.vectors.ndim == 2 else self.dim
        ivf = folder / "dense.ivf.faiss"
        if ivf.exists():
            self.index = faiss.read_index(str(ivf))
            self.index.nprobe = self.nprobe
        else:
            self.index = faiss.IndexFlatIP(self.dim)
            if len(self.vectors):
                self.index.add(self.vectors)
