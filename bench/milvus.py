"""The Milvus backend on the whole LawRefBook library, beside the local backend in the same run.

Ingests the library into two fresh folders with the default settings — vectors in local FAISS segments,
and vectors in a Milvus Lite collection (``QA_BACKEND=milvus``) — and reports for each: ingest time, search
latency p50/p95 (hybrid, in-process: a Milvus Lite file admits one process) and Recall@10/@100 on the STARD
training questions (gold matched by article text, as in ``bench/stard.py``).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/milvus.py [--limit 300] [--local-index DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED, mean_metrics, percentile, ranking_metrics
from stard import load_queries, matcher


def ingest(index: Path, env: dict) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "qa.cli", "--index", str(index), "ingest",
                    str(SHARED / "data" / "lawrefbook_laws"), "--quiet"], cwd=ROOT, check=False,
                   env={**os.environ, "HF_HUB_OFFLINE": "1", **env})
    return time.monotonic() - started


def measure(index: Path, queries: list[dict]) -> dict:
    from qa.retrieval.service import load_searcher

    searcher = load_searcher(index)
    rows, times = [], []
    for q in queries:
        match = matcher(list(q["相关法规"].values()))
        started = time.perf_counter()
        hits = searcher.search(q["问题"], k=100)
        times.append((time.perf_counter() - started) * 1000)
        rows.append(ranking_metrics([match(h.text) for h in hits], len(q["相关法规"])))
    return {**mean_metrics(rows), "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N STARD questions only")
    parser.add_argument("--local-index", type=Path, help="reuse this local index instead of building one")
    args = parser.parse_args()
    queries = load_queries(args.limit)
    work = Path(tempfile.mkdtemp(prefix="qa-milvus-bench-"))
    try:
        local = args.local_index or work / "local"
        local_s = ingest(local, {"QA_BACKEND": "local"}) if args.local_index is None else None
        milvus_env = {"QA_BACKEND": "milvus", "QA_MILVUS_URI": str(work / "milvus.db"), "QA_MILVUS_COLLECTION": "qa"}
        milvus_s = ingest(work / "milvus-index", milvus_env)
        os.environ.update({"QA_BACKEND": "local"})
        local_figures = measure(local, queries)
        os.environ.update(milvus_env)
        milvus_figures = measure(work / "milvus-index", queries)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"STARD train: {len(queries)} questions over LawRefBook")
    print(f"{'':24}{'ingest s':>10}{'R@10':>8}{'R@100':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for name, seconds, figures in (("local (FAISS segments)", local_s, local_figures),
                                   ("Milvus Lite", milvus_s, milvus_figures)):
        shown = f"{seconds:10.0f}" if seconds is not None else f"{'(given)':>10}"
        print(f"{name:24}{shown}{figures['recall@10']:8.3f}{figures['recall@100']:8.3f}"
              f"{figures['p50_ms']:9.1f}{figures['p95_ms']:9.1f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
