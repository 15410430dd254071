"""Strip web-page chrome and markup from a document's text, keeping what the chrome tells.

Government pages carry lines such as ``来源: … 发布时间: … 累计次数: 字体:[ ]``, share buttons and an
index table (``索引号 | … | 发布机构 | …``, ``文号: …``, ``有效性: 有效``). Those lines leave the body;
their fields are returned for the metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FIELD_KEYS = ("索引号", "主题分类", "分类", "发布机构", "发文机关", "文号", "发文字号", "成文日期", "发布日期",
              "公开日期", "发布时间", "生效日期", "有效性", "时效说明", "效力状态", "名称", "标题", "来源", "稿件来源",
              "信息来源", "作者", "累计次数", "浏览次数", "字体", "主题词", "体裁分类", "组配分类")
_KEY_ALT = "|".join(sorted(FIELD_KEYS, key=len, reverse=True))
_KEY_VALUE = re.compile(rf"({_KEY_ALT})\s*[:：]\s*")
_SPACED_KEY = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")
_CHROME_LINES = re.compile(
    r"^(【?加入收藏】?|【?打印此文】?|【?打印本页】?|【?关闭窗口】?|【?关闭】?|分享到[:：]?|无标题文档|社交媒体分享|搜索|"
    r"相关园区政策|在线咨询|微信咨询|扫一扫在手机打开当前页|字体[:：]?\s*\[?\s*[大中小\s]*\]?|【字体[:：].*】|"
    r"上一篇.*|下一篇.*|返回顶部|打印|收藏|"
    r"责任编辑[:：]?\s*\S{1,12}|(编辑|审核|校对)[:：]\s*\S{1,12})$"
)
_BUTTON_ROW = re.compile(r"^(\s*【[^】]{1,8}】\s*)+(分享到[:：]?)?\s*$")
_LINK_LINE = re.compile(r"^[^\s。，]{0,20}[:：]?\s*https?://\S+$")
_ISO_DATE_LINE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(\s+\d{1,2}:\d{2}(:\d{2})?)?$")


@dataclass
class Cleaned:
    """The body text and the fields read off the chrome."""

    body: str
    fields: dict[str, str] = field(default_factory=dict)
    md_title: str | None = None
    md_subtitle: str | None = None
    header_dates: list[str] = field(default_factory=list)


def _table_fields(line: str) -> dict[str, str] | None:
    """Fields of an index-table row like ``索 引 号 | 327549014/2024-00080 | 发布机构 | 县政府办公室 |``."""
    if "|" not in line:
        return None
    cells = [_SPACED_KEY.sub("", c.strip()) for c in line.split("|")]
    if not any(c in FIELD_KEYS for c in cells):
        return None
    found: dict[str, str] = {}
    for i, cell in enumerate(cells):
        if cell in FIELD_KEYS and i + 1 < len(cells) and cells[i + 1] not in FIELD_KEYS:
            found[cell] = cells[i + 1]
        elif cell in FIELD_KEYS:
            found.setdefault(cell, "")
    return found


def _key_value_fields(line: str) -> dict[str, str] | None:
    """Fields of a chrome line made of ``key: value`` pairs (``来源: X 发布时间: Y 累计次数: 字体:[ ]``)."""
    matches = list(_KEY_VALUE.finditer(line))
    if not matches or matches[0].start() != 0:
        return None
    found: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        found[m.group(1)] = line[m.end():end].strip()
    # A sentence that merely starts with "来源:" is not chrome; chrome values are short.
    if any(len(v) > 60 for v in found.values()):
        return None
    return found


def _strip_markdown(text: str) -> tuple[str, str | None, str | None, list[str]]:
    """Remove front matter, comments and heading marks; return the text, title, subtitle and header dates."""
    text = re.sub(r"\A---\n.*?\n---\n?", "", text, flags=re.S)
    title = subtitle = None
    header_dates: list[str] = []
    if "<!-- INFO END -->" in text:
        head, _, _ = text.partition("<!-- INFO END -->")
        header_dates = re.findall(r"(\d{4})年(\d{1,2})月(\d{1,2})日", head)
        header_dates = [f"{y}-{int(m):02d}-{int(d):02d}" for y, m, d in header_dates]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    lines = []
    for line in text.split("\n"):
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            line = m.group(2).strip()
            if len(m.group(1)) == 1 and title is None:
                title = line
            elif len(m.group(1)) == 1 and subtitle is None:
                subtitle = line
        lines.append(line)
    return "\n".join(lines), title, subtitle, header_dates


def clean(text: str, fmt: str) -> Cleaned:
    """Turn extracted text into the cleaned body.

    Args:
        text: text from ``readers.read_text``.
        fmt: the source format; Markdown marks are removed from ``md``.

    Returns:
        the body (lines stripped, runs of blank lines collapsed) and the chrome's fields.
    """
    md_title = md_subtitle = None
    header_dates: list[str] = []
    if fmt == "md":
        text, md_title, md_subtitle, header_dates = _strip_markdown(text)
    fields: dict[str, str] = {}
    kept: list[str] = []
    seen_content = 0
    for raw in text.split("\n"):
        line = raw.strip(" \t\u3000\u00a0\u200b")
        if not line:
            kept.append("")
            continue
        found = _table_fields(line) or _key_value_fields(line)
        if found is not None:
            for key, value in found.items():
                fields.setdefault(key, value)
            continue
        if _CHROME_LINES.match(line) or _BUTTON_ROW.match(line) or _LINK_LINE.match(line):
            continue
        m = _ISO_DATE_LINE.match(line)
        if m and seen_content < 6:
            fields.setdefault("发布日期", line)
            continue
        seen_content += 1
        kept.append(line)
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    return Cleaned(body=body, fields=fields, md_title=md_title, md_subtitle=md_subtitle,
                   header_dates=header_dates)
