"""Embedding layer: real sentence-transformers models and the built-in corpus model used as fallback."""

from qa.embed.base import Embedder, EmbedderLoadError, folder_fingerprint, normalize
from qa.embed.corpus_model import CorpusEmbedder, TrainConfig, train_corpus_model
from qa.embed.glossary import QueryGlossary
from qa.embed.transformer import SentenceTransformerEmbedder

__all__ = [
    "CorpusEmbedder",
    "Embedder",
    "EmbedderLoadError",
    "QueryGlossary",
    "SentenceTransformerEmbedder",
    "TrainConfig",
    "folder_fingerprint",
    "normalize",
    "train_corpus_model",
]
