"""Topics a question names that no document of the collection speaks of.

A topic is a specific word before a generic head (低空 + 经济, 无人机 + 产业) or before a kind of benefit (电价 + 优惠,
购车 + 补贴). When no document uses the specific word, the question is about something the collection does not hold,
however well its head matches: the scope check (``qa.answers.scope``) refuses it and names the topic. An English
question names a topic as the object of such a head (subsidies for computing power) or as one term before it (graphene
projects): CC-CEDICT gives its Chinese words (算力, 石墨烯), and when it knows the phrase and no document uses any of
them, the topic is absent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from qa.answers.text import QUESTION_CLAUSE
from qa.documents.chinese import normalise
from qa.retrieval.bridge import STOP
from qa.retrieval.glossary import (
    MAX_WORDS,
    dictionary_glosses,
    dictionary_headwords,
    gloss_key,
    hyphen_joins,
    singular,
)

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
# an English head's object follows it (subsidies for …, industry of …; not where, as "in" says); a list is cut at these
_OBJECT_OF = re.compile(r"\b(?:for|on|of)\s+(?:the\s+|an?\s+)?([^?.!;:]*)", re.I)
_ITEMS = re.compile(r",|\band\b|\bor\b|\bas well as\b", re.I)


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


@functools.cache
def _english_heads() -> frozenset[str]:
    """The one-word English glosses of the generic heads (产业 → industry, 补贴 → subsidy, allowance)."""
    return frozenset(gloss for head in _TOPIC_HEADS for gloss in dictionary_glosses(head))


def absent_english_topics(question: str, mentioned: Callable[[str], object], is_place: Callable[[str], bool],
                          equivalent: Callable[[str], bool] | None = None) -> list[str]:
    """The topics an English ``question`` names as a head's object (subsidies for computing power) that the
    dictionary knows and no document speaks of, each as ``phrase (headwords)``: ``computing power (算力)``.

    Args:
        question: the question as asked.
        mentioned: text → whether (truthy) a document's body contains it.
        is_place: word → whether it names a place (a place is the scope check's, not a topic).
        equivalent: English word → whether the collection has a term for it (the term bridge); without it, a word
            before a head is not read as a topic.

    Returns:
        the absent topics, or none when another item of the object's list (subsidies for drones or robots) is one
        the documents speak of.
    """
    heads = _english_heads()
    found = []
    for head in re.finditer(r"[A-Za-z]+(?:-[A-Za-z]+)*", question):
        words = gloss_key(head.group()).split()
        if not words or (words[-1] not in heads and singular(words[-1]) not in heads):
            continue
        modifier = _modifier(question[:head.start()], mentioned, is_place, equivalent) if equivalent else None
        if modifier:
            found.append(modifier)
        following = _OBJECT_OF.match(question, head.end() + 1) if question[head.end():head.end() + 1] == " " else None
        if following is None:
            continue
        items = [_noun_phrase(item) for item in _ITEMS.split(following.group(1))]
        if not items or not items[0]:
            continue
        phrase = _last_phrase(items[0])
        if phrase is None:
            continue
        text, headwords = phrase
        if any(mentioned(word) or is_place(word) for word in headwords) or mentioned(text) or mentioned(text.upper()):
            continue
        if any(item and _covered(item, mentioned) for item in items[1:]):
            continue
        found.append(f"{text} ({'、'.join(headwords[:3])})")
    return list(dict.fromkeys(found))


def _modifier(before: str, mentioned: Callable[[str], object], is_place: Callable[[str], bool],
              equivalent: Callable[[str], bool]) -> str | None:
    """The word just before a head (blockchain industry, metaverse projects), as a topic no document speaks of: a
    single word the dictionary translates one way only, a term rather than a description (an adjective such as
    innovative or private, or a word of many senses, has several translations, and the documents may say the same
    thing otherwise), and for which the term bridge finds no collection term either (production → 产制 in the
    dictionary, but 生产 by the model)."""
    word = re.search(r"(?<![-\w])([A-Za-z]+)\s+$", before)
    if word is None or gloss_key(word.group(1)) in STOP:
        return None
    headwords = dictionary_headwords(word.group(1))
    if len(headwords) != 1 or mentioned(headwords[0]) or is_place(headwords[0]) or equivalent(word.group(1)) \
            or mentioned(word.group(1)):  # the documents write PCB as it is, whatever the dictionary's 多氯联苯
        return None
    return f"{gloss_key(word.group(1))} ({headwords[0]})"


def _noun_phrase(item: str) -> str:
    """The words of a list item up to its first function word (computing power in these plans → computing power)."""
    kept = []
    for word in item.split():
        if gloss_key(word) in STOP or not gloss_key(word):
            break
        kept.append(word)
    return " ".join(kept)


def _segments(phrase: str) -> list[tuple[str, tuple[str, ...]]]:
    """The phrase cut into the dictionary's glosses, longest first; a hyphenated word is glossed whole or not at all
    (large-model has no gloss: its parts do not stand for it). A part without a gloss has no headwords."""
    words = gloss_key(phrase).split()
    joined = hyphen_joins(phrase)[-len(words):] if words else []
    cut, position = [], 0
    while position < len(words):
        for length in range(min(MAX_WORDS, len(words) - position), 0, -1):
            ends_inside = joined[position + length - 1]
            starts_inside = position > 0 and joined[position - 1]
            span = " ".join(words[position:position + length])
            if not ends_inside and not starts_inside and (headwords := dictionary_headwords(span)):
                cut.append((span, headwords))
                position += length
                break
        else:
            end = position
            while end < len(words) - 1 and joined[end]:
                end += 1
            cut.append((" ".join(words[position:end + 1]), ()))
            position = end + 1
    return cut


def _last_phrase(phrase: str) -> tuple[str, tuple[str, ...]] | None:
    """The gloss that ends the noun phrase (its head: AI computing power → computing power), with its headwords."""
    cut = _segments(phrase)
    return cut[-1] if cut and cut[-1][1] else None


def _covered(phrase: str, mentioned: Callable[[str], object]) -> bool:
    """Every part of the phrase is glossed by a word some document uses."""
    cut = _segments(phrase)
    return bool(cut) and all(any(mentioned(word) for word in headwords) for _, headwords in cut)
