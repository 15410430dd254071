"""Sentence vectors: each clause's sentences embedded on their own, for choosing the sentence that answers.

They are computed by whoever computes the clause's vector (the model during ingest or in the embedding
job, the student for student-covered passages) and stored in a sentence segment of the same commit
(``qa.index.sentence_segments``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qa.clauses.sentences import sentence_spans
from qa.schemas import Clause

SentenceRows = list[tuple[int, int, int, np.ndarray]]


def sentence_rows(pids: list[int] | np.ndarray, clauses: list[Clause],
                  encode: Callable[[list[str]], np.ndarray]) -> SentenceRows:
    """(pid, start, end, vector) for every sentence of ``clauses`` (offsets into the clause text).

    Args:
        pids: the clauses' passage ids.
        clauses: the clauses.
        encode: texts → unit vectors (passage side).
    """
    spans = [(int(pid), start, end, clause.text[start:end]) for pid, clause in zip(pids, clauses, strict=True)
             for start, end in sentence_spans(clause.text)]
    if not spans:
        return []
    vectors = encode([text for _, _, _, text in spans])
    return [(pid, start, end, vector) for (pid, start, end, _), vector in zip(spans, vectors, strict=True)]
