"""Normalised Chinese text for matching (never for offsets): full-width → half-width, traditional →
simplified characters (OpenCC t2s), lower case, ``第3条`` → ``第三条``."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc

from qa.clauses.numbering import normalise_article_refs


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Full-width → half-width, traditional → simplified characters (OpenCC), lower case, ``第3条`` → ``第三条``."""
    return normalise_article_refs(_to_simplified().convert(unicodedata.normalize("NFKC", text))).lower()
