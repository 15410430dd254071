"""Scope: the places, laws and years a question names, checked against what the collection holds.

A question about 上海市 is not answered from 如皋's documents, however similar the wording. Places are
found with the gazetteer of Chinese administrative divisions (``qa.documents.gazetteer``): full names,
short forms (如皋) and, in English questions, their pinyin (Rugao). A named place is covered when a document's region
is that place, lies within it (a province's question meets its cities' documents) or contains it and names it (a
city's plan speaks for the counties it mentions; a district it never names has no documents here); a city's question
is not answered from one of its counties' documents (淮安市 ≠ 涟水县).
A county's short form counts only as a word of its own (大城县's 大城 is not in 大城市). Laws and documents are named in 《》 or as law words (劳动合同法, 民法典); years as ``2030年``; programmes as
quoted names of the form programmes take (“8050计划”, “科技新九条”, “包干制”): one no document mentions is
not in the collection, whatever its neighbours say; so is a topic named by a specific word before a generic head
(低空经济, 无人机产业) when no document uses that word. A province that only its cities' and counties' documents
cover is marked (``below``): their targets are not the province's. An address (江苏省南通市) names one place; a place
the subject goes to or builds in (到上海建设科创飞地) is not the question's scope when the documents speak of it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from qa.answers.topics import absent_english_topics, absent_topics
from qa.documents.chinese import normalise
from qa.documents.gazetteer import Division, Gazetteer
from qa.retrieval.bridge import is_english
from qa.retrieval.query import short_title
from qa.schemas import DocumentMeta

# 法 that begins another word (法律, 法规 but not 法规定, 法人, 法院, 法治…) ends no law's name: 不懂法律 names none
_LAW_WORD = re.compile(r"[\u4e00-\u9fff]{1,18}?(?:法典|法(?!律|规(?!定)|人|院|治|制|官|务)|条例)")
# everyday words ending in 法 (方法, 依法, 违法…) are not laws
_GENERIC_LAW = re.compile(r"(?:方|办|做|说|想|看|依|合|非|违|执|司|立|用|写|算|手|疗|语|打|玩|书|无|有|守|设|提|讲|章)法$")
# prepositions and question openers before a law's name: 根据劳动合同法 → 劳动合同法
_LAW_LEAD = re.compile(r"^(?:请问|我想问|想问|想了解|了解|咨询|根据|依据|按照|依照|关于|对于|违反|按|依|据|对|在|从|由)+")
# an English question names a law as capitalised words before Law/Code/Act ("China's Patent Law", "the Civil Code")
# a name ending in its kind (Patent Law), or the kind followed by what it governs (Law on Promoting the Transformation
# of Scientific and Technological Achievements)
_LAW_KIND = r"(?:Law|Code|Act|Regulations?|Ordinance)"
_CAPITALISED = r"[A-Z][A-Za-z'’-]*"
_ENGLISH_LAW = re.compile(rf"\b((?:{_CAPITALISED}\s+){{0,6}}{_LAW_KIND}\s+(?:on|of|for|concerning)"
                          rf"(?:\s+(?:the|and|of|on|for|in|to|{_CAPITALISED}))*\s+{_CAPITALISED}|"
                          rf"(?:{_CAPITALISED}\s+){{1,6}}{_LAW_KIND})\b")
_ENGLISH_LEAD = re.compile(r"^(?:(?:Under|According|To|Per|By|In|On|Of|The|What|Which|Does|Do|Is|Are|How|Can|Will|"
                           r"Would|Should|China's|China’s|Chinese|PRC|People's|Republic)\s+)+")
# asks what was actually achieved (实际达到, actually), not the target (实际使用外资, actually utilised foreign
# investment, is an indicator's name)
_ACTUAL = re.compile(r"(?<!结合)实际(?:上)?(?:达到|完成|实现|是|为|有|新增|建成|发放|输出|增长)|最终(?:达到|完成|实现)|"
                     r"(?:19|20)\d{2}\s*年度?的?实际(?!使用)|"
                     r"完成情况|执行(?:情况|结果)|\bactual(?:ly)?\b(?!\s+(?:utili[sz]ed|used))|\bachieved\b|\bended up\b", re.I)
_SEGMENT = re.compile(r"[\u4e00-\u9fff]+")
_JOINER = re.compile(r"^(?:市|县|区|省|['’]s)?\s*(?:和|与|及|、|跟|同|以及|还有|,|，|and|&|vs\.?|versus)\s*$", re.I)
_QUOTED = re.compile(r"《([^《》]{2,80})》")
_YEAR = re.compile(r"(?<![\d〔\[(（［【])((?:19|20)\d{2})(?!\d|\s*[〕\])）］】])(?!\s*[-—–~至到]\s*(?:19|20)\d{2})")
# a quoted programme, scheme or policy package: “…计划”, “…工程”, “…行动”, “…九条”, “…制”, “…券”
_PROGRAMME = re.compile(r"[“\"「『]([\u4e00-\u9fff\d\-—·+]{1,16}(?:计划|工程|行动|专项|条|制|券|币|基金|政策|体系|模式|机制))"
                        r"[”\"」』]")
# a place the subject goes to or works with (到上海, 赴深圳, 与上海合作), or builds in (在上海建…; build … in Shanghai)
_DESTINATION_BEFORE = re.compile(r"(?:到|赴|去|前往|与|同|向)$")
_BUILT_AFTER = re.compile(r"^(?:市)?(?:建|设|办|布局|打造|共建|合作|开设|落地|孵化)")
_DESTINATION_EN = re.compile(r"\b(?:to|with|(?:build|set up|establish|open|create)\b[^?.!]*\bin)\s+$", re.I)
_CJK_CHAR = re.compile(r"^[\u4e00-\u9fff]$")
# characters that end a place's name rather than continue it into a term (上海市, 上海的, 上海和…)
_AFTER_PLACE = frozenset("市县区省镇乡村的和与及跟同对在有是等地人")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔\[［(（【]\s*\d{4}\s*[〕\]］)）】]\s*\d{1,4}\s*号")


@dataclass
class Scope:
    """What a question names and which of it the collection lacks.

    Args:
        places: places named (as the question writes them) with whether a document covers each.
        laws: laws or documents named, with whether the collection holds each.
        years: years named, with whether a document of the question's places speaks of each.
    """

    places: list[tuple[str, str, bool]] = field(default_factory=list)  # (as written, canonical name, covered)
    joined: bool = False  # two named places stand side by side (太仓和如皋, 如皋、涟水, Rugao and Taicang)
    laws: list[tuple[str, bool]] = field(default_factory=list)
    years: list[tuple[int, bool]] = field(default_factory=list)
    programmes: list[tuple[str, bool]] = field(default_factory=list)  # (name, whether a document mentions it)
    topics: list[str] = field(default_factory=list)  # topics (低空经济, 无人机产业) whose specific word no document uses
    unreported: list[tuple[int, int]] = field(default_factory=list)  # (year asked as actual, year last written)
    # a province covered only by documents of places within it (江苏省 by 南通市's and 涟水县's): name → those regions
    below: dict[str, list[str]] = field(default_factory=dict)

    @property
    def missing_places(self) -> list[str]:
        return [canonical for _, canonical, covered in self.places if not covered]

    @property
    def covered_places(self) -> list[str]:
        return [canonical for _, canonical, covered in self.places if covered]

    @property
    def missing_laws(self) -> list[str]:
        return [name for name, held in self.laws if not held]

    @property
    def missing_programmes(self) -> list[str]:
        return [name for name, held in self.programmes if not held] + self.topics

    @property
    def missing_years(self) -> list[int]:
        return [year for year, covered in self.years if not covered]

    @property
    def outside(self) -> bool:
        """The question is about something the collection does not hold at all."""
        if self.places and not self.covered_places:
            return True
        if self.laws and self.missing_laws:
            return True
        if self.missing_programmes:
            return True
        if self.unreported:
            return True
        return bool(self.years) and not any(covered for _, covered in self.years)

    def reason(self, english: bool = False) -> str | None:
        """The sentence that says what is missing, or None when the question is in scope."""
        if not self.outside:
            return None
        if self.places and not self.covered_places:
            names = "、".join(dict.fromkeys(self.missing_places))
            return f"The collection holds no documents of {names}." if english else f"文件库中没有{names}的文件。"
        if self.laws and self.missing_laws:
            names = [n if n.isascii() else f"《{n}》" for n in dict.fromkeys(self.missing_laws)]
            if english:
                return f"The collection does not hold the {', '.join(names)} (it holds no laws or regulations)." \
                    if all(n.isascii() for n in names) else f"The collection does not hold {', '.join(names)}."
            return f"文件库中没有{'、'.join(names)}。"
        if self.missing_programmes:
            names = "、".join(f"“{n}”" for n in dict.fromkeys(self.missing_programmes))
            return f"No document in the collection mentions {names}." if english else f"文件库中没有文件提到{names}。"
        if self.unreported and not self.missing_years:
            year, written = self.unreported[0]
            places = "、".join(self.covered_places)
            if english:
                return (f"The documents{' of ' + places if places else ''} were written in {written}; they cannot "
                        f"report what was actually achieved in {year}.")
            return f"文件库中{places}的文件成文于{written}年，没有{year}年的实际完成情况。"
        years = "、".join(f"{y}年" for y in self.missing_years)
        return f"No document in the collection covers {years}." if english else f"文件库中没有涉及{years}的文件。"


class ScopeChecker:
    """Checks questions against the metadata of one collection.

    Args:
        metas: the collection's documents.
        gazetteer: the divisions (the shipped table by default).
        mentioned: text → whether a document's body contains it (a law a held document quotes is in scope).
        equivalent: English word → whether the collection has a term for it (an English topic's test).
    """

    def __init__(self, metas: list[DocumentMeta], gazetteer: Gazetteer | None = None, mentioned=None,
                 equivalent=None):
        self.gazetteer = gazetteer or Gazetteer.shipped()
        self.mentioned = mentioned  # text → whether some document's body contains it
        self.equivalent = equivalent  # English word → whether the collection has a term for it (the term bridge)
        self.metas = metas
        self.doc_places: list[list[Division]] = []
        for meta in metas:
            self.doc_places.append(self.gazetteer.document_places(meta.region, meta.issuer, meta.title))
        self.titles = [short_title(t) for m in metas for t in {m.title, m.notice_title or ""} if t]
        # an article's source (稿件来源:《群众·决策资讯》) is read into its issuer, out of the body: held as well
        self.sources = [short_title(m.issuer.strip("《》")) for m in metas if m.issuer and m.issuer.startswith("《")]
        # the collection's own regions count as places even where the gazetteer lacks them (a new district)
        self.own_regions: dict[str, str] = {}
        for region in {m.region for m in metas if m.region}:
            self.own_regions[region] = region
            short = re.sub(r"(?:市|县|区|省)$", "", region)
            if len(short) >= 2:
                self.own_regions.setdefault(short, region)

    def check(self, question: str) -> Scope:
        """The places, laws and years ``question`` names, each marked covered or not."""
        scope = Scope()
        seen: set[str] = set()
        normal = normalise(question)
        spans = _without_address_prefixes(self.gazetteer.find_spans(question), normal)
        for (_, _, end, _), (_, start, _, _) in zip(spans, spans[1:], strict=False):
            between = normal[end:start] if start <= len(normal) else ""
            if len(between.strip()) <= 8 and _JOINER.search(between.strip() or "、"):
                scope.joined = True
        for written, start, end, divisions in spans:
            canonical = divisions[0].name
            if canonical in seen:
                continue
            covered = self._covered(divisions, written)
            if not covered and self._destination(question, normal, written, start, end):
                continue  # where something is built or sought (到上海建飞地), not whose documents answer
            if not covered and self._begins_term(normal, written, end, divisions):
                continue  # 龙游河科创走廊: the documents' own term, not 龙游县
            seen.add(canonical)
            scope.places.append((written, canonical, covered))
            within = self._regions_within(divisions) if covered else None
            if within:
                scope.below[canonical] = within
        for name, region in sorted(self.own_regions.items(), key=lambda item: -len(item[0])):
            if region not in seen and name in normal:
                seen.add(region)
                scope.places.append((name, region, True))
        if not scope.joined:  # 涟水…江苏精品: the place is the scope, its province only the setting
            nested = self._containing(scope.places)
            scope.places = [place for place in scope.places if place[1] not in nested]
            scope.below = {name: regions for name, regions in scope.below.items() if name not in nested}
        for name in self._laws(question):
            scope.laws.append((name, self._held(name)))
        for name in self._english_laws(question):
            # an English name cannot be matched to a Chinese title; a collection holding laws may hold it
            scope.laws.append((name, any(meta.kind == "law" for meta in self.metas)))
        if self.mentioned is not None:
            for name in dict.fromkeys(_PROGRAMME.findall(normalise(question))):
                scope.programmes.append((name, bool(self.mentioned(name))))
            is_place = lambda word: bool(self.gazetteer.find_spans(word))  # noqa: E731
            scope.topics = absent_english_topics(question, self.mentioned, is_place, self.equivalent) \
                if is_english(question) \
                else absent_topics(question, self.mentioned, is_place)
        relevant = self.documents_of(scope)
        for year in sorted({int(y) for y in _YEAR.findall(_DOC_NUMBER.sub(" ", normalise(question)))}):
            scope.years.append((year, any(self.speaks_of(self.metas[i], year) for i in relevant)))
        if _ACTUAL.search(question):  # a document written by the end of that year can only state its target
            for year, covered in scope.years:
                written = [self.metas[i].year for i in relevant if self.speaks_of(self.metas[i], year)]
                if covered and all(w is not None for w in written) and max(written) <= year:
                    scope.unreported.append((year, max(written)))
        return scope

    def _containing(self, places: list[tuple[str, str, bool]]) -> set[str]:
        """The named provinces that contain another named place (a city and its county may both be asked about: each
        has plans of its own)."""
        divisions = {name: self.gazetteer.by_name.get(name, []) for _, name, _ in places}
        return {name for name, own in divisions.items()
                if any(d.level == "province" and d.contains(o) and d.code != o.code
                       for other, theirs in divisions.items() if other != name for d in own for o in theirs)}

    def _covered(self, divisions: list[Division], written: str) -> bool:
        """A document is the place's own, lies within it (a province), or contains it (a city's plan for its
        counties) and names it: a district no document mentions has none of its own targets in the collection."""
        within = False
        for places in self.doc_places:
            for place in places:
                if any(d.code == place.code or (d.level == "province" and d.contains(place)) for d in divisions):
                    return True
                within = within or any(place.contains(d) for d in divisions)
        if not within:
            return False
        names = self._chinese_names(written) if written.isascii() else [written, *(d.name for d in divisions)]
        return self.mentioned is None or any(self.mentioned(name) for name in names)

    def _destination(self, question: str, normal: str, written: str, start: int, end: int) -> bool:
        """The place is where the question's subject goes, builds or cooperates (到上海, 与上海合作, 在上海建…, build …
        in Shanghai), and the collection's documents speak of it: the question is about them, not about its own."""
        names = self._chinese_names(written) if written.isascii() else [written]
        if self.mentioned is None or not any(self.mentioned(name) for name in names):
            return False
        if written.isascii():
            return bool(_DESTINATION_EN.search(question[:start]))
        return bool(_DESTINATION_BEFORE.search(normal[:start])) or \
            (normal[:start].endswith("在") and bool(_BUILT_AFTER.match(normal[end:])))

    def _begins_term(self, normal: str, written: str, end: int, divisions: list[Division]) -> bool:
        """A county's name runs on into a longer word the documents use (龙游河 is 如皋's river, not 浙江's 龙游县): a
        term of the collection, not a question about that county's documents. A city's or province's name is not read
        so: the documents' 上海科创中心 does not make 上海科技企业 a question they answer."""
        following = normal[end:end + 1]
        return self.mentioned is not None and not written.isascii() and bool(_CJK_CHAR.match(following)) \
            and following not in _AFTER_PLACE and all(d.level == "county" for d in divisions) \
            and bool(self.mentioned(written + following))

    def _chinese_names(self, written: str) -> list[str]:
        return [short for _, divisions in self.gazetteer.find(written) for d in divisions
                for short in (d.name, re.sub(r"(?:市|省|县|区)$", "", d.name))]

    def _regions_within(self, divisions: list[Division]) -> list[str] | None:
        """The regions of the documents that cover a province from within it, or None when a document speaks for
        the province itself (or for a place containing it)."""
        within: list[str] = []
        for meta, places in zip(self.metas, self.doc_places, strict=True):
            for place in places:
                if any(d.code == place.code or place.contains(d) for d in divisions):
                    return None
                if any(d.level == "province" and d.contains(place) for d in divisions):
                    within.append(meta.region or place.name)
        return list(dict.fromkeys(within)) or None

    def documents_of(self, scope: Scope) -> list[int]:
        """The documents of the places the question names (all documents when it names none): a place's own, or
        when it has none, those of the places within or around it (a county's plan does not speak for its city)."""
        if not scope.covered_places:
            return list(range(len(self.metas)))
        chosen: set[int] = set()
        for name in scope.covered_places:
            wanted = self.gazetteer.by_name.get(name, [])
            own = [i for i, places in enumerate(self.doc_places)
                   if self.metas[i].region == name or any(p.code == d.code for p in places for d in wanted)]
            chosen.update(own or [i for i, places in enumerate(self.doc_places)
                                  if any(d.contains(p) or p.contains(d) for p in places for d in wanted)])
        return sorted(chosen)

    @staticmethod
    def speaks_of(meta: DocumentMeta, year: int) -> bool:
        """Whether a document speaks of ``year``: its plan period holds it, its text names it, or it is its own."""
        if meta.period_start is not None and meta.period_end is not None \
                and meta.period_start <= year <= meta.period_end:
            return True
        return year in meta.years or (meta.year == year)

    def _laws(self, question: str) -> list[str]:
        text = normalise(question)
        names = [short_title(m) for m in _QUOTED.findall(text)]
        for segment in _SEGMENT.finditer(_QUOTED.sub(" ", text)):
            for match in _LAW_WORD.finditer(segment.group()):
                word = short_title(_LAW_LEAD.sub("", match.group()))
                followed = segment.group()[match.end():match.end() + 1]
                if _GENERIC_LAW.search(word) or len(word) < (2 if followed == "第" else 3):
                    continue
                names.append(word)
        return list(dict.fromkeys(names))

    @staticmethod
    def _english_laws(question: str) -> list[str]:
        names = []
        for match in _ENGLISH_LAW.finditer(unicodedata.normalize("NFKC", question)):
            name = _ENGLISH_LEAD.sub("", match.group(1)).strip()
            if len(name.split()) >= 2:  # a bare "Law" or "Act" names nothing
                names.append(name)
        return list(dict.fromkeys(names))

    def _held(self, name: str) -> bool:
        wanted = short_title(name)
        if any(wanted in title or title in wanted for title in self.titles if len(title) >= 2) \
                or wanted in self.sources:
            return True
        return bool(self.mentioned is not None and self.mentioned(wanted))


def _without_address_prefixes(spans: list, normal: str) -> list:
    """Places without those written as the head of an address: 江苏省南通市 names 南通市 (in 江苏省), not two places."""
    kept = []
    for position, span in enumerate(spans):
        following = spans[position + 1] if position + 1 < len(spans) else None
        if following is not None and not normal[span[2]:following[1]].strip() \
                and any(a.contains(b) and a.code != b.code for a in span[3] for b in following[3]):
            continue
        kept.append(span)
    return kept
