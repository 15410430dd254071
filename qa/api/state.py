"""The service's state: settings, and the loaded index as one immutable snapshot swapped in one assignment.

A request takes ``state.snapshot`` once and uses only that object, so it is answered wholly from
the old index or wholly from the new one while an upload or delete replaces it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from qa.answers.extractive import ExtractiveAnswerer
from qa.answers.generative import LLMAnswerer, LLMConfig
from qa.answers.similar import SimilarFinder
from qa.config import settings
from qa.embed.base import Embedder
from qa.embed.batching import QueryBatcher
from qa.embed.transformer import SentenceTransformerEmbedder
from qa.feedback.memory import load_memory
from qa.feedback.query_model import active_fusion, active_version, memory_version, with_active_tower
from qa.index.catalog import DATABASE, FORMAT_VERSION
from qa.index.collection import Index
from qa.index.embedding import embedder_for_query, load_configured
from qa.retrieval.bridge import TermBridge
from qa.retrieval.fusion import FusionConfig
from qa.retrieval.searcher import Searcher

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
    poll_seconds: float = 2.0
    embed_job: bool = True
    merge_idle_seconds: float = 10.0
    traced_queries: bool = True

    @classmethod
    def from_env(cls) -> ServiceSettings:
        """The service's part of ``qa.config.Settings`` (``QA_API_TOKEN``, ``QA_MAX_UPLOAD_MB``, ``QA_LLM_*``…)."""
        config = settings()
        return cls(api_token=(config.api_token or "").strip() or None, max_upload_mb=config.max_upload_mb,
                   llm=LLMConfig.from_env(), poll_seconds=config.poll_seconds, embed_job=config.embed_job,
                   merge_idle_seconds=config.merge_idle_seconds, traced_queries=config.traced_queries)

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


def load_snapshot(index: Index, embedder: Embedder | None, settings: ServiceSettings) -> Snapshot:
    """Wrap one view of the index (and the service's embedder, and the feedback memory) for answering requests."""
    started = time.monotonic()
    memory = load_memory(index, embedder, memory_version(index, embedder)) if embedder is not None else None
    searcher = Searcher(index, embedder, fusion=FusionConfig.configured(active_fusion(index)), memory=memory,
                        bridge=TermBridge.load(index, embedder))
    extractive = ExtractiveAnswerer(searcher)
    answerer = LLMAnswerer(extractive, settings.llm) if settings.llm is not None else extractive
    snapshot = Snapshot(searcher=searcher, answerer=answerer, similar=SimilarFinder(searcher),
                        generation=index.generation, index_format=FORMAT_VERSION)
    log.info("loaded index %s commit %s (%d documents) in %.2fs", index.root, snapshot.generation,
             len(index.documents), time.monotonic() - started)
    return snapshot


