"""Evaluate retrieval on a question file in the format of ``seed_dev_qa.jsonl``.

A retrieved clause answers a gold entry when its text contains the quote (whitespace ignored).
Recall@k is the share of a question's gold entries answered in the top k, averaged over
answerable questions; MRR@10 is the reciprocal rank of the first clause answering any entry.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from qa.retrieval.searcher import Searcher

CUTOFFS = (1, 5, 10)


def _squash(text: str) -> str:
    return re.sub(r"\s", "", text)


def load_questions(path: Path) -> list[dict]:
    """Read a JSONL question file; each line needs ``query`` and ``gold`` (a list of ``{quote}``)."""
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as err:
            raise ValueError(f"{path}:{number}: not JSON: {err}") from None
        if "query" not in item or not isinstance(item.get("gold", []), list):
            raise ValueError(f"{path}:{number}: needs a 'query' string and a 'gold' list")
        questions.append(item)
    return questions


def score_question(texts: list[str], gold: list[dict]) -> dict[str, float]:
    """Recall@1/5/10 and reciprocal rank for one question, given retrieved clause texts in rank order."""
    quotes = [_squash(g["quote"]) for g in gold]
    squashed = [_squash(t) for t in texts]
    result: dict[str, float] = {}
    for k in CUTOFFS:
        found = sum(1 for q in quotes if any(q in t for t in squashed[:k]))
        result[f"recall@{k}"] = found / len(quotes)
    first = next((rank for rank, t in enumerate(squashed[:10], 1) if any(q in t for q in quotes)), None)
    result["mrr@10"] = 1.0 / first if first else 0.0
    return result


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = [f"recall@{k}" for k in CUTOFFS] + ["mrr@10"]
    return {key: round(sum(r[key] for r in rows) / len(rows), 4) if rows else 0.0 for key in keys}


def evaluate(searcher: Searcher, questions: list[dict], modes: list[str] | None = None) -> dict:
    """Run every answerable question in every mode.

    Returns:
        ``{"modes": {mode: {"overall": {...}, "by_type": {type: {...}}}}, "questions": n, "answerable": m}``
    """
    answerable = [q for q in questions if q.get("gold")]
    report: dict = {"modes": {}, "questions": len(questions), "answerable": len(answerable)}
    for mode in modes or ["hybrid", "dense", "lexical"]:
        per_type: dict[str, list[dict[str, float]]] = defaultdict(list)
        rows = []
        for question in answerable:
            hits = searcher.search(question["query"], k=max(CUTOFFS), mode=mode)
            row = score_question([h.text for h in hits], question["gold"])
            rows.append(row)
            per_type[question.get("type", "all")].append(row)
        report["modes"][mode] = {"overall": _mean(rows),
                                 "by_type": {t: _mean(r) for t, r in sorted(per_type.items())}}
    return report


def format_report(report: dict) -> str:
    """A table of modes side by side, overall and per question type."""
    modes = list(report["modes"])
    keys = [f"recall@{k}" for k in CUTOFFS] + ["mrr@10"]
    lines = [f"{report['answerable']} answerable of {report['questions']} questions",
             f"{'':22}" + "".join(f"{m:>30}" for m in modes),
             f"{'':22}" + "".join(f"{'R@1   R@5   R@10  MRR@10':>30}" for _ in modes)]
    types = ["overall"] + sorted(next(iter(report["modes"].values()))["by_type"]) if modes else []
    for name in types:
        cells = []
        for mode in modes:
            data = report["modes"][mode]["overall" if name == "overall" else "by_type"]
            values = data if name == "overall" else data[name]
            cells.append("  ".join(f"{values[key]:.3f}" for key in keys))
        lines.append(f"{name:22}" + "".join(f"{c:>30}" for c in cells))
    return "\n".join(lines)
