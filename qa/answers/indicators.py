"""Indicators a question names in the collection's own wording that the asked place's documents never use.

A figure question about 太仓's 技术合同成交额 is a near miss when other places' plans set that indicator and 太仓's
does not: any figure quoted from 太仓's plan would be another indicator's. The indicator is a run of the question's
words that some document of the collection writes as it is; it is missing from the place's documents when two or more
of its words appear nowhere in them (one word alone may be a contraction or synonym: 规上 for 规模以上).

A count asked with its measure word (科技型中小企业要达到多少家, 多少个省级以上研发平台) is about the things it counts, named
next to it: when the collection writes that name and the place's documents never do, their figures count other things
(太仓's plan counts 高新技术企业 and 民营科技企业, never 科技型中小企业). Categories of things counted keep one name across
documents; measures (研发投入, 研发经费支出) do not, so only counts are read this way.

So does a long compound noun: four nouns or more written together (数字经济核心产业增加值) are an indicator's own name,
which a place either writes or does not; shorter ones have synonyms (规上工业总产值 / 规模以上工业总产值, 高新技术企业总数 /
高新技术企业数), and a place that words them otherwise still states them. A compound the place writes with a contracted
word spelled out (规上 → 规模以上) is the place's, and one ending in an activity (研发机构建设) names a field of work.

One absent word is enough when it qualifies the indicator: the collection writes the question's run both with the
word (万人高价值发明专利拥有量) and, in the place's documents, without it (万人发明专利拥有量). The place then states the
broader indicator, not the one asked; a synonym or contraction would leave no such pair.
"""

from __future__ import annotations

import re

from qa.answers.question import QUESTION_WORDS
from qa.index.collection import Index

MIN_ABSENT_WORDS = 2
MIN_COMPOUND_WORDS = 4
MIN_COUNTED_CHARS = 4  # a category of two words at least (科技型 + 中小企业), not a bare 企业 or 平台
_NOUNISH = re.compile(r"^(?:n(?![rs])|j|b|vn)")
_NOUN = re.compile(r"^(?:n(?![rs])|j|vn)")
# words between the things counted and the count besides verbs and adverbs (科技型中小企业[数量要达到]多少家)
_COUNT_LINK = frozenset("的 数 数量 总数 数目 总量 计划 累计 共 一共 总共".split())
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]+$")
_YEAR_OR_NUMBER = re.compile(r"\d")


