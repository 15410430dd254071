"""Ingest cost and memory of the whole LawRefBook library, beside a jieba-only baseline in the same run.

Three runs of ``qa ingest`` into fresh folders, each timed with its peak RSS:

1. storage and lexical part: parse, tokenise, segments and catalog, no vectors (``QA_TEACHER_PASSAGES=0``,
   student off) — compared with jieba alone tokenising the same files' text in this process;
2. the default ingest (the model on a sample, the student for the rest): the model's share is 2 − 1;
3. then ``qa serve`` on index 2: its RSS after loading and 20 searches.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/ingest_time.py [--corpus DIR] [--keep DIR] [--skip-default]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import ROOT, SHARED


def run_ingest(corpus: str, index: Path, env: dict) -> dict:
    """Time one ``qa ingest`` and sample its process tree's RSS every 0.2 s."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(index), "ingest", corpus, "--json"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HF_HUB_OFFLINE": "1", **env})
    peak = {"main": 0, "tree": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            main = rss_mb(process.pid)
            tree = main + sum(rss_mb(child) for child in children(process.pid))
            peak["main"], peak["tree"] = max(peak["main"], main), max(peak["tree"], tree)
            time.sleep(0.2)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = process.communicate()
    stop.set()
    thread.join()
    if process.returncode not in (0, 1):
        sys.exit(f"ingest failed:\n{err[-2000:]}")
    report = json.loads(out)
    return {"seconds": round(time.monotonic() - started, 1), "peak_rss_mb": round(peak["main"]),
            "peak_tree_rss_mb": round(peak["tree"]), "documents": report["documents"], "clauses": report["clauses"],
            "errors": len(report["errors"]), "model_vectors": report["teacher_vectors"],
            "student_vectors": report["student_vectors"],
            "index_mb": round(sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 2**20)}


def rss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(found.group(1)) / 1024 if found else 0.0


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the parsing workers are the forkserver's children)."""
    try:
        direct = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return direct + [grandchild for child in direct for grandchild in children(child)]


def jieba_only(corpus: Path) -> float:
    """Seconds for jieba.lcut over every file's text (read included), in this process."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    started = time.monotonic()
    for path in sorted(corpus.rglob("*.md")):
        jieba.lcut(path.read_text(encoding="utf-8"))
    return time.monotonic() - started


def rss_split_mb(pid: int) -> tuple[float, float]:
    """(anonymous, file-backed) resident MB: mapped index files are page cache the kernel may reclaim."""
    text = Path(f"/proc/{pid}/status").read_text()
    return tuple(int(re.search(rf"{key}:\s+(\d+) kB", text).group(1)) / 1024 for key in ("RssAnon", "RssFile"))


def service_rss(index: Path, searches: int = 20, questions: int = 0) -> dict[str, float]:
    """RSS of ``qa serve`` on ``index`` after ``searches`` searches of one template, then after ``questions``
    varied STARD questions (hybrid)."""
    from tests.ui_support import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(index), "serve", "--port", str(port)],
                               cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1", "QA_EMBED_JOB": "0"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                httpx.get(f"{url}/health", timeout=2, trust_env=False).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        for i in range(searches):
            httpx.post(f"{url}/search", json={"query": f"劳动合同解除 经济补偿 第{i}条", "k": 10}, timeout=60,
                       trust_env=False)
        figures = {"rss": rss_mb(process.pid)}
        figures["anon"], figures["file"] = rss_split_mb(process.pid)
        stard = SHARED / "data" / "stard" / "queries.train.jsonl"
        if questions and stard.exists():
            rows = [json.loads(line) for line in stard.open(encoding="utf-8")][:questions]
            for row in rows:
                httpx.post(f"{url}/search", json={"query": row["问题"], "k": 10}, timeout=60, trust_env=False)
            figures["varied"], figures["varied_questions"] = rss_mb(process.pid), len(rows)
            figures["varied_anon"], figures["varied_file"] = rss_split_mb(process.pid)
        return figures
    finally:
        process.terminate()
        process.wait(timeout=30)


def print_service(figures: dict[str, float]) -> None:
    print(f"service with that index loaded, after 20 searches: RSS {figures['rss']:.0f} MB (target <= 1536; "
          f"anonymous {figures['anon']:.0f} MB, mapped files {figures['file']:.0f} MB)")
    if "varied" in figures:
        print(f"... after {figures['varied_questions']} more STARD questions: RSS {figures['varied']:.0f} MB "
              f"(anonymous {figures['varied_anon']:.0f} MB, mapped files {figures['varied_file']:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(SHARED / "data" / "lawrefbook_laws"))
    parser.add_argument("--keep", type=Path, help="keep the default ingest's index here")
    parser.add_argument("--skip-default", action="store_true", help="only the storage and lexical run")
    parser.add_argument("--questions", type=int, default=200, help="varied STARD questions after the 20 searches")
    parser.add_argument("--service-only", type=Path, metavar="INDEX", help="only the service's RSS on this index")
    args = parser.parse_args()
    if args.service_only:
        print_service(service_rss(args.service_only, questions=args.questions))
        return
    work = Path(tempfile.mkdtemp(prefix="qa-ingest-bench-"))
    try:
        lexical = run_ingest(args.corpus, work / "lexical",
                             {"QA_TEACHER_PASSAGES": "0", "QA_STUDENT_ABOVE": str(10**9)})
        baseline = jieba_only(Path(args.corpus))
        print(f"jieba.lcut over the same text (baseline, this process): {baseline:.1f}s")
        print(f"storage and lexical part (qa ingest, no vectors): {lexical['seconds']}s = "
              f"{lexical['seconds'] / baseline:.2f}x the baseline (target <= 3x); peak RSS {lexical['peak_rss_mb']} MB "
              f"(with workers {lexical['peak_tree_rss_mb']} MB); {lexical['documents']} documents, "
              f"{lexical['clauses']} clauses, {lexical['errors']} errors")
        if args.skip_default:
            return
        index = args.keep or work / "default"
        if args.keep and index.exists():
            shutil.rmtree(index)
        default = run_ingest(args.corpus, index, {})
        print(f"default ingest (model sample + student): {default['seconds']}s (target <= 900s); peak RSS "
              f"{default['peak_rss_mb']} MB (with workers {default['peak_tree_rss_mb']} MB; target <= 2048); index "
              f"{default['index_mb']} MB; {default['model_vectors']} model vectors, "
              f"{default['student_vectors']} student vectors")
        print(f"the model's share: {default['seconds'] - lexical['seconds']:.1f}s")
        print_service(service_rss(index, questions=args.questions))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
