"""Load an index with the embedder that built it, ready to search."""

from __future__ import annotations

from pathlib import Path

from qa.index.collection import Index
from qa.index.embedding import embedder_for_query
from qa.retrieval.bridge import TermBridge
from qa.retrieval.fusion import FusionConfig
from qa.retrieval.searcher import Searcher


def load_searcher(index_dir: Path, model: str | None = None, fusion: FusionConfig | None = None) -> Searcher:
    """Open the index at ``index_dir`` and its embedder (with the query model trained on feedback, if active).

    Raises:
        EmbedderMismatchError: the model that built the index cannot be loaded now.
    """
    from qa.feedback.memory import load_memory
    from qa.feedback.query_model import active_fusion, memory_version, with_active_tower

    index = Index.open(index_dir)
    embedder = with_active_tower(index, embedder_for_query(index, model))
    if fusion is None:
        fusion = FusionConfig.configured(active_fusion(index))
    memory = load_memory(index, embedder, memory_version(index, embedder)) if embedder is not None else None
    return Searcher(index, embedder, fusion=fusion, memory=memory, bridge=TermBridge.load(index, embedder))
