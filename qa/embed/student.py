"""A static student of the model: vectors for a large library in seconds, in the model's own space.

Embedding a law library with the transformer takes hours on two cores. The student gives every
passage a vector within the ingest: one learned vector per token of the model's own tokenizer,
summed over a passage and normalised. It is fitted to the model on a sample of the library
(tokenlearn's recipe): token vectors start from the model's output for each token alone (model2vec's
distillation), weighted by token rarity (SIF), and are then trained so that the student's vector of
each sampled passage points where the model's does (cosine loss, early stopping on a held-out tenth).
Queries are always encoded by the model; passages by the student until the embedding job replaces
their vectors with the model's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from qa.embed.base import Embedder, normalize

log = logging.getLogger(__name__)
STUDENT_FILE = "student.npz"
INFO_FILE = "student.json"
SIF_A = 1e-3


class StudentEmbedder(Embedder):
    """Encodes passages with a fitted static student.

    Args:
        folder: the student's folder (``student.npz``, ``student.json``).
        tokenizer: the model's Hugging Face tokenizer (the student's vocabulary is its ids).
    """

    is_fallback = False

    def __init__(self, folder: Path, tokenizer):
        data = np.load(Path(folder) / STUDENT_FILE)
        self.info_record = json.loads((Path(folder) / INFO_FILE).read_text(encoding="utf-8"))
        self.token_ids = data["token_ids"]
        self.vectors = np.ascontiguousarray(data["vectors"], dtype=np.float32)
        self.lookup = np.full(max(int(self.token_ids.max(initial=0)) + 1, len(tokenizer)), -1, dtype=np.int64)
        self.lookup[self.token_ids] = np.arange(len(self.token_ids))
        self.tokenizer = tokenizer
        self.dim = self.vectors.shape[1]
        self.name = f"student of {self.info_record.get('teacher')}"
        self.fingerprint = self.info_record.get("fingerprint", "")

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        return encode_static(self.tokenizer, self.lookup, self.vectors, texts)

    def info(self) -> dict:
        return {**super().info(), **{k: v for k, v in self.info_record.items() if k != "fingerprint"}}


def encode_static(tokenizer, lookup: np.ndarray, vectors: np.ndarray, texts: list[str], chunk: int = 4096
                  ) -> np.ndarray:
    """Sum of token vectors per text, normalised; tokens without a vector are skipped."""
    import torch

    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
    table = torch.from_numpy(vectors)
    for start in range(0, len(texts), chunk):
        ids = tokenizer(texts[start:start + chunk], add_special_tokens=False)["input_ids"]
        rows = [lookup[np.asarray(t, dtype=np.int64)] if t else np.zeros(0, np.int64) for t in ids]
        rows = [r[r >= 0] for r in rows]
        offsets = torch.tensor(np.cumsum([0] + [len(r) for r in rows[:-1]]), dtype=torch.long)
        flat = torch.from_numpy(np.concatenate(rows) if rows else np.zeros(0, np.int64))
        summed = torch.nn.functional.embedding_bag(flat, table, offsets, mode="sum")
        out[start:start + len(rows)] = summed.numpy()
    return normalize(out, vectors.shape[1])


def train_student(model, sample_texts: list[str], sample_vectors: np.ndarray, library_texts: Iterable[str],
                  folder: Path, teacher_name: str, teacher_fingerprint: str, max_epochs: int = 6, lr: float = 3e-3,
                  batch_size: int = 256, seed: int = 0) -> StudentEmbedder:
    """Fit a student to the model's vectors of ``sample_texts`` and save it in ``folder``.

    Args:
        model: the teacher's ``SentenceTransformer`` (its tokenizer and transformer are used).
        sample_texts: passages the teacher encoded.
        sample_vectors: the teacher's vectors of them (unit rows, passage prompt).
        library_texts: every passage the student will encode (its vocabulary and token frequencies), read once.
        folder: where to save the student (created).
        teacher_name, teacher_fingerprint: recorded with the student.
        max_epochs, lr, batch_size, seed: training settings.

    Returns:
        the student, loaded from ``folder``.
    """
    import torch

    started = time.monotonic()
    tokenizer = model.tokenizer
    counts: Counter[int] = Counter()
    batch: list[str] = []
    for text in library_texts:
        batch.append(text)
        if len(batch) == 4096:
            for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
                counts.update(ids)
            batch = []
    for ids in tokenizer(batch, add_special_tokens=False)["input_ids"] if batch else []:
        counts.update(ids)
    sample_ids = tokenizer(list(sample_texts), add_special_tokens=False)["input_ids"]
    for ids in sample_ids:
        counts.update(ids)
    token_ids = np.array(sorted(counts), dtype=np.int64)
    lookup = np.full(len(tokenizer), -1, dtype=np.int64)
    lookup[token_ids] = np.arange(len(token_ids))
    frequency = np.array([counts[int(t)] for t in token_ids], dtype=np.float64) / max(sum(counts.values()), 1)
    weights = (SIF_A / (SIF_A + frequency)).astype(np.float32)
    initial = _distill(model, token_ids, tokenizer) * weights[:, None]

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    order = rng.permutation(len(sample_ids))
    held = order[: max(1, len(order) // 10)]
    train = order[len(held):]
    bags = [torch.from_numpy(lookup[np.asarray(ids, dtype=np.int64)] if ids else np.zeros(0, np.int64))
            for ids in sample_ids]
    targets = torch.from_numpy(np.ascontiguousarray(sample_vectors, dtype=np.float32))
    table = torch.nn.Parameter(torch.from_numpy(initial.copy()))
    optimizer = torch.optim.Adam([table], lr=lr)

    def loss_of(rows: np.ndarray) -> torch.Tensor:
        flat = torch.cat([bags[i] for i in rows]) if len(rows) else torch.zeros(0, dtype=torch.long)
        offsets = torch.tensor(np.cumsum([0] + [len(bags[i]) for i in rows[:-1]]), dtype=torch.long)
        summed = torch.nn.functional.embedding_bag(flat, table, offsets, mode="sum")
        return (1 - torch.nn.functional.cosine_similarity(summed, targets[rows], dim=1)).mean()

    with torch.no_grad():
        best_loss = float(loss_of(held))
    best, best_epoch, history = table.detach().clone(), 0, [round(best_loss, 5)]
    for epoch in range(1, max_epochs + 1):
        for start in range(0, len(train), batch_size):
            optimizer.zero_grad()
            loss_of(rng.permutation(train[start:start + batch_size])).backward()
            optimizer.step()
        with torch.no_grad():
            held_loss = float(loss_of(held))
        history.append(round(held_loss, 5))
        if held_loss < best_loss:
            best, best_loss, best_epoch = table.detach().clone(), held_loss, epoch
        elif epoch - best_epoch >= 1:
            break
    vectors = best.numpy().astype(np.float32)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / STUDENT_FILE, token_ids=token_ids.astype(np.int32), vectors=vectors)
    digest = hashlib.sha256(vectors.tobytes() + token_ids.tobytes() + teacher_fingerprint.encode()).hexdigest()
    info = {"teacher": teacher_name, "teacher_fingerprint": teacher_fingerprint, "fingerprint": digest,
            "sample": len(sample_texts), "tokens": len(token_ids), "epochs": best_epoch,
            "held_out_cosine": round(1 - best_loss, 4), "held_out_loss_by_epoch": history,
            "seconds": round(time.monotonic() - started, 1)}
    (folder / INFO_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("student fitted on %d passages in %.0fs: held-out cosine %.3f after %d epochs", len(sample_texts),
             info["seconds"], info["held_out_cosine"], best_epoch)
    return StudentEmbedder(folder, tokenizer)


def _distill(model, token_ids: np.ndarray, tokenizer, batch: int = 512) -> np.ndarray:
    """The transformer's mean-pooled output for each token alone (``<s> token </s>``), normalised."""
    import torch

    transformer = model[0].auto_model
    bos, eos = tokenizer.cls_token_id, tokenizer.sep_token_id
    out = np.zeros((len(token_ids), transformer.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(token_ids), batch):
            chunk = token_ids[start:start + batch]
            ids = torch.tensor([[bos, int(t), eos] for t in chunk])
            hidden = transformer(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            out[start:start + len(chunk)] = hidden.mean(dim=1).numpy()
    return normalize(out, out.shape[1])