class ServiceState:
    """The app's state: settings, the embedder (resolved once, at start-up) and the current snapshot;
    writers take ``write_lock``.

    Args:
        index_dir: the index folder.
        model: embedding model override (None: the one that built the index, else the default).
        settings: environment settings.

    Raises:
        EmbedderMismatchError: the model that built the index cannot be loaded (at start-up, not per request).
    """

    def __init__(self, index_dir: Path, model: str | None, settings: ServiceSettings):
        self.index_dir = Path(index_dir)
        self.model = model
        self.settings = settings
        self.write_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._merge_due: float | None = None
        index = Index.open(self.index_dir)
        from qa.api.uploads import orphans  # an upload killed before its commit left its file behind

        orphans(self.sources_dir, {m.source_path for m in index.metas})
        self.embedder = embedder_for_query(index, model) if index.embedder_info else None
        if self.embedder is None:
            self.embedder, self.embedder_error = load_configured(model)
        else:
            self.embedder_error = None
        self._concurrent_queries(settings)
        self._tuned: tuple[int | None, Embedder | None] = (None, None)
        self._batched: dict[int, QueryBatcher] = {}
        self.snapshot: Snapshot = load_snapshot(index, self._usable_embedder(index), settings)

    def _concurrent_queries(self, settings: ServiceSettings) -> None:
        """Questions of concurrent requests encode side by side through a traced forward pass (no queue for the
        interpreter lock; ``qa serve`` gives torch one thread per caller). Without a trace they are batched
        (``_usable_embedder``)."""
        if settings.traced_queries and isinstance(self.embedder, SentenceTransformerEmbedder):
            log.info("questions encoded through a traced forward pass: %s", self.embedder.trace_queries())

    def _usable_embedder(self, index: Index) -> Embedder | None:
        """The service's embedder if the index's vectors are its (an index without vectors is lexical), with the
        query model trained on feedback when one is active (loaded once per version), its question encodings
        batched across concurrent requests."""
        if self.embedder is None or not index.embedder_info:
            return None
        index.check_embedder(self.embedder)
        version = (active_version(index) or {}).get("active")
        chosen = self.embedder
        if version is not None:
            if self._tuned[0] != version:
                self._tuned = (version, with_active_tower(index, self.embedder))
            chosen = self._tuned[1]
        assert chosen is not None
        if isinstance(self.embedder, SentenceTransformerEmbedder) and self.embedder.traced is not None:
            return chosen
        # concurrent searches share model calls; one batcher per model, so old and new snapshots batch together
        if id(chosen) not in self._batched:
            self._batched = {id(chosen): QueryBatcher(chosen)}
        return self._batched[id(chosen)]

    def reload(self) -> Snapshot:
        """Open the index's latest commit (reusing loaded segments) and swap it in with one assignment."""
        with self._reload_lock:
            index = self.snapshot.index.refresh()
            if index.generation == self.snapshot.generation:
                return self.snapshot
            fresh = load_snapshot(index, self._usable_embedder(index), self.settings)
            self.snapshot = fresh
            return fresh

    def merge_later(self) -> None:
        """Ask for the segments a write left small to be merged once writes pause for
        ``merge_idle_seconds`` (each write pushes it back): writes in a row do not queue behind merges."""
        self._merge_due = time.monotonic() + self.settings.merge_idle_seconds

    def merge_if_idle(self) -> bool:
        """Run the merge asked for, if its quiet time has passed (the background thread calls this)."""
        due = self._merge_due
        if due is None or time.monotonic() < due:
            return False
        self._merge_due = None
        self.compact()
        return True

    def compact(self) -> None:
        """Merge the segments writes left small, then serve the merged commit."""
        from qa.ingest import compact

        try:
            with self.write_lock:
                if compact(self.index_dir, view=self.snapshot.index):
                    self.reload()
        except Exception:  # the writes are committed; a merge that fails leaves more, smaller segments
            log.exception("merging segments after a write failed")

    def remember(self) -> None:
        """Take new feedback into the memory now (a 👍 counts from the next search on): same index, new snapshot."""
        with self._reload_lock:
            index = self.snapshot.index
            self.snapshot = load_snapshot(index, self._usable_embedder(index), self.settings)

    def latest_commit(self) -> int | None:
        """The catalog's newest commit number (cheap; None when the folder has no index yet)."""
        catalog = self.snapshot.index.catalog
        if catalog is None:
            if not (self.index_dir / DATABASE).exists():
                return None
            return -1  # an index appeared: reload
        return catalog.commit_no

    def bridge_stale(self) -> bool:
        """Documents came that the English term bridge has not learned yet (the embedding job refreshes it)."""
        from qa.retrieval.bridge import stale

        return self.embedder is not None and stale(self.snapshot.index, self.embedder)

    def pending_vectors(self) -> int:
        """Live passages still without the model's vector."""
        counts = self.snapshot.index.counts()
        if self.embedder is None or not counts["passages"]:
            return 0
        return counts["passages"] - counts["teacher_vectors"]

    @property
    def sources_dir(self) -> Path:
        """Where uploaded files are kept."""
        return self.index_dir / "sources"
