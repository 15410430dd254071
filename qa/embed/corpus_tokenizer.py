"""Word-level Unigram tokenizer learned from the corpus, for the built-in corpus embedder.

Chinese has no spaces, so a sample of the corpus is segmented with jieba and the word counts become a
``tokenizers`` Unigram model: Viterbi decoding over word log-probabilities is jieba's own
maximum-probability segmentation, but it runs in Rust, needs no jieba at inference time and is saved as
a plain ``tokenizer.json`` that sentence-transformers' ``StaticEmbedding`` loads. Every character that
occurs in the corpus is a piece of its own, so corpus text is never out of vocabulary.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

UNK = "<unk>"
_WORD = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
_SPACE = re.compile(r"\s+")


def _sample(passages: list[str], max_chars: int) -> list[str]:
    """An evenly spread, deterministic sample of passages totalling about ``max_chars`` characters."""
    total = sum(len(p) for p in passages)
    if total <= max_chars:
        return passages
    step = total / max_chars
    picked, budget = [], 0.0
    for passage in passages:
        budget += len(passage) / step
        if budget >= len(passage) or not picked:
            picked.append(passage)
            budget -= len(passage)
    return picked


def build_tokenizer(passages: list[str], vocab_size: int = 40000, sample_chars: int = 3_000_000,
                    min_count: int = 2) -> Tokenizer:
    """Learn a word-level Unigram tokenizer from the corpus.

    Args:
        passages: corpus texts.
        vocab_size: maximum number of pieces (characters always included, then the most frequent words).
        sample_chars: characters of the corpus segmented with jieba to count words.
        min_count: minimum count of a multi-character word in the sample.

    Returns:
        a ``tokenizers.Tokenizer`` (NFKC + lowercase, split on whitespace and punctuation, Unigram).
    """
    import jieba

    jieba.setLogLevel(60)
    normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    sample = [normalizer.normalize_str(p) for p in _sample(passages, sample_chars)]
    words: Counter[str] = Counter()
    for text in sample:
        for chunk in _SPACE.split(text):
            words.update(w for w in jieba.lcut(chunk, HMM=True) if _WORD.search(w))
    raw_chars: Counter[str] = Counter()
    for passage in passages:
        raw_chars.update(passage)
    chars = {c for raw in raw_chars for c in normalizer.normalize_str(raw)}
    singles = {c: n for c, n in words.items() if len(c) == 1}
    pieces: dict[str, float] = {c: singles.get(c, 0.0) + 0.5 for c in sorted(chars) if _WORD.match(c)}
    budget = max(vocab_size - len(pieces) - 1, 0)
    ranked = sorted(((n, w) for w, n in words.items() if len(w) > 1 and n >= min_count), key=lambda x: (-x[0], x[1]))
    for count, word in ranked[:budget]:
        pieces[word] = float(count)
    total = sum(pieces.values())
    vocab = [(UNK, 0.0)] + sorted(((p, math.log(n / total)) for p, n in pieces.items()), key=lambda x: (x[1] * -1, x[0]))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=0))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                       pre_tokenizers.Punctuation(behavior="removed")])
    return tokenizer


def encode(tokenizer: Tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids of each text (no special tokens); repeated texts (titles) are encoded once."""
    unique = list(dict.fromkeys(texts))
    batch = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)  # no offsets: faster (tokenizers>=0.20)
    ids = dict(zip(unique, (e.ids for e in batch(unique, add_special_tokens=False)), strict=True))
    return [ids[t] for t in texts]
