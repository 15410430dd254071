"""Approximate (IVF) against exact FAISS search on the same vectors: recall@10 and latency.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python bench/dense_recall.py --index /tmp/lawidx [--nprobe 16 32 48 96]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import faiss
import numpy as np
from common import SHARED, percentile

from qa.index.dense import DenseIndex
from qa.retrieval.service import load_searcher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 48, 96])
    args = parser.parse_args()
    searcher = load_searcher(Path(args.index))
    vectors = searcher.index.dense.vectors
    lines = (SHARED / "data" / "stard" / "queries.train.jsonl").open(encoding="utf-8")
    questions = [json.loads(line)["问题"] for line, _ in zip(lines, range(args.queries), strict=False)]
    queries = searcher.embedder.encode_queries(questions)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    times = []
    truth = []
    for q in queries:
        started = time.perf_counter()
        _, ids = exact.search(q.reshape(1, -1), 10)
        times.append((time.perf_counter() - started) * 1000)
        truth.append(set(ids[0].tolist()))
    print(f"{len(vectors)} vectors, dim {vectors.shape[1]}, {len(queries)} queries")
    print(f"{'exact IndexFlatIP (baseline)':32} recall@10 1.000  p50 {percentile(times, 50):6.2f} ms  "
          f"p95 {percentile(times, 95):6.2f} ms")
    dense = DenseIndex(vectors.shape[1], approximate_above=0)
    started = time.perf_counter()
    dense.build(vectors)
    print(f"IVF build (train + add): {time.perf_counter() - started:.1f}s, nlist {dense.index.nlist}")
    for nprobe in args.nprobe:
        dense.index.nprobe = nprobe
        times, recalls = [], []
        for q, gold in zip(queries, truth, strict=True):
            started = time.perf_counter()
            _, ids = dense.index.search(q.reshape(1, -1), 10)
            times.append((time.perf_counter() - started) * 1000)
            recalls.append(len(gold & set(ids[0].tolist())) / 10)
        print(f"{'IVF nprobe ' + str(nprobe):32} recall@10 {np.mean(recalls):.3f}  p50 {percentile(times, 50):6.2f} ms  "
              f"p95 {percentile(times, 95):6.2f} ms")


if __name__ == "__main__":
    main()
