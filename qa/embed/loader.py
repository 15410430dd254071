"""Pick the embedder: the configured sentence-transformers model, or the built-in corpus model when it is unavailable.

The default model is ``intfloat/multilingual-e5-small``: a 12-layer, 384-wide encoder (about 21M transformer
parameters plus a 250k-token embedding table) that runs at interactive speed on a 2-core CPU, covers Chinese
and English in one space (the questions include English ones, answered from Chinese text), has documented
``query: ``/``passage: `` prompts and an MIT licence. ``BAAI/bge-small-zh-v1.5`` is as fast and somewhat
stronger on Chinese-only retrieval but weak on English queries; ``BAAI/bge-m3`` is stronger still but 568M
parameters, too slow to index on CPU. Set ``QA_EMBED_MODEL`` to choose another model, or to ``corpus`` to use
the built-in corpus model directly.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from qa.embed.base import Embedder, EmbedderLoadError
from qa.embed.corpus_model import TRAINING_INFO, CorpusEmbedder, train_corpus_model
from qa.embed.transformer import SentenceTransformerEmbedder

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
MODEL_ENV = "QA_EMBED_MODEL"
BUILTIN_NAMES = ("corpus", "builtin", "fallback")


def configured_model(model: str | None = None) -> str:
    """The model to try: the argument, else ``$QA_EMBED_MODEL``, else ``DEFAULT_MODEL``."""
    return (model or os.environ.get(MODEL_ENV, "").strip() or DEFAULT_MODEL).strip()


def load_embedder(model: str | None, fallback_dir: Path, corpus: Callable[[], list[str]] | None,
                  device: str = "cpu") -> Embedder:
    """Load the configured model, falling back to the built-in corpus embedder.

    Args:
        model: hub name or local folder; None reads ``$QA_EMBED_MODEL`` (default ``DEFAULT_MODEL``).
            ``corpus`` selects the built-in corpus embedder without trying a model.
        fallback_dir: folder of the corpus embedder; trained from ``corpus()`` when absent or unreadable.
        corpus: returns the passages to train on (title + heading path + clause text); only called when
            the corpus embedder has to be trained.
        device: torch device of the configured model.

    Returns:
        the embedder; when it is the fallback, ``info()["load_error"]`` says why the configured model was not used.

    Raises:
        EmbedderLoadError: when neither the configured model nor the corpus embedder can be had.
    """
    name = configured_model(model)
    fallback_dir = Path(fallback_dir)
    if name.lower() in BUILTIN_NAMES:
        embedder = _corpus_embedder(fallback_dir, corpus, None)
        embedder.load_error = None
        return embedder
    try:
        return SentenceTransformerEmbedder(name, device=device)
    except EmbedderLoadError as exc:
        cause = str(exc)
    except Exception as exc:  # a broken model folder can fail in many ways
        cause = f"{name}: {type(exc).__name__}: {exc}"
    logger.warning("embedding model %s could not be loaded (%s); using the built-in corpus embedder at %s",
                   name, cause, fallback_dir)
    embedder = _corpus_embedder(fallback_dir, corpus, cause)
    embedder.load_error = f"embedding model {name} could not be loaded: {cause}"
    embedder.requested_model = name
    return embedder


def _corpus_embedder(folder: Path, corpus: Callable[[], list[str]] | None, cause: str | None) -> CorpusEmbedder:
    if (folder / TRAINING_INFO).exists():
        try:
            return CorpusEmbedder(folder)
        except EmbedderLoadError as exc:
            logger.warning("corpus embedder at %s is unreadable (%s); retraining it", folder, exc)
    if corpus is None:
        raise EmbedderLoadError(f"no corpus embedder at {folder} and no corpus to train one"
                                + (f"; configured model: {cause}" if cause else ""))
    passages = corpus()
    if not passages:
        raise EmbedderLoadError(f"no corpus embedder at {folder} and the corpus is empty"
                                + (f"; configured model: {cause}" if cause else ""))
    logger.warning("training the built-in corpus embedder on %d passages into %s", len(passages), folder)
    return CorpusEmbedder(train_corpus_model(passages, folder))
