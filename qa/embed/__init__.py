"""Embedding layer: sentence-transformers models (the bundled e5 by default) and the corpus model fallback."""

from qa.embed.base import Embedder, EmbedderLoadError, folder_fingerprint, normalize
from qa.embed.corpus_model import CorpusEmbedder, TrainConfig, train_corpus_model
from qa.embed.transformer import SentenceTransformerEmbedder

__all__ = [
    "CorpusEmbedder",
    "Embedder",
    "EmbedderLoadError",
    "SentenceTransformerEmbedder",
    "TrainConfig",
    "folder_fingerprint",
    "normalize",
    "train_corpus_model",
]
