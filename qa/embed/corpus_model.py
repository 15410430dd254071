"""The built-in fallback embedder: a static sentence-transformers model learned from the indexed corpus.

Used when the configured model cannot be loaded (air-gapped machines). Training needs no download:

1. a word-level Unigram tokenizer is learned from the corpus (``corpus_tokenizer``);
2. token vectors start from latent semantic analysis of the corpus (truncated SVD of the tf-idf matrix);
3. they are fine-tuned contrastively (in-batch negatives, as in MultipleNegativesRankingLoss) on
   self-supervised pairs: a span of a passage ↔ the rest of the passage (inverse cloze task), and a
   passage's title/heading path ↔ its text;
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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.embed.corpus_tokenizer import UNK, build_tokenizer, encode
from qa.embed.glossary import QueryGlossary
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
    epochs: float = 3.0
    max_steps: int = 4000
    lr: float = 0.003
    scale: float = 20.0
    title_share: float = 0.2
    span_min: float = 0.1
    span_max: float = 0.5
    keep_span: float = 0.1


def _randomized_svd(matrix, k: int, rng: np.random.Generator, n_iter: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Top-k singular values and right singular vectors (k × columns) of a sparse matrix."""
    k = max(1, min(k, min(matrix.shape) - 1)) if min(matrix.shape) > 1 else 1
    probe = rng.standard_normal((matrix.shape[1], min(k + 10, matrix.shape[1]))).astype(np.float32)
    basis, _ = np.linalg.qr(matrix @ probe)
    for _ in range(n_iter):
        basis, _ = np.linalg.qr(matrix.T @ basis)
        basis, _ = np.linalg.qr(matrix @ basis)
    small = (matrix.T @ basis).T
    _, values, vt = np.linalg.svd(small, full_matrices=False)
    return values[:k], vt[:k]


def _lsa_init(docs: list[np.ndarray], vocab: int, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Token vectors from LSA of the tf-idf matrix, scaled by idf; also returns the idf."""
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
    _, vt = _randomized_svd(tfidf.astype(np.float32), dim, rng)
    vectors = np.zeros((vocab, dim), dtype=np.float32)
    vectors[:, : vt.shape[0]] = vt.T * idf[:, None]
    vectors[df == 0] = 0.0
    return vectors, idf


class _PairSampler:
    """Self-supervised (pseudo-query, passage) pairs built from token ids."""

    def __init__(self, heads: list[np.ndarray], bodies: list[np.ndarray], config: TrainConfig,
                 rng: np.random.Generator) -> None:
        self.heads, self.bodies, self.config, self.rng = heads, bodies, config, rng
        self.order = np.zeros(0, dtype=np.int64)
        self.cursor = 0
        self.usable = np.array([len(b) >= 2 for b in bodies])

    def _next_indices(self, n: int) -> np.ndarray:
        picked: list[int] = []
        while len(picked) < n:
            if self.cursor >= len(self.order):
                self.order = self.rng.permutation(np.flatnonzero(self.usable))
                self.cursor = 0
            take = self.order[self.cursor:self.cursor + n - len(picked)]
            self.cursor += len(take)
            picked.extend(take.tolist())
        return np.array(picked)

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


def _bag(torch, ids: list[np.ndarray]):
    flat = torch.from_numpy(np.concatenate(ids).astype(np.int64))
    offsets = torch.from_numpy(np.cumsum([0] + [len(x) for x in ids[:-1]]).astype(np.int64))
    return flat, offsets


def _finetune(vectors: np.ndarray, heads: list[np.ndarray], bodies: list[np.ndarray], config: TrainConfig,
              seed: int, deadline: float | None) -> tuple[np.ndarray, int]:
    """Contrastive fine-tuning of the token vectors; returns them with the number of steps run."""
    import torch
    import torch.nn.functional as F

    usable = sum(1 for b in bodies if len(b) >= 2)
    batch = min(config.batch_size, usable)
    if batch < 2:
        return vectors, 0
    steps = min(config.max_steps, max(1, math.ceil(config.epochs * usable / batch)))
    torch.manual_seed(seed)
    weight = torch.nn.Parameter(torch.from_numpy(vectors.copy()))
    optimizer = torch.optim.Adam([weight], lr=config.lr)
    sampler = _PairSampler(heads, bodies, config, np.random.default_rng(seed + 1))
    labels = torch.arange(batch)
    done = 0
    for done in range(1, steps + 1):
        queries, docs, keys = sampler.batch(batch)
        q_ids, q_offsets = _bag(torch, queries)
        d_ids, d_offsets = _bag(torch, docs)
        q = F.normalize(F.embedding_bag(q_ids, weight, q_offsets, mode="mean"), dim=-1)
        d = F.normalize(F.embedding_bag(d_ids, weight, d_offsets, mode="mean"), dim=-1)
        logits = config.scale * q @ d.T
        duplicate = torch.from_numpy(keys[:, None] == keys[None, :]) & ~torch.eye(batch, dtype=torch.bool)
        logits = logits.masked_fill(duplicate, -1e4)
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if done % 200 == 0:
            logger.info("corpus model: step %d/%d loss %.3f", done, steps, loss.item())
        if deadline is not None and time.perf_counter() > deadline:
            logger.warning("corpus model: stopped at step %d/%d (max_seconds reached)", done, steps)
            break
    return weight.detach().numpy(), done


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
    vectors, _ = _lsa_init(docs, vocab, dim, rng)
    initialised = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, 8)))
    try:
        vectors, steps = _finetune(vectors, heads, bodies, config, seed, deadline)
    finally:
        torch.set_num_threads(threads)
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
        glossary: query glossary (the built-in English → Chinese one by default).

    Raises:
        EmbedderLoadError: when the folder is missing or not a SentenceTransformer model.
    """

    def __init__(self, path: str | Path, batch_size: int = 256, glossary: QueryGlossary | None = None) -> None:
        super().__init__(str(path), device="cpu", batch_size=batch_size, is_fallback=True)
        self.glossary = glossary if glossary is not None else QueryGlossary.builtin()
        training = Path(path) / TRAINING_INFO
        self.training = json.loads(training.read_text(encoding="utf-8")) if training.exists() else {}

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if query:
            texts = [self.glossary.apply(t) for t in texts]
        return super()._encode(texts, query)

    def info(self) -> dict:
        info = super().info()
        info.update(glossary_terms=len(self.glossary), training=self.training)
        return info
