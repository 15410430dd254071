"""Sentences of a clause as offsets into its text: the units answers quote and sentence vectors embed.

Sentences end at ``。；！？`` (and their ASCII forms) and at line ends; list labels and trailing commas are
left out, so ``text[start:end]`` is the wording a quote stands for.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^。；！？!?;\n]+")
# Leading list labels and bullets are not part of the wording a quote stands for.
_LEADING = re.compile(r"^(?:[\s\u3000]|[（(]?[一二三四五六七八九十\d]{1,3}[)）、.．]|[①-⑳]|[-•·*#]+)+")
_TRAILING = re.compile(r"[\s\u3000,，、:：]+$")
_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")


def sentence_spans(text: str, min_chars: int = 4) -> list[tuple[int, int]]:
    """Sentences of ``text`` as ``(start, end)`` offsets, terminators and list labels left out.

    Args:
        text: a clause's text.
        min_chars: sentences with fewer word characters are dropped (stray labels, headings like ``一、``).

    Returns:
        spans in text order; ``text[start:end]`` is the sentence.
    """
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        piece = match.group()
        lead = _LEADING.match(piece)
        if lead:
            start += lead.end()
        trail = _TRAILING.search(text[start:end])
        if trail:
            end = start + trail.start()
        if end > start and len(_WORDISH.findall(text[start:end])) >= min_chars:
            spans.append((start, end))
    return spans
