"""Numbering styles of Chinese official documents and laws, and Chinese numerals.

A line opens a clause when it starts with one of these markers: 第X编/分编/章/节, 第X条,
一、, （一）/(一), 1./1、/1．, （1）/(1), ①.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
CN_NUM = "零〇○一二两三四五六七八九十百千"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_to_int(text: str) -> int | None:
    """Parse a Chinese or Arabic numeral (``十二``, ``一百零三``, ``二〇二三``, ``12``, ``１２``).

    Returns:
        the integer, or None when ``text`` is not a numeral.
    """
    text = text.strip().translate(_FULLWIDTH_DIGITS)
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(ch not in CN_DIGITS and ch not in CN_UNITS for ch in text):
        return None
    if all(ch in CN_DIGITS for ch in text) and len(text) > 1:  # digit-by-digit: 二〇二三
        return int("".join(str(CN_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch == "万":
            section = (section + digit) * 10000
            total += section
            section, digit = 0, 0
        else:
            section += (digit or 1) * CN_UNITS[ch]
            digit = 0
    return total + section + digit


def int_to_cn(number: int) -> str:
    """Write ``number`` (0–99999) the way articles are numbered: 10 → 十, 21 → 二十一, 105 → 一百零五."""
    if number == 0:
        return "零"
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    units = [(10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")]
    zero_pending = False
    for value, unit in units:
        d = (number // value) % 10
        if d == 0:
            zero_pending = bool(parts)
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        parts.append(digits[d] + unit)
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

# Order matters: article before chapter-like, so "第十条" is never read as a heading.
_NUM = rf"[{CN_NUM}0-9０-９]+"
MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("article", re.compile(rf"第(?P<n>{_NUM})条(?:之(?P<sub>[{CN_NUM}]+))?(?=[ \t\u3000]|$)")),
    ("part", re.compile(rf"第(?P<n>{_NUM})编(?=[ \t\u3000]|$)")),
    ("subpart", re.compile(rf"第(?P<n>{_NUM})分编(?=[ \t\u3000]|$)")),
    ("chapter", re.compile(rf"第(?P<n>{_NUM})章(?=[ \t\u3000]|$)")),
    ("section", re.compile(rf"第(?P<n>{_NUM})节(?=[ \t\u3000]|$)")),
    ("cn", re.compile(rf"(?P<n>[{CN_NUM}]+)[、．.](?![0-9])")),
    ("paren_cn", re.compile(rf"[（(](?P<n>[{CN_NUM}]+)[）)][、．.]?")),
    ("digit", re.compile(r"(?P<n>[0-9０-９]{1,3})(?:[、．]|\.(?![0-9０-９]))(?![0-9０-９%％])")),
    ("paren_digit", re.compile(r"[（(](?P<n>[0-9０-９]{1,3})[）)]")),
    ("circled", re.compile(rf"(?P<n>[{CIRCLED}])")),
]
LAW_LEVELS = ("part", "subpart", "chapter", "section")
HEADING_STYLES = LAW_LEVELS  # these lines are headings of what follows, never clauses with body text


@dataclass(frozen=True)
class Marker:
    """A numbering marker found at the start of a line."""

    kind: str
    number: int
    label: str  # verbatim, e.g. "（二）", "4.", "第十条"
    end: int  # offset just past the label within the searched string


def match_marker(line: str) -> Marker | None:
    """Return the numbering marker that opens ``line``, if any.

    A digit marker must be followed by text that is not a figure (``2023.10``, ``3.3%``, ``1.5亿``
    never open a clause), and the line must hold more than the bare marker.
    """
    for kind, pattern in MARKERS:
        m = pattern.match(line)
        if not m:
            continue
        raw = m.group("n")
        number = CIRCLED.index(raw) + 1 if kind == "circled" else cn_to_int(raw)
        if number is None or number == 0:
            return None
        rest = line[m.end():]
        if kind not in ("article",) + LAW_LEVELS and not rest.strip():
            return None
        if kind == "digit" and rest[:1] in "年月日号时个万亿元%％":
            return None
        return Marker(kind=kind, number=number, label=m.group(0), end=m.end())
    return None


def normalise_article_refs(text: str) -> str:
    """Rewrite ``第3条``/``第３章`` as ``第三条``/``第三章`` so both spellings match."""
    def repl(m: re.Match[str]) -> str:
        return f"第{int_to_cn(int(m.group(1).translate(_FULLWIDTH_DIGITS)))}{m.group(2)}"

    return re.sub(r"第([0-9０-９]{1,5})(条|款|项|章|节|编)", repl, text)
