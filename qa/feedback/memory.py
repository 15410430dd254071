"""The feedback memory: every question an official marked a clause useful for, as a vector pointing at that clause.

A new question close to one asked before finds the clause that answered it, even when the clause's own
wording is far from the question's (``给大学生创业多少钱`` → the clause on 大学生创业扶持). The memory is a
third ranking beside the lexical and the dense one: a clause scores the similarity of the nearest past
question that marked it useful, or (``memory_votes``) the sum over the near past questions that did, so that
a clause many officials needed for questions like this one counts more. It learns at once (a 👍 counts from
the next search on), and ``qa train`` chooses its weight in the fusion on questions it did not train on.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

NEIGHBOURS = 20


class FeedbackMemory:
    """Past questions' vectors and the live rows of the clauses marked useful for each.

    Args:
        vectors: (n, dim) unit query vectors of past questions.
        rows: for each question, the rows of its useful clauses.
    """

    def __init__(self, vectors: np.ndarray, rows: list[list[int]]):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def build(cls, questions: list[str], clause_rows: Iterable[list[int]], encode) -> FeedbackMemory:
        """Encode ``questions`` with ``encode`` (texts → unit query vectors); questions without rows are left out."""
        pairs = [(q, list(r)) for q, r in zip(questions, clause_rows, strict=True) if r]
        if not pairs:
            return cls(np.zeros((0, 1), dtype=np.float32), [])
        vectors = encode([q for q, _ in pairs])
        return cls(vectors, [r for _, r in pairs])

    def scores(self, query: np.ndarray, k: int = NEIGHBOURS, mask: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the clauses that answered the ``k`` past questions nearest ``query``, one entry per (question,
        clause) pair with that question's similarity, most similar first (only rows allowed by ``mask``); a clause
        marked useful by several of them appears once for each (the fusion counts its best or their sum)."""
        if not len(self.rows):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        similarity = self.vectors @ query
        nearest = np.argsort(-similarity)[:k]
        rows, sims = [], []
        for i in nearest.tolist():
            for row in dict.fromkeys(self.rows[i]):
                if mask is None or mask[row]:
                    rows.append(row)
                    sims.append(float(similarity[i]))
        return np.array(rows, dtype=np.int64), np.array(sims, dtype=np.float32)


def load_memory(index, embedder, version: str = "") -> FeedbackMemory | None:
    """The memory of every stored feedback record over ``index``, its questions encoded with ``embedder``.

    Vectors are kept in the catalog (``feedback_vectors``, per model version) so that a restart encodes only
    the feedback that came since.
    """
    if index.catalog is None or embedder is None:
        return None
    from qa.feedback.store import FeedbackStore

    store = FeedbackStore(index.catalog)
    records = [r for r in store.records() if r.useful]
    if not records:
        return None
    db = index.catalog.db
    db.execute("CREATE TABLE IF NOT EXISTS feedback_vectors(feedback_id INTEGER NOT NULL, version TEXT NOT NULL, "
               "vector BLOB NOT NULL, PRIMARY KEY (feedback_id, version))")
    cached = {fid: np.frombuffer(blob, dtype=np.float16).astype(np.float32) for fid, blob in db.execute(
        "SELECT feedback_id, vector FROM feedback_vectors WHERE version = ?", (version,))}
    missing = [r for r in records if r.id not in cached]
    if missing:
        vectors = embedder.encode_queries([r.question for r in missing])
        for record, vector in zip(missing, vectors, strict=True):
            cached[record.id] = vector
        with index.catalog.write():
            db.executemany("INSERT OR REPLACE INTO feedback_vectors(feedback_id, version, vector) VALUES (?, ?, ?)",
                           [(r.id, version, np.asarray(cached[r.id], dtype=np.float16).tobytes()) for r in missing])
    rows = [[row for clause_id in r.useful for row in index.rows_of_clause(clause_id)] for r in records]
    kept = [i for i, r in enumerate(rows) if r]
    if not kept:
        return None
    return FeedbackMemory(np.stack([cached[records[i].id] for i in kept]), [rows[i] for i in kept])
