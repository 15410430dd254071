"""The built-in fallback embedder: a static sentence-transformers model learned from the indexed corpus.

Used when the configured model cannot be loaded (air-gapped machines). Training needs no download:

1. a word-level Unigram tokenizer is learned from the corpus (``corpus_tokenizer``);
2. token vectors start from latent semantic analysis of the corpus (truncated SVD of the tf-idf matrix);
3. they are fine-tuned contrastively (in-batch negatives, as in MultipleNegativesRankingLoss, both
   directions) on self-supervised pairs: a span of a passage's text ↔ the rest of the passage with its
   title and heading path (inverse cloze task). (title/heading path ↔ text) pairs are available
   (``title_share``) but off by default: they lowered STARD recall in measurements;
4. the result is saved as a SentenceTransformer folder (``StaticEmbedding`` + ``Normalize``) and loaded back
   through ``SentenceTransformer(path)``, the same path as real models.

The number of training steps depends only on the corpus size, so the model is deterministic given the
corpus and the seed; ``max_seconds`` is a safety bound that stops early (and then breaks determinism).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.embed.corpus_tokenizer import UNK, build_tokenizer, encode
from qa.embed.transformer import SentenceTransformerEmbedder

logger = logging.getLogger(__name__)

TRAINING_INFO = "corpus_model.json"


@dataclass
class TrainConfig:
    """Hyper-parameters of the corpus model (defaults are the measured ones, see bench/embedder_quality.py).

    Args:
        vocab_size: maximum tokenizer pieces.
        sample_chars: corpus characters segmented with jieba to learn the vocabulary.
        batch_size: pairs per contrastive step (in-batch negatives).
        epochs: passes over the passages (each passage gives one pair per pass).
        max_steps: cap on contrastive steps.
        min_steps: floor on contrastive steps (small corpora).
        group: passages are batched in runs of this many neighbours (harder in-batch negatives); 1 = random.
        lr: Adam learning rate.
        scale: similarity scale (inverse temperature) of the contrastive loss.
        title_share: share of pairs that are (title/heading path ↔ text) rather than (span ↔ rest).
        span_min: shortest pseudo-query span, as a share of the passage tokens.
        span_max: longest pseudo-query span, as a share of the passage tokens.
        keep_span: probability that the span also stays in its passage (as in the inverse cloze task).
    """

    vocab_size: int = 40000
    sample_chars: int = 3_000_000
    batch_size: int = 512
    epochs: float = 8.0
    max_steps: int = 4000
    min_steps: int = 1
    group: int = 1
    lr: float = 0.01
    scale: float = 10.0
    title_share: float = 0.0
    span_min: float = 0.1
    span_max: float = 0.5
    keep_span: float = 0.1


def _orthonormal(block: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the columns of a tall matrix (via the small Gram matrix; much faster than QR)."""
    block = np.asarray(block, dtype=np.float64)
    values, vectors = np.linalg.eigh(block.T @ block)
    keep = values > max(values.max(), 1e-30) * 1e-10
    return block @ (vectors[:, keep] / np.sqrt(values[keep]))


def _randomized_svd(matrix, k: int, rng: np.random.Generator, n_iter: int = 3) -> np.ndarray:
    """Top-k right singular vectors (k × columns) of a sparse matrix (randomized range finder)."""
    width = min(k + 10, *matrix.shape)
    basis = _orthonormal(matrix @ rng.standard_normal((matrix.shape[1], width)))
    for _ in range(n_iter):
        basis = _orthonormal(matrix @ _orthonormal(matrix.T @ basis))
    small = np.asarray(matrix.T @ basis).T
    _, _, vt = np.linalg.svd(small, full_matrices=False)
    return vt[:k]


