"""Topics a question names that no document of the collection speaks of.

A topic is a specific word before a generic head (低空 + 经济, 无人机 + 产业) or before a kind of benefit (电价 + 优惠,
购车 + 补贴). When no document uses the specific word, the question is about something the collection does not hold,
however well its head matches: the scope check (``qa.answers.scope``) refuses it and names the topic.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.answers.text import QUESTION_CLAUSE
from qa.documents.chinese import normalise

# generic heads after which a word names the topic itself (低空 + 经济), the kinds of benefit whose object it names
# (电价 + 优惠, 购车 + 补贴), and the rules and reviews whose object it names (罚款 + 标准, 伦理 + 审查)
_TOPIC_HEADS = frozenset("产业 经济 行业 企业 技术 装备 领域 项目 基地 园区 基础设施 优惠 补贴 补助 奖励 奖补 标准 审查 评审".split())
# asking whether the object has the benefit (用电价格有没有优惠), or which it has (用电价格有什么优惠), names the same topic as
# 用电价格优惠
_WHETHER = frozenset("有没有 有无 是否有".split())
_WHICH = frozenset("什么 哪些 啥 何种 哪种 哪类".split())
# a head jieba keeps in one word with what it is a kind of (优惠政策, 奖励措施): the head it begins with
_HEAD_OF_KIND = re.compile(r"^(优惠|补贴|补助|奖励|奖补)(?:政策|措施|办法)$")
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_CJK_CHAR = re.compile(r"^[\u4e00-\u9fff]$")
# 科技类 (of the sci-tech kind) is the word the documents use (科技) with a suffix saying "of that kind"
_KIND_OF = re.compile(r"(?<=[\u4e00-\u9fff]{2})类$")
_ASKING = re.compile(r"哪|几|什么|多少|怎|啥|如何")
_BOUND_FLAGS = frozenset({"n", "m", "a", "b", "ng"})  # a single character that begins the word jieba split off


def absent_topics(question: str, mentioned: Callable[[str], object], is_place: Callable[[str], bool]) -> list[str]:
    """The topics ``question`` names whose specific word no document uses.

    Args:
        question: the question as asked.
        mentioned: text → whether (truthy) a document's body contains it.
        is_place: word → whether it names a place (a place is the scope check's, not a topic).

    Returns:
        the absent topics (低空经济, 电价优惠), or none when the question lists them beside something the documents
        do speak of (it is then partly answerable).
    """
    absent = [(specific, topic) for specific, topic in named_topics(question)
              if not mentioned(specific) and not mentioned(_KIND_OF.sub("", specific))
              and not _said_otherwise(specific, topic, mentioned) and not is_place(specific)]
    if absent and _listed_beside_covered(question, [specific for specific, _ in absent], mentioned):
        return []
    return [topic for _, topic in absent]


def _said_otherwise(specific: str, topic: str, mentioned: Callable[[str], object]) -> bool:
    """The documents name the same kind of thing with another first character (买房补贴 for their 购房补贴): the word's
    last character and the head after it are the documents' words, so the question is about a topic they have, in
    the asker's own wording."""
    rest = topic[topic.index(specific) + len(specific):]
    return bool(mentioned(specific[-1] + rest))


def _listed_beside_covered(question: str, specifics: list[str], mentioned: Callable[[str], object]) -> bool:
    """The question lists the absent topics beside something the collection does speak of (军民融合、军工技术转民用):
    an item of the same list (、) naming no absent topic, whose words of two characters or more the documents all
    use. Such a question is partly answerable; one whose every item is absent (低空经济、无人机产业) is not."""
    import jieba

    for clause in QUESTION_CLAUSE.findall(normalise(question)):
        items = clause.split("、")
        if len(items) < 2 or not any(s in clause for s in specifics):
            continue
        for item in items:
            words = [w for w in jieba.lcut(item) if _CJK_WORD.match(w) and not _ASKING.search(w)]
            if words and not any(s in item for s in specifics) and all(mentioned(w) for w in words):
                return True
    return False


def named_topics(question: str) -> list[tuple[str, str]]:
    """(specific word, topic) for the topics the question names as a word before a generic head (低空 → 低空经济,
    无人机 → 无人机产业, 宇宙 → 元宇宙产业): nouns of two or more characters, not question words."""
    import jieba.posseg

    cut = [jieba.posseg.pair(kind.group(1), word.flag) if (kind := _HEAD_OF_KIND.match(word.word)) else word
           for word in jieba.posseg.cut(normalise(question))]
    words = []
    for position, word in enumerate(cut):
        following = cut[position + 1] if position + 1 < len(cut) else None
        before_head = following is not None and following.word in _TOPIC_HEADS
        if before_head and word.word in _WHICH and words and words[-1].word == "有":
            words.pop()
        elif not (before_head and word.word in _WHETHER):
            words.append(word)
    found = []
    for position, (word, following) in enumerate(zip(words, words[1:], strict=False)):
        if following.word not in _TOPIC_HEADS or word.word in _TOPIC_HEADS or not _CJK_WORD.match(word.word) \
                or _ASKING.search(word.word):
            continue
        before = words[position - 1] if position else None
        if word.flag[:1] in ("n", "l"):
            # 元 + 宇宙, 大 + 模型: one word cut in two
            joined = before is not None and before.flag in _BOUND_FLAGS and bool(_CJK_CHAR.match(before.word))
            found.append((word.word, (before.word if joined else "") + word.word + following.word))
        elif word.flag[:1] == "v" and before is not None and before.flag[:1] == "n" and _CJK_WORD.match(before.word) \
                and before.word not in _TOPIC_HEADS and not _ASKING.search(before.word) \
                and (position < 2 or words[position - 2].word != "的"):
            # 量子 + 计算 + 企业: a noun and the activity it qualifies name the topic; the noun is what must be unknown
            # (实际 + 输出 + 技术 is no topic: 实际 is a word every collection uses). A noun heading a phrase in 的
            # (用“揭榜挂帅”的办法 + 组织 + 技术攻关) ends that phrase; the verb after it starts the predicate.
            found.append((before.word, before.word + word.word + following.word))
    return list(dict.fromkeys(found))
