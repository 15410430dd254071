"""The lexical side's tokenizer: jieba in search mode over normalised text.

Text is normalised before tokenising — full-width forms, traditional characters → simplified
(OpenCC), ``第3条`` → ``第三条``, and Chinese numerals in figures → digits — so a question in
traditional characters or with Arabic article numbers meets the same tokens as the documents.
Tokenisation is a pure function of the text: segments written at different times agree, and one tokenizer
serves a whole process (``shared_tokenizer``): every index view, search and in-process ingest.
"""

from __future__ import annotations

import logging
import re
import threading

import jieba
import jieba.posseg

from qa.clauses.numbering import cn_to_int
from qa.documents.chinese import normalise

jieba.setLogLevel(logging.WARNING)

_CN_NUMERAL = re.compile(r"^[零〇一二两三四五六七八九十百千万]+$")
_WORD = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 在 对 为 是 将 把 被 由 从 以 于 其 之 而 并 也 都 就 要 有 没有 吗 呢 吧 啊 怎么 怎样 什么 哪些 哪 "
    "多少 几 如何 是否 可以 能 会 这 那 这个 那个 这些 那些 我 你 他 她 它 我们 你们 他们 一个 一些 方面 关于 进行 "
    "the a an of to in and or for on is are be what which how many much does do did with by at from as".split()
)


_SHARED: Tokenizer | None = None
_SHARED_LOCK = threading.Lock()


def shared_tokenizer() -> Tokenizer:
    """The process's tokenizer, made at the first call: jieba's dictionary and tags load once (about 2 s and 105 MB
    each time), not once for the searches and again for the service's first upload."""
    global _SHARED
    if _SHARED is not None:  # every search asks: no lock once it exists
        return _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Tokenizer()
        return _SHARED


class Tokenizer:
    """jieba in search mode (words and their sub-words), with its own dictionary instance."""

    def __init__(self) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self._tagger = jieba.posseg.POSTokenizer(self._jieba)

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

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """The words of ``text`` in jieba's precise mode (no sub-words) with their parts of speech, normalised as
        ``__call__`` normalises."""
        return [(pair.word, pair.flag) for pair in self._tagger.cut(normalise(text)) if pair.word.strip()]
