"""Concurrent hybrid searches over HTTP: the service as it ships beside its previous query path, same run.

Two ``qa serve`` processes over the same index (read only, embedding job off):

* shipped: questions encoded through a traced forward pass, side by side, one torch thread each
  (``QA_TRACED_QUERIES=1``, ``QA_QUERY_THREADS=1``, the defaults);
* baseline: the eager model, questions of concurrent requests batched into one model call, two torch threads
  (``QA_TRACED_QUERIES=0``, ``QA_QUERY_THREADS=2``: the service before this change);
* rust-tokenizer: as shipped, but with the model's tokenizer as sentence-transformers loads it (``tokenizers``)
  instead of its SentencePiece copy (``QA_SENTENCEPIECE_TOKENIZER=0``), for the services' memory.

For ``--rounds`` rounds, in alternating order: 8 clients (``http.client``, one thread each) search for
``--seconds`` against one server, then the other; then one client, 40 questions each. Every question is sent once
per server (STARD questions, none repeated within 256 of each other, so none comes from the service's cache of
question vectors). Prints throughput and p50/p95/p99 per configuration, errors, and each service's RSS at the end
(anonymous and file-backed).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/concurrency.py --index /tmp/lawidx [--rounds 3] [--seconds 10]
        [--configs shipped,baseline]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import statistics
import threading
import time
from pathlib import Path

from common import SHARED, percentile
from ingest_time import rss_mb, rss_split_mb
from writes import start

CONFIGS = {"shipped": {"QA_TRACED_QUERIES": "1", "QA_QUERY_THREADS": "1"},
           "baseline": {"QA_TRACED_QUERIES": "0", "QA_QUERY_THREADS": "2"},
           "rust-tokenizer": {"QA_TRACED_QUERIES": "1", "QA_QUERY_THREADS": "1", "QA_SENTENCEPIECE_TOKENIZER": "0"}}


def search(connection: http.client.HTTPConnection, query: str) -> tuple[int | str, float]:
    body = json.dumps({"query": query, "k": 10, "mode": "hybrid"})
    started = time.perf_counter()
    try:
        connection.request("POST", "/search", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000
    except (OSError, http.client.HTTPException) as err:
        connection.close()
        return type(err).__name__, (time.perf_counter() - started) * 1000


def clients(url: str, questions, seconds: float, count: int) -> list[tuple[int | str, float]]:
    """``count`` clients searching for ``seconds``, each taking the next question of the shared sequence."""
    host, port = url.removeprefix("http://").split(":")
    results: list = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        while time.monotonic() < stop:
            with lock:
                query = next(questions)
            results.append(search(connection, query))
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index of ../shared/data/lawrefbook_laws")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--configs", default="shipped,baseline", help=f"comma-separated, of {', '.join(CONFIGS)}")
    args = parser.parse_args()
    chosen = args.configs.split(",")
    if unknown := [name for name in chosen if name not in CONFIGS]:
        parser.error(f"--configs: unknown {', '.join(unknown)} (known: {', '.join(CONFIGS)})")
    queries = [json.loads(line)["问题"] for line in (SHARED / "data" / "stard" / "queries.train.jsonl").open()]
    queries = list(dict.fromkeys(queries))
    servers = {name: start(args.index, "", env=CONFIGS[name]) for name in chosen}
    # each server walks the questions from its own starting point, never meeting one it saw in its last 256
    share = len(queries) // len(servers)
    sequences = {name: itertools.cycle(queries[i * share:] + queries[:i * share]) for i, name in enumerate(servers)}
    concurrent: dict[str, list] = {name: [] for name in servers}
    alone: dict[str, list] = {name: [] for name in servers}
    try:
        for name, (_, url) in servers.items():  # warm each: postings and vectors read from disk once
            clients(url, sequences[name], 3, 2)
        for round_ in range(args.rounds):
            order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
            for name in order:
                concurrent[name] += clients(servers[name][1], sequences[name], args.seconds, 8)
            for name in order:
                host, port = servers[name][1].removeprefix("http://").split(":")
                connection = http.client.HTTPConnection(host, int(port), timeout=120)
                alone[name] += [search(connection, next(sequences[name])) for _ in range(40)]
                connection.close()
        rss = {name: (rss_mb(process.pid), *rss_split_mb(process.pid)) for name, (process, _) in servers.items()}
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=60)
    seconds = args.rounds * args.seconds
    for name in servers:
        ok = [ms for status, ms in concurrent[name] if status == 200]
        single = [ms for status, ms in alone[name] if status == 200]
        print(f"{name}: 8 concurrent hybrid clients, {seconds:.0f}s over {args.rounds} rounds: {len(ok) / seconds:.1f} "
              f"searches/s, {len(concurrent[name]) - len(ok)} errors, p50 {percentile(ok, 50):.0f} ms, "
              f"p95 {percentile(ok, 95):.0f} ms, p99 {percentile(ok, 99):.0f} ms (target <= 150); one client: "
              f"p50 {statistics.median(single):.0f} ms, {len(alone[name]) - len(single)} errors; service RSS after the "
              f"run {rss[name][0]:.0f} MB (anonymous {rss[name][1]:.0f}, file-backed {rss[name][2]:.0f})")


if __name__ == "__main__":
    main()
