"""English → Chinese query glossary for the built-in corpus embedder, which has no English of its own."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

GLOSSARY_FILE = Path(__file__).with_name("data") / "glossary.json"
_LATIN = re.compile(r"[A-Za-z]")


class QueryGlossary:
    """Replace English policy/legal terms and place names in a query by their Chinese equivalents.

    Phrases match case-insensitively on word boundaries, longest first; English function words are dropped.
    Queries without Latin letters are returned unchanged.

    Args:
        terms: English phrase → Chinese replacement.
        drop: English words removed from queries.
    """

    def __init__(self, terms: dict[str, str], drop: list[str] | None = None) -> None:
        self.terms = {k.lower(): v for k, v in terms.items()}
        table = dict(self.terms)
        table.update({w.lower(): "" for w in drop or [] if w.lower() not in table})
        self._table = table
        phrases = sorted(table, key=lambda p: (-len(p), p))
        self._pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, phrases)) + r")(?![A-Za-z0-9])",
                                   re.IGNORECASE) if phrases else None

    @classmethod
    def builtin(cls) -> QueryGlossary:
        """The glossary shipped in ``qa/embed/data/glossary.json``."""
        return _builtin()

    @classmethod
    def from_file(cls, path: str | Path) -> QueryGlossary:
        """Load a glossary file: ``{"terms": {english: chinese}, "drop": [words]}``."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data.get("terms", {}), data.get("drop", []))

    def apply(self, text: str) -> str:
        """The query with glossary phrases replaced (unchanged when it has no Latin letters).

        Args:
            text: query.

        Returns:
            the rewritten query.
        """
        if self._pattern is None or not _LATIN.search(text):
            return text
        rewritten = self._pattern.sub(lambda m: f" {self._table[m.group(1).lower()]} ", text)
        return " ".join(rewritten.split())

    def __len__(self) -> int:
        return len(self.terms)


@lru_cache(maxsize=1)
def _builtin() -> QueryGlossary:
    return QueryGlossary.from_file(GLOSSARY_FILE)
