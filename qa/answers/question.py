"""What a question asks for: its weighted content words, whether it wants a figure or a share, which
regions it names, and whether its answer spans several documents.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

from qa.answers.precedent import precedent_topic
from qa.documents.chinese import normalise as simplified
from qa.index.collection import Index
from qa.index.lexical import Tokenizer

# Words that shape a question but are not what its answer is about.
QUESTION_WORDS = frozenset(
    "具体 分别 各 各自 各有 有没有 没有 打算 准备 计划 要求 提 提过 提出 提了 写 写的 原文 表述 措辞 说法 地方 其他 其它 "
    "哪些地方 一般 文件 里 现有 主要 方面 目标 怎么 怎样 如何 哪个 哪几个 几个 哪两所 哪两家 哪 什么 方案 要 想 搞 做 "
    "定 定了 给 是 了 还 还要 除了 以后 之后 一笔 专门 至少 两大 吗 呢 看 还是 另外 本地 当地 让 跟 帮 用 把 哪几 哪两 "
    "两所 两家 出来 安排 相关 有关 情况 这份 该 此 文字 第几 现在 如今 目前 排 what which how many much "
    "does do did is are the a an of to in and or for on by with each year aim".split())
SINGLE_CHAR_WEIGHT = 0.3
UNKNOWN_WEIGHT = 0.3
# A question that asks for a quantity, and one that asks for a share.
# 几份 / 几部 count documents, which no sentence states; "文号是多少" asks a document number (``doc_number``)
# 几 after 好 or a verb with 少/多 (好几家, 少跑几趟, 多走几步) is "a few", after 这/那 (这几个行业) "these few", and
# 几乎 "almost": they ask no number
_WANTS_FIGURE = re.compile(r"(?<!文号是)(?<!字号是)(?<!文号为)多少|(?<![哪好这那])(?<![少多][\u4e00-\u9fff])几(?![份部篇乎])[个家名项所年成倍]?|数量|总量|总数|数目|量化|目标|指标|规模(?!以[上下])|金额|比例|比重|占比|百分|多大|多高|多长|"
                           r"\bhow (?:many|much|big|large|high)\b|\bnumber of\b|\bamount\b|\bpercent(?:age)?\b|\bratio\b|"
                           r"\bshare\b|\btargets?\b|\bgoals?\b|\bsize\b|\bscale\b|\bquotas?\b",
                           re.IGNORECASE)
_WANTS_SHARE = re.compile(r"比例|比重|占比|(?<![侵霸])占(?![地用])多少|百分|几成|[税利比费]率|率(?:是|为|有|达|要)|\bpercent(?:age)?\b|\bratio\b|"
                          r"\bshare of\b|\brate\b", re.IGNORECASE)
_WANTS_MONEY = re.compile(r"金额|多少钱|资金|经费|补贴|补助|奖励|奖补|贴息|贷款|信贷|授信|融资|租金|价格|工资|资本|投资额|税(?!率)|"
                          r"\bmoney\b|\bfunding\b|\btax(?:es)?\b(?! rates?)|"
                          r"\blending\b|\bloans?\b|\bsubsid|\bgrant|\bwage|\bprice|\bcapital\b|\byuan\b", re.IGNORECASE)
# a place in a ranking: 排第几, 名次, 前几位
_WANTS_RANK = re.compile(r"第几|排名|名次|位次|排在|排第|前几[位名]|\brank(?:ed|ing|s)?\b|\bwhich place\b", re.IGNORECASE)
_WANTS_DOC_NUMBER = re.compile(r"文号|字号|发文号|\bdocument number\b", re.IGNORECASE)
# who issued it: a body asked about together with the act of issuing (哪个部门负责实施 asks who carries a task out)
_ISSUING = r"(?:印发|发布|制定|出台|发的|发文|下发|颁布|签发)"
_WANTS_ISSUER = re.compile(rf"(?:哪个|哪家|哪一个|什么)(?:部门|单位|机关|机构)(?:所|来)?{_ISSUING}|谁{_ISSUING}|"
                           rf"{_ISSUING}(?:的)?(?:部门|单位|机关|机构)是|发文(?:机关|单位)|发布(?:机构|单位)|印发(?:单位|机关)|"
                           r"\bissued by\b|\bwho (?:issued|published)\b|"
                           r"\bwhich (?:department|body|agency|office)\b.*\b(?:issue|publish)", re.IGNORECASE)
_WANTS_DATE = re.compile(rf"成文日期|印发日期|发布日期|发文日期|哪一天|哪天|(?:什么时候|什么时间|何时|哪年|哪一年|哪个月){_ISSUING}|"
                         rf"{_ISSUING}(?:的)?(?:时间|日期|年份)|"
                         r"\b(?:when (?:was|were|did)|(?:what|which) (?:date|day))\b.*\b(?:issued?|publish(?:ed)?|sign(?:ed)?|"
                         r"released?)\b|\bdate of (?:issue|publication|release)\b|\b(?:issue|publication|release) date\b", re.IGNORECASE)
# which meeting or body approved it (经过什么会议讨论通过, which meeting approved): the forwarding notice's line says
_APPROVING = r"(?:通过|批准)"  # 讨论通过, 审议通过 end in 通过
_WANTS_APPROVAL = re.compile(rf"(?:什么|哪个|哪次|哪一个|哪些)(?:会议?|机构|部门|单位)[^，,。？?]{{0,6}}{_APPROVING}|"
                             rf"{_APPROVING}的(?:会议|机构|部门|单位)是|"
                             r"\b(?:which|what) (?:meeting|body|committee)\b[^?]{0,30}\b(?:approv|adopt|pass)|"
                             r"\b(?:approv|adopt|pass)\w* (?:by|at) (?:which|what)\b", re.IGNORECASE)
_WANTS_VALIDITY = re.compile(r"还有效|是否有效|有效吗|仍然有效|还在执行|还执行吗|是否(?:废止|失效|过期|到期)|(?:废止|失效|过期|到期)了(?:吗|没)|"
                             r"有没有(?:废止|失效|过期)|什么时候(?:到期|截止|失效)|有效期(?=是|为|為|到|至|多|几|幾|截|有多|吗|嗎|呢|[?？,，。]|$)|实施期(?!内)|"
                             r"覆盖(?:的是)?哪(?:几|些)年|时间跨度|实施期限|执行期限|规划期(?!内)|起止年|"
                             r"\bwhich years\b|\bwhat (?:time )?period\b|\btime ?frame\b|"
                             r"\bstill (?:valid|in force|in effect)\b|\bexpired?\b|\brepealed\b|\bvalid until\b", re.IGNORECASE)
# A question about what a numbered formula stands for (“四有”具体指哪四有, “六位一体”指哪六个方面): its quoted name
# holds a Chinese numeral, and the question asks for its members.
# English quotes it in single quotes (Taicang's '1123' action plan: an apostrophe inside a word is no quote)
_FORMULA = re.compile(r"[“\"「‘]([^”\"」’]{0,6}[一二两三四五六七八九十\d][^”\"」’]{0,6})[”\"」’]|"
                      r"(?<![A-Za-z])'([^']{0,6}[一二两三四五六七八九十\d][^']{0,6})'(?![A-Za-z])")
_ASKS_DEFINITION = re.compile(r"具体指|指哪|指的是|指什么|是指|包括哪|包含哪|具体内容|具体是什么|\bstand for\b|\bconsists? of\b",
                              re.IGNORECASE)
_ONE_OF = re.compile(r"\s*(?:里|中|当中|之中|其中|之一)")
_ASKS_MEMBERS = re.compile(_ASKS_DEFINITION.pattern + r"|有哪[些几]|是哪[些几]|哪几|(?:具体|分别)(?:是|为|有)?哪|"
                           r"\bwhat are the\b", re.IGNORECASE)
_BESIDES = re.compile(r"除(?:了)?[^，,。？?]{0,6}$")  # 除了提升现有“一院三所”,还…: the question is about something else
# a counted set whose members are asked for (4家国家级孵化器分别是哪几家, 四大制造业集群分别是哪几个): the count, its
# measure word, and the noun after it
COUNTED_BY = r"(?:家|个|所|项|座|条|大)"
_COUNTED_SET = re.compile(r"(?<![\d.])(\d+|[两二三四五六七八九十]+)" + COUNTED_BY + r"((?:(?!分别|具体|都是|各是|包括|包含|指的?是|指哪)"
                      r"[\u4e00-\u9fff]){2,10}?)(?=分别|具体|都是|各是|是哪|有哪|包括|包含|指的?是|指哪)")
# a rate asked by name: the two characters before 率 (研发机构建有率 → 建有率, 科技进步贡献率 → 贡献率)
_RATE = re.compile(r"(?:(?![多少几么哪])[\u4e00-\u9fff]){1,2}率(?![先领])")
# a share's whole, after what is measured (研发投入占地区生产总值比重 → 占地区生产总值比重): every share of it has those words
_SHARE_OF = re.compile(r"([^，,。？?；;、]{2,20})(占[^，,。？?；;、]{1,12}?(?:的)?(?:比重|比例|份额))")
# a question about how things stand now (眼下已经有多少家), not also about a target (还要再添几家, 目标, 到2025年)
# 现有 asks how things stand when a count follows (现有高新技术企业多少家), not in 现有科创载体 or 现有几份方案
_ASKS_NOW = re.compile(r"(?:目前|眼下|现在|如今|当前|现阶段|已经|已有|截至)(?!的?(?:文件|材料|政策|规定|表述|文本))|"
                       r"现有(?!几[份部篇])(?=[^，,。？?；;]{0,12}(?:多少|几))|"
                       r"实际(?=是|为|上|有|达到|完成|多少)|\bactual(?:ly)?\b|\bcurrently\b|\bso far\b|\bto date\b|\balready\b|"
                       r"\bright now\b|\bat present\b|\bat (?:the|that) time\b", re.IGNORECASE)
_ASKS_TARGET = re.compile(r"目标|要(?:发展|达|到|新增|培育|建成|实现)|还要|再添|计划|规划|打算|将|力争|到20\d\d|\btarget|\bgoal|\bplan|"
                          r"\bby 20\d\d|\bwill\b|\baim", re.IGNORECASE)
# wording asked for (其他地方怎么写) is of a target only when its topic names one (排名目标): the asker's own intent
# (我们打算…) is framing, and so is how things stand
_NAMES_TARGET = re.compile(r"目标|\btargets?\b|\bgoals?\b", re.IGNORECASE)
# a kind of money support asked by name (有什么补贴, 奖励多少, subsidies)
_ASKS_SUPPORT = re.compile(r"补贴|补助|奖励|资助|奖补|贴息|\bsubsid|\bgrants?\b|\brewards?\b", re.IGNORECASE)
# a count asked with its measure word (多少套, 几家, 多少亿元; not 第几位, a place in a ranking): the figure that
# answers it carries that word or one that counts the same things (家 ~ 个 ~ 所; 名 ~ 人 ~ 位; 项 ~ 个 ~ 件); 多少个
# counts anything
# measure words of counts and of lengths, areas and power (a multi-character word before the character it ends in)
MEASURE_WORD = r"(?:平方公里|平方米|公里|千米|公顷|千瓦|兆瓦|米|[家个名人项所件条座套台次篇亩吨户元位场批])"
_ASKED_UNIT = re.compile(rf"(?<![哪第这那])(?:多少|几)(?:万|亿|千|百)?({MEASURE_WORD})")
_SAME_UNITS: dict[str, tuple[str, ...]] = {unit: tuple(words) for unit, words in {
    "个": "个家项所座件名人条套台批", "家": "家个所", "所": "所个家", "名": "名人位", "人": "人名位", "位": "位名人",
    "项": "项个件", "件": "件项个", "套": "套", "台": "台套", "次": "次场", "场": "场次",
    "公里": ("公里", "千米"), "千米": ("千米", "公里"), "平方公里": ("平方公里",), "平方米": ("平方米",), "公顷": ("公顷",),
    "千瓦": ("千瓦", "兆瓦"), "兆瓦": ("兆瓦", "千瓦"), "米": ("米",)}.items()}
# jieba glues a measure word or preposition to an out-of-vocabulary noun after it (多少家高企 → 家高企, 对万人) and a modal
# verb to one before it (大所要): a word the collection never uses is read as the known word inside
_GLUED_BEFORE = frozenset("家个名人项所件条座套台次篇份位场批对向在把给从与和跟")
_GLUED_AFTER = frozenset("要会能将的了呢吗是")
NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# A question whose answer is one passage from each of several documents.
_SEVERAL = re.compile(r"分别|各(?:自|有|是|定|为)|哪些地方|其他地方|其它地方|各地|别的地方|一般怎么|怎么(?:表述|措辞|写|说)|"
                      r"原文|如何表述|现有文件|哪些文件")
_REGION_SUFFIX = re.compile(r"(?:市|县|区|省|自治区|自治州|州|镇)$")
_LATIN = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOUN = re.compile(r"^(?:n(?![rsz])|vn$|j$)")  # jieba's tags of common nouns, verbal nouns and abbreviations


@dataclass
class Question:
    """A question, analysed.

    Args:
        text: the question as asked.
        terms: content words with their weights (inverse document frequency in the index).
        figure: the kind of quantity the answer states: ``share`` (比例, 比重, 税率, percentage…), ``money``
            (金额, 补贴, 贷款… with 多少), ``any`` (多少, 几, 目标, how many…), or None.
        doc_number: the question asks for a document's 文号.
        issuer, date: it asks which body issued a document, or on which day (the signature lines answer).
        approval: it asks which meeting or body approved a document (the forwarding notice's line answers).
        validity: it asks whether a document is still in force (its plan period and stated validity answer).
        regions: regions named in the question, as the index spells them (``南通市``).
        several: the answer quotes several documents (分别, 其他地方怎么表述…).
        english: the question is written in English.
        target_only: the figure cue is only 目标 (target, goal): a figure answers, or a thing to be achieved.
        units: measure words a figure answering its count or measure may carry (多少套 → 套, 多少公里 → 公里
            千米); empty when none is asked.
        support: it asks about a subsidy or reward by name; a sentence naming no money support does not answer.
        rates: the rates the question asks for by name (建有率): another indicator's percentage is not theirs.
        share_of: what a share is asked of, when the question names both (研发投入占地区生产总值比重): the part
            measured (研发投入) and the whole with its share word (占地区生产总值比重); empty strings otherwise.
        now: it asks how things stand now, not a target: a target line (到2025年…达180家) does not answer it.
        target: it asks a target, not how things stand now: a line saying only what is (目前共有459家) does not
            answer it.
        formulas: numbered formulas whose members the question asks for (“四有” → 4), with how many there are.
        counted: sets the question counts and asks the members of (4家国家级孵化器分别是哪几家 → 国家级孵化器: 4).
        unknown: share of the question's content words (by IDF, two characters or more) the collection never
            uses — a question about things no document mentions.
        abbreviations: the contracted forms of adjacent words of the question that the collection uses (高新技术 +
            企业 → 高企, 知识 + 产权 → 知产), each with the question's terms it stands for.
        topic: for a question asking how documents word something, what it is about without that framing
            (``precedent``); its words are the terms, and it is what is searched.
    """

    text: str
    terms: dict[str, float] = field(default_factory=dict)
    figure: str | None = None
    doc_number: bool = False
    validity: bool = False
    issuer: bool = False
    date: bool = False
    approval: bool = False
    regions: list[str] = field(default_factory=list)
    several: bool = False
    english: bool = False
    unknown: float = 0.0
    formulas: dict[str, int] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    rates: list[str] = field(default_factory=list)
    share_of: tuple[str, str] = ("", "")
    support: bool = False
    now: bool = False
    target: bool = False
    units: tuple[str, ...] = ()
    target_only: bool = False
    abbreviations: dict[str, frozenset[str]] = field(default_factory=dict)
    topic: str | None = None

    @property
    def weight(self) -> float:
        return sum(self.terms.values())

    @property
    def searched(self) -> str:
        """What the clauses are searched and compared with: the topic of a question about wording, else the text."""
        return self.topic or self.text


class QuestionAnalyzer:
    """Analyses questions against one index (its tokenizer, term frequencies and regions).

    Args:
        index: the loaded index.
    """

    def __init__(self, index: Index):
        self.index = index
        self.tokenizer: Tokenizer = index.get_tokenizer()
        self.passages = max(len(index.passages), 1)
        self._df = index.lexical.doc_freq
        regions = {m.region for m in index.metas if m.region}
        # 南通市 is asked about as 南通: match the short name, report the index's spelling.
        self.region_names = sorted(((_short_region(r), r) for r in regions), key=lambda item: -len(item[0]))

    def idf(self, term: str) -> float:
        """Inverse document frequency over passages; a word the index never saw weighs most."""
        df = self._df(term)
        return math.log((self.passages + 1) / (df + 0.5))

    def tokens(self, text: str) -> list[str]:
        """Content tokens of a piece of text, in the index's tokenization."""
        return self.tokenizer(text)

    def analyse(self, text: str) -> Question:
        """Analyse ``text``.

        Args:
            text: the question.

        Returns:
            the weighted content words and the cues the answerer uses.
        """
        english = bool(_LATIN.search(text)) and len(_CJK.findall(text)) < 2
        topic = None if english else precedent_topic(text)
        rewritten = topic or text
        terms: dict[str, float] = {}
        unknown = total = 0.0
        for token in map(self._unglued, self.tokenizer(rewritten)):
            if token in QUESTION_WORDS or token in terms:
                continue
            # single characters in a question are mostly function words (让, 跟, 帮): they weigh little
            weight = self.idf(token)
            if len(token) == 1:
                weight *= SINGLE_CHAR_WEIGHT
            if len(token) > 1 and not token.isascii():
                total += weight
            if self._df(token) == 0:
                if len(token) > 1 and not token.isascii():
                    unknown += weight
                # a word the index never uses cannot be matched by wording: it weighs less, not most
                weight *= UNKNOWN_WEIGHT
            terms[token] = weight
        squashed = re.sub(r"\s", "", text)
        found: dict[str, int] = {}
        for short, full in self.region_names:  # in the order the question names them
            position = squashed.find(short)
            if position >= 0:
                found[full] = min(position, found.get(full, position))
        regions = sorted(found, key=found.get)
        several = bool(_SEVERAL.search(text)) or len(regions) >= 2
        plain = simplified(text)  # traditional → simplified, for the cues read from the words themselves
        asks_now, asks_target = bool(_ASKS_NOW.search(plain)), bool(_ASKS_TARGET.search(plain))
        units = _units(simplified(rewritten))  # measured in the topic, as the figure cue is below
        figure = None
        # a question about wording asks a figure only in its topic (几个地方的原文 counts sources, not a figure)
        if _WANTS_RANK.search(rewritten):
            figure = "rank"
        elif _WANTS_SHARE.search(rewritten):
            figure = "share"
        elif _WANTS_FIGURE.search(rewritten):
            # a count in another measure word (多少个项目) is no amount of money, whatever the question's topic
            counted = set(units) - {"元"}
            figure = "money" if _WANTS_MONEY.search(rewritten) and not counted else "any"
        # 提出了什么创建目标: a target is asked, which may be a thing to become rather than a number
        cues = {m.group(0).lower() for m in _WANTS_FIGURE.finditer(rewritten)}
        target_only = figure == "any" and bool(cues) and all(_NAMES_TARGET.fullmatch(cue) for cue in cues)
        return Question(text=text, terms=terms, figure=figure, doc_number=bool(_WANTS_DOC_NUMBER.search(text)),
                        issuer=bool(_WANTS_ISSUER.search(text)), date=bool(_WANTS_DATE.search(text)),
                        approval=bool(_WANTS_APPROVAL.search(text)),
                        validity=bool(_WANTS_VALIDITY.search(text)),
                        regions=regions, several=several, english=english,
                        unknown=unknown / total if total else 0.0, formulas=_formulas(plain),
                        counted=_counted(plain),
                        rates=list(dict.fromkeys(_RATE.findall(plain))), share_of=_share_of(plain),
                        support=bool(_ASKS_SUPPORT.search(plain)),
                        now=asks_now and not asks_target and topic is None,
                        target=(bool(_NAMES_TARGET.search(topic)) if topic is not None else asks_target) and not asks_now,
                        units=units, target_only=target_only,
                        abbreviations=self._abbreviations(rewritten, terms), topic=topic)

    def _unglued(self, token: str) -> str:
        """``token`` without a measure word, preposition or modal verb jieba glued to it, when only the rest is a word
        the collection uses (家高企 → 高企)."""
        if len(token) < 3 or self._df(token):
            return token
        if token[0] in _GLUED_BEFORE and self._df(token[1:]):
            return token[1:]
        if token[-1] in _GLUED_AFTER and self._df(token[:-1]):
            return token[:-1]
        return token

    def _abbreviations(self, text: str, terms: dict[str, float]) -> dict[str, frozenset[str]]:
        """Chinese contracts two adjacent words to their first characters (高新技术企业 → 高企): each such contraction of
        two words of the question that the collection uses as a word of its own, with the terms it stands for."""
        found: dict[str, frozenset[str]] = {}
        words = self.tokenizer.tagged(text)
        for (first, first_tag), (second, second_tag) in itertools.pairwise(words):
            if len(first) < 2 or len(second) < 2 or not (_NOUN.match(first_tag) and _NOUN.match(second_tag)) \
                    or not (_CJK.match(first) and _CJK.match(second)):
                continue
            short = first[0] + second[0]
            if short in terms or short in text or not self._df(short):
                continue
            found[short] = frozenset(t for t in terms if t in first or t in second)
        return found


def _units(text: str) -> tuple[str, ...]:
    """The measure words a figure answering the counts or measures ``text`` asks for may carry."""
    return tuple(dict.fromkeys(word for unit in _ASKED_UNIT.findall(text) for word in _SAME_UNITS.get(unit, (unit,))))


def _formulas(text: str) -> dict[str, int]:
    """Quoted numbered formulas whose members ``text`` asks for, each with the least number of members its largest
    numeral implies (四有 → 4, 六位一体 → 6, 两站三中心 → 3); 2 when its numerals do not count (一区多园); 0 for a
    name numbered in digits (“8050计划”), which says nothing of its members: only a definition spells it out."""
    if not _ASKS_MEMBERS.search(text):
        return {}
    found = {}
    for match in _FORMULA.finditer(text):
        name = match.group(1) or match.group(2)
        if _ONE_OF.match(text, match.end()) or _BESIDES.search(text, 0, match.start()):
            continue  # “八大工程”里的科技赋能民生发展工程: one member is asked about, not what the members are
        counted = max((NUMERALS[c] for c in name if c in NUMERALS), default=0)
        if not counted and not _ASKS_DEFINITION.search(text):
            continue  # 落实“人才22条”有哪些举措 asks what is done under it, not what it consists of
        found[name] = 0 if not counted else counted if counted >= 2 and "多" not in name else 2
    return found


def _counted(text: str) -> dict[str, int]:
    """Counted sets whose members ``text`` asks for (4家国家级孵化器分别是哪几家 → 国家级孵化器: 4)."""
    if not _ASKS_MEMBERS.search(text):
        return {}
    found = {}
    for match in _COUNTED_SET.finditer(text):
        count = match.group(1)
        number = int(count) if count.isdigit() else NUMERALS.get(count, 0)
        if number >= 2:
            found[match.group(2)] = number
    return found


def _short_region(region: str) -> str:
    short = _REGION_SUFFIX.sub("", region)
    return short if len(short) >= 2 else region


def _share_of(plain: str) -> tuple[str, str]:
    """The part measured and the whole of a share asked of something named (研发投入占地区生产总值比重 →
    研发投入, 占地区生产总值比重), or two empty strings."""
    match = _SHARE_OF.search(plain)
    return (match.group(1), match.group(2)) if match else ("", "")
