"""Lines that are never (or only sometimes) an answer: headings, a bare 文号, letterhead and addressee lines, the
notice's forwarding line, a restated title, a formula named but not spelled out, a task's responsibility note, and a
sentence naming no money support when a subsidy is asked about."""

from __future__ import annotations

import re


def test_headings_and_doc_numbers_are_never_the_answer(client):
    answer = client.post("/ask", json={"question": "涟政办发〔2024〕7号对绿色工厂有什么目标?"}).json()
    assert answer["answerable"] and "累计建成省级以上绿色工厂8家" in answer["answer"]
    assert not answer["sentences"][0]["text"].startswith("涟政办发")
    number = client.post("/ask", json={"question": "涟水这份科技跃升行动计划的发文字号是多少?"}).json()
    assert number["answerable"] and number["sentences"][0]["text"] == "涟政办发〔2024〕7号"  # asked for, it is
    quoted = client.post("/ask", json={"question": "南通方案要求全面落实的《关于建设更高水平创新型城市的若干政策意见》,"
                                                   "文号是什么?"}).json()
    assert "通委发〔2021〕6号" in quoted["answer"] and "通科委办" not in quoted["answer"]  # not the plan's own
    signed = client.post("/ask", json={"question": "通科委办〔2022〕9号是哪个部门印发的?成文日期是哪一天?"}).json()
    assert [s["text"] for s in signed["sentences"]] == ["南通市科技创新委员会办公室", "2022年10月28日"]
    assert {c["doc_number"] for c in signed["citations"]} == {"通科委办〔2022〕9号"}  # its own signature lines
    # the wrapping notice's title is a heading too; its forwarding line, which names the approving meeting, is not
    notice = client.post("/ask", json={"question": "如皋市的科技创新券怎么申领?"}).json()
    assert not any(s["text"].startswith("关于印发") for s in notice["sentences"])
    meeting = client.post("/ask", json={"question": "涟水的行动计划是哪次会议审议通过的?"}).json()
    assert meeting["answerable"] and "县政府常务会议审议通过" in meeting["sentences"][0]["text"]


def test_a_line_that_only_names_a_body_is_never_quoted(client):
    answer = client.post("/ask", json={"question": "如皋市科技局的电话是多少?"}).json()
    assert all(s["text"].strip() not in {"如皋市科技局", "如皋市科技创新委员会"} for s in answer["sentences"])


def test_a_notices_addressees_and_forwarding_line_answer_only_how_it_was_issued(client):
    """The addressee line (各县(市、区)人民政府,…:) leads into the notice and is never quoted; the forwarding line
    (现将《…》印发给你们) answers only how the document was issued or approved."""
    for sentence in client.post("/ask", json={"question": "南通市科技局的地址在哪里?"}).json()["sentences"]:
        assert "人民政府,市各直属园区管委会" not in sentence["text"] and "印发给你们" not in sentence["text"]
    approved = client.post("/ask", json={"question": "如皋的三年行动方案是经什么会议讨论通过的?"}).json()
    assert approved["answerable"] and "市委常委会" in approved["sentences"][0]["text"]


def test_a_line_restating_the_documents_title_answers_only_what_it_is_called(client):
    headline = "太仓市人民政府发布科技创新三年行动计划"
    built = client.post("/ask", json={"question": "太仓科技创新三年行动计划提出,到2020年要初步建成什么?"}).json()
    assert built["answerable"] and not any(headline in s["text"] for s in built["sentences"])
    titled = client.post("/ask", json={"question": "太仓这份行动计划的标题是什么?"}).json()
    assert titled["answerable"] and headline in titled["sentences"][0]["text"]


def test_a_formula_the_documents_name_but_never_spell_out_is_refused_with_the_reason(client):
    """“四有”具体指哪四有: the documents name the formula but never list its members, so no sentence answers it; one
    that lists them (品牌、平台、机制、队伍、改革、阵地“六位一体”) does."""
    near_miss = client.post("/ask", json={"question": "南通每年要招引的“四有型”科创项目,“四有”具体指哪四有?"}).json()
    assert not near_miss["answerable"] and "四有" in near_miss["refusal_reason"] and near_miss["nearest"]
    digits = client.post("/ask", json={"question": "南通大学的“8050计划”具体包括哪些内容?"}).json()
    assert not digits["answerable"] and "8050计划" in digits["refusal_reason"]  # named, never defined
    english = client.post("/ask", json={"question": "What exactly does Taicang's '1123' action plan consist of?"}).json()
    assert not english["answerable"] and "1123" in english["refusal_reason"]  # quoted in English, the same near miss
    spelled = client.post("/ask", json={"question": "如皋要构建的“六位一体”科普服务体系指哪六个方面?"}).json()
    assert spelled["answerable"] and "品牌、平台、机制、队伍、改革、阵地" in spelled["sentences"][0]["text"]
    member = client.post("/ask", json={"question": "如皋方案“八大工程”里的科技赋能民生发展工程,具体要助力哪几类城市建设?"})
    assert "八大工程" not in (member.json()["refusal_reason"] or "")  # one member is asked about, not what they are


