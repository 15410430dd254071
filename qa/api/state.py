"""The service's state: settings, and the loaded index as one immutable snapshot swapped in one assignment.

A request takes ``state.snapshot`` once and uses only that object, so it is answered wholly from
the old index or wholly from the new one while an upload or delete replaces it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from qa.answers.extractive import ExtractiveAnswerer
from qa.answers.generative import LLMAnswerer, LLMConfig
from qa.answers.similar import SimilarFinder
from qa.index.collection import Index
from qa.retrieval.searcher import Searcher
from qa.retrieval.service import load_searcher

log = logging.getLogger("qa.api")

DEFAULT_MAX_UPLOAD_MB = 20.0


@dataclass
class ServiceSettings:
    """What the environment configures.

    Args:
        api_token: bearer token that allows uploads and deletes (``QA_API_TOKEN``); None disables them.
        max_upload_mb: largest request body of an upload (``QA_MAX_UPLOAD_MB``, default 20).
        llm: the chat endpoint for LLM answers (``QA_LLM_*``); None answers extractively.
    """

    api_token: str | None = None
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    llm: LLMConfig | None = None

    @classmethod
    def from_env(cls) -> ServiceSettings:
        """Read ``QA_API_TOKEN``, ``QA_MAX_UPLOAD_MB`` and ``QA_LLM_*``."""
        token = os.environ.get("QA_API_TOKEN", "").strip() or None
        try:
            limit = float(os.environ.get("QA_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB))
        except ValueError:
            raise ValueError(f"QA_MAX_UPLOAD_MB must be a number, not {os.environ['QA_MAX_UPLOAD_MB']!r}") from None
        return cls(api_token=token, max_upload_mb=limit, llm=LLMConfig.from_env())

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


@dataclass(frozen=True)
class Snapshot:
    """Everything loaded from one index generation.

    Args:
        searcher: hybrid search over the generation.
        answerer: answers questions (extractive, or LLM with extractive fallback).
        similar: finds precedent wording.
        generation: the index generation number (0 for an empty index).
        index_format: the index format version.
        loaded_at: when it was loaded (``time.time()``).
    """

    searcher: Searcher
    answerer: ExtractiveAnswerer | LLMAnswerer
    similar: SimilarFinder
    generation: int
    index_format: int | None
    loaded_at: float = field(default_factory=time.time)

    @property
    def index(self) -> Index:
        return self.searcher.index


def load_snapshot(index_dir: Path, model: str | None, settings: ServiceSettings) -> Snapshot:
    """Load the live generation of ``index_dir`` with its embedder.

    Raises:
        EmbedderMismatchError: the model that built the index cannot be loaded.
    """
    started = time.monotonic()
    searcher = load_searcher(index_dir, model)
    extractive = ExtractiveAnswerer(searcher)
    answerer = LLMAnswerer(extractive, settings.llm) if settings.llm is not None else extractive
    manifest = searcher.index.store.read_manifest() or {}
    snapshot = Snapshot(searcher=searcher, answerer=answerer, similar=SimilarFinder(searcher),
                        generation=int(searcher.index.generation or 0),
                        index_format=manifest.get("format_version"))
    log.info("loaded index %s generation %s (%d documents) in %.1fs", index_dir, snapshot.generation,
             len(searcher.index.documents), time.monotonic() - started)
    return snapshot


class ServiceState:
    """The app's state: settings and the current snapshot; writers take ``write_lock``.

    Args:
        index_dir: the index folder.
        model: embedding model override (None: the one that built the index).
        settings: environment settings.
    """

    def __init__(self, index_dir: Path, model: str | None, settings: ServiceSettings):
        self.index_dir = Path(index_dir)
        self.model = model
        self.settings = settings
        self.write_lock = threading.Lock()
        self.snapshot: Snapshot = load_snapshot(self.index_dir, model, settings)

    def reload(self) -> Snapshot:
        """Load the index's new live generation and swap it in (one assignment)."""
        fresh = load_snapshot(self.index_dir, self.model, self.settings)
        self.snapshot = fresh
        return fresh

    @property
    def sources_dir(self) -> Path:
        """Where uploaded files are kept."""
        return self.index_dir / "sources"