class IndicatorCheck:
    """Finds the indicator a question names that the documents of its places never state.

    Args:
        index: the loaded index (its tokenizer, documents and their bodies).
    """

    def __init__(self, index: Index):
        self.index = index
        self.tokenizer = index.get_tokenizer()

    def missing(self, question: str, regions: list[str], own: list[str] | None = None) -> str | None:
        """The indicator ``question`` names that no document of ``regions`` states (by its words, the things a count is
        about, or a long compound), or that the place's ``own`` documents (not those of a city around it) state only
        without its qualifier; as the question writes it, None when there is none."""
        docs = [m.doc_id for m in self.index.metas if m.region in regions]
        if not docs or self.index.catalog is None:
            return None
        tagged = self.tokenizer.tagged(question)
        own_docs = [m.doc_id for m in self.index.metas if m.region in (own or regions)]
        return self._unstated(tagged, docs) or self._uncounted(tagged, docs) or self._unnamed(tagged, docs) \
            or (self._qualified(tagged, own_docs) if own_docs else None)

    def _unstated(self, tagged: list[tuple[str, str]], docs: list[str]) -> str | None:
        """An indicator in the collection's wording two or more of whose words ``docs`` never use."""
        words = [word for word, _ in tagged]
        absent = {i for i, word in enumerate(words)
                  if len(word) >= 2 and _CJK_WORD.match(word) and word not in QUESTION_WORDS
                  and not self._in(word, docs)}
        if len(absent) < MIN_ABSENT_WORDS:
            return None
        for start in sorted(absent):
            phrase = self._written_run(words, start, absent)
            if phrase is not None:
                return phrase
        return None

    def _qualified(self, tagged: list[tuple[str, str]], docs: list[str]) -> str | None:
        """A run the collection writes whose one word (with single characters before it: 高 + 价值) ``docs`` never use,
        while they write the run without it; the word qualifies, it is not the run's head (it never ends the run)."""
        words = [word for word, _ in tagged]
        for position, word in enumerate(words):
            if len(word) < 2 or not _CJK_WORD.match(word) or word in QUESTION_WORDS or self._in(word, docs) \
                    or self._spelled_out([word], docs):  # 规上, which the place writes 规模以上
                continue
            for first in range(max(0, position - 3), position + 1):  # the longest run first
                for last in range(len(words) - 1, position, -1):
                    run = words[first:last + 1]
                    if not all(_CJK_WORD.match(w) for w in run) or not self.index.mentions("".join(run)):
                        continue
                    for start in range(position, max(first - 1, position - 3), -1):
                        if start < position and len(words[start]) != 1:
                            break
                        rest = "".join(words[first:start] + words[position + 1:last + 1])
                        if len(rest) >= MIN_COUNTED_CHARS and self._in(rest, docs):
                            return "".join(run)
        return None

    def _unnamed(self, tagged: list[tuple[str, str]], docs: list[str]) -> str | None:
        """The longest compound of ``MIN_COMPOUND_WORDS`` nouns or more that the collection writes and ``docs`` do not,
        not even with a two-character word spelled out (规上 as 规模以上). An activity ending the run (研发机构建设) makes it
        a field of work, not an indicator's name: it is left out."""
        run: list[tuple[str, str]] = []
        for word, flag in [*tagged, ("", "x")]:
            if _NOUN.match(flag) and _CJK_WORD.match(word):
                run.append((word, flag))
                continue
            while run and run[-1][1] == "vn":
                run.pop()
            words = self._written_compound([w for w, _ in run])
            if words and not self._in("".join(words), docs) and not self._spelled_out(words, docs):
                return "".join(words)
            run = []
        return None

    def _written_compound(self, run: list[str]) -> list[str]:
        """The longest stretch of ``run`` (``MIN_COMPOUND_WORDS`` words or more) that the collection writes as it is."""
        best: list[str] = []
        for first in range(len(run) - MIN_COMPOUND_WORDS + 1):
            for last in range(len(run), first + MIN_COMPOUND_WORDS - 1, -1):
                if self.index.mentions("".join(run[first:last])):
                    if len("".join(run[first:last])) > len("".join(best)):
                        best = run[first:last]
                    break
        return best

    def _spelled_out(self, words: list[str], docs: list[str]) -> bool:
        """Whether ``docs`` write the compound of ``words`` with its two-character words possibly spelled out in full
        (规上 → 规模以上: the first character, up to three more, the last)."""
        loose = re.compile("".join(re.escape(w) if len(w) != 2 else f"{re.escape(w[0])}.{{0,3}}?{re.escape(w[1])}"
                                   for w in words))
        marks = ",".join("?" * len(docs))
        rows = self.index.catalog.db.execute(f"SELECT body FROM documents WHERE doc_id IN ({marks})", tuple(docs))
        return any(loose.search(body) for (body,) in rows)

    def _uncounted(self, tagged: list[tuple[str, str]], docs: list[str]) -> str | None:
        """The things a count asked with its measure word is about (多少家 → 科技型中小企业), when the collection names them
        so and ``docs`` never do."""
        for position in range(len(tagged) - 1):
            if tagged[position][0] not in ("多少", "几") or tagged[position + 1][1] != "q":
                continue
            counted = self._counted_before(tagged, position) or self._counted_after(tagged, position + 2)
            if len(counted) >= MIN_COUNTED_CHARS and not self._in(counted, docs) and self.index.mentions(counted):
                return counted
        return None

    @staticmethod
    def _counted_before(tagged: list[tuple[str, str]], cue: int) -> str:
        position = cue - 1
        while position >= 0 and (tagged[position][0] in _COUNT_LINK or tagged[position][1][:1] in ("v", "d", "u", "p")):
            position -= 1
        run: list[str] = []
        while position >= 0 and _NOUNISH.match(tagged[position][1]) and _CJK_WORD.match(tagged[position][0]):
            run.insert(0, tagged[position][0])
            position -= 1
        return "".join(run) if len(run) >= 2 else ""

    @staticmethod
    def _counted_after(tagged: list[tuple[str, str]], start: int) -> str:
        run: list[str] = []
        for word, flag in tagged[start:]:
            if not (_NOUNISH.match(flag) or word in ("以上", "以下")) or not _CJK_WORD.match(word):
                break
            run.append(word)
        return "".join(run) if len(run) >= 2 else ""

    def _written_run(self, words: list[str], start: int, absent: set[int]) -> str | None:
        """The longest run of adjacent Chinese words around ``start`` that a document writes as it is and that holds
        at least ``MIN_ABSENT_WORDS`` of the absent words."""
        best = None
        for first in range(start, max(-1, start - 4), -1):
            if not _CJK_WORD.match(words[first]):
                break
            for last in range(start + 1, len(words)):
                if not _CJK_WORD.match(words[last]) or _YEAR_OR_NUMBER.search(words[last]):
                    break
                held = sum(1 for i in range(first, last + 1) if i in absent)
                phrase = "".join(words[first:last + 1])
                if held < MIN_ABSENT_WORDS:
                    continue
                if not self.index.mentions(phrase):
                    break
                if best is None or len(phrase) > len(best):
                    best = phrase
        return best

    def _in(self, text: str, docs: list[str]) -> bool:
        marks = ",".join("?" * len(docs))
        return self.index.catalog.db.execute(
            f"SELECT 1 FROM documents WHERE doc_id IN ({marks}) AND instr(body, ?) > 0 LIMIT 1",
            (*docs, text)).fetchone() is not None
