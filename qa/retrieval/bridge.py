"""English questions meet the documents' words: a bilingual term bridge built from the index.

The lexical side cannot match ``high-tech enterprises`` in a Chinese library. The bridge holds the
collection's own words (its frequent multi-character terms). An English question's phrases that a dictionary
glosses (``glossary``: ``science and technology`` → 科技, ``committee`` → 委员会) become the collection terms they
gloss; its other words and phrases are encoded by the multilingual model and replaced by their nearest collection
terms. The BM25 side then searches those terms. No word list is written by hand: the vocabulary is the index's,
the translations CC-CEDICT's and the model's. The model's vectors of the terms are kept in
``models/bridge-<model>.npz``, extended by the embedding job with the terms each ingest adds.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from pathlib import Path

import numpy as np

from qa.retrieval.glossary import Glossary, gloss_key

log = logging.getLogger("qa.bridge")
FILE = "bridge-{fingerprint}.npz"
MAX_TERMS = 60_000
TRANSLATIONS_KEPT = 256  # one question is translated by every search an answer makes (and twice within each)
MIN_SIMILARITY = 0.88  # chosen on the English questions of the fit half (bench/README.md)
PER_PHRASE = 2
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z\-']*")
_LATIN = re.compile(r"[A-Za-z]")
STOP = frozenset("""a an the of to in on at by for from with and or as is are was were be been being do does did
what which who whom whose when where why how many much will would shall should can could may might must
there here this that these those it its their they them we our you your i me my any some all each every about
into than then so such not no yes if per up out over under again more most other have has had having get got""".split())


def is_english(text: str) -> bool:
    return bool(_LATIN.search(text)) and len(_CJK.findall(text)) < 2


def vocabulary(index, limit: int = MAX_TERMS) -> list[str]:
    """The index's multi-character Chinese terms, most frequent first (document frequency over segments)."""
    frequency: dict[str, int] = {}
    for segment in index.lexical.segments:
        counts = np.diff(np.asarray(segment.indptr))
        for term, number in segment.terms.items():
            if len(term) >= 2 and _CJK.search(term):
                frequency[term] = frequency.get(term, 0) + int(counts[number])
    return [t for t, _ in sorted(frequency.items(), key=lambda item: (-item[1], item[0]))[:limit]]


class TermBridge:
    """Collection terms and the model's vectors of them.

    Args:
        terms: the terms.
        vectors: (len(terms), dim) unit vectors (query prompt).
    """

    def __init__(self, terms: list[str], vectors: np.ndarray):
        self.terms = terms
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._translated = functools.lru_cache(maxsize=TRANSLATIONS_KEPT)(self._translate)  # per bridge, thread-safe

    @functools.cached_property
    def glossary(self) -> Glossary:
        """The dictionary's glosses of the terms (read at the first English question)."""
        return Glossary(self.terms)

    @classmethod
    def refresh(cls, index, embedder) -> TermBridge | None:
        """The index's bridge, its new terms encoded and saved (atomically); None without a model or terms."""
        if embedder is None or index.catalog is None:
            return None
        path = Path(index.root) / "models" / FILE.format(fingerprint=embedder.fingerprint[:16])
        known: dict[str, np.ndarray] = {}
        if path.exists():
            data = np.load(path, allow_pickle=False)
            known = dict(zip(data["terms"].tolist(), data["vectors"], strict=True))
        terms = vocabulary(index)
        missing = [t for t in terms if t not in known]
        if missing or stale(index, embedder):
            for start in range(0, len(missing), 2048):
                chunk = missing[start:start + 2048]
                for term, vector in zip(chunk, embedder.encode_queries(chunk), strict=True):
                    known[term] = vector.astype(np.float16)
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_name(path.name + ".tmp.npz")
            np.savez(staging, terms=np.array(terms), vectors=np.stack([known[t] for t in terms]).astype(np.float16),
                     segments=np.array(_segments(index), dtype=np.int64))
            os.replace(staging, path)
            log.info("term bridge: %d terms (%d new)", len(terms), len(missing))
        if not terms:
            return None
        return cls(terms, np.stack([known[t] for t in terms]).astype(np.float32))

    @classmethod
    def load(cls, index, embedder) -> TermBridge | None:
        """The saved bridge of ``index`` for ``embedder`` (None when it was never built)."""
        if embedder is None:
            return None
        path = Path(index.root) / "models" / FILE.format(fingerprint=embedder.fingerprint[:16])
        if not path.exists():
            return None
        data = np.load(path, allow_pickle=False)
        return cls(data["terms"].tolist(), data["vectors"].astype(np.float32))

    def translate(self, text: str, embedder, min_similarity: float = MIN_SIMILARITY) -> list[str]:
        """Collection terms for the words and two-word phrases of an English ``text`` (nearest by the model); the
        last few texts' terms are kept."""
        return list(self._translated(text, embedder, min_similarity))

    def _translate(self, text: str, embedder, min_similarity: float) -> tuple[str, ...]:
        if not len(self.terms):
            return ()
        glossed = self.glossary.phrases(text, STOP)
        found = [term for _, terms in glossed for term in terms[:PER_PHRASE]]
        covered = {word for phrase, _ in glossed for word in phrase.split()}
        words = [w.lower() for w in _WORD.findall(text)]
        content = [w for w in words if w not in STOP and len(w) > 1 and not set(gloss_key(w).split()) <= covered]
        phrases = list(dict.fromkeys(content + [f"{a} {b}" for a, b in zip(content, content[1:], strict=False)]))
        if not phrases:
            return tuple(dict.fromkeys(found))
        similarity = embedder.encode_queries(phrases) @ self.vectors.T
        for row in similarity:
            best = np.argsort(-row)[:PER_PHRASE]
            found.extend(self.terms[i] for i in best if row[i] >= min_similarity)
        return tuple(dict.fromkeys(found))


def _segments(index) -> list[int]:
    return sorted(segment.seg for segment in index.lexical.segments)


def stale(index, embedder) -> bool:
    """Whether the saved bridge predates the index's lexical segments (documents were added since)."""
    if embedder is None or index.catalog is None or not len(index.passages):
        return False
    path = Path(index.root) / "models" / FILE.format(fingerprint=embedder.fingerprint[:16])
    if not path.exists():
        return True
    data = np.load(path, allow_pickle=False)
    saved = data["segments"].tolist() if "segments" in data.files else []
    return saved != _segments(index)
