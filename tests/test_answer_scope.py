"""The scope check over ``/ask``: places (a gazetteer of every division, pinyin too), laws, quoted programmes and
years the collection does not hold are refused with a reason that names them; places a question only mentions, or
whose city's documents speak for them, are not."""

from __future__ import annotations

from qa.answers.scope import ScopeChecker
from qa.documents.gazetteer import Gazetteer


def test_out_of_scope_place_is_refused_with_the_reason(client):
    answer = client.post("/ask", json={"question": "上海市对外资企业的税收优惠是什么?"}).json()
    assert answer["answerable"] is False and answer["refusal_reason"] == "文件库中没有上海市的文件。"
    assert answer["answer"] == answer["refusal_reason"] and answer["nearest"]
    english = client.post("/ask", json={"question": "What is Shenzhen's subsidy for new R&D institutions?"}).json()
    assert english["answerable"] is False and "深圳市" in english["refusal_reason"]
    assert english["refusal_reason"].startswith("The collection holds no documents")


def test_scope_checker_reads_places_laws_and_years(server):
    metas = server.state.snapshot.index.metas
    checker = ScopeChecker(metas)
    assert checker.check("Rugao high-tech enterprises").covered_places == ["如皋市"]
    assert checker.check("到外地大城市设飞地孵化器").places == []  # 大城县's short form is not in 大城市
    assert checker.check("苏州工业园区有哪些奖励").missing_places == ["苏州市"]  # 太仓's city, not 太仓
    assert checker.check("臺北市的科技計畫").places == []  # not a division the gazetteer holds
    assert checker.check("有什么办法申请").laws == [] and checker.check("依法查处").laws == []
    assert checker.check("创业的人要是不懂法律、专利,有没有人辅导?").laws == []  # 法律 is no law's name
    assert checker.check("根据专利法规定,专利保护多少年?").missing_laws == ["专利法"]
    assert checker.check("民法典第五十四条").missing_laws == ["民法典"]
    english = checker.check("Under China's Patent Law, how long is an invention patent protected?")
    assert english.missing_laws == ["Patent Law"] and "holds no laws" in english.reason(english=True)
    assert checker.check("What Law applies? Made in China 2025 targets").laws == []  # no named law
    # the kind first, then what it governs
    governs = checker.check("Under the Law on Promoting the Popularisation of Science, who funds science museums?")
    assert governs.missing_laws == ["Law on Promoting the Popularisation of Science"]
    assert checker.check("Per the Regulations on the Administration of Technology Import, what is required?") \
        .missing_laws == ["Regulations on the Administration of Technology Import"]
    with_laws = ScopeChecker([*metas, metas[0].model_copy(update={"doc_id": "law", "kind": "law"})])
    assert with_laws.check("What does the Civil Code say?").missing_laws == []  # a held law may be it
    achieved = checker.check("How much R&D spending did Taicang actually achieve in 2020?")
    assert achieved.unreported and "actually achieved in 2020" in achieved.reason(english=True)
    # actually utilised foreign investment names an indicator (实际使用外资), as 实际使用 does in Chinese
    assert not checker.check("Nantong's 2024 target for actually utilized foreign investment").unreported
    scope = checker.check("南通到2024年的目标，对比2030年")
    assert scope.years == [(2024, True), (2030, False)] and not scope.outside
    assert Gazetteer.shipped().find("浙江省山区26县")[0][1][0].name == "浙江省"


