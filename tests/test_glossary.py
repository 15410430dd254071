"""The dictionary side of the English bridge: CC-CEDICT glosses read back to the collection's own terms."""

from __future__ import annotations

from qa.retrieval.bridge import STOP
from qa.retrieval.glossary import Glossary, dictionary_headwords, gloss_key, singular

# a collection's terms, most frequent first
TERMS = ["科技", "企业", "创新", "高新技术", "科学技术", "委员会", "孵化器", "公司", "补贴", "组建"]


def test_glosses_and_phrases_are_matched_in_one_form():
    assert gloss_key("(flaming) torch") == "torch" and gloss_key("to set up") == "set up"
    assert gloss_key("High-Tech") == "high tech" and gloss_key(" a loan") == "loan"
    assert [singular(w) for w in ("enterprises", "subsidies", "businesses", "campus", "people")] == \
        ["enterprise", "subsidy", "business", "campus", "person"]


def test_an_english_questions_phrases_become_the_collections_terms_longest_first():
    glossary = Glossary(TERMS)
    found = dict(glossary.phrases("In which year did Rugao set up its science and technology innovation committee?",
                                  STOP))
    # the three-word gloss wins over its words; only terms the collection uses, most frequent first
    assert found["science and technology"] == ["科技", "科学技术"] and "science" not in found
    assert found["committee"] == ["委员会"] and found["innovation"] == ["创新"] and "组建" in found["set up"]
    assert "year" not in found and "in" not in found and "which" not in found  # 年度 is not a term; stop words alone
    plural = dict(glossary.phrases("Subsidies for high-tech enterprises and their incubators", STOP))
    assert plural == {"subsidies": ["补贴"], "high tech": ["高新技术"], "enterprises": ["企业"], "incubators": ["孵化器"]}
    assert glossary.phrases("Rugao Nantong", STOP) == []


def test_an_acronym_the_dictionary_gives_in_parentheses_is_a_gloss():
    glossary = Glossary(["人均", "生产总值", "国内生产总值", "世界贸易组织", "保八"])
    found = dict(glossary.phrases("What per-capita GDP does Nantong aim for, and when did China join the WTO?", STOP))
    assert found["per capita"] == ["人均"] and found["gdp"] == ["生产总值", "国内生产总值"]
    assert ["世界贸易组织"] in found.values()
    # a parenthesised note in lower case is no acronym: 保八's "(PRC policy)" glosses nothing
    assert glossary.lookup("PRC policy") == [] and glossary.lookup("PRC") == []


def test_stop_words_together_gloss_nothing():
    glossary = Glossary(["拥有", "具有", "载体", "以上"])
    assert glossary.lookup("to have") and glossary.lookup("have")  # CC-CEDICT glosses them
    # "aim to have", "more than": words any question uses, not the documents' 拥有 or 以上
    found = dict(glossary.phrases("How many carriers does Nantong aim to have, more than ten?", STOP))
    assert found == {"carriers": ["载体"]}


def test_a_phrase_never_ends_inside_a_hyphenated_word():
    # CC-CEDICT glosses 新高 as "new high": matched greedily, it took "high" from "high-tech"
    glossary = Glossary(["新高", "高新技术", "企业", "新增"])
    found = dict(glossary.phrases("How many new high-tech enterprises per year?", STOP))
    assert found.get("high tech") == ["高新技术"] and "新高" not in [t for ts in found.values() for t in ts]
    # a compound with no gloss of its own does not stop the rest being read
    assert dict(glossary.phrases("a well-known high-tech firm", STOP)).get("high tech") == ["高新技术"]


def test_the_whole_dictionary_is_read_for_words_the_collection_lacks():
    assert dictionary_headwords("computing power") == ("算力",)
    assert "补贴" in dictionary_headwords("subsidies")  # read as its singular
    assert "跨境" in dictionary_headwords("cross border")  # the dictionary writes cross-border
    assert "人工智能" in dictionary_headwords("AI") and "爱" not in dictionary_headwords("ai")  # a gloss, whole words
    assert dictionary_headwords("zorblax output") == ()
