"""Dense-only retrieval quality of the embedders, beside a plain bm25s (jieba) baseline and their fusion.

Benchmarks:
    seed: the 30 development questions over the five seed documents (Recall@5 over questions with gold).
    stard: STARD train-split questions against every 第X条 article of LawRefBook (Recall@10/@100).

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python bench/embedder_quality.py                    # corpus model, full run
    HF_HUB_OFFLINE=1 .venv/bin/python bench/embedder_quality.py --stard-limit 300  # quick iteration
    HF_HUB_OFFLINE=1 .venv/bin/python bench/embedder_quality.py --model intfloat/multilingual-e5-small
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.clauses.parser import parse_clauses  # noqa: E402
from qa.embed import CorpusEmbedder, Embedder, SentenceTransformerEmbedder, train_corpus_model  # noqa: E402

SHARED = Path(os.environ.get("QA_SHARED_DIR", ROOT.parent / "shared"))
_SPACE = re.compile(r"\s+")
_MD_HEADING = re.compile(r"^#+\s*")
RRF_K = 60


@dataclass
class Benchmark:
    """Passages with titles, and queries with per-query gold matchers.

    Args:
        name: benchmark name.
        passages: indexed strings (title + heading path + clause text).
        titles: heading strings used as pseudo-queries in training.
        queries: query strings.
        gold: per query, a list of gold entries, each the set of passage indices that answer it.
        ks: recall cut-offs to report.
    """

    name: str
    passages: list[str]
    titles: list[str]
    queries: list[str] = field(default_factory=list)
    gold: list[list[set[int]]] = field(default_factory=list)
    ks: tuple[int, ...] = (5,)


def squash(text: str) -> str:
    return _SPACE.sub("", text)


def passage_text(title: str, heading_path: list[str], text: str) -> str:
    head = f"《{title}》" if title else ""
    path = " > ".join(heading_path)
    return " ".join(part for part in (head, path, text) if part)


def seed_benchmark() -> Benchmark:
    """The seed documents split into clauses, and the dev questions with gold clause sets."""
    sources = json.loads((ROOT / "corpus" / "sources.json").read_text(encoding="utf-8"))
    titles_by_seed = {s["seed_file"]: s["description"].replace(" 及印发通知", "") for s in sources}
    passages, titles, owner = [], [], []
    for path in sorted((SHARED / "seeds").glob("*.txt")):
        body = path.read_text(encoding="utf-8")
        title = titles_by_seed.get(path.name, path.stem)
        for clause in parse_clauses(body):
            passages.append(passage_text(title, clause.heading_path, body[clause.start:clause.end]))
            titles.append(" ".join([f"《{title}》", *clause.heading_path]))
            owner.append((path.name, squash(body[clause.start:clause.end])))
    bench = Benchmark("seed", passages, titles, ks=(5,))
    for line in (SHARED / "data" / "seed_dev_qa.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if not item["gold"]:
            continue
        bench.queries.append(item["query"])
        bench.gold.append([{i for i, (doc, text) in enumerate(owner) if doc == g["doc"] and squash(g["quote"]) in text}
                           for g in item["gold"]])
    return bench


def _law_title(head: str, fallback: str) -> str:
    titles = [line[2:].strip() for line in head.splitlines() if line.startswith("# ")]
    return " ".join(titles) or fallback


def stard_benchmark(limit: int | None = None) -> Benchmark:
    """Every 第X条 article of LawRefBook, and STARD questions with gold matched by label and text."""
    passages, titles, labels, texts = [], [], [], []
    for path in sorted((SHARED / "data" / "lawrefbook_laws").rglob("*.md")):
        if path.name in ("_index.md", "UPSTREAM_README.md"):
            continue
        raw = path.read_text(encoding="utf-8")
        head, sep, body = raw.partition("<!-- INFO END -->")
        if not sep:
            head, body = "", raw
        title = _law_title(head, path.stem)
        body = "\n".join(_MD_HEADING.sub("", line) for line in body.splitlines())
        for clause in parse_clauses(body):
            if not (clause.label and clause.label.startswith("第") and clause.label.endswith("条")):
                continue
            text = body[clause.start:clause.end]
            passages.append(passage_text(title, clause.heading_path, text))
            titles.append(" ".join([f"《{title}》", *clause.heading_path]))
            labels.append(clause.label)
            texts.append(squash(text.removeprefix(clause.label)))
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    bench = Benchmark("stard", passages, titles, ks=(10, 100))
    lines = (SHARED / "data" / "stard" / "queries.train.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines[:limit] if limit else lines:
        item = json.loads(line)
        gold = []
        for name, gold_text in item["相关法规"].items():
            label = name[name.rfind("第"):]
            target = squash(gold_text)
            gold.append({i for i in by_label.get(label, []) if target and (target in texts[i] or texts[i] in target)})
        bench.queries.append(item["问题"])
        bench.gold.append(gold)
    return bench


def recall(rankings: list[list[int]], bench: Benchmark, k: int) -> float:
    """Share of gold entries found in the top k, averaged over queries."""
    scores = []
    for ranked, gold in zip(rankings, bench.gold, strict=True):
        top = set(ranked[:k])
        scores.append(sum(1 for g in gold if g & top) / len(gold))
    return float(np.mean(scores)) if scores else 0.0


def dense_rankings(embedder: Embedder, bench: Benchmark, depth: int) -> tuple[list[list[int]], float]:
    start = time.perf_counter()
    passages = embedder.encode_passages(bench.passages)
    queries = embedder.encode_queries(bench.queries)
    rankings = []
    for row in range(0, len(queries), 256):
        scores = queries[row:row + 256] @ passages.T
        top = np.argpartition(-scores, min(depth, scores.shape[1] - 1), axis=1)[:, :depth]
        for r, cand in enumerate(top):
            rankings.append(cand[np.argsort(-scores[r, cand], kind="stable")].tolist())
    return rankings, time.perf_counter() - start


def bm25_rankings(bench: Benchmark, depth: int) -> tuple[list[list[int]], float]:
    import bm25s
    import jieba

    jieba.setLogLevel(60)
    start = time.perf_counter()

    def tokens(text: str) -> list[str]:
        return [w for w in jieba.lcut(text.lower()) if w.strip() and not re.fullmatch(r"\W+", w)]

    retriever = bm25s.BM25()
    retriever.index([tokens(p) for p in bench.passages], show_progress=False)
    ids, _ = retriever.retrieve([tokens(q) or ["的"] for q in bench.queries], k=min(depth, len(bench.passages)),
                                show_progress=False, n_threads=1)
    return [row.tolist() for row in ids], time.perf_counter() - start


def fuse(*rankings: list[list[int]]) -> list[list[int]]:
    """Reciprocal-rank fusion of several rankings per query."""
    fused = []
    for lists in zip(*rankings, strict=True):
        score: dict[int, float] = {}
        for ranked in lists:
            for rank, idx in enumerate(ranked):
                score[idx] = score.get(idx, 0.0) + 1.0 / (RRF_K + rank + 1)
        fused.append(sorted(score, key=lambda i: -score[i]))
    return fused


def make_embedder(args: argparse.Namespace, bench: Benchmark, work: Path) -> tuple[Embedder, float]:
    if args.model:
        return SentenceTransformerEmbedder(args.model, batch_size=args.batch_size), 0.0
    start = time.perf_counter()
    path = train_corpus_model(bench.passages, work / f"corpus-model-{bench.name}", dim=args.dim, seed=args.seed,
                              max_seconds=args.max_seconds, titles=bench.titles)
    return CorpusEmbedder(path), time.perf_counter() - start


def run(bench: Benchmark, args: argparse.Namespace, work: Path) -> dict:
    embedder, train_s = make_embedder(args, bench, work)
    depth = max(bench.ks) * 2
    dense, dense_s = dense_rankings(embedder, bench, depth)
    lexical, bm25_s = bm25_rankings(bench, depth)
    fused = fuse(dense, lexical)
    row = {"bench": bench.name, "passages": len(bench.passages), "queries": len(bench.queries),
           "embedder": embedder.name, "train_s": round(train_s, 1), "encode_s": round(dense_s, 1),
           "bm25_s": round(bm25_s, 1)}
    for label, rankings in (("dense", dense), ("bm25", lexical), ("fusion", fused)):
        for k in bench.ks:
            row[f"{label}_R@{k}"] = round(recall(rankings, bench, k), 4)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", choices=["seed", "stard", "all"], default="all")
    parser.add_argument("--stard-limit", type=int, default=None, help="evaluate only the first N STARD questions")
    parser.add_argument("--model", default=None, help="sentence-transformers name/path instead of the corpus model")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--work-dir", type=Path, default=None, help="keep trained models here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work_dir or Path(tmp)
        benches = []
        if args.bench in ("seed", "all"):
            benches.append(seed_benchmark)
        if args.bench in ("stard", "all"):
            benches.append(lambda: stard_benchmark(args.stard_limit))
        for build in benches:
            start = time.perf_counter()
            bench = build()
            print(f"# {bench.name}: {len(bench.passages)} passages, {len(bench.queries)} queries "
                  f"(loaded in {time.perf_counter() - start:.1f}s)", flush=True)
            print(json.dumps(run(bench, args, work), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
