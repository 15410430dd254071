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
    """

    method: str = "score"
    dense_weight: float = 0.5
    rrf_k: float = 60.0
    depth: int = 200

    @classmethod
    def configured(cls, dense_weight: float | None = None) -> FusionConfig:
        """The settings' fusion; ``dense_weight`` (an index's trained weight) unless ``QA_DENSE_WEIGHT`` is set."""
        from qa.config import settings

        config = settings()
        weight = config.dense_weight if config.dense_weight is not None else dense_weight
        return cls(method=config.fusion_method, dense_weight=cls.dense_weight if weight is None else weight,
                   depth=config.fusion_depth)


def top_candidates(scores: np.ndarray, depth: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Rows of the ``depth`` best scores (best first), only among ``mask`` rows and positive scores."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    depth = min(depth, len(scores))
    if depth == 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(-scores, depth - 1)[:depth]
    rows = rows[np.isfinite(scores[rows])]
    return rows[np.argsort(-scores[rows], kind="stable")]


def fuse(lexical: tuple[np.ndarray, np.ndarray], dense: tuple[np.ndarray, np.ndarray],
         config: FusionConfig, lexical_confidence: float = 1.0) -> dict[int, float]:
    """Combine two rankings.

    Args:
        lexical: (rows best first, their scores).
        dense: (rows best first, their scores).
        config: fusion settings.
        lexical_confidence: how much of the query the lexical side can match at all (the share of its
            words the collection uses, by IDF); an English question over Chinese documents has about none,
            and its lexical ranking (of stray digits) then counts for as little.

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
    return fused
