"""Citations in the form officials write them, and a document's status; pure functions, no qa imports.

``如皋市科技创新委员会《如皋市建设国家创新型县（市）三年行动方案（2023—2025年）》（皋科创〔2023〕1号，2023年10月26日）
三、（三）8.``: issuing body, title in 《》, then 文号 and 成文日期 in full-width brackets, then the clause path.
Web text mixes ``(二)`` and ``（二）``; the citation always uses the full-width forms, so two citations of
the same clause are the same string whoever copied them. A media report has no 文号: it is cited by
title, outlet and date (``《标题》，《群众·决策资讯》，2023年9月26日``).
"""

from __future__ import annotations

import re
from datetime import date as Date

_HALF_TO_FULL = str.maketrans({"(": "（", ")": "）"})
_DOT_LABEL = re.compile(r"(\d+)\s*[．.、]")  # "4．" / "4、" → "4."
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_TOP_LABEL = re.compile(r"^[一二三四五六七八九十百]+、$")

# Stated validity that means the document no longer applies (废止, 失效, 被…替代, 已修订…).
_NOT_IN_FORCE = re.compile(r"失效|废止|作废|停止执行|不再执行|已被.{0,20}(替代|取代|代替)|已修订|已修改|已到期")

STATUS_VALID, STATUS_EXPIRED, STATUS_REPEALED, STATUS_UNSTATED = "有效", "已到期", "失效", "未注明"


def cn_date(iso: str | None) -> str | None:
    """``2018-07-13`` → ``2018年7月13日``; None stays None."""
    m = _ISO.match(iso or "")
    return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日" if m else None


def normalise_title(title: str) -> str:
    """Full-width brackets; 《》 inside a title become 〈〉, as in print."""
    inner = title.strip().strip("《》").replace("《", "〈").replace("》", "〉")
    return inner.translate(_HALF_TO_FULL)


def normalise_position(position: str, label: str | None = None, heading: str | None = None) -> str:
    """``三、(二)4．`` → ``三、（二）4.``; a bare top-level number is given its heading (``二、工作目标``)
    or read as a part (``第二部分``), so a citation never ends in ``、``."""
    text = _DOT_LABEL.sub(r"\1.", position.strip().translate(_HALF_TO_FULL))
    if _TOP_LABEL.match(text):
        return f"{text}{heading}" if heading and label and label.strip() == position.strip() else \
            f"第{text[:-1]}部分"
    return text


def official_citation(*, title: str, issuer: str | None = None, doc_number: str | None = None,
                      date: str | None = None, position: str = "", label: str | None = None,
                      heading: str | None = None) -> str:
    """发文机关《标题》（文号，成文日期）clause path.

    Args:
        title: the document's title.
        issuer: 发文机关; an outlet in 《》 (a media report's source) gives the media form instead.
        doc_number: 文号.
        date: ISO date (成文日期, else 发布日期).
        position: the clause's path as parsed (``三、(三)8.``).
        label, heading: the clause's own number and heading, for a path that is only a top-level number.

    Returns:
        the citation, every bracket full-width.
    """
    when = cn_date(date)
    book = f"《{normalise_title(title)}》"
    path = normalise_position(position, label, heading) if position else ""
    if issuer and issuer.strip().startswith("《"):  # a publication, not an issuing body
        outlet = f"《{normalise_title(issuer)}》"
        return "，".join(p for p in (book, outlet, when) if p) + (f"，{path}" if path else "")
    details = "，".join(p for p in ((doc_number or "").translate(_HALF_TO_FULL), when) if p)
    return f"{(issuer or '').strip()}{book}" + (f"（{details}）" if details else "") + path


def document_status(validity: str | None, period_end: int | None, today: Date | None = None) -> str:
    """有效 / 已到期 / 失效 / 未注明.

    A stated 失效 (废止, superseded…) wins; then a plan whose period ended before the current year is
    已到期 even if its page once said 有效 (that was true when it was published); then the stated validity.
    """
    stated = (validity or "").strip()
    if stated and _NOT_IN_FORCE.search(stated):
        return STATUS_REPEALED
    year = (today or Date.today()).year
    if period_end is not None and period_end < year:
        return STATUS_EXPIRED
    if "有效" in stated or "现行" in stated:
        return STATUS_VALID
    return STATUS_UNSTATED
