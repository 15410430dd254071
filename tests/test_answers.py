"""Cited answers: every ``/ask`` sentence of every dev question is a verbatim quote of the clause it
cites; unanswerable questions are refused; unit tests of the extractive answerer's parts.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from qa.answers.citations import REFUSAL_ZH, CitedAnswer, citation_holds, make_citation
from qa.answers.extractive import REFUSAL_THRESHOLD
from qa.answers.similar import shared_spans
from qa.answers.text import containment, has_figure, has_money, has_percent, numbers_supported, sentence_spans
from tests.conftest import SHARED
from tests.test_api import live_server

DEV_FILE = SHARED / "data" / "seed_dev_qa.jsonl"
# Questions the seed documents cannot answer: topics they never mention, and near misses (the topic is
# there, the figure asked for is not). Used with the dev file's own unanswerable question to set the
# refusal threshold (see qa/answers/extractive.py).
UNANSWERABLE_PROBES = [
    "南通对新能源汽车购置补贴的标准是多少?",
    "如皋对农业保险保费补贴的比例是多少?",
    "太仓的住房公积金贷款额度上限是多少?",
    "涟水对高新技术企业的所得税优惠税率是多少?",
    "南通医保住院报销比例是多少?",
    "如皋义务教育阶段学校的班额上限是多少人?",
    "太仓对人才公寓的租金减免比例是多少?",
    "涟水对企业上市的奖励金额是多少?",
    "南通市区出租车起步价是多少?",
    "What is the minimum wage in Lianshui?",
    "太仓的环境空气质量优良天数比率目标是多少?",
    "如皋对养老机构的床位补贴标准是多少?",
]
# The share of answerable dev questions whose answer holds a gold quote, measured when the threshold
# was set: 27 of 29. The test fails if a change makes it drop below this floor.
GOLD_FLOOR = 0.9


def squash(text: str) -> str:
    return re.sub(r"\s", "", text)


@pytest.fixture(scope="module")
def dev_questions() -> list[dict]:
    if not DEV_FILE.exists():
        pytest.skip(f"{DEV_FILE} is not available")
    return [json.loads(line) for line in DEV_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = live_server(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=60) as session:
        yield session


@pytest.fixture(scope="module")
def bodies(client) -> dict[str, str]:
    return {m["doc_id"]: client.get(f"/documents/{m['doc_id']}").json()["body"] for m in client.get("/documents").json()}


@pytest.fixture(scope="module")
def dev_answers(client, dev_questions) -> dict[str, dict]:
    answers = {}
    for question in dev_questions:
        response = client.post("/ask", json={"question": question["query"]})
        assert response.status_code == 200, response.text
        answers[question["id"]] = response.json()
    return answers


def assert_quotes_verbatim(answer: dict, bodies: dict[str, str]) -> None:
    """Every sentence is a substring of the clause it cites, at its offsets in the document body."""
    citations = {c["n"]: c for c in answer["citations"]}
    for sentence in answer["sentences"]:
        citation = citations[sentence["citation"]]
        assert sentence["text"] in citation["text"], (sentence, citation["citation"])
        assert sentence["text"] == citation["quote"]
        assert f"{sentence['text']}[{sentence['citation']}]" in answer["answer"]
        body = bodies[citation["doc_id"]]
        assert body[citation["quote_start"]:citation["quote_end"]] == citation["quote"]
        assert body[citation["char_start"]:citation["char_end"]] == citation["text"]
    assert {s["citation"] for s in answer["sentences"]} == set(citations)


# -- every dev question ---------------------------------------------------------------------------
def test_every_answer_sentence_quotes_its_clause(dev_questions, dev_answers, bodies):
    for question in dev_questions:
        answer = dev_answers[question["id"]]
        if answer["answerable"]:
            assert answer["sentences"], question["id"]
            assert_quotes_verbatim(answer, bodies)
        else:
            assert not answer["sentences"] and not answer["citations"]


def test_answerable_dev_questions_are_answered_with_gold_quotes(dev_questions, dev_answers):
    answerable = [q for q in dev_questions if q["gold"]]
    refused = [q["id"] for q in answerable if not dev_answers[q["id"]]["answerable"]]
    assert not refused, f"answerable dev questions refused: {refused}"
    with_gold = [q["id"] for q in answerable
                 if any(squash(g["quote"]) in squash(dev_answers[q["id"]]["answer"]) for g in q["gold"])]
    share = len(with_gold) / len(answerable)
    print(f"gold quote in /ask answer: {len(with_gold)}/{len(answerable)} = {share:.3f}")
    assert share >= GOLD_FLOOR, sorted({q["id"] for q in answerable} - set(with_gold))


def test_cross_document_questions_quote_each_region(dev_answers, dev_questions):
    answer = dev_answers["d008"]  # 如皋、涟水、南通 … 分别是多少
    regions = [c["region"] for c in answer["citations"]]
    assert regions == ["如皋市", "涟水县", "南通市"]
    precedent = dev_answers["d022"]  # 有哪些地方在文件里提过设立天使基金
    assert len({c["doc_id"] for c in precedent["citations"]}) >= 2


def test_unanswerable_dev_question_is_refused(dev_questions, dev_answers):
    for question in dev_questions:
        if question["type"] == "unanswerable":
            answer = dev_answers[question["id"]]
            assert answer["answerable"] is False and answer["answer"] == REFUSAL_ZH
            assert answer["nearest"], "a refusal still lists the nearest clauses"


@pytest.mark.parametrize("question", UNANSWERABLE_PROBES)
def test_unanswerable_probes_are_refused(client, question):
    answer = client.post("/ask", json={"question": question}).json()
    assert answer["answerable"] is False, answer["answer"]
    assert answer["nearest"] and not answer["citations"]


def test_threshold_separates_dev_questions(server, dev_questions):
    """The documented threshold lies between the answerable and the unanswerable questions' evidence."""
    answerer = server.state.snapshot.answerer
    assert answerer.threshold == REFUSAL_THRESHOLD

    def evidence(text: str) -> float:
        question = answerer.analyzer.analyse(text)
        ranked, _ = answerer.retrieve(question, 5, None)
        candidates = answerer.candidates(question, ranked)
        if question.regions:
            candidates = [c for c in candidates if c.hit.region in question.regions]
        return max((c.evidence for c in candidates), default=0.0)

    answerable = [evidence(q["query"]) for q in dev_questions if q["gold"]]
    unanswerable = [evidence(q["query"]) for q in dev_questions if not q["gold"]] + \
        [evidence(q) for q in UNANSWERABLE_PROBES]
    print(f"evidence: answerable {min(answerable):.2f}–{max(answerable):.2f}, "
          f"unanswerable {min(unanswerable):.2f}–{max(unanswerable):.2f}, threshold {REFUSAL_THRESHOLD}")
    assert max(unanswerable) < REFUSAL_THRESHOLD <= min(answerable)


