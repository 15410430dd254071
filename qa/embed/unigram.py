"""A model's Unigram tokenizer run by SentencePiece: the same token ids in a quarter of the memory.

XLM-R-family models (e5, bge-m3) tokenise with a Unigram vocabulary of about 250,000 pieces. The Rust ``tokenizers``
object that sentence-transformers loads keeps it in about 330 MB of heap (a trie of hash maps), in every process that
encodes; SentencePiece's double-array trie keeps the same vocabulary in about 65 MB. The loaded tokenizer's pipeline
(a precompiled normalisation map, whitespace split, a metaspace before each word, Unigram pieces) is re-expressed as
a SentencePiece model, and it replaces the loaded tokenizer only when it gives the loaded tokenizer's own ids on
probe texts, alone and padded together; otherwise the loaded one stays. SentencePiece keeps scores in float32, so
two segmentations that tie within its precision may be split otherwise: one line in 27,521 texts of laws, reports
and questions, at its 12,374th token.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from typing import Any

log = logging.getLogger("qa.embed")
METASPACE = "\u2581"
PROBES = ("科技", "如皋到2025年要培育多少家高新技术企业?", "How many high-tech enterprises will Rugao have by 2025?",
          "  两端有空格的句子  ", "全角\u3000空格\t制表符\n换行 \u200b", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ①②", "第一条　为了规范……",
          "<s> 特殊 <mask> 记号 </s>", "émigré naïve Ärger ñ", "😀 表情 ㈱ ㎡", "",
          "支持企业加大研发投入，对研发费用加计扣除的企业给予奖励，" * 30)


def compact_tokenizer(model: Any) -> bool:
    """Give ``model`` (a ``SentenceTransformer``) a SentencePiece copy of its Unigram tokenizer when the copy
    tokenises exactly as the loaded one does.

    Args:
        model: the loaded ``SentenceTransformer``; its first module's processor is replaced in place.

    Returns:
        whether the tokenizer was replaced (False, and nothing changes, for other tokenizers, when ``sentencepiece``
        is missing, or when any probe's ids differ).
    """
    module = model[0] if len(model) else None
    loaded = getattr(module, "tokenizer", None)
    if loaded is None or getattr(module, "processor", None) is not loaded or not getattr(loaded, "is_fast", False):
        return False
    try:
        compact = _sentencepiece_copy(loaded)
    except Exception as exc:  # a tokenizer of another shape: the loaded one is always right
        log.info("tokenizer kept as loaded (%s: %s)", type(exc).__name__, exc)
        return False
    if compact is None or not _same_ids(loaded, compact):
        log.info("tokenizer kept as loaded: no SentencePiece copy gives its ids")
        return False
    module.processor = compact
    formatter = getattr(module, "input_formatter", None)  # sentence-transformers 6 keeps the processor here too
    if getattr(formatter, "processor", None) is loaded:
        formatter.processor = compact
    return True


def _sentencepiece_copy(loaded: Any) -> Any | None:
    """A ``SentencePieceBackend`` tokenizer with ``loaded``'s pieces, scores, normalisation and special tokens, or
    None when ``loaded`` is not a metaspace Unigram tokenizer with a precompiled normalisation map."""
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    spec = json.loads(loaded.backend_tokenizer.to_str())
    charsmap = _precompiled_charsmap(spec.get("normalizer"))
    if spec["model"].get("type") != "Unigram" or charsmap is None or not _metaspace(spec.get("pre_tokenizer")):
        return None
    piece_type = model_pb2.ModelProto.SentencePiece
    special_ids = {token["id"] for token in spec.get("added_tokens", ())}
    unk_id = spec["model"].get("unk_id")
    proto = model_pb2.ModelProto()
    for number, (piece, score) in enumerate(spec["model"]["vocab"]):
        entry = proto.pieces.add(piece=piece, score=score, type=piece_type.NORMAL)
        if number == unk_id:
            entry.type = piece_type.UNKNOWN
        elif number in special_ids:
            entry.type = piece_type.CONTROL
    del spec
    trainer = proto.trainer_spec
    trainer.model_type = model_pb2.TrainerSpec.UNIGRAM
    trainer.vocab_size = len(proto.pieces)
    trainer.unk_id = -1 if unk_id is None else unk_id
    trainer.bos_id, trainer.eos_id, trainer.pad_id = (
        -1 if token is None else token for token in (loaded.bos_token_id, loaded.eos_token_id, loaded.pad_token_id))
    normalizer = proto.normalizer_spec
    normalizer.name = "user_defined"
    normalizer.precompiled_charsmap = charsmap
    normalizer.add_dummy_prefix = normalizer.remove_extra_whitespaces = normalizer.escape_whitespaces = True
    special = {name: getattr(loaded, name) for name in ("bos_token", "eos_token", "cls_token", "sep_token",
                                                        "unk_token", "pad_token", "mask_token")
               if getattr(loaded, name, None) is not None}
    descriptor, path = tempfile.mkstemp(suffix=".model")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(proto.SerializeToString())
        del proto
        compact = _tokenizer_class()(vocab_file=path, special_tokens_pattern="cls_sep",
                                       model_max_length=loaded.model_max_length, padding_side=loaded.padding_side,
                                       truncation_side=loaded.truncation_side, **special)
    finally:
        os.unlink(path)  # the processor holds the model it loaded
    return compact


def _tokenizer_class() -> type:
    """transformers' SentencePiece tokenizer, with its vocabulary listed by one call instead of one per piece (its
    initialisation lists it twice: 1.1 s for 250,000 pieces, one by one)."""
    from transformers.tokenization_utils_sentencepiece import SentencePieceBackend

    class UnigramTokenizer(SentencePieceBackend):
        def get_vocab(self) -> dict[str, int]:
            size = self.sp_model.get_piece_size()
            vocab = dict(zip(self.sp_model.id_to_piece(list(range(size))), range(size), strict=True))
            vocab.update(self.added_tokens_encoder)
            return vocab

    return UnigramTokenizer


def _precompiled_charsmap(normalizer: dict | None) -> bytes | None:
    """The precompiled normalisation map, when it is the tokenizer's whole normalisation."""
    if normalizer and normalizer.get("type") == "Sequence" and len(normalizer.get("normalizers", ())) == 1:
        normalizer = normalizer["normalizers"][0]
    if normalizer and normalizer.get("type") == "Precompiled" and normalizer.get("precompiled_charsmap"):
        return base64.b64decode(normalizer["precompiled_charsmap"])
    return None


def _metaspace(pre_tokenizer: dict | None) -> bool:
    """Whether the words are split at whitespace and each given a leading metaspace, as SentencePiece does."""
    steps = pre_tokenizer.get("pretokenizers", ()) if pre_tokenizer and pre_tokenizer.get("type") == "Sequence" \
        else [pre_tokenizer or {}]
    kinds = [step.get("type") for step in steps]
    last = steps[-1] if steps else {}
    return kinds in (["Metaspace"], ["WhitespaceSplit", "Metaspace"]) and last.get("replacement") == METASPACE \
        and last.get("prepend_scheme", "always") == "always"


def _same_ids(loaded: Any, compact: Any) -> bool:
    """Whether both tokenizers give the same ids and masks on the probes: alone, padded together and truncated to
    the model's length, and without the special tokens."""
    texts = list(PROBES)
    for options in ({}, {"add_special_tokens": False}):
        if [loaded(t, **options)["input_ids"] for t in texts] != [compact(t, **options)["input_ids"] for t in texts]:
            return False
    padded = {"padding": True, "truncation": True, "max_length": loaded.model_max_length}
    ours, theirs = compact(texts, **padded), loaded(texts, **padded)
    return all(ours[key] == theirs[key] for key in ("input_ids", "attention_mask"))
