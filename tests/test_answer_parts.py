"""Questions over several places are answered one place at a time: each side from its own documents under its
name, a side without documents said to have no basis, a question asking its places in turn split into them.
"""

from __future__ import annotations

from qa.answers.sides import asked_in_turn


def regions_by_part(answer: dict) -> dict[str, set[str]]:
    documents = {c["n"]: c for c in answer["citations"]}
    return {p["name"]: {documents[answer["sentences"][i]["citation"]]["region"] for i in p["sentences"]}
            for p in answer["parts"]}


def test_two_city_question_cites_both_cities(client):
    answer = client.post("/ask", json={"question": "如皋和太仓对万人发明专利拥有量分别定了什么目标?"}).json()
    assert answer["answerable"] and [p["name"] for p in answer["parts"]] == ["如皋市", "太仓市"]
    assert all(p["answered"] for p in answer["parts"])
    by_part = {p["name"]: {answer["citations"][answer["sentences"][i]["citation"] - 1]["region"] for i in p["sentences"]}
               for p in answer["parts"]}
    assert by_part == {"如皋市": {"如皋市"}, "太仓市": {"太仓市"}}
    assert "38件" in answer["answer"] and "55件" in answer["answer"]
    assert answer["answer"].startswith("如皋市：") and "\n太仓市：" in answer["answer"]


def test_a_side_without_documents_is_said_to_have_no_basis(client):
    answer = client.post("/ask", json={"question": "涟水和浙江省对数字经济核心产业增加值占GDP的比重分别定了多少?"}).json()
    assert answer["answerable"]
    parts = {p["name"]: p for p in answer["parts"]}
    assert parts["涟水县"]["answered"] and "15%" in answer["answer"]
    assert not parts["浙江省"]["answered"] and parts["浙江省"]["reason"] == "文件库中没有浙江省的文件。"


def test_each_side_is_asked_without_the_other_sides_places(client):
    answer = client.post("/ask", json={"question": "如皋和苏州工业园区对高新技术企业数量的目标分别是多少?"}).json()
    parts = {p["name"]: p for p in answer["parts"]}
    rugao = "".join(answer["sentences"][i]["text"] for i in parts["如皋市"]["sentences"])
    assert "高新技术企业超1000家" in rugao  # 苏州工业园区's words no longer pull 如皋's evidence away
    assert not parts["苏州市"]["answered"] and parts["苏州市"]["reason"] == "文件库中没有苏州市的文件。"


def test_each_place_question_is_answered_per_place_from_its_own_documents(client):
    """"各地…分别是多少" names no place: each place the evidence comes from is a part, answered from its own
    documents under its name; a question about wording across places stays one answer, a quote per document."""
    answer = client.post("/ask", json={"question": "各地对万人发明专利拥有量的目标分别是多少?"}).json()
    parts = {p["name"]: p for p in answer["parts"]}
    assert len(parts) >= 3 and all(p["answered"] for p in parts.values())
    documents = {c["n"]: c for c in answer["citations"]}
    for part in parts.values():
        regions = {documents[answer["sentences"][i]["citation"]]["region"] for i in part["sentences"]}
        assert regions == {part["name"]}
    assert any("55件" in answer["sentences"][i]["text"] for i in parts["太仓市"]["sentences"])
    wording = client.post("/ask", json={"question": "各地文件一般怎么表述鼓励创新、宽容失败?"}).json()
    assert not wording.get("parts")
    assert wording["answerable"] and "宽容失败" in wording["sentences"][0]["text"]
    # searched by its topic: the framing's words (这层意思, 别的文件, 措辞) are not what the clauses say
    framed = client.post("/ask", json={"question": "“柔性引才”这层意思,别的文件里是怎么措辞的?"}).json()
    assert framed["answerable"] and "柔性引才" in framed["sentences"][0]["text"]