def test_a_quoted_programme_no_document_mentions_is_out_of_scope(server):
    index = server.state.snapshot.index
    checker = ScopeChecker(index.metas, mentioned=index.mentions)
    absent = checker.check("科研经费“包干制”在如皋怎么落实?")
    assert absent.missing_programmes == ["包干制"] and absent.reason() == "文件库中没有文件提到“包干制”。"
    assert "mentions “包干制”" in absent.reason(english=True)
    held = checker.check("南通大学的“8050计划”是做什么的?")  # named in the 南通 plan
    assert held.programmes == [("8050计划", True)] and not held.outside
    assert checker.check("关于消除规上企业“零专利”现象,其他地方是怎么表述的?").programmes == []  # not a programme
    # a topic named by a specific word before a generic head, the word used by no document
    topics = checker.check("对低空经济和无人机产业有什么扶持政策?")
    assert topics.topics == ["低空经济", "无人机产业"] and topics.reason() == "文件库中没有文件提到“低空经济”、“无人机产业”。"
    assert checker.check("南通对元宇宙产业有什么政策?").topics == ["元宇宙产业"]  # 元 + 宇宙, as jieba cuts it
    assert checker.check("招商时会不会先照顾科技类项目?").topics == []  # 科技类: the documents' 科技, of that kind
    assert checker.check("如皋对生物医药产业有什么支持?").topics == []  # the plans speak of 生物医药
    assert checker.check("如皋高新区具体分成了哪几个园区?").topics == []  # a question word, not a topic
    # a noun and the activity it qualifies (量子 + 计算 + 企业) name a topic when no document uses the noun
    assert checker.check("南通对卫星导航企业有什么扶持?").topics == ["卫星导航企业"]
    assert checker.check("如皋对人才引进项目有什么奖励?").topics == []  # the plans speak of 人才
    # a noun ending a phrase in 的 (…的办法) is no part of the verb after it: 办法组织技术 names nothing
    assert checker.check("用“揭榜挂帅”的办法组织技术攻关,别的地方文件是怎么表述的?").topics == []
    # listed beside something the documents speak of (生物医药), an absent topic leaves the question partly answerable;
    # every listed item absent, it does not
    assert checker.check("生物医药、卫星导航企业各有什么扶持?").topics == []
    assert checker.check("对低空经济、卫星导航企业有什么扶持?").topics == ["低空经济", "卫星导航企业"]
    # a benefit names its object (租房 + 补贴), also when asked whether it has one (用水价格有没有优惠)
    assert checker.check("太仓对高校毕业生有什么学费补贴?").reason() == "文件库中没有文件提到“学费补贴”。"
    assert checker.check("来南通的人才买房有没有补贴?").topics == []  # 买房补贴: the documents say 购房补贴
    assert checker.check("南通的企业用水价格有没有优惠?").topics == ["价格优惠"]
    assert checker.check("太仓对科技企业的用水价格有什么优惠?").topics == ["价格优惠"]  # which it has, as whether
    assert checker.check("高新技术企业有哪些补贴?").topics == []  # 企业 is itself a head: it names no topic
    assert checker.check("太仓对科技企业的用水价格有什么优惠政策?").topics == ["价格优惠"]  # jieba's one word 优惠政策
    # a standard, a review or an appraisal names its object too (罚款标准, 伦理审查, 职称评审)
    assert checker.check("科技项目的伦理审查有什么要求?").reason() == "文件库中没有文件提到“伦理审查”。"
    assert checker.check("南通对超标排放的罚款标准是多少?").topics == ["罚款标准"]
    assert checker.check("如皋的高企申报材料审查分几级?").topics == []  # the documents speak of 申报材料
    assert checker.check("如皋对研发费用有什么优惠?").topics == []  # the plans speak of 研发费用
    assert checker.check("涟水对人才有没有补贴?").topics == []


def test_an_english_topic_no_document_speaks_of_is_out_of_scope(client, server):
    index = server.state.snapshot.index
    checker = ScopeChecker(index.metas, mentioned=index.mentions)
    # a head's object the dictionary glosses with words no document uses (区块链, 元宇宙)
    assert checker.check("Are there any rewards for blockchain in Rugao?").topics == ["blockchain (区块链)"]
    assert checker.check("Which subsidies for the metaverse does Nantong give?").topics == ["metaverse (元宇宙)"]
    # the object is the noun phrase's last word, up to a function word; its other words only qualify it
    assert checker.check("What subsidies for high-tech enterprises does Rugao give?").topics == []
    # a list beside an item the documents speak of (robots → 机器人) is partly answerable; a hyphenated word the
    # dictionary does not gloss whole (large-model) is no such item
    assert checker.check("What subsidies for blockchain or robots are there?").topics == []
    assert checker.check("Any subsidies for blockchain or large-model training?").topics == ["blockchain (区块链)"]
    # "in" says where, not what: the Sino-Swedish park in Rugao is not a topic called "called"
    assert checker.check("What's the Sino-Swedish park in Rugao called?").topics == []
    # a phrase the dictionary does not know is left to the answer's evidence
    assert checker.check("Are there rewards for zorblax output?").topics == []
    answer = client.post("/ask", json={"question": "Does Taicang offer any subsidy for blockchain?"}).json()
    assert answer["answerable"] is False and answer["nearest"]
    assert answer["refusal_reason"] == "No document in the collection mentions “blockchain (区块链)”."
    # the word just before a head (graphene projects): one the dictionary translates one way only, that the term
    # bridge finds no collection term for either (here: all but production, which it meets as 生产)
    bridged = ScopeChecker(index.metas, mentioned=index.mentions, equivalent=lambda word: word == "production")
    assert bridged.check("Which graphene enterprises does Rugao support?").topics == ["graphene (石墨烯)"]
    assert checker.check("Which graphene enterprises does Rugao support?").topics == []  # no bridge: not read
    assert bridged.check("Which production enterprises does Rugao support?").topics == []
    assert bridged.check("How many innovative companies does Nantong want?").topics == []  # two translations
    assert bridged.check("Where is Lianshui's PCB industry base?").topics == []  # the documents write PCB
    graphene = client.post("/ask", json={"question": "Does Rugao plan any graphene projects?"}).json()
    assert graphene["refusal_reason"] == "No document in the collection mentions “graphene (石墨烯)”."


