"""Embedding layer: sentence-transformers models (the bundled e5 by default) and the static student."""

from qa.embed.base import Embedder, EmbedderLoadError, folder_fingerprint, normalize
from qa.embed.transformer import SentenceTransformerEmbedder

__all__ = ["Embedder", "EmbedderLoadError", "SentenceTransformerEmbedder", "folder_fingerprint", "normalize"]
