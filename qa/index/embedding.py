"""Which embedder an index uses, for ingest and for queries.

The configured model (``QA_EMBED_MODEL``, default the bundled e5) is tried first, then the bundled
e5. When neither loads, the index is lexical-only and says why (``/health``). An index is never
extended or queried with vectors of another embedder than the one that built it.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable

from qa.config import embed_model, settings
from qa.embed.base import Embedder, EmbedderLoadError
from qa.embed.bundled import BUNDLED_NAME, BundledModelError, bundled_folder, ensure_bundled
from qa.embed.transformer import SentenceTransformerEmbedder
from qa.index.collection import EmbedderMismatchError, Index

log = logging.getLogger("qa.embedding")
BUNDLED_ALIASES = (BUNDLED_NAME, "bundled")
# models loaded in this process, by name: an upload into a running service must not reload the model (≈5 s)
_LOADED: dict[str, Embedder] = {}  # keyed by name, or by folder for the bundled model
_LOADING = threading.Lock()


def load_configured(model: str | None = None) -> tuple[Embedder | None, str | None]:
    """Load the configured model; returns (embedder, None) or (None, the reason it failed).

    A configured model that cannot be loaded is replaced by the bundled e5 (the reason is kept in
    ``load_error``); only when that fails too is (None, reasons) returned.
    """
    name = model or embed_model()
    embedder, error = load_model(name)
    if embedder is not None or name in BUNDLED_ALIASES:
        return embedder, error
    log.warning("embedding model %r could not be loaded (%s); using the bundled %s", name, error, BUNDLED_NAME)
    bundled, bundled_error = load_model(BUNDLED_NAME)
    if bundled is None:
        return None, f"{error}; the bundled model failed too: {bundled_error}"
    bundled = copy.copy(bundled)  # the cached bundled model stays as it is; this one says what it replaces
    bundled.load_error, bundled.requested_model = error, name
    return bundled, None


def load_model(name: str) -> tuple[Embedder | None, str | None]:
    """Load one model by name (``bundled`` for the bundled e5); returns (embedder, None) or (None, why).
    A model loaded once is kept for the life of the process."""
    key = str(bundled_folder()) if name in BUNDLED_ALIASES else name
    with _LOADING:
        if key in _LOADED:
            return _LOADED[key], None
        embedder, error = _load_model(name)
        if embedder is not None:
            _LOADED[key] = embedder
        return embedder, error


def _load_model(name: str) -> tuple[Embedder | None, str | None]:
    try:
        compact = settings().sentencepiece_tokenizer
        if name in BUNDLED_ALIASES:
            return SentenceTransformerEmbedder(ensure_bundled(), name=BUNDLED_NAME, sentencepiece_tokenizer=compact), None
        return SentenceTransformerEmbedder(name, sentencepiece_tokenizer=compact), None
    except (EmbedderLoadError, BundledModelError) as err:
        return None, str(err)
    except Exception as err:  # any loader failure: lexical-only, and say why
        return None, f"{type(err).__name__}: {err}"


def embedder_for_ingest(index: Index, model: str | None, rebuild: bool = False,
                        progress: Callable[[str], None] | None = None) -> Embedder | None:
    """The embedder to extend ``index`` with; None when no model loads (the index stays lexical).

    Raises:
        EmbedderMismatchError: the index holds vectors of another model and ``rebuild`` is not set.
    """
    embedder, error = load_configured(model)
    if embedder is None:
        log.warning("no embedding model could be loaded (%s); indexing lexically only", error)
        if progress:
            progress(f"no embedding model could be loaded ({error}); indexing lexically only")
        return None
    info = index.embedder_info or {}
    if info and not rebuild and index.counts()["passages"] and info.get("fingerprint") != embedder.fingerprint:
        raise EmbedderMismatchError(
            f"the index at {index.root} holds vectors of {info.get('name')!r}, not of {embedder.name!r}; "
            "re-embed everything with `qa ingest --rebuild`, or configure the model it was built with")
    return embedder


def embedder_for_query(index: Index, model: str | None = None) -> Embedder | None:
    """The embedder that built ``index``, or None for an index without vectors.

    Raises:
        EmbedderMismatchError: the index was built by a model that is not available now.
    """
    info = index.embedder_info
    if not info:
        return None
    configured, error = load_model(model or info.get("name") or embed_model())
    if configured is None:
        raise EmbedderMismatchError(f"index at {index.root} was built with {info.get('name')!r}, which cannot be "
                                    f"loaded now ({error}); make it available or rebuild with `qa ingest --rebuild`")
    index.check_embedder(configured)
    return configured