def test_a_place_name_running_on_into_a_term_of_the_documents_is_not_that_place(server):
    index = server.state.snapshot.index
    checker = ScopeChecker(index.metas, mentioned=index.mentions)
    assert checker.check("龙游湾科创智谷规划在哪里?").places == []  # 如皋's 龙游湾, not 龙游县 in 浙江
    # a city's name is still the city's, whatever term of the documents it begins (their 上海科创中心)
    assert checker.check("上海科技企业有什么税收优惠?").reason() == "文件库中没有上海市的文件。"
    assert checker.check("龙游县的科技创新政策有哪些?").reason() == "文件库中没有龙游县的文件。"
    assert checker.check("龙游的科技创新政策有哪些?").reason() == "文件库中没有龙游县的文件。"


def test_a_province_only_its_cities_documents_cover_is_refused_unless_several_places_are_asked(client, server):
    # the collection holds 南通, 太仓, 如皋 and 涟水 (all in 江苏省), no document of the province itself
    own = client.post("/ask", json={"question": "江苏省2025年的GDP目标是多少?"}).json()
    assert own["answerable"] is False and own["nearest"]
    assert own["refusal_reason"].startswith("文件库中没有江苏省本级的文件") and "涟水县" in own["refusal_reason"]
    english = client.post("/ask", json={"question": "What is Jiangsu's target for high-tech enterprises?"}).json()
    assert english["answerable"] is False and "江苏省 itself" in english["refusal_reason"]
    precedent = client.post("/ask", json={"question": "江苏有哪些地方提到了飞地孵化器?"}).json()
    assert precedent["answerable"] is True and any("飞地" in s["text"] for s in precedent["sentences"])
    # an address names one place: 江苏省南通市 is 南通市, answered from its own plan, not split into two sides
    checker = ScopeChecker(server.state.snapshot.index.metas)
    address = checker.check("江苏省南通市到2024年科技型中小企业要突破多少家?")
    assert address.covered_places == ["南通市"] and not address.joined and not address.below
    answer = client.post("/ask", json={"question": "江苏省南通市到2024年科技型中小企业要突破多少家?"}).json()
    assert answer["answerable"] is True and not answer["parts"] and "5500家" in answer["answer"]


def test_a_place_the_subject_goes_to_is_not_the_questions_scope(client, server):
    # the plans of 如皋 and 涟水 speak of building 飞地 in 上海; the collection holds no document of 上海 itself
    index = server.state.snapshot.index
    checker = ScopeChecker(index.metas, mentioned=index.mentions)
    assert checker.check("哪个地方要到上海建设科创飞地?").places == []
    assert checker.check("Which city plans to build a sci-tech enclave in Shanghai?").places == []
    assert checker.check("在上海创业有什么补贴?").missing_places == ["上海市"]  # the subject's own place
    answer = client.post("/ask", json={"question": "哪个地方要到上海建设科创飞地?"}).json()
    assert answer["answerable"] and any("上海" in s["text"] and "飞地" in s["text"] for s in answer["sentences"])
    own = client.post("/ask", json={"question": "上海的科技创新政策是什么?"}).json()
    assert own["answerable"] is False and own["refusal_reason"] == "文件库中没有上海市的文件。"


def test_a_district_its_citys_documents_never_name_is_not_covered_by_them(client, server):
    # 南通's plan speaks for the whole city; it never names 崇川区, whose own targets the collection does not hold
    index = server.state.snapshot.index
    checker = ScopeChecker(index.metas, mentioned=index.mentions)
    assert checker.check("崇川区的科技创新行动方案有什么目标?").missing_places == ["崇川区"]
    assert checker.check("南通支持海安申报的是什么?").missing_places == []  # the plan names 海安
    answer = client.post("/ask", json={"question": "崇川区到2024年科技型中小企业要突破多少家?"}).json()
    assert answer["answerable"] is False and answer["refusal_reason"] == "文件库中没有崇川区的文件。"
    assert answer["nearest"]
