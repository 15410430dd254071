"""Feedback: stored durably (it survives a restart), validated (a bad record is a 4xx and stores nothing), imported
from JSONL by clause id or text, and learned from (``qa train``: refuses with too few pairs, keeps a version only
when it ranks the held-out questions better, rolls back)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from qa.feedback.importer import ClauseMatcher, import_file
from qa.feedback.store import FeedbackStore
from qa.index.catalog import Catalog
from qa.index.collection import Index
from tests.conftest import ROOT
from tests.helpers import cli, seed_index_copy
from tests.ui_support import free_port, offline_env

TOKEN = "feedback-token"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return seed_index_copy(tmp_path_factory.mktemp("feedback") / "index")


def start_service(index) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(index), "serve", "--port", str(port)],
                               cwd=ROOT, env=offline_env(QA_API_TOKEN=TOKEN, QA_EMBED_JOB="0"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=2, trust_env=False).raise_for_status()
            return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise AssertionError("the service did not start")


def test_feedback_is_validated_stored_and_survives_a_restart(index):
    process, url = start_service(index)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        hits = httpx.post(f"{url}/search", json={"query": "飞地孵化器", "k": 3}, trust_env=False).json()["hits"]
        shown = [h["clause_id"] for h in hits]
        good = {"question": "其他地方怎么写飞地孵化器?", "shown": shown, "useful": shown[:1], "not_useful": shown[2:],
                "client": "test"}
        assert httpx.post(f"{url}/feedback", json=good, trust_env=False).status_code in (401, 403)
        created = httpx.post(f"{url}/feedback", json=good, headers=auth, trust_env=False)
        assert created.status_code == 201 and created.json()["stored"] == 1
        for bad, field in [({**good, "useful": ["no-such-clause"]}, "useful"),
                           ({**good, "useful": "not a list"}, "useful"),
                           ({**good, "question": 42}, "question"),
                           ({**good, "useful": [], "not_useful": []}, "useful"),
                           ({**good, "extra": 1}, "extra")]:
            response = httpx.post(f"{url}/feedback", json=bad, headers=auth, trust_env=False)
            assert 400 <= response.status_code < 500 and field in response.text, (bad, response.text)
        exported = httpx.get(f"{url}/feedback/export", trust_env=False).text.strip().splitlines()
        assert len(exported) == 1 and json.loads(exported[0])["useful"] == shown[:1]
    finally:
        process.terminate()
        process.wait(timeout=30)
    process, url = start_service(index)  # a restart keeps it
    try:
        exported = httpx.get(f"{url}/feedback/export", trust_env=False).text.strip().splitlines()
        assert [json.loads(line)["question"] for line in exported] == ["其他地方怎么写飞地孵化器?"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_thumbs_up_improves_the_next_search(tmp_path):
    """The clause marked useful for a question comes first when the question (or a close rewording) is asked again."""
    index = seed_index_copy(tmp_path / "index")
    process, url = start_service(index)
    try:
        question = "企业在涟水遇到难处想找政府反映,有什么门路?"
        hits = httpx.post(f"{url}/search", json={"query": question, "k": 10}, trust_env=False).json()["hits"]
        useful = hits[4]["clause_id"]  # the fifth, as if the official found the answer there
        response = httpx.post(f"{url}/feedback", headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False,
                              json={"question": question, "shown": [h["clause_id"] for h in hits], "useful": [useful]})
        assert response.status_code == 201
        for asked in (question, "企业在涟水碰到困难想跟政府反映,有哪些渠道?"):
            again = httpx.post(f"{url}/search", json={"query": asked, "k": 10}, trust_env=False).json()["hits"]
            ranks = [h["clause_id"] for h in again]
            assert useful in ranks[:3], (asked, ranks.index(useful) if useful in ranks else None)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_import_matches_ids_and_texts_and_reports_the_rest(index, tmp_path):
    view = Index.open(index)
    matcher = ClauseMatcher(view)
    clause = next(c for c in view.passages if len(c.text) > 60)
    assert matcher.match(clause.clause_id) == [clause.clause_id]
    inner = clause.text[10:50]
    assert clause.clause_id in matcher.match("　".join(inner))  # full-width spaces inside do not matter
    assert matcher.match("完全不在任何文件里的一句话，用来测试匹配失败的情况") == []
    source = tmp_path / "pairs.jsonl"
    source.write_text("\n".join([
        json.dumps({"question": "问题一", "useful": [clause.clause_id]}, ensure_ascii=False),
        json.dumps({"question": "问题二", "useful": [inner, "查无此句的一段文字用来测试报告"]}, ensure_ascii=False),
    ]) + "\n", encoding="utf-8")
    catalog = Catalog(index)
    store = FeedbackStore(catalog)
    before = store.count()
    report = import_file(source, view, store)
    assert report.stored == 2 and not report.errors
    assert report.unmatched == [{"line": 2, "field": "useful", "text": "查无此句的一段文字用来测试报告"}]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(source.read_text(encoding="utf-8") + '{"question": "问题三", "useful": "x"}\n', encoding="utf-8")
    report = import_file(bad, view, store)
    assert report.errors and "bad.jsonl:3" in report.errors[0] and "useful" in report.errors[0]
    assert report.stored == 0 and store.count() == before + 2  # a malformed file stores nothing


def test_train_refuses_with_too_few_pairs_and_changes_nothing(tmp_path):
    index = seed_index_copy(tmp_path / "index")
    result = cli("train", index=index, check=False)
    assert result.returncode == 1 and "too few feedback pairs" in result.stderr
    assert not list(index.glob("models/query-v*"))
    assert Catalog(index).get_info("query_model") is None


def test_train_keeps_only_a_better_version_and_rolls_back(tmp_path):
    """Own dev questions' gold quotes as feedback; a version is kept only when the held-out questions rank better."""
    index = seed_index_copy(tmp_path / "index")
    questions = [json.loads(line) for line in (ROOT / "bench" / "data" / "dev_questions.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"question": q["query"], "useful": [g["quote"] for g in q["gold"]]},
                                        ensure_ascii=False) + "\n" for q in questions if q["gold"]), encoding="utf-8")
    imported = cli("feedback", "import", str(pairs), index=index)
    assert "stored" in imported.stdout
    result = cli("train", "--epochs", "2", "--json", index=index, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["held_out"] > 0 and set(report["before"]) >= {"recall@10", "mrr@10"}
    better = (report["after"]["recall@10"], report["after"]["mrr@10"]) > \
        (report["before"]["recall@10"], report["before"]["mrr@10"])
    assert report["kept"] is better
    versions = Catalog(index).get_info("query_model")
    if better:
        assert versions["active"] == report["version"] and (index / "models" / "query-v1").is_dir()
        from qa.retrieval.service import load_searcher

        assert load_searcher(index).embedder.info()["query_model_version"] == 1
        assert "untrained" in cli("train", "--rollback", index=index).stdout
        assert Catalog(index).get_info("query_model")["active"] is None
    else:
        assert versions is None or versions.get("active") is None


def test_memory_votes_sum_over_past_questions_and_kept_rankings_fuse_as_fresh(index):
    """A clause marked by two near past questions outranks one marked by one only when the memory votes; a searcher
    that keeps its rankings returns, under other fusion weights, exactly what a fresh searcher returns."""
    import numpy as np

    from qa.feedback.memory import FeedbackMemory
    from qa.index.embedding import embedder_for_query
    from qa.retrieval.fusion import FusionConfig, fuse
    from qa.retrieval.searcher import Searcher

    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    memory = FeedbackMemory(np.eye(3, dtype=np.float32)[[0, 0, 1]] * [[1], [0.96], [1]], [[7], [7], [9]])
    remembered = memory.scores(np.array([1.0, 0.95, 0.0], dtype=np.float32))
    assert sorted(set(remembered[0].tolist())) == [7, 9] and remembered[0].tolist().count(7) == 2
    best = fuse(empty, empty, FusionConfig(memory_weight=1.0, memory_floor=0.5), memory=remembered)
    summed = fuse(empty, empty, FusionConfig(memory_weight=1.0, memory_floor=0.5, memory_votes=True),
                  memory=remembered)
    assert best[7] == pytest.approx(1.0) and best[9] == pytest.approx(0.9)
    assert summed[7] == pytest.approx(1.92) and summed[9] == pytest.approx(0.9)

    view = Index.open(index)
    embedder = embedder_for_query(view)
    questions = ["如皋到2025年要培育多少家高新技术企业?", "涟水对绿色工厂有什么目标?"]
    past = FeedbackMemory.build(questions, [[0, 1], [2]], embedder.encode_queries)
    kept = Searcher(view, embedder, memory=past, keep_rankings=True)
    for fusion in (FusionConfig(dense_weight=0.2), FusionConfig(dense_weight=0.7, memory_weight=2.0, memory_votes=True)):
        kept.fusion = fusion
        fresh = Searcher(view, embedder, fusion=fusion, memory=past)
        for question in questions:
            assert [(h.clause_id, round(h.score, 6)) for h in kept.search(question, k=10)] == \
                [(h.clause_id, round(h.score, 6)) for h in fresh.search(question, k=10)]
