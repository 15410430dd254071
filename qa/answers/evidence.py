"""The multilingual model's view of the evidence: the question's vector, and the vectors of the retrieved clauses and
of their sentences — stored ones where the index has them, else encoded now (a clause uploaded moments ago, before the
embedding job reached it) and, for sentences, kept in a small cache.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from qa.answers.text import sentence_spans
from qa.retrieval.searcher import Searcher
from qa.schemas import Hit

CACHED_SENTENCES = 4096


class EvidenceVectors:
    """Vectors of questions, clauses and sentences for the answerer, from one searcher's index and model.

    Args:
        searcher: the searcher over the loaded index (its embedder may be None: then no vectors).
    """

    def __init__(self, searcher: Searcher):
        self.searcher = searcher
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()

    def query_vector(self, question: str) -> np.ndarray | None:
        """The model's vector of ``question`` (None without a model)."""
        embedder = self.searcher.embedder
        return self.searcher.query_vector(question) if embedder is not None else None

    def clause_similarities(self, hits: list[Hit], query_vector: np.ndarray | None) -> dict[str, float]:
        """The model's similarity of the question and each clause: its stored vector, else encoded now (a clause
        uploaded moments ago, before the embedding job reached it)."""
        if query_vector is None:
            return {}
        index = self.searcher.index
        dense = index.dense
        rows = [index.row_of_passage(h.passage_id) for h in hits]
        found: dict[str, float] = {}
        known = [(h, r) for h, r in zip(hits, rows, strict=True) if r is not None and dense is not None
                 and dense.covered[r]]
        if known:
            vectors = dense.vectors_of(np.array([r for _, r in known], dtype=np.int64))
            found = {h.passage_id: float(v @ query_vector) for (h, _), v in zip(known, vectors, strict=True)}
        missing = [h for h in hits if h.passage_id not in found]
        if missing and self.searcher.embedder is not None:
            texts = [f"《{h.doc_title}》 {' > '.join(h.heading_path)} {h.text}".replace("  ", " ") for h in missing]
            for hit, vector in zip(missing, self.searcher.embedder.encode_passages(texts), strict=True):
                found[hit.passage_id] = float(vector @ query_vector)
        return found

    def sentence_vectors(self, hits: list[Hit]) -> dict[tuple[str, int], np.ndarray]:
        """Vectors of the hits' sentences (offsets into ``hit.text``): stored ones, else encoded now and cached."""
        index = self.searcher.index
        found: dict[tuple[str, int], np.ndarray] = {}
        pid_of = {}
        for hit in hits:
            row = index.row_of_passage(hit.passage_id)
            if row is not None and hit.char_start == index.clause_rows([row])[0].char_start:
                pid_of[hit.passage_id] = int(index.rows.pids[row])
        stored = index.catalog.sentences(pid_of.values()) if index.catalog is not None and pid_of else {}
        missing: list[tuple[str, int, str]] = []
        for hit in hits:
            pid = pid_of.get(hit.passage_id)
            rows = {start: vector for start, _, vector in stored.get(pid, [])} if pid is not None else {}
            for start, end in sentence_spans(hit.text):
                cached = self._cache.get((pid or -1, start))  # one look-up: another request may evict it
                if start in rows and pid is not None and end <= len(hit.text):
                    found[(hit.passage_id, start)] = rows[start]
                elif cached is not None:
                    found[(hit.passage_id, start)] = cached
                else:
                    missing.append((hit.passage_id, start, hit.text[start:end]))
        if missing and self.searcher.embedder is not None:
            vectors = self.searcher.embedder.encode_passages([text for _, _, text in missing])
            for (passage_id, start, _), vector in zip(missing, vectors, strict=True):
                found[(passage_id, start)] = vector
                key = (pid_of.get(passage_id, -1), start)
                if key[0] != -1:
                    self._cache[key] = vector
            while len(self._cache) > CACHED_SENTENCES:
                try:
                    self._cache.popitem(last=False)
                except KeyError:  # emptied by another request meanwhile
                    break
        return found
