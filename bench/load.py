"""Load test of the HTTP service: concurrent clients on /search and /ask while a document is uploaded
and deleted mid-run, beside a one-client baseline and the same clients without writes, measured by the
same process against the same server.

The script starts ``qa serve`` itself (a subprocess on a free loopback port, with a random
``QA_API_TOKEN``) over a COPY of the index (``--in-place`` to skip the copy) and stops it at the end.

Consistency check: every response carries ``X-Index-Generation``. The document ids of each generation
the run sees are read from ``GET /documents`` (at the start, after the upload, after the delete); every
/search hit and every /ask citation must belong to a document of the generation the response names,
i.e. each request was answered from one whole index, old or new.

    python bench/load.py                                  # seed corpus, built into a temporary index
    python bench/load.py --index /tmp/lawidx --queries ../shared/data/stard/queries.train.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("QA_SHARED_DIR", ROOT.parent / "shared"))
DEFAULT_QUERIES = SHARED / "data" / "seed_dev_qa.jsonl"
UPLOAD_NAME = "负载测试市飞地孵化器方案.txt"
UPLOAD_TEXT = """关于印发《负载测试市飞地孵化器建设实施方案》的通知
测政办发〔2025〕9号
负载测试市飞地孵化器建设实施方案
一、工作目标
到2026年，在上海建成飞地孵化器3家，累计孵化科技型企业50家以上。
二、主要任务
（一）建设离岸孵化载体。依托长三角科创资源，建设“研发在上海、转化在负载测试市”的飞地孵化器。
（二）完善服务体系。为入驻企业提供知识产权、融资对接等专业服务。
"""


@dataclass
class Sample:
    endpoint: str
    started: float
    seconds: float
    status: int
    generation: int | None
    doc_ids: set[str] = field(default_factory=set)
    error: str | None = None


@dataclass
class Phase:
    name: str
    clients: int
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    events: list[tuple[str, float, float]] = field(default_factory=list)  # (what, started, finished)


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_queries(path: Path, limit: int = 500) -> list[str]:
    """Questions from a JSONL file with a ``query`` (dev format) or ``问题`` (STARD) field."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            text = item.get("query") or item.get("问题") or item.get("question")
            if text:
                queries.append(str(text)[:2000])
    if not queries:
        raise SystemExit(f"{path}: no queries found (fields query / 问题 / question)")
    return queries[:limit]


