"""Lexical index: BM25 (bm25s) over jieba tokens, with a dictionary of policy terms.

Terms such as 高新技术企业 or 研发费用加计扣除 come from a shipped list plus quoted phrases found in
the corpus (“揭榜挂帅”, “皋才生”), so jieba does not cut them apart. Text is normalised before
tokenising: full-width forms, traditional characters → simplified (OpenCC), ``第3条`` → ``第三条``, and
Chinese numerals in figures → digits.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources

import bm25s
import jieba
import numpy as np
import opencc

from qa.clauses.numbering import cn_to_int, normalise_article_refs

jieba.setLogLevel(logging.WARNING)
logging.getLogger("bm25s").setLevel(logging.WARNING)

_CN_NUMERAL = re.compile(r"^[零〇一二两三四五六七八九十百千万]+$")
_QUOTED = re.compile(r"[“\"]([\u4e00-\u9fff\-—·]{2,8})[”\"]")
_WORD = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 在 对 为 是 将 把 被 由 从 以 于 其 之 而 并 也 都 就 要 有 没有 吗 呢 吧 啊 怎么 怎样 什么 哪些 哪 "
    "多少 几 如何 是否 可以 能 会 这 那 这个 那个 这些 那些 我 你 他 她 它 我们 你们 他们 一个 一些 方面 关于 进行 "
    "the a an of to in and or for on is are be what which how many much does do did with by at from as".split()
)


def shipped_terms() -> list[str]:
    """The policy-term dictionary shipped with the package."""
    text = resources.files("qa.data").joinpath("policy_terms.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def corpus_terms(texts: list[str], min_count: int = 1) -> list[str]:
    """Quoted phrases (“…”) of 2–8 characters found in the corpus: names of programmes and brands."""
    counts = Counter(m.group(1) for text in texts for m in _QUOTED.finditer(text))
    return sorted(term for term, count in counts.items() if count >= min_count)


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Full-width → half-width, traditional → simplified characters (OpenCC), lower case, ``第3条`` → ``第三条``."""
    return normalise_article_refs(_to_simplified().convert(unicodedata.normalize("NFKC", text))).lower()


class Tokenizer:
    """jieba in search mode with the policy terms added.

    Args:
        terms: extra dictionary words (the shipped list is always included).
    """

    def __init__(self, terms: list[str] | None = None):
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.terms = sorted(set(shipped_terms()) | set(terms or []))
        for term in self.terms:
            self._jieba.add_word(term, freq=200000)

    def __call__(self, text: str) -> list[str]:
        """Tokens of ``text``: words and their sub-words, numerals as digits, no stopwords or punctuation."""
        tokens = []
        for token in self._jieba.cut_for_search(normalise(text)):
            token = token.strip()
            if not token or token in STOPWORDS or not _WORD.search(token):
                continue
            if len(token) > 1 and _CN_NUMERAL.match(token):
                value = cn_to_int(token)
                token = str(value) if value is not None else token
            tokens.append(token)
        return tokens


_worker_tokenizer: Tokenizer | None = None


def _init_worker(terms: list[str]) -> None:
    global _worker_tokenizer
    _worker_tokenizer = Tokenizer(terms)


def _tokenize_chunk(texts: list[str]) -> list[list[str]]:
    assert _worker_tokenizer is not None
    return [_worker_tokenizer(text) for text in texts]


def tokenize_many(tokenizer: Tokenizer, texts: list[str], workers: int = 2, chunk: int = 2000) -> list[list[str]]:
    """Tokenise many texts, in worker processes when there are enough to be worth it."""
    if workers < 2 or len(texts) < 4 * chunk:
        return [tokenizer(text) for text in texts]
    from concurrent.futures import ProcessPoolExecutor

    chunks = [texts[i:i + chunk] for i in range(0, len(texts), chunk)]
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(tokenizer.terms,)) as pool:
        return [tokens for part in pool.map(_tokenize_chunk, chunks) for tokens in part]


class LexicalIndex:
    """BM25 over tokenised passages; scores every passage so filters can mask them.

    Args:
        k1, b: BM25 parameters.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.model: bm25s.BM25 | None = None
        self.size = 0

    def build(self, passages_tokens: list[list[str]]) -> None:
        self.size = len(passages_tokens)
        self.model = bm25s.BM25(k1=self.k1, b=self.b) if self.size else None
        if self.model is not None:
            self.model.index([tokens or [""] for tokens in passages_tokens], show_progress=False)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage (zeros when no query token is known)."""
        if self.model is None:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in query_tokens if t in self.model.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.model.get_scores(known), dtype=np.float32)

    def save(self, folder) -> None:
        if self.model is not None:
            self.model.save(str(folder))

    def load(self, folder, size: int) -> None:
        self.size = size
        self.model = bm25s.BM25.load(str(folder)) if size else None
