"""A question asking how documents word something: its framing set apart from the wording asked about.

“柔性引才”这层意思，别的文件里是怎么措辞的? asks for passages on 柔性引才; “别的文件里是怎么措辞的” only says that every
document's wording is wanted. Matched against the clauses, the framing's words (措辞, 文件, 别的) are words no clause
answers with, and they pull the question's vector away from the passages it asks for. ``precedent_topic`` keeps what is
asked about: the clauses that do not ask for wording, without the lead (关于, 想写, 写到) and tail (…的内容时, 这层意思)
that frame a topic, and of the clauses that do, what they name themselves (quoted wording, what comes before 在文件里,
the object of 怎么表述).
"""

from __future__ import annotations

import re

from qa.answers.text import QUESTION_CLAUSE

_WORDING = r"(?:表述|措辞|写法|说法|提法|口径|原文|原话|用语|文字上|怎么写|如何写|怎样写|怎么说|怎么讲|" \
           r"(?:怎么|如何|怎样)提(?![高升供交前醒拔炼取速]))"
# a clause asking for wording (其他文件是怎么写的, 有哪些原文可以参考, 有什么可借鉴的表述)
_ASKS_WORDING = re.compile(_WORDING)
_ASKING_VERB = r"(?:怎么|如何|怎样)(?:表述|描述|写|说|讲|提)"
# where wording is sought: 文件, 其他材料, 别处
_SOURCES = r"(?:各地|其他|别的|已有|现有)?(?:文件|材料|方案|政策|规划|别处)"
# 各地文件一般怎么表述鼓励创新、宽容失败: the topic after the asking verb, in the framing clause itself
_AFTER_ASKING = re.compile(_ASKING_VERB + r"(?![进入到成在出])的?(.*)$")
# 想借鉴一下别人关于树立大科普观念的写法, 有没有鼓励大胆去试的说法: the topic the wording is about
_ABOUT = re.compile(rf"(?:(?:有没有|有无)(?:关于|对于|有关)?|关于|对于|有关)(.+?)的{_WORDING}")
# 其他地方对孵化链条一般怎么表述: the object of 对 before the asking verb
# …在企业梯次培育上是怎么写的: what 在…上 (方面) names
_OBJECT = re.compile(rf"(?:对(?:于)?(.+?)|在(?!{_SOURCES})(.+?)(?:上|方面))(?:一般|通常|大多|大都|都|又|会|是)*{_ASKING_VERB}")
# …这层意思, …这一提法: the topic named as a meaning or a phrasing
_AS_MEANING = re.compile(r"(?:这|那)(?:层|个|一|种|类|件|些)?(?:意思|提法|说法|表述|做法|事情|事|方面|一块|块|一段|段)$")
_LEAD = re.compile(r"^(?:我们|我|咱们)?(?:正在|在)?(?:(?:起草|撰写|准备写|想写|要写|在写|写到|写)(?:文件|材料|方案|稿子)?(?:时|的时候)?)?"
                   r"(?:想写|要写|准备写)?"
                   r"(?:一段|一条|一节)?(?:关于|对于|有关)?")
_TAIL = re.compile(r"(?:方面)?的?(?:内容|段落|条文|条款|部分)?(?:时|的时候)$|(?:方面)?的(?:内容|段落|条文|条款|部分|话)$|方面$")
# 写保障措施时想加一句容错纠错的话: what the asker would add (a sentence on 容错纠错) to the part being written (保障措施)
_ADDING = re.compile(r"(?:时|的时候)[，,]?(?:想|要|准备|打算)?(?:加|添|补|增加|补充|写|引用|用)(?:上|进|入)?"
                     r"(?:一句|一段|一条|几句|一些|一点|点)(?:关于|有关)?")
# 想照着写一段, 参考一下: a request to write after the wording found, naming no topic
_WRITE_AFTER = re.compile(r"^(?:我们|我|咱们)?(?:想|要|准备|打算|好)?(?:照着|参照|仿照|对照|参考|借鉴|模仿)(?:一下|着)?"
                          r"(?:写|起草|改写|用)?(?:一段|一下|一份|几句|一稿)?$")
