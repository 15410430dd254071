"""A question asking how documents word something: its framing set apart from the wording asked about.

“柔性引才”这层意思，别的文件里是怎么措辞的? asks for passages on 柔性引才; “别的文件里是怎么措辞的” only says that every
document's wording is wanted. Matched against the clauses, the framing's words (措辞, 文件, 别的) are words no clause
answers with, and they pull the question's vector away from the passages it asks for. ``precedent_topic`` keeps what is
asked about: the clauses that do not ask for wording, without the lead (关于, 想写, 写到) and tail (…的内容时, 这层意思)
that frame a topic.
"""

from __future__ import annotations

import re
import threading

_WORDING = r"(?:表述|措辞|写法|说法|提法|原文|原话|原句|用语|口径|范例|范文|范本|文字上|怎么写|如何写|怎样写|怎么说|怎么讲|怎么提|如何提)"
_CLAUSE = re.compile(r"[^，,。？?；;！!：:—]+")
# a clause asking for wording (其他文件是怎么写的, 有哪些原文可以参考, 有什么可借鉴的表述)
_FRAMING_CLAUSE = re.compile(rf"^[^，,。？?；;！!]*{_WORDING}[^，,。？?；;！!]*$")
# 各地文件一般怎么表述鼓励创新、宽容失败: the topic after the asking verb, in the framing clause itself
_AFTER_ASKING = re.compile(r"(?:怎么|如何|怎样)(?:表述|描述|写|说|讲|提)(?![进入到成在出])的?(.*)$")
# 想借鉴一下别人关于树立大科普观念的写法: the topic the wording is about
_ABOUT = re.compile(rf"(?:关于|对于|有关)(.+?)的{_WORDING}")
# …这层意思, …这一提法: the topic named as a meaning or a phrasing
_AS_MEANING = re.compile(r"(?:这|那)(?:层|个|一|种|类|件|些)?(?:意思|提法|说法|表述|做法|事情|事|方面|一块|块|一段|段)$")
_LEAD = re.compile(r"^(?:(?:起草|撰写|准备写|想写|要写|在写|写到|写)(?:文件|材料|方案|稿子)?(?:时|的时候)?)?(?:想写|要写|准备写)?"
                   r"(?:一段|一条|一节)?(?:关于|对于|有关)?")
_TAIL = re.compile(r"(?:方面)?的?(?:内容|段落|条文|条款|部分)?(?:时|的时候)$|(?:方面)?的(?:内容|段落|条文|条款|部分)$")
# 有哪些地方在文件里提过设立天使基金: which places mention it, not what it is
# 有没有哪份文件提过…, 参考材料里有没有讲…的
_WHICH_SOURCES = re.compile(r"(?:有没有|有)?哪(?:些|份|个|几份)?(?:地方|文件|材料|方案)(?:在(?:文件|材料)[里中])?"
                            r"(?:提[过到出]|写[过到]|讲[过到]|用过|有)了?|"
                            r"^(?:参考|已有|现有|其他|别的)?(?:材料|文件|方案)[里中](?:有没有|有)(?:讲|提|写|说)(?:过|到)?")
# Words of the request left in a topic clause (有没有可以直接参考的…, 方案里想写进…, 请列一下…): jieba's words, dropped one by
# one; a clause left with fewer than two characters of its own is framing alone.
_REQUEST_WORDS = frozenset("""借鉴 可借鉴 参考 可供 类似 兄弟 其他 其它 别的 别人 各地 各份 市县 县市 兄弟县市 文件 哪些 哪份 几份
哪几份 怎么 如何 怎样 一般 通常 写 写进 想写 要写 提 说 讲 定位 找出 找出来 发 发给 给我 我 我们 想 请 打算 准备 希望 一下 列 列出
看看 想看 起草 撰写 加 加上 补 补充 一句 一段 一块 段落 这段 条款 条文 这种 这类 这层 这个 这些 这块 这方面 这一步 这件 做法
意思 有没有 没有 可以 能 能否 直接 简练 相关 现有 已有 现成 什么 什么样 关于 对于 有关 借用 吗 呢 么 啊 地方 一步 提过 写过 讲过
提到 提到过 出现 出现过 过 表述 措辞 写法 说法 提法 原文 原话 原句 用语 口径 范例 范文 范本 文字 材料 方案 内容 部分 分别
有 可 落到 找 出来 用过 类似 麻烦 帮 帮忙 你好 请问 求 给出 注明 出处 句式 表达 哪几个 各自 的话""".split())
# where the wording is sought or what of it is wanted: a framing clause's topic comes before these
_WHERE_OR_HOW = frozenset("""表述 措辞 写法 说法 提法 原文 原话 原句 用语 口径 范例 范文 范本 文件 材料 方案 哪些 哪份 几份 哪几份 哪个 其他 其它 别的 别人 各地 兄弟 市县 县市 兄弟县市 地方 现有
已有 参考 借鉴 可借鉴 怎么 如何 怎样""".split())
_FUNCTION = frozenset("的 了 是 在 里 中 上 和 与 及 或 等 把 被 让 对 从 到 为 也 都 再 就 还 先 它 其 之 事 时 这 那 段 进".split())
_CJK = re.compile(r"[\u4e00-\u9fff]")
_lock = threading.Lock()
MIN_CHARACTERS = 2


def _before_request(clause: str) -> str:
    import jieba

    with _lock:
        words = jieba.lcut(clause)
    for position, word in enumerate(words):
        if word in _WHERE_OR_HOW:
            return "".join(words[:position])
    return clause


def _without_request_words(clause: str) -> str:
    import jieba

    with _lock:  # the first call loads jieba's dictionary
        words = [w for w in jieba.lcut(clause) if w not in _REQUEST_WORDS]
    content = [w for w in words if _CJK.search(w) and w not in _FUNCTION]
    if sum(len(w) for w in content) < MIN_CHARACTERS:
        return ""
    return "".join(words).strip("的了是在里中上、，, ")


def precedent_topic(text: str) -> str | None:
    """What a question asking for documents' wording is about, or None when it asks for none (a clause asking how
    documents word it, or which documents mention it) or nothing would remain without that framing.

    Args:
        text: the question.

    Returns:
        the question's topic clauses, joined by commas.
    """
    kept, framed = [], False
    for match in _CLAUSE.finditer(text):
        clause = _AS_MEANING.sub("", match.group().strip())
        if _FRAMING_CLAUSE.match(clause):
            framed = True
            # what the clause names before the request (科技镇长团这支队伍在文件里…; …的提法) and as the object of its asking
            # verb (怎么表述鼓励创新、宽容失败), not where the wording goes (怎么写进科技创新方案里)
            after = _AFTER_ASKING.search(clause) or _ABOUT.search(clause)
            clause = _without_request_words(_before_request(clause) + "，" + (after.group(1) if after else ""))
            if clause:
                kept.append(clause)
            continue
        stripped = _WHICH_SOURCES.sub("", clause)
        framed = framed or stripped != clause
        for _ in range(2):  # 写到…的作用时: a lead and a tail, in either order
            stripped = _TAIL.sub("", _LEAD.sub("", stripped))
        if stripped != clause:
            stripped = stripped.removesuffix("的")
        stripped = _without_request_words(stripped) if stripped else ""
        if stripped:
            kept.append(stripped)
    topic = "，".join(kept)
    if not framed or len(re.findall(r"[\u4e00-\u9fff]", topic)) < MIN_CHARACTERS:
        return None
    return topic
