"""The query side of the model, fine-tuned on feedback: passages keep their vectors, questions move.

The passage vectors of a library cost hours to compute; the questions officials ask cost milliseconds.
So training changes only the query tower: a copy of the transformer's encoder layers (the 250k-token
embedding table stays shared and frozen), trained so that a question lands near the stored vectors of
the clauses marked useful for it and away from those the current ranker wrongly puts first. A version
is a folder ``models/query-vN/`` holding the encoder layers and ``query_model.json``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from qa.embed.base import Embedder, normalize
from qa.embed.transformer import SentenceTransformerEmbedder

WEIGHTS = "encoder.safetensors"
INFO = "query_model.json"
MAX_QUERY_TOKENS = 128


class QueryTower:
    """A trainable copy of the base model's encoder, sharing its (frozen) embeddings.

    Args:
        base: the index's model.
    """

    def __init__(self, base: SentenceTransformerEmbedder):
        transformer = base.model[0].auto_model
        self.tokenizer = base.model.tokenizer
        self.prompt = base.query_prompt
        self.device = base.device
        shared = transformer.embeddings
        transformer.embeddings = None  # copy everything but the embedding table
        try:
            self.model = copy.deepcopy(transformer)
        finally:
            transformer.embeddings = shared
        self.model.embeddings = shared
        for parameter in self.model.embeddings.parameters():
            parameter.requires_grad = False

    def parameters(self):
        return [p for name, p in self.model.named_parameters() if not name.startswith("embeddings.")]

    def encode(self, texts: list[str], train: bool = False):
        """Unit query vectors (a torch tensor; with gradients when ``train``)."""
        import torch

        batch = self.tokenizer([self.prompt + t for t in texts], padding=True, truncation=True,
                               max_length=MAX_QUERY_TOKENS, return_tensors="pt").to(self.device)
        self.model.train(train)
        with torch.set_grad_enabled(train):
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    def state(self) -> dict:
        return {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()
                if not k.startswith("embeddings.")}

    def load_state(self, state: dict) -> None:
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("embeddings.") for k in missing):
            raise ValueError(f"query model weights do not fit the base model (missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]})")

    def save(self, folder: Path, info: dict) -> None:
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        save_file(self.state(), str(folder / WEIGHTS))
        (folder / INFO).write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, base: SentenceTransformerEmbedder, folder: Path) -> QueryTower:
        from safetensors.torch import load_file

        tower = cls(base)
        tower.load_state(load_file(str(Path(folder) / WEIGHTS)))
        return tower


class TunedEmbedder(Embedder):
    """The index's model with a fine-tuned query tower: passages as the base encodes them, queries by the tower.

    Args:
        base: the index's model.
        tower: the trained query tower.
        version: the version's number, reported by ``info``.
    """

    def __init__(self, base: SentenceTransformerEmbedder, tower: QueryTower, version: int | None = None):
        self.base, self.tower, self.version = base, tower, version
        self.name, self.dim, self.fingerprint = base.name, base.dim, base.fingerprint
        self.is_fallback, self.load_error, self.requested_model = base.is_fallback, base.load_error, base.requested_model
        self.model = base.model
        self.query_prompt, self.passage_prompt, self.device = base.query_prompt, base.passage_prompt, base.device

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self.base.encode_passages(texts)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = [self.tower.encode(texts[i:i + 64]).cpu().numpy() for i in range(0, len(texts), 64)]
        return normalize(np.concatenate(vectors), self.dim)

    def info(self) -> dict:
        info = self.base.info()
        info["query_model_version"] = self.version
        return info


def active_version(index) -> dict | None:
    """The index's active query-model version record (``None``: the untrained model answers)."""
    if index.catalog is None:
        return None
    versions = index.catalog.get_info("query_model") or {}
    return versions if versions.get("active") else None


def with_active_tower(index, base: Embedder | None) -> Embedder | None:
    """``base`` with the index's active query tower, if it has one that fits ``base``."""
    version = active_version(index)
    if version is None or not isinstance(base, SentenceTransformerEmbedder):
        return base
    folder = Path(index.root) / "models" / f"query-v{version['active']}"
    info = json.loads((folder / INFO).read_text(encoding="utf-8"))
    if info.get("base_fingerprint") != base.fingerprint:
        return base
    return TunedEmbedder(base, QueryTower.load(base, folder), version["active"])


def active_fusion(index) -> dict | None:
    """The fusion weights chosen with the active query model (dense, memory), if any."""
    version = active_version(index)
    return version.get("fusion") or {"dense_weight": version.get("dense_weight")} if version else None


def memory_version(index, embedder) -> str:
    """The key under which the feedback memory's vectors are kept: the model and the active query model."""
    active = (active_version(index) or {}).get("active")
    return f"{getattr(embedder, 'fingerprint', '')[:16]}:q{active or 0}"