# 有哪些地方在文件里提过设立天使基金: which places mention it, not what it is
# 有没有哪份文件提过…, 参考材料里有没有讲…的, …有没有文件提过
_WHICH_SOURCES = re.compile(r"(?:有没有|有)?哪(?:些|份|个|几份)?(?:地方|文件|材料|方案)(?:在(?:文件|材料)[里中])?"
                            r"(?:提[过到出]|写[过到]|讲[过到]|用过|有)了?|"
                            r"^(?:参考|已有|现有|其他|别的)?(?:材料|文件|方案)[里中](?:有没有|有)(?:讲|提|写|说)(?:过|到)?|"
                            r"^(?:有没有|有无)(?:别的|其他)?(?:文件|材料|方案|地方)(?:里|中)?(?:提|写|讲|说|用)(?:过|到)$")
# 科技镇长团这支队伍在文件里一般怎么定位: what a framing clause names before it says where the wording is sought
_WHERE = re.compile("在" + _SOURCES)
# the words of a request, not of a topic (想看看, 想借鉴一下, 请问, 麻烦)
_REQUEST = re.compile(r"^(?:我们|我|咱们)?(?:想|请|麻烦|帮)|看看|借鉴|引用|参考|了解")
# what only qualifies the wording asked for (有没有现成的写法, 有无可借鉴的表述), not a topic
_QUALIFIES_WORDING = re.compile(r"^(?:现成|可(?:以)?(?:借鉴|参考|引用)|类似|好|合适|规范|标准|权威|成熟|具体)$")
# quoted wording inside a framing clause (想引用“…”的说法) is the topic itself
_QUOTED = re.compile(r"[“「『\"][^”」』\"]{2,}[”」』\"]")
# 中试平台 标准说法: a space between Chinese words parts clauses as a comma would
_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
MIN_CHARACTERS = 2


def _characters(text: str) -> int:
    return len(re.findall(r"[\u4e00-\u9fff]", text))


def _framed_topics(clause: str) -> list[str]:
    """What a clause asking for wording names itself: quoted wording, what it names before saying where the wording
    is sought, and what follows its asking verb (or the topic of 关于…的写法)."""
    about = _ABOUT.search(clause) or _OBJECT.search(clause)
    named = next((group for group in about.groups() if group), "") if about else ""
    if named and not _QUALIFIES_WORDING.match(named):
        return [named]
    topics = _QUOTED.findall(clause)
    where = _WHERE.search(clause)
    if where and not topics:
        before = _AS_MEANING.sub("", _LEAD.sub("", clause[:where.start()])).removesuffix("的")
        if not _REQUEST.search(before) and not _ASKS_WORDING.search(before):
            topics.append(before)
    after = _AFTER_ASKING.search(clause)
    if after:
        topics.append(after.group(1).strip("的呢吗"))
    return [topic for topic in topics if _characters(topic) >= MIN_CHARACTERS]


def precedent_topic(text: str) -> str | None:
    """What a question asking for documents' wording is about, or None when it asks for none (a clause asking how
    documents word it, or which documents mention it) or nothing would remain without that framing.

    Args:
        text: the question.

    Returns:
        the question's topic clauses, joined by commas.
    """
    kept, framed = [], False
    for match in QUESTION_CLAUSE.finditer(_SPACE.sub("，", text)):
        clause = _AS_MEANING.sub("", match.group().strip())
        if _ASKS_WORDING.search(clause):
            framed = True
            kept += _framed_topics(clause)
            continue
        if _WRITE_AFTER.match(clause):
            framed = True
            continue
        stripped = _WHICH_SOURCES.sub("", clause)
        framed = framed or stripped != clause
        for _ in range(2):  # 写到…的作用时: a lead and a tail, in either order
            stripped = _TAIL.sub("", _LEAD.sub("", stripped))
        stripped = _ADDING.sub("，", stripped)
        if stripped != clause:
            stripped = stripped.removesuffix("的")
        if stripped:
            kept.append(stripped)
    topic = "，".join(kept)
    if not framed or _characters(topic) < MIN_CHARACTERS:
        return None
    return topic
