"""A sentence-transformers model's query path as one TorchScript call.

Eager PyTorch takes Python's interpreter lock back after every operation of the forward pass, so a question
being encoded waits behind whatever the service's other requests do in Python (fusing, reading clauses):
with eight concurrent hybrid searches on two cores most of an encoding was spent queueing for the lock. A
traced module runs the whole forward pass in C++ with the lock released, and several questions encode side by
side. The trace is used only for models it can reproduce (a transformer, mean pooling over every token, and
normalisation) and only when it gives the model's own vectors on probe texts of several lengths, padded
together and alone; otherwise the eager model stays.
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any

import numpy as np

log = logging.getLogger("qa.embed")
MIN_COSINE = 0.99999  # the traced vectors must be the model's own, not an approximation
PROBES = ("科技", "如皋到2025年要培育多少家高新技术企业?", "How many high-tech enterprises will Rugao have by 2025?",
          "支持企业加大研发投入，对研发费用加计扣除的企业给予奖励，" * 12)
_TRACING = threading.Lock()


class TracedQueries:
    """Encodes prompted query texts with a traced copy of the model's forward pass and pooling.

    Args:
        model: the loaded ``SentenceTransformer``.
        module: the traced forward pass: (input_ids, attention_mask) → unit vectors.
    """

    def __init__(self, model: Any, module: Any):
        self.model = model
        self.module = module
        self._tokenizing = threading.Lock()  # one tokenizer object serves every request thread

    @classmethod
    def trace(cls, model: Any, prompt: str = "") -> TracedQueries | None:
        """Trace ``model``'s query path; None when the model is of another kind or the trace differs from it.

        Args:
            model: a ``SentenceTransformer``.
            prompt: the query prompt the model's vectors are made with (e5's ``query: ``).

        Returns:
            the traced encoder, or None (the caller keeps the eager model).
        """
        with _TRACING:  # once per model and prompt: the traces live on the model (services share a loaded model)
            traces = model.__dict__.setdefault("_qa_traced_queries", {})
            if prompt not in traces:
                traces[prompt] = cls._trace(model, prompt)
            return traces[prompt]

    @classmethod
    def _trace(cls, model: Any, prompt: str) -> TracedQueries | None:
        import torch

        if not _mean_pooled_transformer(model):
            return None
        try:
            transformer = model[0].auto_model.eval()
            features = _tokenize(model, [prompt + t for t in PROBES[:2]])
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = torch.jit.trace(_mean_pooled(transformer),
                                         (features["input_ids"], features["attention_mask"]),
                                         check_trace=False, strict=False)
            traced = cls(model, module)
            texts = [prompt + t for t in PROBES]
            eager = model.encode(texts, batch_size=len(texts), convert_to_numpy=True, normalize_embeddings=True,
                                 show_progress_bar=False)
            together = traced.encode(texts)
            alone = np.concatenate([traced.encode([t]) for t in texts])
            agreement = min(float(np.min(np.sum(eager * v, axis=1))) for v in (together, alone))
        except Exception as exc:  # a model the tracer cannot follow: the eager path is always correct
            log.info("query path not traced (%s: %s)", type(exc).__name__, exc)
            return None
        if agreement < MIN_COSINE:
            log.info("query path not traced: traced vectors differ from the model's (cosine %.6f)", agreement)
            return None
        return traced

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts`` (already prompted), as ``model.encode`` gives them."""
        import torch

        with self._tokenizing:
            features = _tokenize(self.model, texts)
        with torch.inference_mode():
            vectors = self.module(features["input_ids"], features["attention_mask"])
        return vectors.float().numpy()


def _tokenize(model: Any, texts: list[str]) -> dict:
    """The model's own tokenisation (``preprocess`` in sentence-transformers 6, ``tokenize`` before)."""
    preprocess = getattr(model, "preprocess", None)
    return preprocess(texts) if preprocess is not None else model.tokenize(texts)


def _mean_pooled_transformer(model: Any) -> bool:
    """Whether ``model`` is a transformer, mean pooling over all tokens, and (optionally) normalisation."""
    try:
        modules = list(model)
    except TypeError:
        return False
    names = [type(m).__name__ for m in modules]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    pooling = modules[1]
    modes = (pooling.pooling_mode,) if isinstance(getattr(pooling, "pooling_mode", None), str) \
        else tuple(getattr(pooling, "pooling_mode", ()) or ())
    return modes == ("mean",) and getattr(pooling, "include_prompt", True) and hasattr(modules[0], "auto_model")


def _mean_pooled(transformer: Any) -> Any:
    """The module to trace: the transformer's last hidden states averaged over the real tokens, normalised."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return MeanPooled(transformer).eval()
