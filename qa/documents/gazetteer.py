"""A gazetteer of Chinese administrative divisions: which places a text names, and how places nest.

``data/divisions.tsv`` is generated from cpca (MIT) by ``scripts/gazetteer_from_cpca.py``: every province,
prefecture and county with its 12-digit code, its short form (如皋 for 如皋市) where that is not an
everyday word, and the short form's pinyin for English text (Rugao). Traditional characters are read
through OpenCC; a county's short form counts only as a word of its own (大城县's 大城 is not in 大城市).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from qa.documents.chinese import normalise

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_LEVEL_DIGITS = {"province": 2, "prefecture": 4, "county": 6}


@dataclass(frozen=True)
class Division:
    """One administrative division of the gazetteer."""

    code: str
    name: str
    short: str
    level: str
    pinyin: str

    def contains(self, other: Division) -> bool:
        digits = _LEVEL_DIGITS[self.level]
        return other.code[:digits] == self.code[:digits]


class Gazetteer:
    """Names, short forms and pinyin of every division, and the divisions a text names."""

    def __init__(self, divisions: list[Division]):
        self.divisions = divisions
        self.by_name: dict[str, list[Division]] = {}
        for division in divisions:
            for name in {division.name, division.short} - {""}:
                self.by_name.setdefault(name, []).append(division)
        names = sorted(self.by_name, key=lambda n: (-len(n), n))
        self._pattern = re.compile("|".join(map(re.escape, names)))
        self.by_pinyin: dict[str, list[Division]] = {}
        for division in divisions:
            if division.pinyin and len(division.short) >= 2:
                self.by_pinyin.setdefault(division.pinyin, []).append(division)
        self._document_places: dict[tuple[str, str, str], list[Division]] = {}
        self._contained: dict[str, list[Division]] = {}

    @classmethod
    def shipped(cls) -> Gazetteer:
        return _shipped()

    def find(self, text: str) -> list[tuple[str, list[Division]]]:
        """Places named in ``text`` (traditional characters and pinyin words included), in order, each with the
        divisions its name may denote."""
        return [(written, divisions) for written, _, _, divisions in self.find_spans(text)]

    def find_spans(self, text: str) -> list[tuple[str, int, int, list[Division]]]:
        """Like ``find``, with each name's offsets in the normalised text (pinyin words: in ``text``)."""
        normal = normalise(text)
        bounds: set[int] | None = None  # jieba's word boundaries, cut only when a short form needs them
        found = []
        for m in self._pattern.finditer(normal):
            divisions = self.by_name[m.group()]
            if not any(d.name == m.group() for d in divisions):
                # a county's short form must be a word of its own (大城 in 大城市 is not 大城县); a city's or
                # province's may begin a compound (苏州工业园区)
                bounds = _word_bounds(normal) if bounds is None else bounds
                county = all(d.level == "county" for d in divisions)
                if m.start() not in bounds or (m.end() not in bounds and county):
                    continue
            found.append((m.group(), m.start(), m.end(), divisions))
        for m in _LATIN_WORD.finditer(text):
            divisions = self.by_pinyin.get(m.group().lower())
            if divisions:
                found.append((m.group(), m.start(), m.end(), divisions))
        return sorted(found, key=lambda item: item[1])

    def document_places(self, region: str | None, issuer: str | None, title: str) -> list[Division]:
        """The divisions a document speaks for: its region field, else the first place its issuer or title
        names. Cached: the service re-reads every document's places on each commit."""
        key = (region or "", issuer or "", title)
        cached = self._document_places.get(key)
        if cached is None:
            cached = self.lookup(region or "")
            if not cached:
                found = self.find(issuer or "") or self.find(title)
                cached = found[0][1] if found else []
            if len(self._document_places) >= 100_000:
                self._document_places.clear()
            self._document_places[key] = cached
        return cached

    def lookup(self, name: str) -> list[Division]:
        """Divisions a document's region field names (``如皋市``)."""
        if not name:
            return []
        found = self.by_name.get(name) or self._contained.get(name)
        if found is None:  # a scan of every name: done once per region field (the service looks them up per commit)
            found = [d for n, ds in self.by_name.items() if n and n in name for d in ds][:3]
            if len(self._contained) >= 100_000:
                self._contained.clear()
            self._contained[name] = found
        return found


def _word_bounds(text: str) -> set[int]:
    import jieba

    bounds, position = {0}, 0
    for word in jieba.cut(text):
        position += len(word)
        bounds.add(position)
    return bounds


@lru_cache(maxsize=1)
def _shipped() -> Gazetteer:
    text = resources.files("qa.documents").joinpath("data", "divisions.tsv").read_text(encoding="utf-8")
    divisions = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, name, short, level, pinyin = line.split("\t")
            divisions.append(Division(code, name, short, level, pinyin))
    return Gazetteer(divisions)
