"""A question asking how documents word something is searched by its topic, its framing set apart."""

from __future__ import annotations

import pytest

from qa.answers.precedent import precedent_topic


@pytest.mark.parametrize(("question", "topic"), [
    ("“柔性引才”这层意思,别的文件里是怎么措辞的?", "“柔性引才”"),
    ("写到科技镇长团的作用时,兄弟县市一般用什么措辞?", "科技镇长团的作用"),
    ("想写惠企政策直达企业的内容,参考文件里有哪些现成说法?", "惠企政策直达企业"),
    ("有哪些地方在文件里提过设立天使基金?原文是怎么写的?", "设立天使基金"),
    ("各地文件一般怎么表述鼓励创新、宽容失败?", "鼓励创新、宽容失败"),
    ("企业梯度培育这一提法,参考材料里的原话有哪些?", "企业梯度培育"),
    ("有没有哪份文件提过建设人才公寓?想看看原话。", "建设人才公寓"),
    ("盘活闲置厂房——这件事各地文件怎么写?", "盘活闲置厂房"),
    ("想借鉴一下别人关于科技特派员的写法。", "科技特派员"),
    ("起草文件时想写一段关于揭榜挂帅的内容,可以参考哪些措辞?", "揭榜挂帅"),
    ("科技金融这一块,其他地方一般怎么写进方案里?", "科技金融"),  # 写进 is where, not what
    # the topic named before where the wording is sought, and after the asking verb
    ("科技镇长团这支队伍在文件里一般怎么定位、怎么写它的作用?", "科技镇长团这支队伍，它的作用"),
    ("想引用“把科研资源拿来做科普”的说法,哪个文件有这样的口径?", "“把科研资源拿来做科普”"),  # quoted wording
    ("投贷联动 怎么写", "投贷联动"),  # a space parts a typed query as a comma would
    ("拿天使类基金去投早期项目,有没有文件提过?原文怎么写?", "拿天使类基金去投早期项目"),  # a whole clause asking whether any does
    # the object of 对 before the asking verb, and a lead that names who is writing
    ("写孵化体系的时候,其他地方对孵化链条一般怎么表述?", "孵化体系，孵化链条"),
    ("其他地方对飞地孵化器是怎么表述的?", "飞地孵化器"),
    ("其他县市在企业梯次培育上是怎么写的?有没有现成的表述可以参考?", "企业梯次培育"),  # 在…上 names the topic
    ("关于惠企政策免申即享,别的地方文件里是怎么提的?", "惠企政策免申即享"),  # 怎么提 asks the wording
    ("涟水对创新失败的单位,有没有免责、鼓励大胆去试的说法?", "涟水对创新失败的单位，免责、鼓励大胆去试"),  # 有没有…的说法
    ("有没有关于天使基金的表述?", "天使基金"),
    ("想写企业预留研发资金形成制度,有没有现成的写法?", "企业预留研发资金形成制度"),  # 现成 qualifies the wording
    ("我们起草文件想写鼓励试错的内容,其他地方的方案是怎么表述容错的?", "鼓励试错，容错"),
    # what the asker would add to the part being written; a request to write after it names no topic
    ("写保障措施时想加一句容错纠错的话,涟水的行动计划原文是怎么写的?", "保障措施，容错纠错"),
    ("惠企政策兑现方式方面,南通方案用了哪些提法?想照着写一段。", "惠企政策兑现方式"),
])
def test_the_framing_of_a_question_about_wording_is_set_apart(question, topic):
    assert precedent_topic(question) == topic


@pytest.mark.parametrize("question", [
    "太仓在完善知识产权运用与保护机制时,要发挥哪两个平台的作用?",  # 时 frames a topic only beside a request for wording
    "如皋到2025年要培育多少家高新技术企业?",
    "原文是怎么写的?",  # nothing is left to search by
    "怎么提高企业研发投入?",  # 提高 raises, it does not word
])
def test_a_question_that_asks_for_no_wording_or_names_no_topic_is_left_as_asked(question):
    assert precedent_topic(question) is None
