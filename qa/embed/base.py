"""Embedder interface shared by the real sentence-transformers models and the built-in corpus model."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

HASH_HEAD_BYTES = 1 << 20
HASH_FULL_BYTES = 64 << 20


class EmbedderLoadError(RuntimeError):
    """Raised when an embedding model cannot be loaded; the message states the cause."""


class Embedder:
    """Turns queries and passages into L2-normalised float32 vectors.

    Subclasses set ``name``, ``dim``, ``fingerprint`` and ``is_fallback`` and implement ``_encode``.

    Args:
        name: model name or path, as configured.
        dim: vector dimension.
        fingerprint: stable hash that changes whenever the vectors would change.
        is_fallback: True for the built-in corpus model used when the configured model is unavailable.
    """

    name: str = ""
    dim: int = 0
    fingerprint: str = ""
    is_fallback: bool = False
    load_error: str | None = None
    requested_model: str | None = None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Encode search queries.

        Args:
            texts: query strings.

        Returns:
            float32 array of shape (len(texts), dim) with L2-normalised rows.
        """
        return self._encode(list(texts), query=True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Encode indexed passages.

        Args:
            texts: passage strings (document title + heading path + clause text).

        Returns:
            float32 array of shape (len(texts), dim) with L2-normalised rows.
        """
        return self._encode(list(texts), query=False)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        """Describe the embedder for health endpoints and index metadata.

        Returns:
            dict with name, dim, fingerprint, is_fallback, load_error (None when the configured model loaded)
            and requested_model (the configured model, when a fallback replaced it).
        """
        return {"name": self.name, "dim": self.dim, "fingerprint": self.fingerprint, "is_fallback": self.is_fallback,
                "load_error": self.load_error, "requested_model": self.requested_model}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, fingerprint={self.fingerprint[:12]!r})"


def normalize(vectors: Any, dim: int) -> np.ndarray:
    """Return ``vectors`` as a float32 (n, dim) array with unit-length rows (zero rows stay zero).

    Args:
        vectors: array-like of shape (n, dim).
        dim: expected dimension, used for empty input.

    Returns:
        float32 array of shape (n, dim).
    """
    array = np.asarray(vectors, dtype=np.float32)
    if array.size == 0:
        return np.zeros((0, dim), dtype=np.float32)
    array = array.reshape(len(array), -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)


def folder_fingerprint(folder: str | Path, name: str = "", ignore: tuple[str, ...] = ("README.md",)) -> str:
    """Hash a model folder: relative file names, sizes and contents.

    Files up to 64 MB are hashed whole; larger ones (big weight files) over their first and last MB.

    Args:
        folder: model folder.
        name: model name, mixed into the hash.
        ignore: relative file names that do not affect the vectors (model card, training log).

    Returns:
        hex sha256 digest.
    """
    root = Path(folder)
    digest = hashlib.sha256(name.encode("utf-8"))
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".") or "/." in rel or rel in ignore:
            continue
        size = path.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        with path.open("rb") as handle:
            if size <= HASH_FULL_BYTES:
                digest.update(handle.read())
                continue
            digest.update(handle.read(HASH_HEAD_BYTES))
            handle.seek(size - HASH_HEAD_BYTES)
            digest.update(handle.read())
    return digest.hexdigest()
