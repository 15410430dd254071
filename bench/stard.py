"""STARD benchmark: real legal questions from the public against the LawRefBook index.

A retrieved clause matches a gold article when, normalised (NFKC, article label, spaces and
punctuation removed), it is that article or a part of it. Reports Recall@5/10/100, MRR@10 and
nDCG@10 for hybrid, dense and lexical, beside a plain bm25s article-level baseline (jieba.lcut tokens,
one document per 第X条 article of every LawRefBook file) computed in the same run, and the search
latency of each.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/qa --index /tmp/lawidx ingest ../shared/data/lawrefbook_laws
    HF_HUB_OFFLINE=1 .venv/bin/python bench/stard.py --index /tmp/lawidx [--limit 300] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from common import SHARED, PlainBM25, mean_metrics, norm, percentile, ranking_metrics

from qa.retrieval.service import load_searcher

ARTICLE = re.compile(r"^第[零〇一二两三四五六七八九十百千0-9]+条(之[一二三四五六七八九十]+)?[ \u3000]", re.M)
MIN_MATCH_CHARS = 8


def load_queries(limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in (SHARED / "data" / "stard" / "queries.train.jsonl").open(encoding="utf-8")]
    return rows[:limit] if limit else rows


def lawrefbook_articles() -> list[str]:
    """Every article of every LawRefBook file, split at lines opening with 第X条 (the baseline's documents)."""
    articles = []
    for path in sorted((SHARED / "data" / "lawrefbook_laws").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        starts = [m.start() for m in ARTICLE.finditer(text)]
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(text)
            article = re.split(r"\n#", text[start:end], maxsplit=1)[0]
            articles.append(article.strip())
    return articles


def matcher(gold_texts: list[str]):
    golds = [norm(g) for g in gold_texts]

    def match(text: str) -> set[int]:
        t = norm(text)
        if len(t) < MIN_MATCH_CHARS:
            return set()
        return {i for i, g in enumerate(golds) if g and (t in g or g in t)}
    return match


def run(index: Path, limit: int | None, k: int = 100) -> dict:
    queries = load_queries(limit)
    searcher = load_searcher(index)
    report: dict = {"queries": len(queries), "passages": len(searcher.index.passages),
                    "documents": len(searcher.index.documents), "modes": {}}
    for mode in searcher.modes:
        rows, times = [], []
        for q in queries:
            match = matcher(list(q["相关法规"].values()))
            started = time.perf_counter()
            hits = searcher.search(q["问题"], k=k, mode=mode)
            times.append((time.perf_counter() - started) * 1000)
            rows.append(ranking_metrics([match(h.text) for h in hits], len(q["相关法规"])))
        report["modes"][mode] = {**mean_metrics(rows), "p50_ms": round(percentile(times, 50), 1),
                                 "p95_ms": round(percentile(times, 95), 1)}
    started = time.perf_counter()
    articles = lawrefbook_articles()
    bm25 = PlainBM25(articles)
    build_s = time.perf_counter() - started
    rows, times = [], []
    for q in queries:
        match = matcher(list(q["相关法规"].values()))
        started = time.perf_counter()
        ranked = bm25.search(q["问题"], k)
        times.append((time.perf_counter() - started) * 1000)
        rows.append(ranking_metrics([match(articles[i]) for i in ranked], len(q["相关法规"])))
    report["baseline_bm25s_articles"] = {**mean_metrics(rows), "p50_ms": round(percentile(times, 50), 1),
                                         "p95_ms": round(percentile(times, 95), 1), "articles": len(articles),
                                         "build_s": round(build_s, 1)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="an index of ../shared/data/lawrefbook_laws")
    parser.add_argument("--limit", type=int, help="first N questions only (quick runs)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(Path(args.index), args.limit)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"STARD train: {report['queries']} questions; index {report['documents']} documents, "
          f"{report['passages']} passages")
    header = f"{'':34}{'R@5':>8}{'R@10':>8}{'R@100':>8}{'MRR@10':>8}{'nDCG@10':>9}{'p50 ms':>9}{'p95 ms':>9}"
    print(header)
    rows = [(f"qa {mode}", values) for mode, values in report["modes"].items()]
    rows.append(("baseline bm25s (jieba, articles)", report["baseline_bm25s_articles"]))
    for name, v in rows:
        print(f"{name:34}{v['recall@5']:8.3f}{v['recall@10']:8.3f}{v['recall@100']:8.3f}{v['mrr@10']:8.3f}"
              f"{v['ndcg@10']:9.3f}{v['p50_ms']:9.1f}{v['p95_ms']:9.1f}")
    print("published BM25 (STARD paper, different corpus): R@10 0.394, R@100 0.649")


if __name__ == "__main__":
    main()
