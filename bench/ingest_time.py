"""Ingest time and peak memory of a whole corpus (default: LawRefBook), beside a baseline in the same run.

The baseline indexes the same files' articles with plain bm25s over jieba.lcut tokens in this process
(no parsing into clauses, no embeddings), so the ratio says what the full pipeline costs.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python bench/ingest_time.py [--corpus DIR] [--index DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED, PlainBM25
from stard import lawrefbook_articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(SHARED / "data" / "lawrefbook_laws"))
    parser.add_argument("--index", help="where to build the index (default: a temp folder, removed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(args.index or Path(tmp) / "index")
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "qa.cli", "--index", str(index), "ingest", args.corpus,
                                 "--json", "--rebuild"], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "HF_HUB_OFFLINE": "1"})
        seconds = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode not in (0, 1):
            sys.exit(f"ingest failed:\n{result.stderr[-2000:]}")
        report = json.loads(result.stdout)
        manifest = json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())
        size_mb = sum(p.stat().st_size for p in (index / (index / "CURRENT").read_text().strip()).rglob("*")
                      if p.is_file()) / 2**20
    started = time.monotonic()
    articles = lawrefbook_articles() if "lawrefbook" in args.corpus else []
    PlainBM25(articles)
    baseline = time.monotonic() - started
    print(f"qa ingest: {report['documents']} documents, {report['clauses']} clauses, "
          f"{manifest['counts']['passages']} passages, {len(report['errors'])} errors")
    print(f"qa ingest: {seconds:.1f}s wall, peak RSS {peak_mb:.0f} MB, index {size_mb:.0f} MB, "
          f"embedder {manifest['embedder']['name']} (fallback={manifest['embedder']['is_fallback']})")
    if articles:
        print(f"baseline (plain bm25s over {len(articles)} articles, jieba.lcut): {baseline:.1f}s; "
              f"ratio {seconds / baseline:.1f}x")


if __name__ == "__main__":
    main()
