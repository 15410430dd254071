"""Unit tests of the answer path's text tools: sentence offsets, figures, citations that must match the body,
shared spans, how a question's words meet their contractions in the text, and what the analyser reads from a question
(the figure, unit, issuer or date it asks for)."""

from __future__ import annotations

import re
from dataclasses import replace

from qa.answers.citations import CitedAnswer, citation_holds, make_citation
from qa.answers.similar import shared_spans
from qa.answers.text import containment, has_figure, has_money, has_percent, numbers_supported, sentence_spans


def test_sentence_spans_are_offsets_of_sentences():
    text = "（一）主要目标。到2025年，科技型中小企业超1500家；高企达到300家！\n1.推进创新\n二、"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["主要目标", "到2025年，科技型中小企业超1500家", "高企达到300家", "推进创新"]


def test_figures_shares_money_and_numbers():
    assert has_figure("新增上市科创企业20家以上") and has_figure("涟政办发〔2024〕7号")
    assert not has_figure("到2025年") and not has_figure("第三代半导体") and not has_figure("培育一批骨干企业")
    # a number inside a short quoted name or an ordinal is no quantity; one outside it still is
    assert not has_figure("牢牢把握“四个面向”战略方向") and not has_figure("加快实施“8050计划”")
    assert not has_figure("依据第二十条") and has_figure("“科技新九条”兑现资金3000万元")
    assert has_percent("比重达5.4%") and has_percent("占比百分之十") and not has_percent("投入1亿元")
    assert has_money("每年为企业提供信贷资金不低于1亿元") and not has_money("人才60人")
    assert numbers_supported("培养省级科技企业家5名", "到2025年,培养省级科技企业家5名、市级科技企业家30名")
    assert not numbers_supported("培养省级科技企业家50名", "培养省级科技企业家5名")
    assert containment("设立天使投资基金", "设立天使投资基金,推动投贷联动") == 1.0
    # 万 or 百 alone is a scale: 万人发明专利拥有量 is per 10,000 people, 万元GDP per 10,000 yuan
    assert not has_figure("万人发明专利拥有量") and has_figure("二十万人") and has_figure("两千家")
    assert not has_money("万元GDP能耗下降") and has_money("发放一百万元")


def test_a_sentence_stating_another_years_figure_does_not_answer_a_year_asked():
    """A 2025 target says nothing of 2024; the document's own year names the document, unless asked as a deadline."""
    from qa.answers.candidates import states_another_year
    from qa.schemas import Hit

    text = "到2025年,高新技术企业达100家。每年新增省级科技企业10家。2024年新增高企20家。"
    hit = Hit(clause_id="c", doc_id="d", doc_title="某县科技创新行动计划(2024-2025年)", date="2024-04-26",
              heading_path=["二、主要目标"], text=text, char_start=0, char_end=len(text), citation="c",
              passage_id="p", score=1.0)
    target, each_year, stated = sentence_spans(text)
    assert states_another_year("到2024年高企要达到多少家?", [2024], hit, *target)
    assert states_another_year("到2024年每年新增多少家?", [2024], hit, *each_year)  # its clause's year is before it
    assert not states_another_year("到2025年高企要达到多少家?", [2025], hit, *target)
    assert not states_another_year("该县2024年的计划要求高企达到多少家?", [2024], hit, *target)  # the plan's year
    assert not states_another_year("According to the county's 2024 plan, how many high-tech firms?", [2024], hit, *target)
    # the plan's own year, not naming the plan: the figure's year (计划里2024年的阶段目标)
    assert states_another_year("该县行动计划里2024年高企的阶段目标是多少家?", [2024], hit, *target)
    assert not states_another_year("到2024年新增多少家高企?", [2024], hit, *stated)
    assert not states_another_year("高企要达到多少家?", [], hit, *target)
    # a year the question gives with its figure is a premise; the year it then asks about is not answered by it
    assert states_another_year("该县定了2025年高企达100家,那2024年的阶段目标是多少?", [2025, 2024], hit, *target)
    assert not states_another_year("该县定了2025年高企达100家,那2024年的阶段目标是多少?", [2025, 2024], hit, *stated)


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


