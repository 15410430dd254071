"""Text helpers the answerers share: sentence spans, figures, numbers and character-bigram containment.

Sentences end at ``。；！？`` (and their ASCII forms) and at line ends. Spans are offsets into the text
they came from, so a sentence is always ``text[start:end]`` — the basis of every verbatim quote.
"""

from __future__ import annotations

import re
import unicodedata

from qa.clauses.sentences import sentence_spans  # noqa: F401  (re-exported for the answerers)

_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")
_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
# Chinese numerals with a digit in them: 万 or 百 alone is a scale, not a number (万人发明专利拥有量 is per 10,000
# people, 万元GDP per 10,000 yuan)
CN_NUMBER = r"(?=[百千万亿]*[零〇一二两三四五六七八九十])[" + _CN_DIGITS + r"]"
_UNIT = r"(?:%|％|‰|个百分点|倍|亿元|万元|元|亿|万|千|百|家|名|人|个|项|所|件|条|座|套|台|次|篇|平方米|亩|公里|吨|户)"
# A figure: a number not followed by 年/月/日 and not a year, or Chinese numerals with a unit.
_FIGURE = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.]|\s*[年月日])|" + CN_NUMBER + r"{1,6}" + _UNIT)
# a clause of a question: the text between its punctuation marks (a list within it keeps its 、)
QUESTION_CLAUSE = re.compile(r"[^，,。？?；;！!：:—]+")
_PERCENT = re.compile(r"\d+(?:\.\d+)?\s*(?:%|％|‰|个百分点)|百分之[" + _CN_DIGITS + r"点]+|[一二三四五六七八九]成(?=以上|左右|$|[，,。；])")
_MONEY = re.compile(r"(?:\d+(?:\.\d+)?|" + CN_NUMBER + r"+)\s*(?:亿|万|千|百)?(?:美)?元")
_RANK = re.compile(r"第\s*(?:\d+|[" + _CN_DIGITS + r"]+)\s*(?:位|名)|前\s*(?:\d+|[" + _CN_DIGITS + r"]+)\s*(?:位|名|强)"
                   r"|(?:\d+|[" + _CN_DIGITS + r"]+)\s*强")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|[" + _CN_DIGITS + r"]{2,}")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
# A short quoted name (“四个面向”, “8050计划”, “科技新九条”) or an ordinal (第二十条): a number in it counts nothing.
_NAMED = re.compile(r"“[^”]{1,24}”|「[^」]{1,24}」|第\s*(?:\d+|[" + _CN_DIGITS + r"]+)")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC (full-width → half-width) and lower case; lengths can change, so never use it for offsets."""
    return unicodedata.normalize("NFKC", text).lower()


def figure_positions(text: str, kind: str = "any") -> list[int]:
    """Where the figures of a kind start in ``normalise(text)``.

    Args:
        text: the text.
        kind: ``any`` (a quantity, not a year), ``share`` (a percentage), ``money`` (an amount in 元) or ``rank``
            (a place in a ranking: 第20位, 前25位, 百强).

    Returns:
        offsets into the normalised text.
    """
    normal = normalise(text)
    if kind == "rank":  # an ordinal is the figure asked for here
        return [m.start() for m in _RANK.finditer(normal)]
    named = [m.span() for m in _NAMED.finditer(normal)]
    pattern = _PERCENT if kind == "share" else _MONEY if kind == "money" else _FIGURE
    return [m.start() for m in pattern.finditer(normal)
            if not _in_spans(m.start(), named) and (kind != "any" or not _YEAR.match(m.group().strip()))]


def has_figure(text: str) -> bool:
    """Whether ``text`` states a quantity (a number with a unit, a decimal or a count; not a bare year, an
    ordinal or a number inside a quoted name)."""
    return bool(figure_positions(text, "any"))


def _in_spans(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def has_percent(text: str) -> bool:
    """Whether ``text`` states a share: ``5%``, ``1.65%``, ``百分之十``, ``三成``, ``个百分点``."""
    return bool(_PERCENT.search(normalise(text)))


def has_money(text: str) -> bool:
    """Whether ``text`` states an amount of money: ``1亿元``, ``500万元``, ``19.17亿元``."""
    return bool(_MONEY.search(normalise(text)))


def numbers(text: str) -> list[str]:
    """The numbers written in ``text`` (digits, decimals, runs of Chinese numerals), in order."""
    return _NUMBER.findall(normalise(text))


def _squash(text: str) -> str:
    return "".join(ch for ch in normalise(text) if _WORDISH.match(ch))


def bigrams(text: str) -> set[str]:
    """Character bigrams of the word characters of ``text`` (punctuation and spaces removed)."""
    squashed = _squash(text)
    if len(squashed) == 1:
        return {squashed}
    return {squashed[i:i + 2] for i in range(len(squashed) - 1)}


def containment(sentence: str, source: str) -> float:
    """Share of the sentence's character bigrams that occur in ``source`` (1.0: wholly contained)."""
    wanted = bigrams(sentence)
    if not wanted:
        return 0.0
    return len(wanted & bigrams(source)) / len(wanted)


def numbers_supported(sentence: str, source: str) -> bool:
    """Whether every number written in ``sentence`` also occurs in ``source`` (ignoring spaces)."""
    haystack = _SPACE.sub("", normalise(source))
    return all(number in haystack for number in numbers(sentence))


def squash_spaces(text: str) -> str:
    """``text`` without any whitespace, for comparing quotes with clauses."""
    return _SPACE.sub("", text)
