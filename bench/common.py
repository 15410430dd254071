"""Shared pieces of the benchmarks: paths, text normalisation, ranking metrics, a plain BM25 baseline."""

from __future__ import annotations

import math
import os
import re
import sys
import unicodedata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("QA_SHARED_DIR", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT))

_LABEL = re.compile(r"^第[零〇一二两三四五六七八九十百千0-9]+条(之[一二三四五六七八九十]+)?\s*")
_NOT_TEXT = re.compile(r"[\s\W_]+", re.UNICODE)


def norm(text: str) -> str:
    """Normalised text for matching: NFKC, article label removed, punctuation and spaces removed."""
    text = unicodedata.normalize("NFKC", text).strip()
    return _NOT_TEXT.sub("", _LABEL.sub("", text))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def ranking_metrics(matches: list[set[int]], n_gold: int, cutoffs=(5, 10, 100)) -> dict[str, float]:
    """Recall@k, MRR@10 and nDCG@10 for one query.

    Args:
        matches: for each ranked result, the gold items it matches.
        n_gold: number of gold items.
    """
    result = {}
    for k in cutoffs:
        found = set().union(*matches[:k]) if matches[:k] else set()
        result[f"recall@{k}"] = len(found) / n_gold
    first = next((i for i, m in enumerate(matches[:10], 1) if m), None)
    result["mrr@10"] = 1 / first if first else 0.0
    seen: set[int] = set()
    dcg = 0.0
    for i, m in enumerate(matches[:10], 1):
        new = m - seen
        if new:
            dcg += 1 / math.log2(i + 1)
            seen |= new
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(n_gold, 10) + 1))
    result["ndcg@10"] = dcg / ideal if ideal else 0.0
    return result


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = rows[0].keys() if rows else []
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in keys}


class PlainBM25:
    """The baseline: bm25s over plain ``jieba.lcut`` tokens, default parameters, nothing else."""

    def __init__(self, texts: list[str]):
        import bm25s
        import jieba

        jieba.setLogLevel(60)
        self._cut = jieba.lcut
        self.model = bm25s.BM25()
        self.model.index([self._tokens(t) for t in texts], show_progress=False)

    def _tokens(self, text: str) -> list[str]:
        return [t for t in self._cut(text) if t.strip()] or [""]

    def search(self, query: str, k: int) -> list[int]:
        import numpy as np

        tokens = [t for t in self._tokens(query) if t in self.model.vocab_dict]
        if not tokens:
            return []
        scores = self.model.get_scores(tokens)
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return [int(i) for i in top[np.argsort(-scores[top])]]