def test_shared_spans_offsets():
    clause = "推动设立天使基金,更好地发挥金融杠杆作用,助推人才科创项目加速发展"
    spans = shared_spans(clause, "设立天使投资基金，更好发挥金融杠杆作用")
    assert [clause[s.start:s.end] for s in spans] == ["设立天使", "发挥金融杠杆作用"]
    assert shared_spans(clause, "完全无关的句子") == []
    assert shared_spans("ＡＢＣ科技", "abc科技", min_chars=3)[0].start == 0


def test_two_nouns_asked_in_full_meet_their_contraction_in_the_text(server):
    """高新技术企业 is written 高企 in 南通's plan: the contraction counts as the words; a verb is never contracted."""
    from qa.answers.candidates import coverage
    from qa.answers.question import QuestionAnalyzer

    question = QuestionAnalyzer(server.state.snapshot.index).analyse("南通每年新增高新技术企业的目标是多少家?")
    assert question.abbreviations.keys() == {"高企"} and {"高新技术", "企业"} <= question.abbreviations["高企"]
    contracted, unrelated = "完善创新型企业梯度培育机制,每年净增高企400家左右", "每年新增省级以上双创载体不少于20家"
    assert coverage(question, contracted, "") > coverage(question, unrelated, "")
    assert coverage(question, contracted, "") > coverage(replace(question, abbreviations={}), contracted, "")


def test_two_paragraphs_of_one_clause_are_one_citation(server):
    """An answer quoting two paragraphs of one clause (the article's body) cites the clause once: one number, its
    text from the first paragraph to the last, each quote at its own offsets."""
    snapshot = server.state.snapshot
    hits = snapshot.searcher.search("如皋目前有多少家高新技术企业?", k=8, paragraphs=True)
    first, second = next((a, b) for a in hits for b in hits
                         if a.clause_id == b.clause_id and a.char_start < b.char_start)
    cited = CitedAnswer(snapshot.index)
    for hit in (second, first):
        start, end = sentence_spans(hit.text)[0]
        assert cited.add(hit.text[start:end], hit, start, end)
    assert len(cited.citations) == 1 and [s.citation for s in cited.sentences] == [1, 1]
    citation = cited.citations[0]
    assert (citation.char_start, citation.char_end) == (first.char_start, second.char_end)
    assert len(citation.quotes) == 2 and citation_holds(citation, snapshot.index)


def test_english_questions_ask_for_figures_as_chinese_ones_do(server):
    """"目标", "规模" ask for a figure; so do "target", "size", "how large" (the figure a sentence must state)."""
    from qa.answers.question import QuestionAnalyzer

    analyzer = QuestionAnalyzer(server.state.snapshot.index)
    for question in ("南通高新技术企业的目标", "基金群的规模", "Nantong's target for high-tech enterprises",
                     "What is the size of the fund pool?", "How large is the fund?", "Rugao's goals for patents"):
        assert analyzer.analyse(question).figure is not None, question
    assert analyzer.analyse("What does Rugao plan for its corridor?").figure is None
    # an English question's words are matched in the Chinese sentences through the collection's terms for them
    answerer = server.state.snapshot.answerer
    terms = answerer.analyse("Nantong's target for high-tech enterprises").terms
    assert any(re.search(r"[\u4e00-\u9fff]", term) for term in terms)
    assert not any(re.search(r"[\u4e00-\u9fff]", term) for term in analyzer.analyse("high-tech enterprises").terms)


