"""``POST /search/phrase`` (true counts of a verbatim phrase), the official citation form and document kinds
in the service's answers, the upload limit in ``/health``."""

from __future__ import annotations

import httpx
import pytest

from tests.test_api import live_server


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> httpx.Client:
    server = live_server(tmp_path_factory)
    with httpx.Client(base_url=server.url, timeout=60) as session:
        yield session
    server.stop()


def test_phrase_reports_every_occurrence_and_only_those(client):
    docs = client.get("/documents").json()
    bodies = {d["doc_id"]: client.get(f"/documents/{d['doc_id']}").json()["body"] for d in docs}
    expected = sum(body.count("揭榜挂帅") for body in bodies.values())
    found = client.post("/search/phrase", json={"phrase": "揭榜挂帅"}).json()
    assert found["occurrences"] == expected >= 3 and not found["truncated"]
    assert found["clauses"] == len(found["hits"]) == len({h["hit"]["clause_id"] for h in found["hits"]})
    assert sum(d["occurrences"] for d in found["documents"]) == expected
    for item in found["hits"]:
        hit = item["hit"]
        assert bodies[hit["doc_id"]][hit["char_start"]:hit["char_end"]] == hit["text"]
        assert item["spans"] and all(hit["text"][s["start"]:s["end"]] == "揭榜挂帅" for s in item["spans"])
        assert hit["official"].startswith(hit["issuer"] or "《")


def test_phrase_respects_filters_and_says_none(client):
    region = client.post("/search/phrase", json={"phrase": "揭榜挂帅", "filters": {"region": ["南通市"]}}).json()
    assert region["hits"] and {h["hit"]["region"] for h in region["hits"]} == {"南通市"}
    none = client.post("/search/phrase", json={"phrase": "火星探测器"}).json()
    assert none["occurrences"] == 0 and none["hits"] == [] and none["documents"] == []
    assert client.post("/search/phrase", json={"phrase": "  "}).status_code == 422


def test_hits_and_citations_carry_the_official_form(client):
    hits = client.post("/search", json={"query": "科技型中小企业", "k": 5}).json()["hits"]
    assert hits and all(h["official"] and "(" not in h["official"] for h in hits)
    answer = client.post("/ask", json={"question": "南通到2024年全社会研发投入占比目标是多少?"}).json()
    for citation in answer["citations"]:
        assert citation["official"].startswith("南通市科技创新委员会办公室《")
        assert "（通科委办〔2022〕9号，2022年10月28日）" in citation["official"]


def test_documents_have_kinds_and_health_has_the_upload_limit(client):
    kinds = {d["title"]: d["kind"] for d in client.get("/documents").json()}
    assert kinds["让科技创新成高质量发展“最大增量”"] == "media"
    assert kinds["太仓市科技创新三年行动计划(2018—2020年)"] == "policy"
    assert client.get("/health").json()["max_upload_mb"] == 20
