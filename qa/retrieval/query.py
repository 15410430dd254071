"""Query understanding: 文号, 《title》, law names and article numbers in a question.

A 文号 in any bracket variant finds its document; 《title》 restricts to that document; 第三条 and
第3条 are the same article; a law named without brackets (``民法典第五十四条``) is recognised too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from qa.clauses.numbering import cn_to_int, int_to_cn
from qa.documents.gazetteer import Gazetteer
from qa.documents.metadata import normalise_doc_number
from qa.schemas import DocumentMeta

_QUOTED = re.compile(r"《([^《》]{2,80})》")
_ARTICLE = re.compile(r"第([零〇一二两三四五六七八九十百千0-9０-９]+)条")
_TITLE_PREFIXES = ("中华人民共和国",)
# Questions that ask across documents: precedent wording, comparisons between places.
_ACROSS_DOCUMENTS = re.compile(r"其他地方|其它地方|各地|哪些地方|哪些文件|分别|怎么表述|如何表述|怎么写|怎么措辞|措辞|表述|"
                               r"other (places|cities|documents)|elsewhere")
_VERSION_SUFFIX = re.compile(r"[(（]\d{4}[-年].*?[)）]$")


def _squash(text: str) -> str:
    return re.sub(r"[\s《》]", "", text)


@functools.lru_cache(maxsize=65536)
def short_title(title: str) -> str:
    """A title as people say it: without 中华人民共和国 and without a version date."""
    title = _VERSION_SUFFIX.sub("", _squash(title))
    for prefix in _TITLE_PREFIXES:
        if title.startswith(prefix) and len(title) > len(prefix) + 1:
            title = title[len(prefix):]
    return title


@dataclass
class ParsedQuery:
    """What the query asks for beyond its words."""

    text: str
    doc_number: str | None = None
    doc_ids: list[str] = field(default_factory=list)  # documents the query names (by 文号 or title)
    restrict: bool = False  # True: only those documents may answer
    article: str | None = None  # e.g. "第五十四条"
    regions: list[str] = field(default_factory=list)  # regions the query names ("涟水" → 涟水县)
    across_documents: bool = False  # the question compares documents or asks for precedent wording
    residual: str = ""  # the query without the 文号 / 《title》 it named


class QueryParser:
    """Recognises document references against the titles and 文号 of an index.

    Args:
        metas: the indexed documents' metadata.
    """

    def __init__(self, metas: list[DocumentMeta]):
        self.by_number: dict[str, list[str]] = {}
        self.titles: list[tuple[str, str]] = []  # (short title, doc_id), longest first
        for meta in metas:
            if meta.doc_number:
                self.by_number.setdefault(meta.doc_number, []).append(meta.doc_id)
            for title in {meta.title, meta.notice_title or ""}:
                if len(short_title(title)) >= 4:
                    self.titles.append((short_title(title), meta.doc_id))
        self.titles.sort(key=lambda item: -len(item[0]))
        self._by_opening: dict[str, list[tuple[str, str]]] = {}  # titles by their first two characters
        for title, doc_id in self.titles:
            self._by_opening.setdefault(title[:2], []).append((title, doc_id))
        self.gazetteer = Gazetteer.shipped()
        # the index's regions by division code: a question naming 如皋, 如皋市 or Rugao finds 如皋市
        self.region_codes: dict[str, str] = {}
        for region in {m.region for m in metas if m.region}:
            for division in self.gazetteer.lookup(region):
                self.region_codes.setdefault(division.code, region)

    def _titles_in(self, text: str) -> list[tuple[str, str]]:
        """(title, doc_id) of every title ``text`` contains (looked up at each position by the title's opening
        characters: a library's 7,000 titles are not each searched for)."""
        found = []
        for start in range(len(text) - 1):
            for title, doc_id in self._by_opening.get(text[start:start + 2], ()):
                if text.startswith(title, start):
                    found.append((title, doc_id))
        return found

    def parse(self, query: str) -> ParsedQuery:
        parsed = ParsedQuery(text=query, residual=query)
        number = normalise_doc_number(query)
        if number and number in self.by_number:
            parsed.doc_number = number
            parsed.doc_ids = list(self.by_number[number])
            parsed.restrict = True
            parsed.residual = re.sub(r"[\u4e00-\u9fff]{1,12}\s*[〔\[［(（【]\s*\d{4}\s*[〕\]］)）】]\s*\d{1,4}\s*号", " ",
                                     parsed.residual)
        quoted = [_squash(m) for m in _QUOTED.findall(query)]
        for name in quoted:
            wanted = short_title(name)
            ids = [doc_id for title, doc_id in self.titles if title == wanted]
            ids = ids or [doc_id for title, doc_id in self.titles if wanted in title or title in wanted]
            if ids:
                parsed.doc_ids = sorted(set(parsed.doc_ids) | set(ids))
                parsed.restrict = True
                parsed.residual = parsed.residual.replace(f"《{name}》", " ")
        m = _ARTICLE.search(query)
        if m:
            number_value = cn_to_int(m.group(1))
            parsed.article = f"第{int_to_cn(number_value)}条" if number_value else None
        if not quoted and not parsed.doc_number:
            squashed = _squash(query)
            named = self._titles_in(squashed)
            if named:
                longest = max(len(t) for t, _ in named)
                parsed.doc_ids = sorted({d for t, d in named if len(t) == longest})
                # A bare name narrows the search only together with an article number.
                parsed.restrict = parsed.article is not None
        parsed.regions = sorted({self.region_codes[d.code] for _, divisions in self.gazetteer.find(query)
                                 for d in divisions if d.code in self.region_codes})
        parsed.across_documents = len(parsed.regions) > 1 or bool(_ACROSS_DOCUMENTS.search(query))
        parsed.residual = parsed.residual.strip() or query
        return parsed