def test_english_question_gets_english_refusal(client):
    answer = client.post("/ask", json={"question": "What is the minimum wage in Lianshui?"}).json()
    assert not answer["answerable"] and answer["answer"].startswith("The document collection")


def test_ask_respects_filters(client):
    answer = client.post("/ask", json={"question": "每年新增多少家高新技术企业?",
                                       "filters": {"region": ["太仓市"]}}).json()
    assert answer["answerable"] and {c["region"] for c in answer["citations"]} == {"太仓市"}


# -- unit tests -----------------------------------------------------------------------------------
def test_sentence_spans_are_offsets_of_sentences():
    text = "（一）主要目标。到2025年，科技型中小企业超1500家；高企达到300家！\n1.推进创新\n二、"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["主要目标", "到2025年，科技型中小企业超1500家", "高企达到300家", "推进创新"]


def test_figures_shares_money_and_numbers():
    assert has_figure("新增上市科创企业20家以上") and has_figure("涟政办发〔2024〕7号")
    assert not has_figure("到2025年") and not has_figure("第三代半导体")
    assert has_percent("比重达5.4%") and has_percent("占比百分之十") and not has_percent("投入1亿元")
    assert has_money("每年为企业提供信贷资金不低于1亿元") and not has_money("人才60人")
    assert numbers_supported("培养省级科技企业家5名", "到2025年,培养省级科技企业家5名、市级科技企业家30名")
    assert not numbers_supported("培养省级科技企业家50名", "培养省级科技企业家5名")
    assert containment("设立天使投资基金", "设立天使投资基金,推动投贷联动") == 1.0


def test_question_analysis(server):
    analyzer = server.state.snapshot.answerer.analyzer
    cross = analyzer.analyse("如皋、涟水、南通对科技型中小企业数量的目标分别是多少?")
    assert cross.regions == ["如皋市", "涟水县", "南通市"] and cross.several and cross.figure == "any"
    share = analyzer.analyse("太仓对科技型企业贷款贴息的具体比例是多少?")
    assert share.figure == "share" and share.regions == ["太仓市"] and not share.several
    assert "具体" not in share.terms and "贴息" in share.terms
    assert analyzer.analyse("其他地方怎么表述财政科技投入?").several
    english = analyzer.analyse("How many new leading science and technology talents does Taicang aim to add?")
    assert english.english and english.regions == ["太仓市"] and "人才" in english.terms
    assert analyzer.analyse("涟水这份计划的发文字号是多少?").doc_number


def test_citation_must_match_the_body(server):
    snapshot = server.state.snapshot
    hit = snapshot.searcher.search("天使投资基金", k=1)[0]
    start = hit.text.index("天使")
    good = make_citation(1, hit, start, start + 4)
    assert citation_holds(good, snapshot.index)
    shifted = good.model_copy(update={"quote_start": good.quote_start + 1, "quote_end": good.quote_end + 1})
    assert not citation_holds(shifted, snapshot.index)
    invented = good.model_copy(update={"quote": "天使贷款"})
    assert not citation_holds(invented, snapshot.index)
    cited = CitedAnswer(snapshot.index)
    assert cited.add(hit.text[start:start + 4], hit, start, start + 4)
    assert not cited.add("x", hit.model_copy(update={"text": "被改动的条款" + hit.text}), 0, 2)
    assert len(cited) == 1 and cited.text() == f"{hit.text[start:start + 4]}[1]。"


def test_extractive_answerer_directly(server):
    answerer = server.state.snapshot.answerer
    answer = answerer.answer("涟水到2025年要培养多少名省级和市级科技企业家?")
    assert answer.answerable and "省级科技企业家5名" in answer.answer
    for sentence in answer.sentences:
        assert sentence.text in answer.citations[sentence.citation - 1].text
    refused = answerer.answer("南通市区出租车起步价是多少?")
    assert not refused.answerable and refused.nearest
    strict = type(answerer)(answerer.searcher, threshold=1.01)
    assert not strict.answer("涟水到2025年要培养多少名省级和市级科技企业家?").answerable


def test_shared_spans_offsets():
    clause = "推动设立天使基金,更好地发挥金融杠杆作用,助推人才科创项目加速发展"
    spans = shared_spans(clause, "设立天使投资基金，更好发挥金融杠杆作用")
    assert [clause[s.start:s.end] for s in spans] == ["设立天使", "发挥金融杠杆作用"]
    assert shared_spans(clause, "完全无关的句子") == []
    assert shared_spans("ＡＢＣ科技", "abc科技", min_chars=3)[0].start == 0
