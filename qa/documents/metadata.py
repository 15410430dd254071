"""Document metadata: title, 文号, issuer, region, dates and validity from the body and its chrome."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from qa.documents.cleaning import Cleaned

_BRACKETS = "〔〕[]［］()（）【】"
DOC_NUMBER = re.compile(r"([\u4e00-\u9fff]{1,12})\s*[〔\[［(（【]\s*((?:19|20)\d{2})\s*[〕\]］)）】]\s*(\d{1,4})\s*号")
_CN_DATE = re.compile(r"^((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日$")
_ANY_DATE = re.compile(r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
_NOTICE_TITLE = re.compile(r"^(?:[\u4e00-\u9fff]{2,20}(?:关于)|关于).{4,120}的(?:通知|意见|决定|批复|函|通报|公告)$")
_QUOTED_TITLE = re.compile(r"《([^《》]{4,80})》")
_REGION = re.compile(r"^([\u4e00-\u9fff]{2,4}?(?:自治州|自治县|省|市|县|区|盟|旗))")
_PLACE = re.compile(r"([\u4e00-\u9fff]{2}(?:市|县))")
# A web headline wrapping the document's title: "太仓市人民政府发布科技创新三年行动计划(2018—2020年)".
_HEADLINE = re.compile(r"^(?P<who>[\u4e00-\u9fff]{2,24}?(?:人民政府|政府|办公室|办公厅|委员会|局|厅|部))"
                       r"(?:正式|联合)?(?:印发|发布|出台|公布)了?(?P<what>.{6,})$")
_POLICY_WORDS = re.compile(r"方案|计划|规划|意见|办法|措施|细则|纲要|规定|政策|要点|指南|条例|决定|通知|通告|公告|批复")
_LAW_TITLE = re.compile(r"(?:^中华人民共和国.{1,30}(?:法|条例|规定)$)|(?:(?:法|条例)(?:（.{1,20}）|\(.{1,20}\))?$)")
_MEDIA_FIELDS = ("稿件来源", "作者")
_MEDIA_LINES = re.compile(r"^(?:作者系|本报记者|记者[\u4e00-\u9fff]{2,4}|（?来源[:：]|通讯员)", re.M)
_BODY_SUFFIX = ("人民政府", "政府", "办公室", "办公厅", "委员会", "局", "厅", "部", "委", "院", "会")
_NOT_REGION_PREFIX = ("中华", "全国", "国务", "人民", "各镇", "各县", "各市", "本市", "本县", "我市", "我县", "全市",
                      "全县", "城市", "县域", "市县", "省市", "地区", "区域")


@dataclass
class Extracted:
    """Metadata fields read from one document (any may be None)."""

    title: str
    notice_title: str | None
    doc_number: str | None
    issuer: str | None
    region: str | None
    written_date: str | None
    published_date: str | None
    validity: str | None
    plan_title_offset: int | None


_PERIOD = re.compile(r"((?:19|20)\d{2})\s*年?\s*[—–\-－~～至到]\s*((?:19|20)\d{2})\s*年?")
_YEAR_MENTION = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")


def plan_period(title: str) -> tuple[int | None, int | None]:
    """The period a title names: ``…三年行动方案(2023—2025年)`` → (2023, 2025); (None, None) if none."""
    m = _PERIOD.search(title)
    if not m:
        return None, None
    start, end = int(m.group(1)), int(m.group(2))
    return (start, end) if start <= end else (None, None)


def years_mentioned(text: str) -> list[int]:
    """The years a text speaks of (``2025年``), ascending."""
    return sorted({int(y) for y in _YEAR_MENTION.findall(text)})


def normalise_doc_number(text: str) -> str | None:
    """``涟政办发[2024]7号`` / ``(2024)`` / ``［2024］`` → ``涟政办发〔2024〕7号``; None if no 文号 in ``text``."""
    m = DOC_NUMBER.search(text)
    return f"{m.group(1)}〔{m.group(2)}〕{m.group(3)}号" if m else None


def iso_date(text: str | None) -> str | None:
    """The first date in ``text`` as ``YYYY-MM-DD`` (``2022-12-09 16:32``, ``2023年10月26日``)."""
    if not text:
        return None
    m = _ANY_DATE.search(text)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _title_case(text: str) -> str:
    """Remove spaces a line break left between Chinese characters."""
    return re.sub(r"(?<=[\u4e00-\u9fff）)])\s+(?=[\u4e00-\u9fff（(])", "", text.strip())


def region_of(*names: str | None) -> str | None:
    """The leading place name (``如皋市…`` → ``如皋市``) of the first name that has one."""
    for name in names:
        if not name:
            continue
        m = _REGION.match(name.lstrip("《"))
        if m and not m.group(1).startswith(_NOT_REGION_PREFIX):
            return m.group(1)
        m = re.match(r"^([\u4e00-\u9fff]{2,3})县域", name)
        if m:
            return m.group(1) + "县"
    return None


def _line_starts(body: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in body.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def extract(cleaned: Cleaned) -> Extracted:
    """Read metadata from a cleaned document; chrome fields win over guesses from the body."""
    fields = cleaned.fields
    lines = _line_starts(cleaned.body)
    head = [(pos, line) for pos, line in lines[:40] if line.strip()]

    notice_title = fields.get("名称") or fields.get("标题")
    if not notice_title:
        notice_title = next((line for _, line in head[:12] if _NOTICE_TITLE.match(_squash(line))), None)
    notice_title = _title_case(notice_title) if notice_title else None

    quoted = _QUOTED_TITLE.search(notice_title or "")
    if not quoted:
        quoted = next((m for _, line in head[:20] if re.search("印发|现将|已经", line)
                       for m in [_QUOTED_TITLE.search(line)] if m), None)
    title, plan_title_offset = None, None
    if quoted:
        wanted = _squash(quoted.group(1))
        for pos, line in lines:
            if _squash(line) == wanted:
                title, plan_title_offset = line.strip(), pos
                break
        title = title or quoted.group(1)
    if not title:
        title = notice_title or cleaned.md_title or _first_title_line(head) or "(无标题)"

    doc_number = normalise_doc_number(fields.get("文号") or fields.get("发文字号") or "")
    if not doc_number:
        doc_number = next((normalise_doc_number(line) for _, line in head[:15]
                           if DOC_NUMBER.fullmatch(line.strip())), None)

    signer, signed = _signature(lines)
    issuer = signer or fields.get("发布机构") or fields.get("发文机关") or fields.get("来源") \
        or fields.get("稿件来源") or fields.get("信息来源")
    written = iso_date(fields.get("成文日期")) or signed
    published = iso_date(fields.get("发布日期") or fields.get("公开日期") or fields.get("发布时间"))
    if cleaned.header_dates:
        written = written or cleaned.header_dates[0]
        published = published or cleaned.header_dates[-1]
    validity = fields.get("有效性") or fields.get("时效说明") or fields.get("效力状态") or None
    region = region_of(issuer, title, notice_title) or _frequent_place(cleaned.body)
    title, headline_issuer = unwrap_headline(_title_case(title))
    issuer = issuer or headline_issuer
    return Extracted(title=title, notice_title=notice_title, doc_number=doc_number,
                     issuer=issuer or None, region=region, written_date=written, published_date=published,
                     validity=validity, plan_title_offset=plan_title_offset)


def unwrap_headline(title: str) -> tuple[str, str | None]:
    """The title inside a web headline, and the body the headline names.

    ``太仓市人民政府发布科技创新三年行动计划(2018—2020年)`` → (``太仓市科技创新三年行动计划(2018—2020年)``,
    ``太仓市人民政府``): the place is put back in front when the headline left it to the issuer. A notice
    (``…关于印发…的通知``) is not a headline: its title is found in its text.
    """
    m = _HEADLINE.match(title)
    if not m or "关于" in m.group("who") or title.endswith(("的通知", "的通报", "的函", "的批复")):
        return title, None
    who, what = m.group("who"), m.group("what").strip()
    quoted = re.fullmatch(r"《(.+)》", what)
    if quoted:
        return quoted.group(1), who
    if not _POLICY_WORDS.search(what):  # "…发布会", "…发布2023年统计公报" and the like are not wrappers
        return title, None
    place = region_of(who)
    if place and not region_of(what) and not what.startswith(place[:2]):
        what = place + what
    return what, who


def document_kind(*, title: str, issuer: str | None, doc_number: str | None, notice_title: str | None,
                  fields: dict[str, str], body: str, articles: int) -> str:
    """``media`` (a signed article or news report), ``law`` (法律法规), ``policy`` (政策文件) or ``other``.

    Args:
        title, issuer, doc_number, notice_title: extracted metadata.
        fields: the page chrome's fields (``稿件来源``, ``作者`` mark a report).
        body: the cleaned text.
        articles: how many clauses are articles (第X条).
    """
    publication = bool(issuer and issuer.strip().startswith("《"))
    if not doc_number and (publication or any(fields.get(k) for k in _MEDIA_FIELDS)
                           or _MEDIA_LINES.search(body[-1500:] + "\n" + body[:300])):
        return "media"
    if _LAW_TITLE.search(title) and (articles >= 3 or title.startswith("中华人民共和国")):
        return "law"
    if doc_number or notice_title or _POLICY_WORDS.search(title) or (issuer or "").endswith(_BODY_SUFFIX):
        return "policy"
    return "other"


def _first_title_line(head: list[tuple[int, str]]) -> str | None:
    for _, line in head[:5]:
        text = line.strip()
        if 4 <= len(text) <= 60 and not text.endswith(("。", "：", ":")):
            return text
    return None


def _signature(lines: list[tuple[int, str]]) -> tuple[str | None, str | None]:
    """The signing body and date: a short line followed by a line holding only a Chinese date."""
    content = [line.strip() for _, line in lines if line.strip()]
    for i, line in enumerate(content):
        m = _CN_DATE.match(line)
        if not m or i == 0:
            continue
        signer = content[i - 1]
        if len(signer) <= 30 and not re.search(r"[。，,；;：:]", signer):
            return signer, iso_date(line)
    return None, None


def _frequent_place(body: str) -> str | None:
    counts = Counter(p for p in _PLACE.findall(body[:5000]) if not p.startswith(_NOT_REGION_PREFIX))
    if not counts:
        return None
    place, count = counts.most_common(1)[0]
    return place if count >= 3 else None
