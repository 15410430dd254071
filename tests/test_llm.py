"""The optional LLM answerer against a local fake of the OpenAI chat-completions protocol.

The fake (``http.server`` in a thread) reads the numbered clauses from the prompt and replies in the
way a test asks: faithfully, with an invented sentence, with an error status, too slowly, or with
garbage. ``/ask`` goes through the real service over loopback HTTP.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from qa.answers.generative import LLMAnswerer, LLMConfig, build_messages, split_reply
from qa.api.state import ServiceSettings
from tests.test_api import live_server

QUESTION = "涟水到2025年要培养多少名省级和市级科技企业家?"
INVENTED = "此外，涟水对每名科技企业家奖励50万元。"
_CLAUSE = re.compile(r"^\[(\d+)\] (.+?)\n(.+?)(?=\n\n\[\d+\] |\n\n请只依据)", re.S | re.M)


class FakeLLM:
    """What the fake endpoint does next, and what it was sent."""

    mode = "faithful"
    delay = 0.0
    requests: list[dict] = []
    headers: list[dict] = []


def clauses_in(prompt: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(3) for m in _CLAUSE.finditer(prompt)}


def faithful_reply(prompt: str) -> str:
    """Quote the sentence of a clause that carries the figures, lightly reworded, with its marker."""
    for n, text in clauses_in(prompt).items():
        match = re.search(r"培养省级科技企业家\d+名、市级科技企业家\d+名", text)
        if match:
            return f"根据文件，到2025年{match.group()}。[{n}]"
    return "无法回答"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length))
        FakeLLM.requests.append(body)
        FakeLLM.headers.append(dict(self.headers))
        prompt = body["messages"][-1]["content"]
        if FakeLLM.delay:
            time.sleep(FakeLLM.delay)
        mode = FakeLLM.mode
        if mode == "error":
            self._send(500, b'{"error": {"message": "overloaded"}}')
            return
        if mode == "garbage":
            self._send(200, b"<html>not json</html>")
            return
        if mode == "no_choices":
            self._send(200, json.dumps({"id": "x", "choices": []}).encode())
            return
        reply = faithful_reply(prompt)
        if mode == "invented":
            reply = reply + INVENTED + "[1]"
        elif mode == "all_invented":
            reply = INVENTED + "[1]" + "太仓对贷款贴息的比例为30%。[2]"
        elif mode == "unmarked":
            reply = reply.replace("[", "").replace("]", "").rstrip("0123456789")
        elif mode == "bad_marker":
            reply = re.sub(r"\[\d+\]", "[99]", reply)
        payload = {"id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model"),
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": reply}}]}
        self._send(200, json.dumps(payload, ensure_ascii=False).encode())

    def _send(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the service gave up waiting (timeout test)
            pass


@pytest.fixture(scope="module")
def fake_llm() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake_llm):
    settings = ServiceSettings(llm=LLMConfig(base_url=fake_llm, model="fake-model", api_key="llm-key", timeout=1.0))
    server = live_server(tmp_path_factory, settings)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def reset_fake():
    FakeLLM.mode, FakeLLM.delay = "faithful", 0.0
    FakeLLM.requests.clear()
    FakeLLM.headers.clear()


def ask(client: httpx.Client, question: str = QUESTION) -> dict:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200, response.text
    return response.json()


def assert_cited(answer: dict) -> None:
    citations = {c["n"]: c for c in answer["citations"]}
    for sentence in answer["sentences"]:
        citation = citations[sentence["citation"]]
        assert citation["quote"] in citation["text"]


def test_faithful_reply_is_kept(client):
    answer = ask(client)
    assert answer["answerer"] == "llm" and answer["answerable"]
    assert "省级科技企业家5名、市级科技企业家30名" in answer["answer"] and "[1]" in answer["answer"]
    assert all(s["verified"] for s in answer["sentences"])
    assert_cited(answer)
    sent = FakeLLM.requests[0]
    assert sent["model"] == "fake-model" and sent["messages"][0]["role"] == "system"
    assert "[1]" in sent["messages"][0]["content"] and "只能依据" in sent["messages"][0]["content"]
    assert FakeLLM.headers[0].get("Authorization") == "Bearer llm-key"


def test_invented_sentence_is_removed(client):
    FakeLLM.mode = "invented"
    answer = ask(client)
    assert answer["answerer"] == "llm"
    assert "50万元" not in answer["answer"] and "奖励" not in answer["answer"]
    assert len(answer["sentences"]) == 1 and "科技企业家5名" in answer["sentences"][0]["text"]
    assert_cited(answer)


@pytest.mark.parametrize("mode", ["error", "garbage", "no_choices", "all_invented", "unmarked", "bad_marker"])
def test_failures_fall_back_to_the_extractive_answer(client, mode):
    FakeLLM.mode = mode
    answer = ask(client)
    assert FakeLLM.requests, "the endpoint was asked"
    assert answer["answerer"] == "extractive" and answer["answerable"]
    assert "到2025年,培养省级科技企业家5名、市级科技企业家30名[1]" in answer["answer"]
    assert "50万元" not in answer["answer"]


def test_timeout_falls_back_to_the_extractive_answer(client):
    FakeLLM.delay = 2.5  # the service waits 1 s
    started = time.monotonic()
    answer = ask(client)
    assert answer["answerer"] == "extractive" and answer["answerable"]
    assert time.monotonic() - started < 2.4


def test_weak_evidence_is_refused_without_asking_the_model(client):
    answer = ask(client, "南通市区出租车起步价是多少?")
    assert not answer["answerable"] and answer["nearest"]
    assert not FakeLLM.requests


def test_model_declining_falls_back(client):
    answer = ask(client, "太仓每年至少要新增多少家高新技术企业?")  # the fake only knows the 涟水 clause
    assert answer["answerer"] == "extractive" and answer["answerable"]


def test_keep_unsupported_flags_instead_of_removing(server):
    llm = server.state.snapshot.answerer
    clauses = llm.extractive.searcher.search(QUESTION, k=3)
    n = next(i for i, h in enumerate(clauses, 1) if "科技企业家5名" in h.text)
    reply = f"到2025年培养省级科技企业家5名、市级科技企业家30名。[{n}]{INVENTED}[{n}]"
    removed = llm.check(reply, clauses)
    assert [s.verified for s in removed.sentences] == [True]
    keeping = LLMAnswerer(llm.extractive, LLMConfig(base_url="http://127.0.0.1:9", keep_unsupported=True))
    kept = keeping.check(reply, clauses)
    assert [s.verified for s in kept.sentences] == [True, False]
    for sentence in kept.sentences:  # even a flagged sentence cites a verbatim quote
        citation = kept.citations[sentence.citation - 1]
        assert citation.quote in citation.text


def test_split_reply():
    reply = "第一句。[1]第二句没有标记。第三句；[2][3]\n第四句。\n[4]尾巴"
    assert split_reply(reply) == [("第一句。", [1]), ("第二句没有标记。", []), ("第三句；", [2, 3]),
                                  ("第四句。", [4]), ("尾巴", [])]
    assert split_reply("甲。【1】乙。［2，3］") == [("甲。", [1]), ("乙。", [2, 3])]


def test_prompt_numbers_the_clauses():
    from qa.schemas import Hit

    hit = Hit(clause_id="d-0001", passage_id="d-0001", doc_id="d", doc_title="标题", heading_path=[], text="条款正文。",
              char_start=0, char_end=5, citation="《标题》一、", score=1.0)
    messages = build_messages("问题?", [hit, hit])
    assert messages[1]["content"].count("条款正文。") == 2 and "[2] 《标题》一、" in messages[1]["content"]


def test_config_from_env(monkeypatch):
    monkeypatch.delenv("QA_LLM_BASE_URL", raising=False)
    assert LLMConfig.from_env() is None
    monkeypatch.setenv("QA_LLM_BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("QA_LLM_TIMEOUT", "7.5")
    config = LLMConfig.from_env()
    assert config.url == "http://127.0.0.1:9/v1/chat/completions" and config.timeout == 7.5
    assert not config.keep_unsupported
