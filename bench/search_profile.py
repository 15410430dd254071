"""Where a hybrid search's time goes, in process, and how it scales with threads on this machine.

Over one index (the full LawRefBook library is the case that matters), one torch and one FAISS thread per search:

* question encoding at batch 1: the service's traced forward pass, and (when ``onnx`` and ``onnxruntime`` are
  installed) an ONNX Runtime export of the same transformer, its vectors checked against the model's; then the
  traced pass in batches of 2 to 16 questions (what a question costs when concurrent ones share one call);
* a hybrid search with the question's vector already cached (everything but the encoding) and a lexical search,
  each at 1, 2 and 8 concurrent threads; the lexical search is the same-run baseline; then the cached hybrid
  search with its best-sentence scoring skipped (what scoring the candidates' sentences costs, reading their vectors
  included; it also leaves the lexical-only candidates without a dense score, so it is less work than that alone);
* question encoding alone at 8 threads (the floor under any hybrid search with that encoder);
* hybrid searches with encoding at 8 threads, through each encoder.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/search_profile.py --index /tmp/lawidx [--seconds 8]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from common import SHARED, percentile


def onnx_encoder(model):
    """An ONNX Runtime session over the model's transformer (word embeddings looked up in torch: the session then
    holds 86 MB of weights, not 470), or None when onnx/onnxruntime are missing."""
    try:
        import onnxruntime
        import torch
    except ImportError:
        return None
    transformer = model[0].auto_model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer  # a submodule, so its weights export as weights

        def forward(self, inputs_embeds, attention_mask):
            hidden = self.transformer(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)

    features = model.preprocess(["query: 科技", "query: 如皋到2025年要培育多少家高新技术企业?"])
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            embedded = transformer.embeddings.word_embeddings(features["input_ids"]).detach()
            torch.onnx.export(Encoder(), (embedded, features["attention_mask"]), buffer, dynamo=False, opset_version=17,
                              input_names=["inputs_embeds", "attention_mask"], output_names=["vectors"],
                              dynamic_axes={"inputs_embeds": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}})
    except Exception as exc:  # onnx missing or the export failed: measured without it
        print(f"ONNX export skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    tokenizing = threading.Lock()

    class OnnxQueries:
        @staticmethod
        def encode(texts: list[str]) -> np.ndarray:
            with tokenizing:
                features = model.preprocess(texts)
            with torch.inference_mode():
                embedded = transformer.embeddings.word_embeddings(features["input_ids"]).numpy()
            return session.run(None, {"inputs_embeds": embedded, "attention_mask": features["attention_mask"].numpy()})[0]
    return OnnxQueries


def threads(label: str, work, questions: list[str], clients: int, seconds: float) -> None:
    latencies: list[float] = []
    stop = time.time() + seconds

    def client(k: int) -> None:
        i = 37 * k
        while time.time() < stop:
            started = time.perf_counter()
            work(questions[i % len(questions)])
            latencies.append((time.perf_counter() - started) * 1000)
            i += 1
    running = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in running:
        t.start()
    for t in running:
        t.join()
    print(f"  {label}, {clients} threads: {len(latencies) / seconds:.1f}/s, p50 {statistics.median(latencies):.0f}, "
          f"p99 {percentile(latencies, 99):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    import faiss
    import torch

    from qa.retrieval.service import load_searcher

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    searcher = load_searcher(args.index)
    embedder = searcher.embedder
    embedder.trace_queries()
    traced = embedder.traced
    lines = (SHARED / "data" / "stard" / "queries.train.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["问题"] for line in lines if line.strip()]
    prompt = embedder.query_prompt
    encoders = {"traced (shipped)": traced}
    onnx = onnx_encoder(embedder.model)
    if onnx is not None:
        reference = traced.encode([prompt + q for q in questions[:64]])
        exported = np.concatenate([onnx.encode([prompt + q]) for q in questions[:64]])
        print(f"ONNX Runtime vectors: lowest cosine to the model's over 64 questions "
              f"{float(np.min(np.sum(reference * exported, axis=1))):.7f}")
        encoders["ONNX Runtime"] = onnx
    print("question encoding, batch 1, one thread:")
    for name, encoder in encoders.items():
        started = time.perf_counter()
        for q in questions[100:200]:
            encoder.encode([prompt + q])
        print(f"  {name}: {(time.perf_counter() - started) * 10:.1f} ms")
    # concurrent questions batched into one call: what a question costs then (padding to the batch's longest)
    print("question encoding in batches, traced, one thread (ms a question):")
    for size in (1, 2, 4, 8, 16):
        started = time.perf_counter()
        for start in range(100, 260, size):
            traced.encode([prompt + q for q in questions[start:start + size]])
        print(f"  batch {size}: {(time.perf_counter() - started) * 1000 / 160:.1f} ms")
    # the floor under any hybrid search: eight clients doing nothing but encode their questions
    print("question encoding alone (no search), each question new:")
    for name, encoder in encoders.items():
        threads(name, lambda q, encoder=encoder: encoder.encode([prompt + q]), questions[1000:], 8, args.seconds)
    cached = questions[:400]
    searcher.cache_size = len(cached)
    searcher.warm(cached)
    print("searches without encoding (question vectors cached) beside lexical searches:")
    for clients in (1, 2, 8):
        threads("lexical", lambda q: searcher.search(q, k=10, mode="lexical"), cached, clients, args.seconds)
        threads("hybrid, vector cached", lambda q: searcher.search(q, k=10), cached, clients, args.seconds)
    # what the best-sentence scoring costs: the same searches with it skipped (clause similarity alone)
    with_sentences = searcher._with_sentences
    searcher._with_sentences = lambda parsed, dense, lexical_rows: dense
    for clients in (1, 8):
        threads("hybrid, vector cached, sentence scoring skipped", lambda q: searcher.search(q, k=10), cached, clients,
                args.seconds)
    searcher._with_sentences = with_sentences
    print("hybrid searches with encoding (each question new to the cache):")
    fresh = questions[400:]
    for name, encoder in encoders.items():
        embedder.traced = encoder

        def encode_and_search(q: str) -> None:
            searcher._query_cache.pop(searcher.parser.parse(q).residual, None)
            searcher.search(q, k=10)
        threads(name, encode_and_search, fresh, 8, args.seconds)
        fresh = fresh[300:]
    embedder.traced = traced


if __name__ == "__main__":
    main()
