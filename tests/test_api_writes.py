"""The HTTP service's writes over real loopback HTTP: the bearer token, uploads (per-file results, sanitised names,
bad files rejected with nothing lost, size limits), replacing and deleting documents, searches answered from a whole
index while a write commits, and merges left to a quiet moment. The servers are ``test_api``'s.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from qa.api.state import ServiceSettings
from tests.helpers import NEW_DOC
from tests.test_api import AUTH, TOKEN, LiveServer, assert_client_error, live_server


@pytest.fixture(scope="module")
def writable(tmp_path_factory) -> LiveServer:
    """A private copy of the seed index, uploads enabled with ``TOKEN`` and a 1 MB limit."""
    server = live_server(tmp_path_factory, ServiceSettings(api_token=TOKEN, max_upload_mb=1.0), copy=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def writer(writable) -> httpx.Client:
    with httpx.Client(base_url=writable.url, timeout=300) as session:
        yield session


# -- token rules ----------------------------------------------------------------------------------
def test_wrong_or_missing_token(writer):
    files = {"files": ("note.txt", NEW_DOC.encode(), "text/plain")}
    assert_client_error(writer.post("/documents", files=files), 401, "bearer")
    assert_client_error(writer.post("/documents", files=files, headers={"Authorization": "Bearer wrong"}), 401)
    assert_client_error(writer.post("/documents", files=files, headers={"Authorization": f"Basic {TOKEN}"}), 401)
    doc_id = writer.get("/documents").json()[0]["doc_id"]
    assert_client_error(writer.delete(f"/documents/{doc_id}", headers={"Authorization": "Bearer x"}), 401)
    assert len(writer.get("/documents").json()) == 5
    assert writer.get("/health").json()["uploads_enabled"] is True


# -- uploads and deletes --------------------------------------------------------------------------
def _doc_ids_of(client: httpx.Client, query: str) -> set[str]:
    return {h["doc_id"] for h in client.post("/search", json={"query": query, "k": 5}).json()["hits"]}


def test_upload_then_search_then_delete(writer, writable):
    before = int(writer.get("/health").json()["index_generation"])
    response = writer.post("/documents", headers=AUTH,
                           files={"files": ("测试市飞地孵化器方案.txt", NEW_DOC.encode(), "text/plain")})
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert len(report["added"]) == 1 and not report["errors"] and report["documents"] == 6
    doc_id = report["added"][0]
    assert response.json()["files"] == [{"name": "测试市飞地孵化器方案.txt", "status": "added", "doc_id": doc_id,
                                         "reason": None}]
    assert int(response.headers["X-Index-Generation"]) > before
    meta = writer.get(f"/documents/{doc_id}").json()["meta"]
    saved = Path(meta["source_path"])
    assert saved.parent == writable.index / "sources" and saved.read_bytes() == NEW_DOC.encode()
    assert meta["source_name"] == "测试市飞地孵化器方案.txt"
    assert doc_id in _doc_ids_of(writer, "飞地孵化器")
    answer = writer.post("/ask", json={"question": "测试市到2026年要在上海建成几家飞地孵化器?"}).json()
    assert answer["answerable"] and "飞地孵化器2家" in answer["answer"]

    deleted = writer.delete(f"/documents/{doc_id}", headers=AUTH)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["removed"] == [doc_id] and deleted.json()["documents"] == 5
    assert doc_id not in _doc_ids_of(writer, "飞地孵化器")
    assert_client_error(writer.get(f"/documents/{doc_id}"), 404)
    assert not saved.exists()
    assert_client_error(writer.delete(f"/documents/{doc_id}", headers=AUTH), 404, doc_id)


def test_upload_names_are_sanitised(writer, writable):
    response = writer.post("/documents", headers=AUTH,
                           files={"files": ("../../escape 政策.txt", NEW_DOC.encode(), "text/plain")})
    assert response.status_code == 201, response.text
    doc_id = response.json()["report"]["added"][0]
    meta = writer.get(f"/documents/{doc_id}").json()["meta"]
    source = Path(meta["source_path"])
    assert meta["source_name"] == "escape 政策.txt"
    assert source.parent.resolve() == (writable.index / "sources").resolve()
    assert not (writable.index.parent / "escape 政策.txt").exists()
    assert writer.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 200


@pytest.mark.parametrize("name,data,status,cause", [
    ("fake.pdf", b"this is not a PDF at all", 422, "PDF"),
    ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, 422, "PNG"),
    ("blob.docx", bytes(range(256)) * 8, 422, "DOCX"),
    ("empty.md", b"   \n", 422, "empty"),
    ("binary.txt", b"\x00\x01\x02\x03" * 500, 422, "binary"),
    ("program.exe", b"MZ\x90\x00", 415, ".exe"),
    ("noextension", b"text", 422, "extension"),
])
def test_bad_uploads_are_rejected_and_nothing_is_lost(writer, writable, name, data, status, cause):
    before = {(m["doc_id"], m["sha256"]) for m in writer.get("/documents").json()}
    response = writer.post("/documents", headers=AUTH, files={"files": (name, data, "application/octet-stream")})
    assert_client_error(response, status, name, cause)
    # (the generation may still move: an earlier write's segments are merged after it answered)
    assert {(m["doc_id"], m["sha256"]) for m in writer.get("/documents").json()} == before
    assert not (writable.index / "sources" / name).exists()


def test_good_files_go_in_when_one_fails(writer, writable):
    files = [("files", ("good.txt", NEW_DOC.replace("测试市", "良好市").encode(), "text/plain")),
             ("files", ("bad.pdf", b"not a pdf", "application/pdf")),
             ("files", ("program.exe", b"MZ", "application/octet-stream"))]
    response = writer.post("/documents", headers=AUTH, files=files)
    assert response.status_code == 201, response.text
    results = {f["name"]: f for f in response.json()["files"]}
    assert results["good.txt"]["status"] == "added"
    assert results["bad.pdf"]["status"] == "rejected" and "PDF" in results["bad.pdf"]["reason"]
    assert results["program.exe"]["status"] == "rejected" and ".exe" in results["program.exe"]["reason"]
    assert writer.get("/health").json()["documents"] == 6
    assert len(list((writable.index / "sources").glob("*.pdf"))) == 0
    assert writer.delete(f"/documents/{results['good.txt']['doc_id']}", headers=AUTH).status_code == 200


def test_two_offices_same_file_name_keep_both_and_same_bytes_is_a_duplicate(writer, writable):
    first = NEW_DOC.replace("测试市", "甲市").encode()
    second = NEW_DOC.replace("测试市", "乙市").encode()
    a = writer.post("/documents", headers=AUTH, files={"files": ("附件1.txt", first, "text/plain")}).json()
    b = writer.post("/documents", headers=AUTH, files={"files": ("附件1.txt", second, "text/plain")}).json()
    assert a["files"][0]["status"] == b["files"][0]["status"] == "added"
    assert a["files"][0]["doc_id"] != b["files"][0]["doc_id"]
    titles = {m["title"] for m in writer.get("/documents").json()}
    assert {"甲市飞地孵化器建设实施方案", "乙市飞地孵化器建设实施方案"} <= titles
    again = writer.post("/documents", headers=AUTH, files={"files": ("另一个名字.txt", first, "text/plain")})
    assert again.status_code == 200 and again.json()["files"][0]["status"] == "duplicate"
    assert again.json()["files"][0]["doc_id"] == a["files"][0]["doc_id"]
    for result in (a, b):
        assert writer.delete(f"/documents/{result['files'][0]['doc_id']}", headers=AUTH).status_code == 200


def test_long_chinese_file_name_uploads_and_no_server_path_leaks(writer, writable):
    name = "关于印发" + "某某市科技创新政策" * 11 + "的通知.txt"
    assert len(name) >= 100 and len(name.encode()) > 255
    response = writer.post("/documents", headers=AUTH,
                           files={"files": (name, NEW_DOC.replace("测试市", "长名市").encode(), "text/plain")})
    assert response.status_code == 201, response.text
    doc_id = response.json()["files"][0]["doc_id"]
    assert writer.get(f"/documents/{doc_id}").json()["meta"]["source_name"] == name
    bad = writer.post("/documents", headers=AUTH, files={"files": (name.replace(".txt", ".pdf"), b"x", "x/y")})
    assert bad.status_code == 422 and str(writable.index) not in bad.text
    assert writer.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 200


def test_replacing_is_explicit(writer, writable):
    response = writer.post("/documents", headers=AUTH,
                           files={"files": ("plan.txt", NEW_DOC.replace("测试市", "换版市").encode(), "text/plain")})
    doc_id = response.json()["files"][0]["doc_id"]
    newer = NEW_DOC.replace("测试市", "换版市").replace("飞地孵化器2家", "飞地孵化器3家").encode()
    replaced = writer.put(f"/documents/{doc_id}", headers=AUTH, files={"file": ("plan-v2.txt", newer, "text/plain")})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["files"][0]["status"] == "replaced" and replaced.json()["files"][0]["doc_id"] == doc_id
    document = writer.get(f"/documents/{doc_id}").json()
    assert "飞地孵化器3家" in document["body"] and document["meta"]["source_name"] == "plan-v2.txt"
    assert_client_error(writer.put("/documents/nope", headers=AUTH, files={"file": ("x.txt", newer, "text/plain")}),
                        404)
    assert writer.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 200


def test_upload_size_limit(writer):
    big = ("一、总则\n" + "科技创新" * 100_000 + "\n").encode()  # about 1.2 MB, over the 1 MB limit
    assert_client_error(writer.post("/documents", headers=AUTH, files={"files": ("big.txt", big, "text/plain")}),
                        413, "too large")


def test_upload_without_files(writer):
    assert_client_error(writer.post("/documents", headers=AUTH, data={"x": "1"}), 422, "files")
    broken = {**AUTH, "content-type": "multipart/form-data; boundary=x"}
    response = writer.post("/documents", headers=broken, content=b"garbage")
    assert 400 <= response.status_code < 500 and "Traceback" not in response.text


def test_searches_are_answered_from_a_whole_index_during_an_upload(writer, writable):
    """Searches keep being served while an upload is ingested; each from one whole generation."""
    generations: dict[int, set[str]] = {}
    old = writer.get("/health").json()["index_generation"]
    generations[old] = {m["doc_id"] for m in writer.get("/documents").json()}
    results: list[tuple[int, int, set[str]]] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=writable.url, timeout=60) as session:
            while not stop.is_set():
                response = session.post("/search", json={"query": "孵化器 科技型企业", "k": 10})
                results.append((response.status_code, int(response.headers.get("X-Index-Generation", -1)),
                                {h["doc_id"] for h in response.json().get("hits", [])}))

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        response = writer.post("/documents", headers=AUTH,
                               files={"files": ("concurrent.txt", NEW_DOC.encode(), "text/plain")})
        assert response.status_code == 201, response.text
        new = int(response.headers["X-Index-Generation"])
        generations[new] = {m["doc_id"] for m in writer.get("/documents").json()}
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert results and all(status == 200 for status, _, _ in results)
    # before the upload's commit every response is from the old documents, from it on from the new ones (a
    # generation in between or after is a merge of segments, which changes no document)
    for _, generation, doc_ids in results:
        assert doc_ids <= generations[old if generation < new else new], generation
    added = response.json()["report"]["added"][0]
    assert writer.delete(f"/documents/{added}", headers=AUTH).status_code == 200


def test_writes_leave_merging_to_a_quiet_moment(tmp_path_factory):
    """An upload and a delete commit without merging (neither waits behind a merge); once writes pause for
    ``merge_idle_seconds`` the background thread merges the dead segment away, and searches still answer."""
    from qa.index.catalog import Catalog

    settings = ServiceSettings(api_token=TOKEN, poll_seconds=0.2, merge_idle_seconds=1.5, embed_job=False)
    server = live_server(tmp_path_factory, settings, copy=True)
    server.app.state.background.start()  # the test server runs without lifespan

    def segments() -> list[int]:
        catalog = Catalog(server.index)
        try:
            return [s.seg for s in catalog.segments("lexical")]
        finally:
            catalog.close()

    try:
        with httpx.Client(base_url=server.url, timeout=120) as session:
            before = segments()
            added = session.post("/documents", headers=AUTH,
                                 files={"files": ("quiet.txt", NEW_DOC.encode(), "text/plain")})
            assert added.status_code == 201, added.text
            doc_id = added.json()["report"]["added"][0]
            assert session.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 200
            after_writes = segments()
            dead = set(after_writes) - set(before)
            assert len(dead) == 1 and set(before) <= set(after_writes)  # the new document's segment, not merged
            deadline = time.monotonic() + 30
            while set(segments()) & dead and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not set(segments()) & dead
            hits = session.post("/search", json={"query": "飞地孵化器", "k": 5, "mode": "lexical"}).json()["hits"]
            assert hits and doc_id not in {h["doc_id"] for h in hits}
    finally:
        server.app.state.background.stop()
        server.stop()
