"""The embedding layer through the real loading path: tiny models built locally, loaded with SentenceTransformer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.embed import (  # noqa: E402
    CorpusEmbedder,
    EmbedderLoadError,
    SentenceTransformerEmbedder,
)
from qa.embed.corpus_model import TRAINING_INFO  # noqa: E402
from qa.embed.transformer import BGE_ZH_QUERY, family_prompts  # noqa: E402
from tests.tiny_models import build_tiny_bert, build_tiny_corpus_model, seed_passages  # noqa: E402


@pytest.fixture(scope="session")
def seed_corpus() -> tuple[list[str], list[str]]:
    return seed_passages()


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory, seed_corpus) -> Path:
    return build_tiny_bert(seed_corpus[0], tmp_path_factory.mktemp("bert") / "tiny-bert")


@pytest.fixture(scope="session")
def corpus_model(tmp_path_factory, seed_corpus) -> Path:
    passages, titles = seed_corpus
    return build_tiny_corpus_model(passages, tmp_path_factory.mktemp("corpus") / "corpus-model", titles, dim=128)


def assert_unit_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape == (n, dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_transformer_embedder_applies_saved_prompts(tiny_bert):
    embedder = SentenceTransformerEmbedder(str(tiny_bert))
    assert (embedder.query_prompt, embedder.passage_prompt) == ("query: ", "passage: ")
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


def _seed_documents():
    from qa.documents.loader import load_document
    from tests.conftest import CORPUS

    return [load_document(path) for path in sorted(CORPUS.glob("*.txt"))]


def test_unloadable_model_falls_back_to_corpus_model(monkeypatch, tmp_path, caplog):
    from qa.index.collection import Index
    from qa.index.embedding import embedder_for_ingest

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    documents = _seed_documents()
    with caplog.at_level("WARNING"):
        embedder, folder, reembed = embedder_for_ingest(Index(tmp_path), documents, "no-such-org/no-such-model")
    assert embedder.is_fallback and isinstance(embedder, CorpusEmbedder) and not reembed
    assert "no-such-org/no-such-model" in embedder.info()["load_error"]
    assert "using the built-in corpus embedder" in caplog.text
    assert (folder / TRAINING_INFO).exists() and (folder / "modules.json").exists()
    assert_unit_rows(embedder.encode_passages(["科技创新", "高新技术企业"]), 2, embedder.dim)


def test_configured_model_is_preferred(monkeypatch, tiny_bert, tmp_path):
    from qa.index.collection import Index
    from qa.index.embedding import embedder_for_ingest, load_configured

    monkeypatch.setenv("QA_EMBED_MODEL", str(tiny_bert))
    embedder, folder, _ = embedder_for_ingest(Index(tmp_path), _seed_documents(), None)
    assert not embedder.is_fallback and folder is None and embedder.info()["load_error"] is None
    missing, error = load_configured("no-such-org/no-such-model")
    assert missing is None and "no-such-org/no-such-model" in error


def test_corpus_model_loads_as_sentence_transformer(corpus_model):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(corpus_model), device="cpu")
    assert model.get_embedding_dimension() == 128
    embedder = CorpusEmbedder(corpus_model)
    assert embedder.is_fallback and embedder.dim == 128 and embedder.info()["training"]["passages"] > 100
    assert_unit_rows(embedder.encode_queries(["如皋", "Rugao"]), 2, 128)
    np.testing.assert_allclose(embedder.encode_queries(["Rugao"]), embedder.encode_queries(["如皋"]), atol=1e-6)


@pytest.mark.parametrize(("query", "answer"), [
    ("涟水推动产学研和成果转化,主要依托跟哪两所高校的合作?", "淮阴工学院"),
    ("如皋高新区搞一区多园以后,具体分成了哪几个园区?", "沪苏科创产业园"),
    ("南通在船舶海工领域打算怎么建设高能级创新平台?", "船舶与海工装备技术创新中心"),
    ("涟水这份科技跃升行动计划的发文字号是多少?", "涟政办发〔2024〕7号"),
    ("How many new leading science and technology talents does Taicang aim to add each year?", "科技领军人才超40名"),
])
def test_corpus_model_ranks_the_answer_high(corpus_model, seed_corpus, query, answer):
    passages = seed_corpus[0]
    embedder = CorpusEmbedder(corpus_model)
    scores = embedder.encode_passages(passages) @ embedder.encode_queries([query])[0]
    top = [passages[i] for i in np.argsort(-scores)[:5]]
    assert answer in "".join(top), top


def test_corpus_model_is_deterministic_and_atomic(tmp_path, seed_corpus, corpus_model):
    passages, titles = seed_corpus
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    build_tiny_corpus_model(passages, target, titles, dim=128)
    assert not (target / "stale.txt").exists()
    assert CorpusEmbedder(target).fingerprint == CorpusEmbedder(corpus_model).fingerprint
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