@contextlib.contextmanager
def serve(index: Path, token: str, log_path: Path, startup_timeout: float):
    """``qa --index INDEX serve`` on a free loopback port; yields the base URL; stops the process after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_API_TOKEN": token}
    env.pop("QA_LLM_BASE_URL", None)
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(index), "serve", "--host",
                                    "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"qa serve exited with {process.returncode}; see {log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"qa serve did not answer within {startup_timeout:.0f}s; see {log_path}")
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def client_loop(url: str, queries: list[str], ask_share: float, stop: threading.Event, phase: Phase,
                seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=120) as session:
        while not stop.is_set():
            endpoint = "/ask" if rng.random() < ask_share else "/search"
            query = rng.choice(queries)
            body = {"question": query, "k": 5} if endpoint == "/ask" else {"query": query, "k": 10}
            started = time.monotonic()
            try:
                response = session.post(endpoint, json=body)
                seconds = time.monotonic() - started
                generation = response.headers.get("X-Index-Generation")
                doc_ids: set[str] = set()
                error = None
                if response.status_code == 200:
                    data = response.json()
                    items = data["hits"] if endpoint == "/search" else data["citations"] + data["nearest"]
                    doc_ids = {item["doc_id"] for item in items}
                else:
                    error = response.text[:200]
                phase.samples.append(Sample(endpoint, started, seconds, response.status_code,
                                            int(generation) if generation else None, doc_ids, error))
            except httpx.HTTPError as err:
                phase.samples.append(Sample(endpoint, started, time.monotonic() - started, 0, None,
                                            error=f"{type(err).__name__}: {err}"))


def documents_of(url: str) -> tuple[int, set[str]]:
    response = httpx.get(f"{url}/documents", timeout=120)
    return int(response.headers["X-Index-Generation"]), {m["doc_id"] for m in response.json()}


def run_phase(url: str, phase: Phase, queries: list[str], ask_share: float, token: str | None,
              generations: dict[int, set[str]]) -> None:
    """Run ``phase.clients`` clients for ``phase.seconds``; with a token, upload at 1/4 and delete after it."""
    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, args=(url, queries, ask_share, stop, phase, i), daemon=True)
               for i in range(phase.clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if token:
        headers = {"Authorization": f"Bearer {token}"}
        time.sleep(phase.seconds / 4)
        t0 = time.monotonic()
        response = httpx.post(f"{url}/documents", headers=headers, timeout=1800,
                              files={"files": (UPLOAD_NAME, UPLOAD_TEXT.encode(), "text/plain")})
        phase.events.append(("upload", t0, time.monotonic()))
        if response.status_code != 201:
            raise SystemExit(f"upload failed: {response.status_code} {response.text[:300]}")
        doc_id = response.json()["report"]["added"][0]
        generation, ids = documents_of(url)
        generations[generation] = ids
        time.sleep(max(0.0, started + phase.seconds / 2 - time.monotonic()))
        t0 = time.monotonic()
        response = httpx.delete(f"{url}/documents/{doc_id}", headers=headers, timeout=1800)
        phase.events.append(("delete", t0, time.monotonic()))
        if response.status_code != 200:
            raise SystemExit(f"delete failed: {response.status_code} {response.text[:300]}")
        generation, ids = documents_of(url)
        generations[generation] = ids
    time.sleep(max(0.0, started + phase.seconds - time.monotonic()))
    stop.set()
    for thread in threads:
        thread.join(timeout=300)
    phase.seconds = time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summarise(phase: Phase) -> dict[str, dict]:
    rows = {}
    for endpoint in ("/search", "/ask"):
        samples = [s for s in phase.samples if s.endpoint == endpoint]
        ok = [s.seconds * 1000 for s in samples if s.status == 200]
        during = [s.seconds * 1000 for s in samples if s.status == 200 and
                  any(a <= s.started + s.seconds and s.started <= b for _, a, b in phase.events)]
        rows[endpoint] = {"requests": len(samples), "errors": len(samples) - len(ok),
                          "rps": round(len(ok) / phase.seconds, 2) if phase.seconds else 0.0,
                          "p50_ms": round(percentile(ok, 50), 1), "p95_ms": round(percentile(ok, 95), 1),
                          "p99_ms": round(percentile(ok, 99), 1),
                          "during_writes": len(during), "p95_during_writes_ms": round(percentile(during, 95), 1)}
    return rows


def check_whole_index(phases: list[Phase], generations: dict[int, set[str]]) -> dict[str, int]:
    """Count responses whose documents all exist in the generation they name (and those that do not)."""
    counts = {"checked": 0, "consistent": 0, "inconsistent": 0, "unknown_generation": 0}
    for phase in phases:
        for sample in phase.samples:
            if sample.status != 200:
                continue
            counts["checked"] += 1
            known = generations.get(sample.generation)
            if known is None:
                counts["unknown_generation"] += 1
            elif sample.doc_ids <= known:
                counts["consistent"] += 1
            else:
                counts["inconsistent"] += 1
    return counts


def print_report(phases: list[Phase], counts: dict[str, int], generations: dict[int, set[str]]) -> None:
    print(f"\n{'phase':<22}{'endpoint':<9}{'clients':>7}{'requests':>9}{'errors':>7}{'req/s':>8}"
          f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'n during writes':>16}{'p95 during':>11}")
    for phase in phases:
        for endpoint, row in summarise(phase).items():
            print(f"{phase.name:<22}{endpoint:<9}{phase.clients:>7}{row['requests']:>9}{row['errors']:>7}"
                  f"{row['rps']:>8.1f}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['p99_ms']:>9.1f}"
                  f"{row['during_writes']:>16}{row['p95_during_writes_ms']:>11.1f}")
    for phase in phases:
        for what, a, b in phase.events:
            print(f"{phase.name}: {what} took {b - a:.1f}s")
    print(f"generations seen: {sorted(generations)}; whole-index check: {counts}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="index to serve (copied first); default: the seed corpus")
    parser.add_argument("--in-place", action="store_true", help="serve --index itself instead of a copy")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the concurrent run")
    parser.add_argument("--baseline-seconds", type=float, default=10.0,
                        help="length of the one-client run and of the N-client run without writes")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--ask-share", type=float, default=0.3, help="share of requests that go to /ask")
    parser.add_argument("--startup-timeout", type=float, default=900.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    queries = load_queries(args.queries)
    work = Path(tempfile.mkdtemp(prefix="qa-load-"))
    try:
        if args.index is None:
            index = work / "index"
            print(f"building the seed index in {index} …", flush=True)
            subprocess.run([sys.executable, "-m", "qa.cli", "--index", str(index), "ingest", "--quiet",
                            str(ROOT / "corpus")], cwd=ROOT, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        elif args.in_place:
            index = args.index
        else:
            index = work / "index"
            print(f"copying {args.index} to {index} …", flush=True)
            shutil.copytree(args.index, index, symlinks=True)
        token = secrets.token_urlsafe(16)
        started = time.monotonic()
        with serve(index, token, work / "serve.log", args.startup_timeout) as url:
            print(f"server up in {time.monotonic() - started:.1f}s at {url}", flush=True)
            generations: dict[int, set[str]] = {}
            generation, ids = documents_of(url)
            generations[generation] = ids
            warm = Phase("warm-up", 1, 3.0)
            run_phase(url, warm, queries, args.ask_share, None, generations)
            baseline = Phase("baseline (1 client)", 1, args.baseline_seconds)
            run_phase(url, baseline, queries, args.ask_share, None, generations)
            steady = Phase(f"{args.clients} clients", args.clients, args.baseline_seconds)
            run_phase(url, steady, queries, args.ask_share, None, generations)
            loaded = Phase(f"{args.clients} clients + writes", args.clients, args.seconds)
            run_phase(url, loaded, queries, args.ask_share, token, generations)
        phases = [baseline, steady, loaded]
        counts = check_whole_index(phases, generations)
        print_report(phases, counts, generations)
        if args.json:
            args.json.write_text(json.dumps({
                "index": str(args.index or "seed corpus"), "queries": str(args.queries),
                "phases": {p.name: {"clients": p.clients, "seconds": round(p.seconds, 1), "endpoints": summarise(p),
                                    "events": [{"what": w, "seconds": round(b - a, 2)} for w, a, b in p.events]}
                           for p in phases},
                "whole_index_check": counts}, ensure_ascii=False, indent=2), encoding="utf-8")
        errors = sum(1 for p in phases for s in p.samples if s.status != 200)
        return 1 if counts["inconsistent"] or counts["unknown_generation"] or errors else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
