"""The sides of a question over several places: what names them (太仓和如皋分别…, 比较…, 有何差异, 各地…分别,
places asked in turn: 如皋…有哪些?太仓…又有哪些? / …是多少,如皋呢?) and how each side is asked (its own sentence,
or the question without the other sides' places).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# every place the collection covers, none named: "各地…分别", "each city's target"
EVERY_PLACE = re.compile(r"各地|各个地方|每个地方|各市县|各县市|各县区|各城市|\beach (?:place|city|county|region|locality)"
                         r"|\bevery (?:place|city|county)|\ball (?:the )?(?:places|cities|counties)|\bdifferent (?:places|cities)",
                         re.I)
# named places asked side by side: "A和B分别…", "比较A与B", "A、B各自…", "…有何差异" (or joined: Scope.joined)
SIDE_CUE = re.compile(r"分别|各自|比较|对比|相比|哪个|哪里更|差异|区别|不同|异同|有何差|相差|谁(?:的|定得|更)|[两三四几]地|"
                      r"\bcompare|\bboth\b|\brespectively\b|\bdiffer|\bversus\b|\bvs\b", re.I)
# the sentences of a question that asks several things in turn ("如皋…有哪些?太仓…又有哪些?")
_ASKED_IN_TURN = re.compile(r"(?<=[?？!！;；。])")
# what is left of a sentence that only points at another place ("太仓呢?"): no question of its own
_POINTER_ONLY = re.compile(r"^[\s和与跟同比较对呢吗的又那么?？!！;；。,，]*$")


@dataclass
class Part:
    """One side of a question: its name (a place), the documents it may be answered from, or why none."""

    name: str | None
    regions: list[str] | None = None
    missing: str | None = None
    question: str | None = None  # the question as this side asks it (without the other sides' places)


def asked_in_turn(text: str, places: list[tuple[str, str, bool]]) -> dict[str, str]:
    """For a question of several sentences each naming its own place, the sentence that asks about each place
    (by canonical name; "" for a sentence that only points at its place, "太仓呢?"); empty when the question is
    one sentence or none of its sentences names one place alone."""
    sentences = [piece for sentence in _ASKED_IN_TURN.split(text) if sentence.strip()
                 for piece in _pointers_apart(sentence, places)]
    if len(sentences) < 2:
        return {}
    asked: dict[str, str] = {}
    for sentence in sentences:
        named = {canonical for written, canonical, _ in places if written in sentence}
        if len(named) != 1:  # a sentence naming two places, or none, is not one side's question
            continue
        place = named.pop()
        rest = sentence
        for written, _, _ in places:
            rest = rest.replace(written, "")
        if not asked.get(place):
            asked[place] = "" if _POINTER_ONLY.match(rest) else sentence
    return asked


def _pointers_apart(sentence: str, places: list[tuple[str, str, bool]]) -> list[str]:
    """``sentence`` with a trailing clause that only points at a place ("…是多少,如皋呢?") split off."""
    pieces = re.split(r"(?<=[,，])", sentence)
    for cut in range(1, len(pieces)):
        tail = "".join(pieces[cut:])
        rest = tail
        for written, _, _ in places:
            rest = rest.replace(written, "")
        if rest != tail and _POINTER_ONLY.match(rest):
            return ["".join(pieces[:cut]), tail]
    return [sentence]


def without_places(text: str, places: list[str]) -> str:
    """``text`` without the places of the other sides (and the kind of area that follows a name: 工业园区)."""
    for place in sorted(places, key=len, reverse=True):
        text = re.sub(re.escape(place) + r"(?:工业园区|高新区|开发区|经开区|新区|园区)?", "", text)
    return text