def test_a_question_asking_its_places_in_turn_is_answered_per_place(client):
    """Two sentences, each asking about its own place, are two parts, each asked and answered with its own
    sentence; "太仓呢?" asks the first sentence's question about 太仓."""
    answer = client.post("/ask", json={"question": "如皋到2025年要培育多少家高新技术企业?太仓到2020年高新技术企业总数要突破多少家?"}).json()
    assert [p["name"] for p in answer["parts"]] == ["如皋市", "太仓市"]
    assert regions_by_part(answer) == {"如皋市": {"如皋市"}, "太仓市": {"太仓市"}}
    assert "1000家" in answer["answer"] and "500家" in answer["answer"]
    pointer = client.post("/ask", json={"question": "如皋到2025年万人发明专利拥有量要达到多少件?太仓呢?"}).json()
    assert regions_by_part(pointer) == {"如皋市": {"如皋市"}, "太仓市": {"太仓市"}}
    assert "38件" in pointer["answer"] and "55件" in pointer["answer"]
    follow_up = client.post("/ask", json={"question": "如皋的万人发明专利拥有量目标是多少?这个目标是到哪一年?"}).json()
    assert not follow_up.get("parts")  # one place asked twice is one question


def test_sentences_divide_places_only_when_each_names_one():
    places = [("如皋", "如皋市", True), ("太仓", "太仓市", True)]
    assert asked_in_turn("如皋设了哪些园区?太仓又有哪些载体?", places) == {"如皋市": "如皋设了哪些园区?",
                                                                    "太仓市": "太仓又有哪些载体?"}
    assert asked_in_turn("如皋的目标是多少?太仓呢?", places) == {"如皋市": "如皋的目标是多少?", "太仓市": ""}
    assert asked_in_turn("如皋和太仓分别定了什么目标?", places) == {}
    assert asked_in_turn("如皋和太仓的目标是多少?各是哪年定的?", places) == {}
    assert asked_in_turn("太仓的目标是多少,如皋呢?", places) == {"太仓市": "太仓的目标是多少,", "如皋市": ""}
    assert asked_in_turn("到2025年,如皋的目标是多少?", places) == {}


def test_comparisons_pointers_and_english_possessives_name_several_sides(client):
    """"有何差异" compares, "…是多少,如皋呢?" asks again about 如皋, "Rugao's and Taicang's" names both."""
    for question in ("在万人发明专利拥有量上,太仓定的目标和如皋有何差异?", "太仓的万人发明专利拥有量目标是多少,如皋呢?",
                     "What are Rugao's and Taicang's targets for invention patents per 10,000 people?"):
        answer = client.post("/ask", json={"question": question}).json()
        assert regions_by_part(answer) == {"如皋市": {"如皋市"}, "太仓市": {"太仓市"}}, question
        assert "38件" in answer["answer"] and "55件" in answer["answer"], question


def test_a_place_named_within_another_named_place_is_the_scope(server):
    """涟水 is in 江苏: a question naming both, not side by side, is about 涟水; a city and its county stay two places,
    each with plans of its own."""
    checker = server.state.snapshot.answerer.scope
    assert [p[1] for p in checker.check("涟水把培育江苏精品交给哪个单位?").places] == ["涟水县"]
    assert {p[1] for p in checker.check("江苏和涟水分别有什么目标?").places} == {"江苏省", "涟水县"}
    assert {p[1] for p in checker.check("南通市方案和如皋方案分别怎么提?").places} == {"南通市", "如皋市"}


def test_a_sides_indicator_worded_otherwise_is_not_a_missing_one(client):
    """如皋 writes 规模以上 where the question says 规上: the indicator is there, spelled out; 研发机构建设 names a field of
    work, not an indicator a plan either states or not."""
    contracted = client.post("/ask", json={"question": "如皋和太仓对高新技术产业产值占规上工业总产值比重的目标分别是多少?"}).json()
    assert contracted["answerable"] and "55%" in contracted["answer"] and "48%" in contracted["answer"]
    activity = client.post("/ask", json={"question": "涟水和如皋在企业研发机构建设上的数量目标分别是多少?"}).json()
    assert activity["answerable"] and "建设" not in (activity["refusal_reason"] or "")
    assert not any("没有提到" in (part["reason"] or "") for part in activity["parts"])