def test_who_issued_when_and_which_place_in_a_ranking_are_read_from_the_question(server):
    """Who issued a document is asked with the act of issuing (哪个部门印发); 哪个部门负责实施 asks who carries a task
    out. 哪一年印发 asks the date; 排第几 asks a place in a ranking, an ordinal the sentence must state."""
    from qa.answers.question import QuestionAnalyzer
    from qa.answers.text import figure_positions

    analyzer = QuestionAnalyzer(server.state.snapshot.index)
    assert analyzer.analyse("通科委办〔2022〕9号是哪个部门印发的?").issuer
    assert analyzer.analyse("Which department issued the Nantong plan?").issuer
    for question in ("涟水的行动计划由哪个部门负责组织实施?", "Which departments are responsible for talent?"):
        assert not analyzer.analyse(question).issuer, question
    for question in ("如皋市的方案是哪一年印发的?", "南通方案的发布时间", "When did Taicang publish its plan?",
                     "On what date was Taicang's action plan issued?"):
        assert analyzer.analyse(question).date, question
    assert not analyzer.analyse("What date does Nantong set for its 2024 targets?").date
    # how many documents word it (几份), how many places' wording (几个地方的原文: a question about wording reads its
    # figure from its topic) and a document number (文号是多少) are not figures a sentence must state
    for question in ("关于“揭榜挂帅”,现有几份方案是怎么写的?", "写到科技镇长团的作用,几个地方的原文分别是怎么说的?",
                     "如皋方案依据的科技部文件文号是多少?"):
        assert analyzer.analyse(question).figure is None, question
    assert analyzer.analyse("如皋有多少家高新技术企业?").figure == "any"
    # 几 as "a few" (少跑几趟, 好几家) or in 几乎 asks no number; 几家 and 再建几个 do
    for question in ("企业申请奖补能不能少跑几趟?", "如皋已经有好几家孵化器了吗?", "几乎每个镇都有创新载体吗?",
                     "太仓对电力、化工这几个传统行业,提出往什么方向发展?"):
        assert analyzer.analyse(question).figure is None, question
    assert analyzer.analyse("那几家孵化器在哪里?").units == ()
    for question in ("如皋有几家国家级孵化器?", "太仓还要再建几个研发平台?"):
        assert analyzer.analyse(question).figure == "any", question
    # 规模以上 names a class of enterprise; 规模 alone asks a size
    assert analyzer.analyse("规模以上企业没有发明专利的,县里怎么推动?").figure is None
    assert analyzer.analyse("南通的投资基金群规模有多大?").figure == "any"
    # a figure answers only beside what it measures, not beside the verb every target uses (达到) or a lone 到
    from qa.answers.candidates import figure_near

    money = analyzer.analyse("南通到2024年基础研究经费的绝对金额要达到多少亿元?")
    assert money.figure == "money"
    assert not figure_near(money, "基础研究经费占研发经费比重达到1.65%,规上工业企业新产品销售收入与主营业务收入之比达到46%,"
                                  "技术合同成交额超350亿元")
    assert figure_near(money, "到2024年,基础研究经费达到12亿元")
    # a share of a named whole answers beside what it measures; every share of that whole has the whole's words
    share = analyzer.analyse("涟水对全社会研发投入占地区生产总值比重的目标是多少?")
    assert share.share_of == ("涟水对全社会研发投入", "占地区生产总值比重")
    assert not figure_near(share, "到2025年,全县数字经济核心产业增加值占地区生产总值比重达15%")
    assert figure_near(share, "到2025年,全社会研发投入占GDP比重达1.8%")
    # the whole's words that the measured part uses too still count (财政科技支出占财政支出比重)
    spending = analyzer.analyse("如皋对财政科技支出占财政支出比重的目标是多少?")
    assert figure_near(spending, "本级财政科学技术支出占当年本级财政一般公共预算支出比重达5%")
    assert analyzer.analyse("高新技术产业产值占比是多少?").share_of == ("", "")
    # a target asked is not answered by how things stand now, unless the line also sets the target
    from qa.answers.candidates import not_a_target

    target = analyzer.analyse("如皋给高新技术企业总量定的目标是多少家?")
    assert target.target and not target.now
    assert not_a_target(target, "全力提升高企申报材料质量,目前全市共有高新技术企业459家")
    assert not not_a_target(target, "目前全市共有高新技术企业459家,确保到2025年突破1000家")
    now = analyzer.analyse("如皋目前有多少家高新技术企业?")
    assert not now.target and not not_a_target(now, "目前全市共有高新技术企业459家")
    # a year before the document was written is reported, not targeted (unless the question asks that year)
    yearly = analyzer.analyse("如皋每年打算发放多少科技贷款?")
    assert yearly.target and not_a_target(yearly, "持续用好科技金融产品,2022年发放科技金融贷款19亿元", 2023)
    assert not not_a_target(yearly, "确保年均发放科技贷款20亿元", 2023)
    assert not not_a_target(yearly, "到2025年,年均发放科技贷款20亿元", 2023)
    assert not not_a_target(analyzer.analyse("如皋2022年计划发放多少科技贷款?"), "2022年发放科技金融贷款19亿元", 2023)
    # asked beside a target (打算再新增几家), how things stand is not the whole question: neither kind is dropped
    both = analyzer.analyse("如皋现在有几家孵化器,又打算再新增几家?")
    assert not both.now and not both.target
    # asking how others word a plan of one's own (我们打算…) asks wording, neither a target nor how things stand
    wording = analyzer.analyse("我们打算让中介、镇里、专家分几道关口把关,其他地方是怎么写的?")
    assert wording.topic and not wording.target and not wording.now
    # unless the wording asked for is of a target (排名目标): a line saying only how things stand does not give it
    ranking = analyzer.analyse("两份方案对高新区在全省的排名目标分别是怎么写的?")
    assert ranking.topic and ranking.target
    # how things stand now: a line saying what is done (建立了) states it, a target does not
    from qa.answers.candidates import not_the_present

    assert not not_the_present(now, "全市300多家企业与140多家高校科研院所建立了紧密型的科技合作或技术依托关系")
    assert not_the_present(now, "确保到2025年,全市高新技术企业数突破1000家")
    assert not_the_present(now, "为了加快发展,到2025年高新技术企业达到1000家")  # 为了 says nothing is done
    # a target's word earlier in the line does not make the figure stated after 目前 a target
    place = analyzer.analyse("如皋给高新区的全省排名定了什么目标?")
    assert place.target and place.figure == "rank"
    assert not_a_target(place, "推动高新区跨越发展以打造高新技术产业集聚区为目标,实施高新区一区多园改革,目前,"
                               "高新区创新驱动发展综合评价位居全省第20位")
    assert not not_a_target(place, "目前高新区位居全省第20位,力争到2025年进入全省前10位")
    # a rate asked by name (建有率); 率先 (first to) and 率领 (to lead) name none
    assert analyzer.analyse("太仓规上企业研发机构建有率是多少?").rates == ["建有率"]
    assert analyzer.analyse("新产品在本地率先推广、由市里率领企业出访,怎么写?").rates == []
    # a count asked with its measure word is answered by a figure carrying it (or one counting the same things)
    assert set("家个") <= set(analyzer.analyse("如皋有多少家高新技术企业?").units)
    assert analyzer.analyse("涟水的人才公寓有多少套?").units == ("套",)
    assert analyzer.analyse("如皋组建的科创投集团下面设了哪几个业务板块?").units == ()
    assert analyzer.analyse("这条走廊全长多少公里?").units == ("公里", "千米")
    assert analyzer.analyse("新建厂房多少平方米?").units == ("平方米",)
    # credit and financing targets are amounts of money; a count of projects is not, whatever the topic
    assert analyzer.analyse("涟水每年在科技信贷上的目标是多少?").figure == "money"
    assert analyzer.analyse("南通每年要引进多少个融资项目?").figure == "any"
    # taxes saved or paid are money too (a tax rate is a share, a count of firms relieved a count)
    taxes = analyzer.analyse("如皋的企业因为搞研发能少缴多少税?")
    assert taxes.figure == "money"
    assert figure_near(taxes, "企业享受研发费用加计扣除优惠政策获得的税收减免额达7.5亿元")
    assert not figure_near(taxes, "落实企业研发费用加计扣除等政策,全市高新技术企业总数突破1000家")
    assert analyzer.analyse("高新技术企业的所得税税率是多少?").figure == "share"
    assert analyzer.analyse("有多少家企业享受了税收减免?").figure == "any"
    assert analyzer.analyse("How much tax relief did firms get?").figure == "money"
    ranked = analyzer.analyse("如皋高新区现在在全省排第几?")
    assert ranked.figure == "rank" and "第几" not in ranked.terms and ranked.unknown == 0.0
    assert analyzer.analyse("如皋在全国科技创新百强县(市)里排第几位?").units == ()  # a rank, not a count of 位
    assert figure_positions("位居全省第20位、苏中苏北省级高新区第一", "rank") and \
        figure_positions("排名进入全国前40位", "rank") and not figure_positions("新增上市企业20家", "rank")


