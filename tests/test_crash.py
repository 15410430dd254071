"""The crash suite: SIGKILL an ingest (while its worker processes run), an upload and a delete at random points;
after each kill the index opens at its last commit, no process is left holding the lock, and a new write works."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from qa.index.collection import Index, segment_folder
from qa.index.writer import write_lock
from tests.conftest import ROOT
from tests.helpers import NEW_DOC, seed_index_copy
from tests.ui_support import free_port, offline_env

KILLS_INGEST, KILLS_UPLOAD, KILLS_DELETE = 12, 5, 5
RNG = random.Random(20261201)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return seed_index_copy(tmp_path_factory.mktemp("crash") / "index")


def many_files(folder: Path, count: int, tag: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        text = NEW_DOC.replace("测试市", f"{tag}{i}市") + "".join(f"（{n}）第{n}项任务。推进{tag}{i}市科技工作。\n"
                                                               for n in range(3, 40))
        (folder / f"{tag}-{i:03d}.txt").write_text(text, encoding="utf-8")
    return folder


def assert_whole(index_dir: Path, allowed: set[int]) -> int:
    """The index opens at a commit (its document count one of ``allowed``), the lock is free, no leftovers."""
    index = Index.open(index_dir)
    count = len(index.documents)
    assert count in allowed, (count, allowed)
    assert len(index.passages) == index.counts()["passages"]
    if index.passages:
        index.clause_rows([0, len(index.passages) - 1])
    with write_lock(index_dir, timeout=5):
        pass
    registered = {segment_folder(index_dir, r.kind, r.seg).name for r in index.catalog.segments()}
    on_disk = {p.name for p in (index_dir / "segments").iterdir()} if (index_dir / "segments").exists() else set()
    assert registered <= on_disk  # what the catalog names is there (leftovers are cleaned by the next write)
    return count


def group_is_gone(pgid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_kill_ingest_at_random_points_including_while_workers_run(base, tmp_path):
    index_dir = seed_index_copy(tmp_path / "index")
    folder = many_files(tmp_path / "docs", 30, "并行")  # more than 20 files: parsed in worker processes
    survived = 0
    for attempt in range(KILLS_INGEST):
        before = len(Index.open(index_dir).documents)
        child = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(index_dir), "ingest", str(folder),
                                  "--quiet"], cwd=ROOT, env=offline_env(QA_TEACHER_PASSAGES="0"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(RNG.uniform(0.2, 9.0))
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        assert group_is_gone(child.pid), "a worker of the killed ingest is still running"
        count = assert_whole(index_dir, {before, 35})
        survived += 1
        if count == 35 and attempt < KILLS_INGEST - 1:  # it finished before the kill: start again from the seed
            index_dir = seed_index_copy(tmp_path / f"index-{attempt}")
    result = subprocess.run([sys.executable, "-m", "qa.cli", "--index", str(index_dir), "ingest", str(folder),
                             "--quiet"], cwd=ROOT, env=offline_env(QA_TEACHER_PASSAGES="0"), capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert len(Index.open(index_dir).documents) == 35 and survived == KILLS_INGEST


def start_service(index_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(index_dir), "serve", "--port",
                                str(port)], cwd=ROOT, env=offline_env(QA_API_TOKEN="t", QA_EMBED_JOB="0"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=2, trust_env=False).raise_for_status()
            return process, url
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("service did not start")


def test_kill_the_service_during_uploads_and_deletes(base, tmp_path):
    folder = many_files(tmp_path / "uploads", 6, "上传")
    files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in sorted(folder.iterdir())]
    for attempt in range(KILLS_UPLOAD):
        index_dir = seed_index_copy(tmp_path / f"upload-{attempt}")
        process, url = start_service(index_dir)
        thread = threading.Thread(target=_post, args=(url, files))
        thread.start()
        time.sleep(RNG.uniform(0.05, 4.0))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        thread.join()
        assert group_is_gone(process.pid)
        assert_whole(index_dir, {5, 11})
        process, _ = start_service(index_dir)  # start-up removes files of an upload killed before its commit
        process.terminate()
        process.wait(timeout=30)
        referenced = {m.source_path for m in Index.open(index_dir).metas}
        sources = index_dir / "sources"
        assert not sources.exists() or {str(p) for p in sources.iterdir()} <= referenced
    index_dir = seed_index_copy(tmp_path / "deletes")
    for _ in range(KILLS_DELETE):
        index = Index.open(index_dir)
        before = len(index.documents)
        child = subprocess.Popen([sys.executable, "-m", "qa.cli", "--index", str(index_dir), "remove",
                                  index.rows.doc_ids[-1], "--quiet"], cwd=ROOT, env=offline_env(),
                                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(RNG.uniform(0.05, 3.0))
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        assert group_is_gone(child.pid)
        assert_whole(index_dir, {before, before - 1})
    result = subprocess.run([sys.executable, "-m", "qa.cli", "--index", str(index_dir), "ingest", str(folder),
                             "--quiet"], cwd=ROOT, env=offline_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr


def _post(url: str, files: list) -> None:
    try:
        httpx.post(f"{url}/documents", files=files, headers={"Authorization": "Bearer t"}, timeout=120,
                   trust_env=False)
    except httpx.HTTPError:
        pass  # the service was killed mid-request
