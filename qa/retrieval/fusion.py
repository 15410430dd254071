"""Fusion of the lexical and dense rankings.

Two methods, both over the top ``depth`` candidates of each ranking:
``rrf`` (weighted reciprocal rank fusion) and ``score`` (each ranking's scores min–max normalised
within its candidates, then a weighted sum). The default is the one that measured best on the
development questions (``bench/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FusionConfig:  # defaults; ``FusionConfig.configured`` applies ``QA_FUSION_METHOD`` / ``QA_DENSE_WEIGHT``
    """Fusion settings.

    Args:
        method: ``rrf`` or ``score``.
        dense_weight: weight of the dense ranking (lexical gets ``1 - dense_weight``).
        rrf_k: the constant of reciprocal rank fusion.
        depth: candidates taken from each ranking.
        memory_weight: weight of the feedback memory (past questions near this one, and their useful clauses).
        memory_floor: least similarity of a past question for it to count.
        memory_votes: a clause's memory score sums over the near past questions that marked it (otherwise the
            nearest one counts alone).
    """

    method: str = "score"
    dense_weight: float = 0.5
    rrf_k: float = 60.0
    depth: int = 200
    memory_weight: float = 0.3  # a prior until ``qa train`` chooses it on held-out feedback
    memory_floor: float = 0.85
    memory_votes: bool = False

    @classmethod
    def configured(cls, trained: dict | None = None) -> FusionConfig:
        """The settings' fusion over an index's trained weights (``dense_weight``, ``memory_weight``,
        ``memory_floor`` chosen by ``qa train``); ``QA_DENSE_WEIGHT`` overrides the dense weight."""
        from qa.config import settings

        config = settings()
        trained = {k: v for k, v in (trained or {}).items() if k in ("dense_weight", "memory_weight", "memory_floor",
                                                                           "memory_votes")
                   and v is not None}
        if config.dense_weight is not None:
            trained["dense_weight"] = config.dense_weight
        return cls(method=config.fusion_method, depth=config.fusion_depth, **trained)


def top_candidates(scores: np.ndarray, depth: int, mask: np.ndarray | None = None,
                   positive: bool = False) -> np.ndarray:
    """Rows of the ``depth`` best scores (best first), only among ``mask`` rows (and, with ``positive``, rows
    scoring above zero: a lexical ranking then partitions the few rows a query's words reach, not all)."""
    if positive:
        rows = np.flatnonzero(scores > 0 if mask is None else (scores > 0) & mask)
        if len(rows) > depth:
            rows = rows[np.argpartition(-scores[rows], depth - 1)[:depth]] if depth else rows[:0]
        return rows[np.argsort(-scores[rows], kind="stable")]
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    depth = min(depth, len(scores))
    if depth == 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(-scores, depth - 1)[:depth]
    rows = rows[np.isfinite(scores[rows])]
    return rows[np.argsort(-scores[rows], kind="stable")]


def fuse(lexical: tuple[np.ndarray, np.ndarray], dense: tuple[np.ndarray, np.ndarray],
         config: FusionConfig, lexical_confidence: float = 1.0, covered: np.ndarray | None = None,
         memory: tuple[np.ndarray, np.ndarray] | None = None) -> dict[int, float]:
    """Combine two rankings.

    Args:
        lexical: (rows best first, their scores).
        dense: (rows best first, their scores).
        config: fusion settings.
        lexical_confidence: how much of the query the lexical side can match at all (the share of its
            words the collection uses, by IDF); an English question over Chinese documents has about none,
            and its lexical ranking (of stray digits) then counts for as little.
        covered: which rows have a vector; a row without one yet (just uploaded, the embedding job not there
            yet) is scored on its lexical evidence alone, scaled to the whole weight, not left at half.
        memory: rows of clauses marked useful for past questions near this one, with those questions'
            similarity (a row once per such question); counted above ``memory_floor`` (rescaled to 0–1), with
            ``memory_weight``: the best per row, or their sum with ``memory_votes``.

    Returns:
        fused score by row.
    """
    fused: dict[int, float] = {}
    weights = ((1.0 - config.dense_weight) * lexical_confidence, config.dense_weight)
    for (rows, scores), weight in zip((lexical, dense), weights, strict=True):
        if weight == 0 or len(rows) == 0:
            continue
        if config.method == "rrf":
            contributions = weight / (config.rrf_k + np.arange(1, len(rows) + 1))
        else:
            low, high = float(scores.min()), float(scores.max())
            contributions = weight * ((scores - low) / (high - low) if high > low else np.ones(len(scores)))
        for row, value in zip(rows.tolist(), contributions.tolist(), strict=True):
            fused[row] = fused.get(row, 0.0) + value
    if memory is not None and config.memory_weight > 0 and len(memory[0]):
        floor = config.memory_floor
        remembered: dict[int, float] = {}
        for row, similarity in zip(memory[0].tolist(), memory[1].tolist(), strict=True):
            if similarity > floor:
                value = (similarity - floor) / (1 - floor)
                remembered[row] = remembered.get(row, 0.0) + value if config.memory_votes else \
                    max(remembered.get(row, 0.0), value)
        for row, value in remembered.items():
            fused[row] = fused.get(row, 0.0) + config.memory_weight * value
    if covered is not None and weights[0] > 0 and len(dense[0]):
        scale = (weights[0] + weights[1]) / weights[0]
        for row in lexical[0].tolist():
            if not covered[row]:
                fused[row] *= scale
    return fused