def test_a_figure_of_the_time_asked_opens_the_answer():
    """A target question's answer opens with a target, not with a line of how things stand, and the other way round;
    both stay in the answer."""
    from qa.answers.candidates import Candidate, in_time_asked
    from qa.answers.question import Question
    from qa.schemas import Hit

    text = "全市300多家企业与高校建立了科技合作关系。到2025年,开展产学研活动100次以上。"
    hit = Hit(clause_id="c", doc_id="d", doc_title="某市科技创新行动方案", date="2023-05-01", heading_path=["一、"],
              text=text, char_start=0, char_end=len(text), citation="c", passage_id="p", score=1.0)
    status, target = (Candidate(hit=hit, rank=0, start=a, end=b, features={}) for a, b in sentence_spans(text))
    asked_target = Question(text="这三年打算办多少场活动?", terms={}, figure="any", target=True)
    asked_now = Question(text="现在有多少家企业和高校合作?", terms={}, figure="any", now=True)
    assert in_time_asked(asked_target, [status, target]) == [target, status]
    assert in_time_asked(asked_now, [target, status]) == [status, target]
    unasked = Question(text="和高校合作有什么安排?", terms={}, target=True)  # no figure: the model's order stands
    assert in_time_asked(unasked, [status, target]) == [status, target]


