"""Why a question or one of its parts is not answered: the sentence that says what the collection lacks.

A refusal that names what is missing (文件库中没有上海市的文件, 文件库中太仓市的文件没有提到“技术合同成交额”) tells an official
where to look next; "没有找到依据" only says nothing was found. Each function returns the reason in the question's
language (Chinese, or English for an English question), or None when its case does not apply.
"""

from __future__ import annotations

from qa.answers.question import Question
from qa.answers.scope import Scope
from qa.answers.text import normalise
from qa.schemas import Hit


def province_reason(scope: Scope, question: Question) -> str | None:
    """A question about a province that only documents of places within it cover is not answered from them (a
    county's target is not the province's), unless it asks how several places word or set something."""
    if question.several or not scope.below or any(name not in scope.below for name in scope.covered_places):
        return None
    province, regions = next(iter(scope.below.items()))
    listed = "、".join(regions[:4]) + ("等" if len(regions) > 4 else "")
    if question.english:
        return f"The collection holds no documents of {province} itself, only of places within it ({listed})."
    return f"文件库中没有{province}本级的文件，只有其下辖地区（{listed}）的文件。"


def formula_unexplained(question: Question, ranked: list[tuple[int, Hit]]) -> str | None:
    """Why a question about a formula's members has no answer when the documents name the formula but never spell it
    out (a near miss: the programme is there, what it stands for is not)."""
    named = [name for name in question.formulas if any(name in normalise(hit.text) for _, hit in ranked)]
    counted = [name for name in question.counted if any(name in normalise(hit.text) for _, hit in ranked)]
    if counted and not named:
        if question.english:
            return f"The documents give the number of {counted[0]} but do not name them."
        return f"文件中提到了{counted[0]}的数量，但没有列出是哪些。"
    if not named:
        return None
    if question.english:
        return f"The documents name “{named[0]}” but do not say what it consists of."
    return f"文件中提到了“{named[0]}”，但没有写明其具体内容。"


def rate_unstated(question: Question, ranked: list[tuple[int, Hit]], regions: list[str] | None) -> str | None:
    """Why a question about a rate by name (研发机构建有率) has no answer when no retrieved clause states that rate
    (a near miss: the place is right, the indicator is not in its documents)."""
    absent = [rate for rate in question.rates if not any(rate in normalise(hit.text) for _, hit in ranked)]
    return unstated(absent[0], regions, question.english) if absent else None


def unstated(name: str, regions: list[str] | None, english: bool) -> str:
    where = "、".join(regions or [])
    if english:
        return f"The documents{' of ' + where if where else ''} do not state a {name}."
    return f"文件库中{where + '的' if where else ''}文件没有提到“{name}”。"


def year_unstated(years: list[int], regions: list[str] | None, english: bool) -> str:
    where = "、".join(regions or [])
    asked = "、".join(str(year) for year in years)
    if english:
        return f"The documents{' of ' + where if where else ''} state no such figure for {asked}."
    return f"文件库中{where + '的' if where else ''}文件没有写明所问的{asked}年数字。"


def missing_place(place: str, english: bool) -> str:
    return f"The collection holds no documents of {place}." if english else f"文件库中没有{place}的文件。"


def no_basis(place: str | None, english: bool) -> str:
    if english:
        return f"No passage of the documents of {place} answers this." if place else "No passage answers this."
    return f"{place}的文件中没有找到依据。" if place else "没有找到依据。"
