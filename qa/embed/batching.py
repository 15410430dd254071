"""Concurrent questions share one forward pass: query encodings gathered into batches.

On two cores a service answering eight searches at once would otherwise run eight model calls side by
side, each with its own threads, contending for the same cores. A batcher lets the first caller encode
every question waiting at that moment in one call (leader and followers: no thread of its own); the
others wait for their rows. Passages go straight to the model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from qa.embed.base import Embedder

MAX_BATCH = 32


@dataclass
class _Request:
    texts: list[str]
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class QueryBatcher(Embedder):
    """``inner``'s query encodings, batched across threads.

    Args:
        inner: the embedder that encodes (the model, or the model with a trained query tower).
        max_batch: most questions in one model call.
    """

    def __init__(self, inner: Embedder, max_batch: int = MAX_BATCH):
        self.inner = inner
        self.max_batch = max_batch
        self.name, self.dim, self.fingerprint = inner.name, inner.dim, inner.fingerprint
        self.is_fallback, self.load_error, self.requested_model = inner.is_fallback, inner.load_error, \
            inner.requested_model
        self._pending: list[_Request] = []
        self._busy = False
        self._ready = threading.Condition()
        self.calls = 0  # model calls made (a batch of several questions counts once)

    def __getattr__(self, name: str):  # model, query_prompt, device… as the inner embedder has them
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_passages(texts)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        request = _Request(list(texts))
        if not request.texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._ready:
            self._pending.append(request)
        while True:
            with self._ready:
                while self._busy and not request.done:
                    self._ready.wait()
                if request.done:
                    return self._result(request)
                self._busy = True  # lead: encode what waits now (this request, when the batch has room)
                batch = self._take()
            try:
                self._run(batch)
            finally:
                with self._ready:
                    self._busy = False
                    self._ready.notify_all()

    def _take(self) -> list[_Request]:
        """Waiting requests, oldest first, up to ``max_batch`` questions (at least one request)."""
        batch, size = [], 0
        while self._pending and (not batch or size + len(self._pending[0].texts) <= self.max_batch):
            request = self._pending.pop(0)
            batch.append(request)
            size += len(request.texts)
        return batch

    def _run(self, batch: list[_Request]) -> None:
        texts = list(dict.fromkeys(t for request in batch for t in request.texts))  # a question asked twice: once
        try:
            vectors = self.inner.encode_queries(texts)
            self.calls += 1
        except BaseException as err:  # every waiting caller gets the model's error, not a hang
            for request in batch:
                request.error, request.done = err, True
            return
        row = {text: i for i, text in enumerate(texts)}
        for request in batch:
            request.vectors = vectors[[row[t] for t in request.texts]]
            request.done = True

    @staticmethod
    def _result(request: _Request) -> np.ndarray:
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def info(self) -> dict:
        return self.inner.info()
