"""Split a document body into clauses along its own numbering.

A clause runs from a numbering marker at the start of a line to the next marker that the
parser accepts; unnumbered paragraphs belong to the clause above them. In laws the unit is
the article: 款 and 项 inside a 第X条 stay in it. Spans are trimmed of surrounding whitespace,
so consecutive clauses are separated only by whitespace and ``body[start:end] == text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.clauses.numbering import HEADING_STYLES, LAW_LEVELS, Marker, cn_to_int, match_marker

MAX_CLAUSE_CHARS = 500
_SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』）)]*|\n+")
_HEADING_END = re.compile(r"[。：:；;！？]")
# A top-level heading glued to the end of the previous paragraph: "…产业高地。二、重点任务"
_INLINE_HEADING = re.compile(r"(?<=[。；！？])([一二三四五六七八九十]+、[^。，；：,:、\s]{2,20})[ \t]*$")


@dataclass
class _Node:
    kind: str
    number: int
    label: str
    heading: str | None
    path_entry: str


@dataclass
class RawClause:
    """A clause before ids and citations are attached."""

    start: int
    end: int
    kind: str = "preamble"
    label: str | None = None
    heading: str | None = None
    ancestors: list[_Node] = field(default_factory=list)
    part: int = 0  # index of this part when a long clause is split

    @property
    def heading_path(self) -> list[str]:
        return [node.path_entry for node in self.ancestors]

    @property
    def position(self) -> str:
        if self.kind == "article" or self.kind in LAW_LEVELS:
            return self.label or ""
        labels = [n.label for n in self.ancestors if n.kind not in LAW_LEVELS and n.kind != "article"]
        return "".join(labels) + (self.label or "")


def _lines(body: str) -> list[tuple[int, int]]:
    """(start, end) of each line, end excluding the newline; mid-line headings become lines."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in body.split("\n"):
        end = pos + len(line)
        m = _INLINE_HEADING.search(line)
        if m and m.start(1) > 0:
            spans.append((pos, pos + m.start(1)))
            spans.append((pos + m.start(1), end))
        else:
            spans.append((pos, end))
        pos = end + 1
    return spans


def _heading(rest: str, kind: str) -> str | None:
    """The heading text after a label: up to the first 。/： if short, or the whole short line."""
    rest = rest.strip()
    if not rest or kind == "article":
        return None
    m = _HEADING_END.search(rest)
    if m and m.start() <= 40:
        return rest[: m.start()].strip() or None
    if not m and len(rest) <= 40:
        return rest
    return None


def _accept(marker: Marker, stack: list[_Node], in_article: bool, last_number: dict[str, int]) -> bool:
    """Whether a marker opens a clause here, given the open numbering levels.

    A style that is not open may start at 1 (or 2, if the first item was lost), or continue the
    numbering it had in an earlier section (如皋's tasks run 1.–26. across (一)–(八)).
    """
    if marker.kind == "article" or marker.kind in LAW_LEVELS:
        return True
    if in_article:
        return False  # 款 and 项 stay inside their article
    for node in reversed(stack):
        if node.kind == marker.kind:
            # the next number (or one after a skipped item), or a new list starting at 1
            return node.number < marker.number <= node.number + 2 or marker.number == 1
    return marker.number <= 2 or not stack or marker.number == last_number.get(marker.kind, -1) + 1