def _lsa_init(docs: list[np.ndarray], vocab: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Token vectors from LSA of the tf-idf matrix (right singular vectors), scaled by idf.

    Mean pooling of these vectors projects a text's tf-idf vector onto the corpus' top ``dim`` latent topics;
    on corpora with fewer passages than ``dim`` this is exactly tf-idf cosine similarity.
    """
    from scipy import sparse

    lengths = np.array([len(d) for d in docs])
    rows = np.repeat(np.arange(len(docs)), lengths)
    cols = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
    counts = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(docs), vocab))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=vocab).astype(np.float64)
    idf = np.log(1.0 + (len(docs) - df + 0.5) / (df + 0.5)).astype(np.float32)
    tfidf = counts.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1))).ravel()
    tfidf = sparse.diags(1.0 / np.maximum(norms, 1e-9)).astype(np.float32) @ tfidf
    vt = _randomized_svd(tfidf.astype(np.float32), dim, rng)
    vectors = np.zeros((vocab, dim), dtype=np.float32)
    vectors[:, : vt.shape[0]] = vt.T * idf[:, None]
    vectors[df == 0] = 0.0
    return vectors


class _PairSampler:
    """Self-supervised (pseudo-query, passage) pairs built from token ids.

    With ``config.group > 1`` batches are made of runs of neighbouring passages (same document), so in-batch
    negatives include near misses; measured worse than random batches, hence off by default.
    """

    def __init__(self, heads: list[np.ndarray], bodies: list[np.ndarray], config: TrainConfig,
                 rng: np.random.Generator) -> None:
        self.heads, self.bodies, self.config, self.rng = heads, bodies, config, rng
        usable = np.flatnonzero([len(b) >= 2 for b in bodies])
        run = max(1, config.group)
        self.runs = [usable[i:i + run] for i in range(0, len(usable), run)]
        self.queue: list[int] = []

    def _next_indices(self, n: int) -> list[int]:
        while len(self.queue) < n:
            for r in self.rng.permutation(len(self.runs)):
                self.queue.extend(self.runs[r].tolist())
        picked, self.queue = self.queue[:n], self.queue[n:]
        return picked

    def batch(self, n: int) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """Queries, passages and a duplicate key per pair (equal keys are not used as negatives)."""
        cfg, rng = self.config, self.rng
        queries, docs, keys = [], [], []
        for i in self._next_indices(n):
            head, body = self.heads[i], self.bodies[i]
            if len(head) and rng.random() < cfg.title_share:
                queries.append(head)
                docs.append(body)
                keys.append(hash(head.tobytes()))
                continue
            span = int(round(len(body) * rng.uniform(cfg.span_min, cfg.span_max)))
            span = min(max(span, 1), len(body) - 1)
            start = int(rng.integers(0, len(body) - span + 1))
            queries.append(body[start:start + span])
            rest = body if rng.random() < cfg.keep_span else np.concatenate([body[:start], body[start + span:]])
            docs.append(np.concatenate([head, rest]))
            keys.append(hash(body.tobytes()))
        return queries, docs, np.array(keys)


def _bags(ids: list[np.ndarray], vocab: int):
    """Mean-pooling matrix (texts × vocab, CSR) of token id lists."""
    from scipy import sparse

    lengths = np.array([len(x) for x in ids])
    data = np.repeat(1.0 / np.maximum(lengths, 1), lengths).astype(np.float32)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    return sparse.csr_matrix((data, np.concatenate(ids), indptr), shape=(len(ids), vocab))


def _finetune(vectors: np.ndarray, heads: list[np.ndarray], bodies: list[np.ndarray], config: TrainConfig,
              seed: int, deadline: float | None) -> tuple[np.ndarray, int]:
    """Contrastive fine-tuning of the token vectors; returns them with the number of steps run.

    Only the pooled vectors go through autograd; the gradient of the token table is the pooling matrix's
    transpose times theirs (sparse), which is far cheaper on CPU than embedding-bag backward.
    """
    import torch
    import torch.nn.functional as F

    usable = sum(1 for b in bodies if len(b) >= 2)
    batch = min(config.batch_size, usable)
    if batch < 2:
        return vectors, 0
    steps = min(config.max_steps, max(config.min_steps, math.ceil(config.epochs * usable / batch)))
    torch.manual_seed(seed)
    vocab = vectors.shape[0]
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).copy()
    weight = torch.nn.Parameter(torch.from_numpy(vectors))  # shares memory: the optimizer updates ``vectors``
    optimizer = torch.optim.Adam([weight], lr=config.lr, fused=True)
    sampler = _PairSampler(heads, bodies, config, np.random.default_rng(seed + 1))
    labels = torch.arange(batch)
    not_self = ~torch.eye(batch, dtype=torch.bool)
    done = 0
    for done in range(1, steps + 1):
        queries, docs, keys = sampler.batch(batch)
        pool_q, pool_d = _bags(queries, vocab), _bags(docs, vocab)
        raw_q = torch.from_numpy(pool_q @ vectors).requires_grad_()
        raw_d = torch.from_numpy(pool_d @ vectors).requires_grad_()
        logits = config.scale * F.normalize(raw_q, dim=-1) @ F.normalize(raw_d, dim=-1).T
        duplicate = torch.from_numpy(keys[:, None] == keys[None, :]) & not_self
        logits = logits.masked_fill(duplicate, -1e4)
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        loss.backward()
        grad = pool_q.T @ raw_q.grad.numpy() + pool_d.T @ raw_d.grad.numpy()
        weight.grad = torch.from_numpy(np.ascontiguousarray(grad, dtype=np.float32))
        optimizer.step()
        if done % 200 == 0:
            logger.info("corpus model: step %d/%d loss %.3f", done, steps, loss.item())
        if deadline is not None and time.perf_counter() > deadline:
            logger.warning("corpus model: stopped at step %d/%d (max_seconds reached)", done, steps)
            break
    return vectors, done


@contextmanager
def _single_threaded() -> Iterator[None]:
    """Run torch and BLAS on one thread: the operations are small, and oversubscribed threads (a busy
    machine) make them many times slower; one thread also keeps results reproducible."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        threadpool_limits = None
    try:
        if threadpool_limits is None:
            yield
        else:
            with threadpool_limits(limits=1):
                yield
    finally:
        torch.set_num_threads(threads)


def _split_heads(passages: list[str], titles: list[str] | None) -> tuple[list[str], list[str]]:
    """Split each passage into its title/heading prefix (when given and present) and its text."""
    heads, bodies = [], []
    for i, passage in enumerate(passages):
        title = (titles[i] if titles and i < len(titles) else "") or ""
        if title and passage.startswith(title):
            heads.append(title)
            bodies.append(passage[len(title):])
        else:
            heads.append(title)
            bodies.append(passage)
    return heads, bodies


def train_corpus_model(passages: list[str], out_dir: Path, *, dim: int = 256, seed: int = 0,
                       max_seconds: float | None = None, titles: list[str] | None = None,
                       config: TrainConfig | None = None) -> Path:
    """Train the corpus embedder on the passages to be indexed and save it as a SentenceTransformer folder.

    Args:
        passages: corpus texts (document title + heading path + clause text).
        out_dir: destination folder; written atomically (temporary sibling folder, then renamed).
        dim: vector dimension.
        seed: random seed; the same corpus and seed give the same model.
        max_seconds: optional time bound on fine-tuning (stopping early breaks determinism).
        titles: optional title/heading-path string per passage; used as pseudo-queries for their passage.
        config: training hyper-parameters.

    Returns:
        ``out_dir``.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding

    if not passages:
        raise ValueError("cannot train the corpus embedder on an empty corpus")
    config = config or TrainConfig()
    start = time.perf_counter()
    deadline = start + max_seconds if max_seconds else None
    rng = np.random.default_rng(seed)
    tokenizer = build_tokenizer(passages, vocab_size=config.vocab_size, sample_chars=config.sample_chars)
    vocab = tokenizer.get_vocab_size()
    head_texts, body_texts = _split_heads(passages, titles)
    heads = [np.array(x, dtype=np.int64) for x in encode(tokenizer, head_texts)]
    bodies = [np.array(x, dtype=np.int64) for x in encode(tokenizer, body_texts)]
    docs = [np.concatenate([h, b]) for h, b in zip(heads, bodies, strict=True)]
    tokenized = time.perf_counter()
    with _single_threaded():
        vectors = _lsa_init(docs, vocab, dim, rng)
        initialised = time.perf_counter()
        vectors, steps = _finetune(vectors, heads, bodies, config, seed, deadline)
    vectors[tokenizer.token_to_id(UNK)] = 0.0
    static = StaticEmbedding(tokenizer, embedding_weights=torch.from_numpy(np.ascontiguousarray(vectors)))
    model = SentenceTransformer(modules=[static, Normalize()], device="cpu")
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.save(str(tmp))
        info = {"kind": "qa-corpus-model", "passages": len(passages), "vocab": vocab, "dim": dim, "seed": seed,
                "steps": steps, "config": asdict(config),
                "seconds": {"tokenizer": round(tokenized - start, 1), "lsa": round(initialised - tokenized, 1),
                            "finetune": round(time.perf_counter() - initialised, 1)}}
        (tmp / TRAINING_INFO).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("corpus model: %d passages, vocab %d, %d steps in %.1fs -> %s", len(passages), vocab, steps,
                time.perf_counter() - start, out_dir)
    return out_dir


class CorpusEmbedder(SentenceTransformerEmbedder):
    """The corpus model, loaded through ``SentenceTransformer(path)``; English query terms are glossed first.

    Args:
        path: folder written by ``train_corpus_model``.
        batch_size: encoding batch size.

    Raises:
        EmbedderLoadError: when the folder is missing or not a SentenceTransformer model.
    """

    fingerprint_ignore = ("README.md", TRAINING_INFO)

    def __init__(self, path: str | Path, batch_size: int = 256) -> None:
        super().__init__(str(path), device="cpu", batch_size=batch_size, is_fallback=True)
        training = Path(path) / TRAINING_INFO
        self.training = json.loads(training.read_text(encoding="utf-8")) if training.exists() else {}

    def info(self) -> dict:
        info = super().info()
        info.update(training=self.training)
        return info
