"""Writes and reads over HTTP on a large index: how soon an upload is found, a delete gone, and how fast
``/search`` answers — beside an in-process bm25s query over the same articles, in the same run.

Against ``qa serve`` on a copy of the index (embedding job off, so the figures are the writes' own):

* ``--rounds`` times: upload a one-page document holding a phrase no other document has and poll
  ``/search`` (lexical) until it is the first hit — the time from sending the upload; then delete it and
  poll until it is gone. Two clients (``http.client``) keep searching meanwhile; none of their requests may fail;
* ``/search`` p50 with one client (lexical and hybrid) against the median of a bm25s query for the same
  questions over the same articles (plain jieba tokens) in this process; lexical twice: through httpx, and
  through the standard library's keep-alive ``http.client``, each question sent and searched in process back
  to back, in alternating order, three times (httpx's own Python costs a few milliseconds a request on this
  machine: the figure of the service is the second);
* 8 concurrent clients (``http.client``, one thread each) for ``--seconds``, hybrid then lexical: errors and
  p50/p95/p99.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/writes.py --index /tmp/lawidx [--rounds 10] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import ROOT, SHARED, PlainBM25, percentile
from stard import lawrefbook_articles

DOC = """关于印发《{name}试点工作方案》的通知
{name}政发〔2026〕{n}号
各有关单位：
现将《{name}试点工作方案》印发给你们，请认真贯彻执行。
{name}人民政府
2026年3月{day}日
{name}试点工作方案
一、工作目标
到2027年，建成{phrase}示范点3个，服务企业100家以上。
二、主要任务
（一）建设{phrase}平台。依托现有园区建设公共服务平台。
"""


def start(index: Path, token: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``qa serve`` over ``index`` on a free loopback port (embedding job off; ``env`` on top), once it answers."""
    sys.path.insert(0, str(ROOT))
    from tests.ui_support import free_port

    port = free_port()
    env = {"HF_HUB_OFFLINE": "1", "QA_EMBED_JOB": "0", "QA_API_TOKEN": token, **(env or {})}
    process = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(index), "serve", "--port", str(port)],
                               cwd=ROOT, env={**__import__("os").environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(900):
        try:
            httpx.get(f"{url}/health", timeout=2, trust_env=False).raise_for_status()
            return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    sys.exit("the service did not start")


def first_doc(client: httpx.Client, phrase: str) -> str | None:
    hits = client.post("/search", json={"query": phrase, "k": 1, "mode": "lexical"}).json()["hits"]
    return hits[0]["doc_id"] if hits and phrase in hits[0]["text"] else None


def writes(url: str, token: str, rounds: int) -> dict:
    auth = {"Authorization": f"Bearer {token}"}
    upload_s, delete_s = [], []
    with httpx.Client(base_url=url, timeout=120, trust_env=False) as client:
        for i in range(rounds):
            phrase = f"基准短语{secrets.token_hex(3)}"
            text = DOC.format(name=f"测量{i}县", n=i + 1, day=i % 27 + 1, phrase=phrase)
            started = time.monotonic()
            response = client.post("/documents", headers=auth,
                                   files={"files": (f"bench-{i}.txt", text.encode(), "text/plain")})
            response.raise_for_status()
            doc_id = response.json()["files"][0]["doc_id"]
            while first_doc(client, phrase) != doc_id:
                time.sleep(0.05)
            upload_s.append(time.monotonic() - started)
            started = time.monotonic()
            client.delete(f"/documents/{doc_id}", headers=auth).raise_for_status()
            while first_doc(client, phrase) == doc_id:
                time.sleep(0.05)
            delete_s.append(time.monotonic() - started)
    return {"upload_found_s": upload_s, "delete_gone_s": delete_s}


def hammer(url: str, queries: list[str], stop: threading.Event, results: list, mode: str = "hybrid",
           start: int = 0) -> None:
    """Search until ``stop``, through ``queries`` from ``start`` on (clients start apart: people do not send the
    same question at the same moment); one keep-alive ``http.client`` connection, reopened after an error."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    i = start
    while not stop.is_set():
        body = json.dumps({"query": queries[i % len(queries)], "k": 10, "mode": mode})
        started = time.perf_counter()
        try:
            connection.request("POST", "/search", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            results.append((response.status, (time.perf_counter() - started) * 1000))
        except (OSError, http.client.HTTPException) as err:
            results.append((type(err).__name__, (time.perf_counter() - started) * 1000))
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=120)
        i += 1
    connection.close()


def latency(url: str, queries: list[str], mode: str) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=120, trust_env=False) as client:
        for query in queries:
            started = time.perf_counter()
            client.post("/search", json={"query": query, "k": 10, "mode": mode}).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


def interleaved(url: str, queries: list[str], bm25: PlainBM25, passes: int = 3) -> tuple[list[float], list[float]]:
    """Each question over HTTP (lexical, keep-alive ``http.client``) and with bm25s in this process, back to back
    and in alternating order, ``passes`` times: a change in the machine's load then hits both sides alike."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    http_ms, bm25_ms = [], []

    def over_http(query: str) -> None:
        body = json.dumps({"query": query, "k": 10, "mode": "lexical"})
        started = time.perf_counter()
        connection.request("POST", "/search", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"/search answered {response.status}")
        http_ms.append((time.perf_counter() - started) * 1000)

    def in_process(query: str) -> None:
        started = time.perf_counter()
        bm25.search(query, 10)
        bm25_ms.append((time.perf_counter() - started) * 1000)

    try:
        for round_ in range(passes):
            for query in queries:
                first, second = (over_http, in_process) if round_ % 2 == 0 else (in_process, over_http)
                first(query)
                second(query)
    finally:
        connection.close()
    return http_ms, bm25_ms


def concurrently(url: str, queries: list[str], mode: str, seconds: float, clients: int = 8) -> list:
    results: list = []
    stop = threading.Event()
    threads = [threading.Thread(target=hammer, args=(url, queries, stop, results, mode, 25 * k))
               for k in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index of ../shared/data/lawrefbook_laws")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--in-place", action="store_true", help="use the index itself, not a copy")
    args = parser.parse_args()
    queries = [json.loads(line)["问题"] for line in (SHARED / "data" / "stard" / "queries.train.jsonl").open()][:200]
    work = Path(tempfile.mkdtemp(prefix="qa-writes-"))
    index = args.index if args.in_place else Path(shutil.copytree(args.index, work / "index"))
    token = secrets.token_hex(8)
    process, url = start(index, token)
    try:
        latency(url, queries[100:120], "lexical")  # warm: the first searches read the postings from disk
        lexical_ms = latency(url, queries[:100], "lexical")
        hybrid_ms = latency(url, queries[:100], "hybrid")
        bm25 = PlainBM25(lawrefbook_articles())
        stdlib_ms, bm25_ms = interleaved(url, queries[:100], bm25)
        background: list = []
        stop = threading.Event()
        threads = [threading.Thread(target=hammer, args=(url, queries, stop, background, "hybrid", 100 * k))
                   for k in range(2)]
        for thread in threads:
            thread.start()
        timings = writes(url, token, args.rounds)
        stop.set()
        for thread in threads:
            thread.join()
        concurrent = {mode: concurrently(url, queries, mode, args.seconds) for mode in ("hybrid", "lexical")}
    finally:
        process.terminate()
        process.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    print(f"upload → found by /search: p50 {statistics.median(timings['upload_found_s']):.2f}s, "
          f"p95 {percentile(timings['upload_found_s'], 95):.2f}s (target <= 3s), {args.rounds} rounds")
    print(f"delete → gone from /search: p50 {statistics.median(timings['delete_gone_s']):.2f}s, "
          f"max {max(timings['delete_gone_s']):.2f}s (target <= 1s)")
    print(f"searches during the writes: {len(background)}, failed {sum(1 for s, _ in background if s != 200)}")
    base = statistics.median(bm25_ms)
    print(f"in-process bm25s query (baseline, same articles, jieba; interleaved with the lexical /search, "
          f"{len(bm25_ms)} each): p50 {base:.2f} ms")
    lexical, stdlib, hybrid = (statistics.median(ms) for ms in (lexical_ms, stdlib_ms, hybrid_ms))
    print(f"/search over HTTP, one client: lexical p50 {stdlib:.1f} ms = {stdlib / base:.1f}x (target <= 3x; "
          f"http.client), {lexical:.1f} ms = {lexical / base:.1f}x through httpx; hybrid p50 {hybrid:.1f} ms "
          f"= {hybrid / base:.1f}x (the model encodes the question)")
    for mode, results in concurrent.items():
        ok = [ms for status, ms in results if status == 200]
        print(f"8 concurrent {mode} clients, {args.seconds:.0f}s: {len(results)} requests, "
              f"{len(results) - len(ok)} errors, p50 {percentile(ok, 50):.0f} ms, p95 {percentile(ok, 95):.0f} ms, "
              f"p99 {percentile(ok, 99):.0f} ms (target <= 150)")

if __name__ == "__main__":
    main()