def test_the_line_stating_the_deadline_asked_opens_a_target_answer():
    """到2025年…什么级别: the line that sets the target by 2025 opens the answer, the line on the same thing without a
    date follows it; without a deadline asked, or for a question not about a target, the model's order stands."""
    from qa.answers.candidates import Candidate, by_deadline_asked
    from qa.answers.question import Question
    from qa.schemas import Hit

    text = "加快科创飞地向更高水平提升,强化运营服务保障。到2025年,力争创成省级科创飞地。"
    hit = Hit(clause_id="c", doc_id="d", doc_title="某县科技创新行动计划", date="2024-03-01", heading_path=["4."],
              text=text, char_start=0, char_end=len(text), citation="c", passage_id="p", score=1.0)
    general, dated = (Candidate(hit=hit, rank=0, start=a, end=b, features={}) for a, b in sentence_spans(text))
    assert by_deadline_asked(Question(text="飞地到2025年要创成什么级别?", terms={}, target=True),
                             [general, dated]) == [dated, general]
    assert by_deadline_asked(Question(text="飞地要创成什么级别?", terms={}, target=True),
                             [general, dated]) == [general, dated]
    assert by_deadline_asked(Question(text="到2025年飞地做了什么?", terms={}), [general, dated]) == [general, dated]
    assert by_deadline_asked(Question(text="到2025年要建几个飞地?", terms={}, target=True, figure="any"),
                             [general, dated]) == [general, dated]  # a figure's year is read by states_another_year

def test_a_share_or_the_time_is_read_from_plain_words(server):
    from qa.answers.question import QuestionAnalyzer

    analyzer = QuestionAnalyzer(server.state.snapshot.index)
    assert analyzer.analyse("那200亿元基金里市财政出资占多少?").figure == "share"
    assert analyzer.analyse("园区占地多少亩?").figure != "share"
    assert analyzer.analyse("How many incubators did Rugao have at the time?").now


def test_a_year_is_not_what_a_figure_measures():
    """到2020年 beside 1000亿 says when, not what: the figure is near the question's words only by what it counts."""
    from qa.answers.candidates import figure_near
    from qa.answers.question import Question

    asked = Question(text="到2020年高新技术企业要达到多少家?", terms={"2020": 1.0, "高新技术企业": 2.0}, figure="any")
    assert not figure_near(asked, "力争到2020年实现高端装备制造产业年产值超1000亿")
    assert figure_near(asked, "到2020年高新技术企业总数突破500家")


def test_a_paragraphs_dash_title_heads_its_sentences(client):
    from qa.answers.candidates import paragraph_label

    text = "二、目标\n——科创平台能级跃升。到2025年,创成省级飞地。累计建成3个。\n——创新生态持续优化。到2025年,更优。"
    assert paragraph_label(text, text.index("累计")) == "科创平台能级跃升"
    assert paragraph_label(text, text.index("到2025年,更优")) == "创新生态持续优化"
    assert paragraph_label(text, text.index("——科创")) == "" and paragraph_label(text, 0) == ""
    # 涟水's 两站三中心 target stands under ——科创平台能级跃升。: it is a 研发平台 count, ahead of 绿色工厂
    answer = client.post("/ask", json={"question": "涟水要建成多少个省级以上的研发平台?"}).json()
    assert answer["answerable"] and "其中省级以上30个" in answer["sentences"][0]["text"]
