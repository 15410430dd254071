"""Which embedder an index uses, for ingest and for queries.

The configured model (``QA_EMBED_MODEL``) is tried first. When it cannot be loaded the index uses
the built-in corpus embedder kept inside the index (trained from the corpus on first ingest). An
index is never queried or extended with vectors of another embedder: ingest re-embeds everything,
queries are refused with a message saying how to rebuild.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qa.config import embed_model
from qa.embed.base import Embedder, EmbedderLoadError
from qa.embed.bundled import BUNDLED_NAME, BundledModelError, ensure_bundled
from qa.embed.corpus_model import CorpusEmbedder, train_corpus_model
from qa.embed.transformer import SentenceTransformerEmbedder
from qa.index.collection import EmbedderMismatchError, Index, passage_text
from qa.schemas import Document

log = logging.getLogger("qa.embedding")
FALLBACK_NAME = "builtin-corpus"
BUNDLED_ALIASES = (BUNDLED_NAME, "bundled")
# Retrain the corpus embedder when the corpus has grown this much since it was trained.
RETRAIN_GROWTH = 2.0


def load_configured(model: str | None = None) -> tuple[Embedder | None, str | None]:
    """Load the configured model; returns (embedder, None) or (None, the reason it failed).

    A configured model that cannot be loaded is replaced by the bundled e5 (the reason is kept in
    ``load_error``); only when that fails too is (None, reasons) returned and the corpus embedder used.
    """
    name = model or embed_model()
    if name == FALLBACK_NAME:
        return None, "the built-in corpus embedder was asked for"
    embedder, error = _load(name)
    if embedder is not None or name in BUNDLED_ALIASES:
        return embedder, error
    log.warning("embedding model %r could not be loaded (%s); using the bundled %s", name, error, BUNDLED_NAME)
    bundled, bundled_error = _load(BUNDLED_NAME)
    if bundled is None:
        return None, f"{error}; the bundled model failed too: {bundled_error}"
    bundled.load_error, bundled.requested_model = error, name
    return bundled, None


def _load(name: str) -> tuple[Embedder | None, str | None]:
    try:
        if name in BUNDLED_ALIASES:
            return SentenceTransformerEmbedder(ensure_bundled(), name=BUNDLED_NAME), None
        return SentenceTransformerEmbedder(name), None
    except (EmbedderLoadError, BundledModelError) as err:
        return None, str(err)
    except Exception as err:  # any loader failure means: use the fallback, and say why
        return None, f"{type(err).__name__}: {err}"


def embedder_for_ingest(index: Index, documents: list[Document], model: str | None,
                        progress: Callable[[str], None] | None = None) -> tuple[Embedder, Path | None, bool]:
    """The embedder to extend ``index`` with ``documents``.

    Returns:
        (embedder, folder of a corpus model to keep in the index or None, whether to re-embed all).
    """
    configured, error = load_configured(model)
    info = index.embedder_info or {}
    if configured is not None:
        reembed = bool(info) and info.get("fingerprint") != configured.fingerprint
        if reembed and progress:
            progress(f"index was built with {info.get('name')}; re-embedding every passage with {configured.name}")
        return configured, None, reembed
    log.warning("embedding model %r could not be loaded (%s); using the built-in corpus embedder",
                model or embed_model(), error)
    passages_after = len(index.passages) + sum(len(d.clauses) for d in documents)
    trained_on = int(info.get("trained_on", 0) or 0)
    if index.embedder_dir is not None and info.get("is_fallback") and passages_after < RETRAIN_GROWTH * max(trained_on, 1):
        return _corpus_embedder(index.embedder_dir, error, trained_on), index.embedder_dir, False
    texts = [passage_text(index.documents[c.doc_id].meta.title, c) for c in index.passages] + \
        [passage_text(d.meta.title, c) for d in documents for c in d.clauses]
    if progress:
        progress(f"training the built-in corpus embedder on {len(texts)} passages")
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="embedder-", dir=index.root))
    shutil.rmtree(folder)
    train_corpus_model(texts, folder)
    embedder = _corpus_embedder(folder, error, len(texts))
    if progress:
        progress(f"trained the corpus embedder in {time.monotonic() - started:.1f}s")
    return embedder, folder, bool(info)


def _corpus_embedder(folder: Path, error: str | None, trained_on: int | None) -> CorpusEmbedder:
    """Load the corpus model; its name and fingerprint must not depend on the folder it sits in."""
    embedder = CorpusEmbedder(folder)
    embedder.name = FALLBACK_NAME
    embedder.fingerprint = embedder._fingerprint()
    embedder.load_error, embedder.trained_on = error, trained_on
    return embedder


def embedder_for_query(index: Index, model: str | None = None) -> Embedder | None:
    """The embedder that built ``index``, or None for an index without vectors.

    Raises:
        EmbedderMismatchError: the index was built by a model that is not available now.
    """
    info = index.embedder_info
    if not info or index.dense is None:
        return None
    if info.get("is_fallback"):
        if index.embedder_dir is None:
            raise EmbedderMismatchError(f"index at {index.root} lacks its corpus embedder folder; rebuild it")
        # Not retried at query time (loading costs seconds): the cause recorded at ingest is reported.
        return _corpus_embedder(index.embedder_dir, info.get("configured_error")
                                or "the index was built with the built-in embedder", info.get("trained_on"))
    configured, error = _load(model or info.get("name") or embed_model())
    if configured is None:
        raise EmbedderMismatchError(f"index at {index.root} was built with {info.get('name')!r}, which cannot be "
                                    f"loaded now ({error}); make it available or rebuild with `qa ingest --rebuild`")
    index.check_embedder(configured)
    return configured