def test_a_counted_set_whose_members_no_sentence_lists_is_refused_with_the_reason(client):
    """如皋's article counts its national incubators (国家级孵化器4家) but never names them: asked which they are, no
    sentence answers, and the refusal says the number is there and the names are not; a quoted formula after 除了
    is what the question sets aside, not what it asks about."""
    counted = client.post("/ask", json={"question": "如皋现有的4家国家级孵化器具体是哪几家?"}).json()
    assert not counted["answerable"] and "国家级孵化器" in counted["refusal_reason"] and counted["nearest"]
    assert "没有列出" in counted["refusal_reason"]
    besides = client.post("/ask", json={"question": "太仓除了“一院三所”以外,还要做好哪两家机构的落地服务?"}).json()
    assert besides["answerable"] and "西交利物浦大学创业家学院" in besides["sentences"][0]["text"]


def test_a_counted_set_named_in_other_words_is_answered_by_the_line_listing_its_members(client):
    """四大制造业集群 is 涟水's 四大先进制造业产业集群: the lines that only name the four (…建设更加凸显) do not say which
    they are; the line listing them beside the count comes first."""
    from qa.answers.candidates import leaves_formula_unexplained
    from qa.answers.question import Question

    asked = client.post("/ask", json={"question": "涟水主攻的四大制造业集群分别是哪几个?"}).json()
    assert asked["answerable"] and "绿色食品、新一代电子信息" in asked["sentences"][0]["text"]
    from qa.answers.question import _counted

    # 指的是哪些 asks the members as 分别是哪几个 does
    assert _counted("涟水县的四大先进制造业产业集群指的是哪些?") == {"先进制造业产业集群": 4}
    assert _counted("4家国家级孵化器分别是哪几家?") == {"国家级孵化器": 4}
    assert _counted("南通设定的三项指标分别是哪些?") == {"指标": 3}  # 指 inside the noun is no 指的是
    question = Question(text="四大制造业集群分别是哪几个?", counted={"制造业集群": 4})
    assert leaves_formula_unexplained(question, "全县四大先进制造业产业集群建设更加凸显")
    assert not leaves_formula_unexplained(question, "绿色食品、电子信息、智能装备、纤维新材料等四大先进制造业产业集群产值")


def test_a_tasks_responsibility_note_is_quoted_only_when_asked_who_carries_it_out(client):
    """"(责任单位:…)" after a task names who carries it out: quoted first when the question asks that, the task it
    belongs to right after it from the same clause; never as the answer to what the task is."""
    note = re.compile(r"^[（(〔]责任单位")
    notes = [s for s in client.post("/ask", json={"question": "如皋建设龙游河科创走廊由哪些部门负责?"}).json()["sentences"]]
    asked = [i for i, s in enumerate(notes) if note.match(s["text"])]
    assert asked == [0] and len(notes) > 1 and notes[0]["citation"] == notes[1]["citation"]
    unit = client.post("/ask", json={"question": "涟水培育“江苏精品”、参与标准制修订由哪个单位负责?"}).json()
    assert note.match(unit["sentences"][0]["text"]) and "县市场监管局" in unit["sentences"][0]["text"]  # 单位 as 部门
    assert not unit["parts"]  # 江苏 names the brand's province, not a second place to answer for
    for question in ("如皋打造龙游河科创走廊要做什么?", "What does Rugao plan for its international science cooperation?",
                     "如皋怎样推动科技人才集聚?", "各地文件一般怎么表述科技金融?"):
        answer = client.post("/ask", json={"question": question}).json()
        assert answer["answerable"] and not any(note.match(s["text"]) for s in answer["sentences"])


def test_a_question_about_a_subsidy_is_answered_only_by_a_sentence_naming_money_support(client):
    """太仓's plan speaks of 新能源汽车 but of no subsidy for buying one: a near miss, refused; where a subsidy or
    reward is named (购房补贴, 给予奖励, 贷款贴息), that sentence answers."""
    refused = client.post("/ask", json={"question": "太仓对新能源汽车购置有什么补贴?"}).json()
    assert not refused["answerable"] and refused["nearest"]
    for question, named in (("南通对研发投入增幅较大的规上企业有什么奖励?", "给予奖励"), ("南通对人才有没有购房补贴?", "购房补贴"),
                            ("太仓对科技型企业有贷款贴息吗?", "贷款贴息")):
        answer = client.post("/ask", json={"question": question}).json()
        assert answer["answerable"] and named in answer["sentences"][0]["text"], question


def test_each_paragraph_of_a_clause_too_long_for_one_hit_can_answer(client, server):
    """The article's body is one unnumbered clause of seven paragraphs, too long to read as one hit: a search shows
    its best paragraph only, an answer may draw on any of them (the present count is not in the best-matching one)."""
    from qa.retrieval.service import load_searcher

    searcher = load_searcher(server.index)
    question = "如皋目前有多少家高新技术企业?"
    shown = searcher.search(question, k=8)
    drawn = searcher.search(question, k=8, paragraphs=True)
    assert len({h.clause_id for h in shown}) == len(shown)
    split = [h for h in drawn if sum(o.clause_id == h.clause_id for o in drawn) > 1]
    assert split and len({h.passage_id for h in split}) == len(split)
    for hit in split:  # each paragraph verbatim at its own offsets
        assert searcher.index.body_slice(hit.doc_id, hit.char_start, hit.char_end) == hit.text

    answer = client.post("/ask", json={"question": question}).json()
    assert answer["answerable"] and "目前全市共有高新技术企业459家" in answer["sentences"][0]["text"]
