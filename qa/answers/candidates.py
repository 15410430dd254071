"""Candidate sentences of an answer: what one is, which may be quoted, and how one matches the question.

Headings, a document's bare 文号, its issuer or date line, the wrapping notice's title, letterheads and lead-ins
to a list are never answers; a task's responsibility note ("(责任单位:…)") is evidence that its clause is the one
asked about, quoted only when the question asks who carries the task out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.answers.question import COUNTED_BY, MEASURE_WORD, NUMERALS, Question
from qa.answers.text import CN_NUMBER, QUESTION_CLAUSE, containment, figure_positions, normalise
from qa.documents.metadata import plan_period, years_mentioned
from qa.schemas import Hit

FIGURE_BEFORE, FIGURE_AFTER = 12, 20  # how near a question word a figure must be, in characters
_DOC_NUMBER_ONLY = re.compile(r"^[\u4e00-\u9fff]{1,12}\s*[〔\[［(（【]\s*\d{4}\s*[〕\]］)）】]\s*\d{1,4}\s*号$")
_LEAD_IN = re.compile(r"[\s\u3000]*[:：]")  # what follows a lead-in (its colon is left out of the sentence)
# the wrapping notice's title (关于印发《…》的通知): a heading (its forwarding line says which meeting approved it)
_NOTICE = re.compile(r"^关于(?:印发|转发|下发|公布)[\s\S]{2,80}的(?:通知|决定|意见)$")
ORGANISATION = re.compile(r"^[\u4e00-\u9fff]{2,22}(?:局|委员会|委|办公室|人民政府|政府|厅|管委会|管理委员会)$")
# a task's responsibility note, "(责任单位:科创办、发改委…)": it names who carries the task out, not what it is
RESPONSIBILITY = re.compile(r"^[（(〔\[［【]\s*(?:责任|牵头|配合|主办|协办)(?:单位|部门)\s*[:：]")
# the notice's forwarding line (现将《…》印发给你们，请认真贯彻落实): it answers only how the document was issued or approved
FORWARDING = re.compile(r"(?:印发|转发|下发)给你们|请(?:结合实际)?认真(?:贯彻|组织|抓好)")
ASKS_ISSUE = re.compile(r"通过|审议|会议|印发|下发|转发|发布|出台|\bapprov|\badopt|\bissu|\bmeeting", re.I)
# the document's own title restated (a web page's headline: 太仓市人民政府发布科技创新三年行动计划(2018—2020年))
TITLE_LIKENESS = 0.6  # share of the line's character bigrams in the title
ASKS_TITLE = re.compile(r"标题|名称|全称|题目|叫什么|\btitle\b|\bname\b|\bcalled\b", re.I)
# a formula's members: a definition just after its name, or its members listed within a clause's reach of it
_DEFINES = re.compile(r"即|包括|包含|是指|指的是|[:：(（]")
FORMULA_MARKER_SPAN, FORMULA_WINDOW = 4, 40
# a line setting a target (到2025年…达到, 力争, 确保); one saying how things stand (目前…共有); one stating them as of
# now or of a past year (those words, or 2022年发放)
_TARGET_LINE = re.compile(r"(?:到|至)20\d\d年|力争|争取|确保|目标")
_STATES_WHAT_IS = re.compile(r"目前|现有|已有|已经|共有|截至|现已")
# …建立了紧密型的科技合作: a verb's 了 says it is done (为了, 除了, 了解 say nothing of the kind)
_PRESENT_LINE = re.compile(_STATES_WHAT_IS.pattern + r"|拥有(?!量)|(?<![到至\d—-])20\d\d年(?![前起\d—-])|"
                           r"(?<=[\u4e00-\u9fff])(?<![为除罢])了(?![解结断])")
# money support (a question asking about it by name: ``Question.support``)
_SUPPORT = re.compile(r"补贴|补助|奖励|资助|奖补|贴息|补偿|奖金|减免|扶持资金|专项资金|引导资金|\d\s*(?:万|亿)?元")
_COUNTED = re.compile(r"(?:\d+(?:\.\d+)?|" + CN_NUMBER + r"+)\s*(?:多|余)?\s*(?:万|亿|千|百)?\s*"
                      rf"({MEASURE_WORD})")
_UNIT_WORD = re.compile(rf"(?:[万亿千百]?美?元|{MEASURE_WORD}|%|％)")
# the verbs a target is stated with (达到, 突破, 超过): near every figure, they say nothing of what it measures
_ATTAINING = re.compile(r"达到|实现|突破|超过|力争|确保|累计|完成")
NAMES_WHO = re.compile(r"负责|牵头")  # a sentence that says who carries something out
ASKS_RESPONSIBILITY = re.compile(r"责任单位|牵头单位|责任部门|牵头部门|(?:哪些|哪个|哪家|哪一个|什么)(?:部门|单位)|谁负责|由谁|负责部门"
                                  r"|\bdepartments?\b|\bresponsib|\bin charge\b|\bagenc", re.I)
# a year set as a deadline: 到2024年, 至2024年底, 2024年末, by 2024
_DEADLINE = re.compile(r"(?:到|至|截至|截止到?)\s*((?:19|20)\d{2})\s*年|((?:19|20)\d{2})\s*年\s*(?:底|末)|\bby\s+((?:19|20)\d{2})", re.I)
# a year naming a document: a document's word soon after it (2024年的计划, 2018年出台行动计划时, 2023年如皋印发的方案,
# the 2023 article, Taicang's 2018 action plan)
_NAMES_DOCUMENT = re.compile(r"((?:19|20)\d{2})\s*年[^，,。？?；;]{0,6}?(?:方案|计划|规划|文件|意见|通知|办法|纲要|出台|印发|发布|"
                             r"制定|编制|提出)|\b((?:19|20)\d{2})\b(?:\s+[\w-]+){0,2}?\s+(?:plans?|articles?|documents?|"
                             r"programmes?|programs?|notices?|opinions|reports?|strateg(?:y|ies))\b", re.IGNORECASE)
_ASKS = re.compile(r"多少|几|什么|哪|吗|呢|怎|如何|是否|有没有|有无|\?|？|\b(?:how|what|which|when|whether)\b", re.I)
_YEAR_TERM = re.compile(r"(?:19|20)\d{2}年?")
_DASH_LABEL = re.compile(r"[ \t\u3000]*[—–-]{1,2}([^。：:\n]{2,20})[。：:]")
_DATE_ONLY = re.compile(r"^(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")


@dataclass
class Candidate:
    """One sentence of a retrieved clause and how likely it holds the answer.

    Args:
        hit: the clause.
        rank: the clause's retrieval rank (0 = best).
        start, end: the sentence's offsets in ``hit.text``.
        features: the model's inputs.
        quotable: whether it may be quoted (a task's responsibility note is evidence, not an answer).
        probability: the model's output.
    """

    hit: Hit
    rank: int
    start: int
    end: int
    features: dict[str, float]
    probability: float = 0.0
    quotable: bool = True

    @property
    def text(self) -> str:
        return self.hit.text[self.start:self.end]


def with_responsibility(chosen: list[Candidate], candidates: list[Candidate], limit: int) -> list[Candidate]:
    """``chosen`` with the responsibility note of the first chosen task that has one, right before that task: the note
    is what the question asks (who carries the task out), the task says which task it is. The pair leads, after
    only those sentences that themselves say who leads or is responsible (县发改、科技…等部门负责牵头…)."""
    for position, answer in enumerate(chosen):
        note = next((c for c in candidates if c.hit.passage_id == answer.hit.passage_id and c.start >= answer.end
                     and RESPONSIBILITY.match(c.text.strip())), None)
        if note is not None and note not in chosen:
            earlier = chosen[:position]
            saying = [c for c in earlier if NAMES_WHO.search(c.text)]
            rest = [c for c in earlier if c not in saying] + chosen[position + 1:]
            return (saying + [note, answer] + rest)[:limit]
    return chosen


def coverage(question: Question, text: str, region: str) -> float:
    if not question.weight:
        return 0.0
    standing_for = {t for short, terms in question.abbreviations.items() if short in text for t in terms}
    covered = sum(weight for term, weight in question.terms.items()
                  if term in text or term in standing_for or (region and term in region))
    return covered / question.weight


def paragraph_label(text: str, start: int) -> str:
    """The short title a paragraph opens with after a dash (——科创平台能级跃升。), which heads the paragraph's
    sentences as a heading does a clause's; empty when the paragraph of ``start`` has none or ``start`` is in it."""
    opening = text.rfind("\n", 0, start) + 1
    label = _DASH_LABEL.match(text, opening)
    return label.group(1) if label and label.end() <= start else ""


def not_an_answer(sentence: str, hit: Hit, end: int) -> bool:
    """Headings, a document's bare 文号, its issuer or date line, the wrapping notice's title, and lead-ins to a list
    or to a notice's text (主要目标：, 各县(市、区)人民政府,…:) are never answers; ``end`` is where the sentence ends in
    the clause."""
    stripped = sentence.strip()
    if _DOC_NUMBER_ONLY.match(stripped) or _LEAD_IN.match(hit.text, end) or _DATE_ONLY.match(stripped) \
            or _NOTICE.search(stripped):
        return True
    if hit.issuer and stripped == hit.issuer.strip():
        return True
    headings = [hit.heading or ""] + list(hit.heading_path)
    return any(stripped and (stripped == h or stripped in h) for h in headings if h)


def restates_title(sentence: str, hit: Hit) -> bool:
    """The line is the document's title again (with its issuer or a verb around it), not something it says."""
    title = (hit.doc_title or "").strip()
    stripped = sentence.strip()
    return bool(title) and len(stripped) <= len(title) + 12 and containment(stripped, title) >= TITLE_LIKENESS


def leaves_formula_unexplained(question: Question, sentence: str) -> bool:
    """The question asks what a formula's members are, and the sentence does not spell them out: it does not name the
    formula, or names it only (“四有型”科创项目) without a definition right after the name (即, 包括, ：) or as many
    members listed beside it (品牌、平台、机制、队伍、改革、阵地“六位一体”); or the question asks which ones a counted
    set holds (4家国家级孵化器分别是哪几家) and the sentence gives the set's number, not its members."""
    if not question.formulas and not question.counted:
        return False
    normal = normalise(sentence)
    for name, members in {**question.formulas, **question.counted}.items():
        at, length = normal.find(name), len(name)
        if at < 0 and name in question.counted:
            at, length = _count_named(normal, name, members)
        if at < 0:
            continue
        after = normal[at + length:at + length + FORMULA_MARKER_SPAN]
        beside = normal[max(0, at - FORMULA_WINDOW):at + length + FORMULA_WINDOW]
        if _DEFINES.search(after) or (members and beside.count("、") >= members - 1):
            return False
    return True


def _count_named(normal: str, name: str, members: int) -> tuple[int, int]:
    """Where the sentence counts the set by its head word in other words (四大制造业集群 as 四大先进制造业产业集群), and
    how long that is; (-1, 0) when it does not."""
    numerals = "|".join(re.escape(n) for n in (str(members), *(c for c, v in NUMERALS.items() if v == members)))
    match = re.search(rf"(?:{numerals}){COUNTED_BY}[^，,。；;、]{{0,12}}?{re.escape(name[-2:])}", normal)
    return (match.start(), match.end() - match.start()) if match else (-1, 0)


def names_no_support(question: Question, sentence: str) -> bool:
    """The question asks about a subsidy or reward and the sentence names no money support at all (a subsidy,
    reward, interest subsidy, special fund or an amount in 元)."""
    return question.support and not _SUPPORT.search(sentence)


def not_the_present(question: Question, sentence: str) -> bool:
    """The question asks how things stand now and the sentence does not say: it sets a target, or (for a figure)
    states none as of now or of a past year."""
    if not question.now or _PRESENT_LINE.search(sentence):
        return False
    return bool(question.figure) or bool(_TARGET_LINE.search(sentence))


def in_time_asked(question: Question, chosen: list[Candidate]) -> list[Candidate]:
    """``chosen`` with the sentences only of the other time last, when a figure is asked: for a target, the lines that
    say how things stand and set none (…建立了紧密型的科技合作); for how things stand, the lines that set a target and
    say nothing of now. Such a sentence may complete the answer; it does not open it."""
    if question.now == question.target or not question.figure:
        return chosen
    ours, theirs = (_PRESENT_LINE, _TARGET_LINE) if question.now else (_TARGET_LINE, _PRESENT_LINE)

    def other_time_only(candidate: Candidate) -> bool:
        normal = normalise(candidate.text)
        return bool(theirs.search(normal)) and not ours.search(normal)
    return sorted(chosen, key=other_time_only)


def by_deadline_asked(question: Question, chosen: list[Candidate]) -> list[Candidate]:
    """``chosen`` with the sentences that state the deadline a target question names (到2025年…) first: the line
    setting the target by then opens the answer; one about the same thing without a date may complete it. Not for a
    figure: its sentence may take the year from its clause (到2020年，… then the figures), which
    ``states_another_year`` reads."""
    asked = deadlines(question.text)
    if not question.target or question.figure or not asked or len(chosen) < 2:
        return chosen
    return sorted(chosen, key=lambda candidate: not asked & deadlines(candidate.text))


def deadlines(text: str) -> set[int]:
    """The years ``text`` names as deadlines (到2025年, 2024年底, by 2025)."""
    return {int(year) for match in _DEADLINE.finditer(text) for year in match.groups() if year}


def not_a_target(question: Question, sentence: str, written: int | None = None) -> bool:
    """The question asks a target figure and the sentence only says how things stand (目前全市共有高新技术企业459家)
    or stood (2022年发放科技金融贷款19亿元, in a document of ``written`` 2023): it sets no target, or each of its
    figures of the kind asked follows a word of how things stand, with no target's word between them (…以打造…为目标，
    …，目前，…位居全省第20位)."""
    if not (question.target and question.figure):
        return False
    normal = normalise(sentence)
    if written is not None and not _TARGET_LINE.search(normal):
        stated = years_mentioned(normal)
        if stated and max(stated) < written and not set(stated) & set(years_mentioned(question.text)):
            return True  # a report of a year before the document was written
    if not _STATES_WHAT_IS.search(sentence):
        return False
    if not _TARGET_LINE.search(normal):
        return True
    figures = figure_positions(sentence, question.figure)
    if not figures:
        return False
    present = [m.end() for m in _STATES_WHAT_IS.finditer(normal)]
    targets = [m.end() for m in _TARGET_LINE.finditer(normal)]
    return all(max((p for p in present if p <= f), default=-1) > max((t for t in targets if t <= f), default=-1)
               for f in figures)


def states_another_year(question: str, question_years: list[int], hit: Hit, start: int, end: int) -> bool:
    """The sentence's figures are another year's: it names years, none of those asked (a 2025 target does not answer
    what 2024's is), or, naming none, the clause names such years before it (到2025年，… then the figures). The
    document's own year and the first of its period name the document (如皋2023年的方案) when the question says so (a
    document's word follows the year), not the figure, unless the question sets the year as a deadline (到2024年,
    2024年底); 计划里2024年研发投入的阶段目标 asks 2024's figure."""
    if not question_years:  # most questions name none: no look at the document's title or date
        return False
    own = {year} if (year := written_year(hit)) is not None else set()
    first, _ = plan_period(hit.doc_title)
    by = deadlines(question)
    naming = {int(year) for match in _NAMES_DOCUMENT.findall(question) for year in match if year} - by
    asked = {year for year in question_years
             if year in by or not (year in naming and (year in own or year == first))} - given_years(question)
    if not asked:
        return False
    stated = years_mentioned(hit.text[start:end]) or \
        years_mentioned(" ".join(hit.heading_path) + " " + hit.text[:start])
    return bool(stated) and not asked & set(stated)


def given_years(question: str) -> set[int]:
    """Years of the question's premises: a clause that states a figure of its own and asks nothing (如皋方案定了2025年…超
    3.3%, 那2024年的阶段性目标是多少? asks 2024's, having given 2025's)."""
    given: set[int] = set()
    for clause in QUESTION_CLAUSE.findall(question):
        if not _ASKS.search(clause) and figure_positions(clause, "any"):  # a year is no figure here
            given.update(years_mentioned(clause))
    return given


def answers_nothing(question: Question, sentence: str, hit: Hit, end: int) -> bool:
    """A line that cannot answer ``question``: never an answer (``not_an_answer``); the forwarding line unless it
    asks how the document was issued; the document's title restated unless it asks what it is called; a formula
    named but not spelled out; no money support named when a subsidy is asked about; a target when the question
    asks how things stand now."""
    return (not_an_answer(sentence, hit, end)
            or (bool(FORWARDING.search(sentence)) and not ASKS_ISSUE.search(question.text))
            or (restates_title(sentence, hit) and not ASKS_TITLE.search(question.text))
            or leaves_formula_unexplained(question, sentence) or names_no_support(question, sentence)
            or not_the_present(question, sentence) or not_a_target(question, sentence, written_year(hit)))


def written_year(hit: Hit) -> int | None:
    """The year the hit's document was written (its date's), if known."""
    return int(hit.date[:4]) if hit.date and hit.date[:4].isdigit() else None


def figure_near(question: Question, sentence: str) -> bool:
    """Whether a figure of the kind asked for sits within a few characters of a question word."""
    normal = normalise(sentence)
    # a rank's 位/名 is its own pattern's; a share asked beside a count (建有率…几个平台) is a percentage whatever the units
    figures = [p for p in figure_positions(sentence, question.figure or "any")
               if not question.units or question.figure in ("rank", "share") or _unit_at(normal, p) in question.units]
    if not figures:
        return False
    terms = question.rates or list(question.terms)  # a rate asked by name is that rate, not another's percentage
    part, whole = question.share_of
    of_whole = {term for term in terms if term in whole and term not in part}
    measured = any(len(term) >= 2 and term not in of_whole for term in terms)
    for term in terms:
        if term in question.units or _UNIT_WORD.fullmatch(term):  # 多少人's 人, 多少亿元's 亿元: the figure's own unit
            continue
        if len(term) < 2 or _ATTAINING.fullmatch(term) or _YEAR_TERM.fullmatch(term):
            continue  # 到, 达到, 2020: every target's words and its date, not what is measured
        if term in of_whole and measured:  # 地区生产总值, 比重: the whole every share of it is of
            continue
        start = normal.find(term)
        while start >= 0:
            end = start + len(term)
            if any(start - FIGURE_BEFORE <= p <= end + FIGURE_AFTER for p in figures):
                return True
            start = normal.find(term, start + 1)
    return False


def _unit_at(normal: str, position: int) -> str:
    """The measure word of the figure at ``position`` (15家, 1000万元, 50余个), or "" when it has none."""
    match = _COUNTED.match(normal, position)
    return match.group(1) if match else ""


def overlaps(a: Candidate, b: Candidate) -> bool:
    """The same words twice: one sentence inside the other, or most of its bigrams shared."""
    return a.text in b.text or b.text in a.text or containment(a.text, b.text) >= 0.8