def parse_clauses(body: str, split_before: tuple[int, ...] = (), max_chars: int = MAX_CLAUSE_CHARS) -> list[RawClause]:
    """Split ``body`` into clauses.

    Args:
        body: the cleaned document text.
        split_before: offsets of lines that start a new unnumbered clause (e.g. a plan's own
            title after the notice that wraps it).
        max_chars: clauses longer than this are split at sentence ends into parts.

    Returns:
        clauses in document order, each a span of ``body`` trimmed of outer whitespace.
    """
    stack: list[_Node] = []
    opened: list[RawClause] = [RawClause(start=0, end=0)]
    splits = set(split_before)
    last_number: dict[str, int] = {}
    for start, end in _lines(body):
        line = body[start:end]
        stripped = line.lstrip(" \t\u3000")
        indent = len(line) - len(stripped)
        marker = match_marker(stripped)
        in_article = any(node.kind == "article" for node in stack)
        if marker and _accept(marker, stack, in_article, last_number):
            last_number[marker.kind] = marker.number
            _close_levels(stack, marker)
            heading = _heading(stripped[marker.end:], marker.kind)
            separator = " " if marker.kind in LAW_LEVELS else ""
            path_entry = f"{marker.label}{separator}{heading}" if heading else marker.label
            node = _Node(marker.kind, marker.number, marker.label, heading, path_entry)
            opened.append(RawClause(start=start + indent, end=0, kind=marker.kind, label=marker.label,
                                    heading=heading, ancestors=list(stack)))
            stack.append(node)
        elif start in splits and not stack:
            opened.append(RawClause(start=start, end=0))
    clauses: list[RawClause] = []
    for i, clause in enumerate(opened):
        stop = opened[i + 1].start if i + 1 < len(opened) else len(body)
        span = _trim(body, clause.start, stop)
        if span is None:
            continue
        clause.start, clause.end = span
        clauses.extend(_split_long(body, clause, max_chars))
    return clauses


def _close_levels(stack: list[_Node], marker: Marker) -> None:
    """Pop the levels that a new marker closes: its own style's sibling and everything deeper."""
    if marker.kind in LAW_LEVELS or marker.kind == "article":
        rank = {k: i for i, k in enumerate(LAW_LEVELS + ("article",))}
        while stack and (stack[-1].kind not in rank or rank[stack[-1].kind] >= rank[marker.kind]):
            stack.pop()
        return
    for i in range(len(stack) - 1, -1, -1):
        if stack[i].kind == marker.kind:
            del stack[i:]
            return


def _trim(body: str, start: int, stop: int) -> tuple[int, int] | None:
    segment = body[start:stop]
    left = len(segment) - len(segment.lstrip())
    right = len(segment.rstrip())
    if right <= left:
        return None
    return start + left, start + right


def _split_long(body: str, clause: RawClause, max_chars: int) -> list[RawClause]:
    """Split a clause over ``max_chars`` at sentence ends; parts keep the clause's identity."""
    if clause.end - clause.start <= max_chars or clause.kind in HEADING_STYLES:
        return [clause]
    text = body[clause.start:clause.end]
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    parts: list[tuple[int, int]] = []
    part_start = 0
    last_cut = 0
    for cut in cuts + [len(text)]:
        if cut - part_start > max_chars and last_cut > part_start:
            parts.append((part_start, last_cut))
            part_start = last_cut
        last_cut = cut
    parts.append((part_start, len(text)))
    result = []
    for s, e in parts:
        span = _trim(body, clause.start + s, clause.start + e)
        if span:
            result.append(RawClause(start=span[0], end=span[1], kind=clause.kind, label=clause.label,
                                    heading=clause.heading, ancestors=clause.ancestors, part=len(result)))
    return result


def article_paragraph(body: str, clause_start: int, offset: int) -> int:
    """The 款 (1-based) of the article starting at ``clause_start`` that ``offset`` falls in.

    Every non-empty line is a 款 except 项 lines (``（一）…``), which belong to the 款 above them.
    """
    line_end = body.find("\n", offset)
    paragraphs = 0
    for line in body[clause_start: line_end if line_end >= 0 else len(body)].split("\n"):
        stripped = line.strip()
        if stripped and not (paragraphs and (m := match_marker(stripped)) and m.kind != "article"):
            paragraphs += 1
    return max(paragraphs, 1)


__all__ = ["RawClause", "parse_clauses", "article_paragraph", "cn_to_int", "MAX_CLAUSE_CHARS"]
