"""Helpers shared by tests: building a seed index once, running the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import CORPUS, ROOT

NEW_DOC = """关于印发《测试市飞地孵化器建设实施方案》的通知
测政办发〔2025〕3号
各有关单位：
现将《测试市飞地孵化器建设实施方案》印发给你们，请认真贯彻执行。
测试市人民政府办公室
2025年2月1日
测试市飞地孵化器建设实施方案
一、工作目标
到2026年，在上海建成飞地孵化器2家，累计孵化科技型企业40家以上。
二、主要任务
（一）建设离岸孵化载体。依托长三角科创资源，建设“研发在上海、转化在测试”的飞地孵化器。
（二）完善服务体系。为入驻企业提供知识产权、融资对接等专业服务。
"""


def cli(*args: str, index: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_INDEX_DIR": str(index)}
    result = subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"qa {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def build_seed_index(target: Path, bridge: bool = True) -> Path:
    """The seed corpus ingested into ``target``, with the English term bridge the embedding job would build."""
    from qa.index.collection import Index
    from qa.index.embedding import embedder_for_query
    from qa.ingest import ingest
    from qa.retrieval.bridge import TermBridge

    report = ingest([CORPUS], target)
    assert not report.errors and report.documents == 5
    if bridge:
        index = Index.open(target)
        TermBridge.refresh(index, embedder_for_query(index))
    return target


_SEED_BUILT: list[Path] = []


def seed_index_copy(target: Path) -> Path:
    """A copy of the seed index, built once per test process (embedding it takes half a minute)."""
    if not _SEED_BUILT:
        _SEED_BUILT.append(build_seed_index(Path(tempfile.mkdtemp(prefix="qa-seed-")) / "index"))
    return copy_index(_SEED_BUILT[0], target)


def upload_variants(index_dir: Path, folder: Path, count: int, merge: bool = True) -> list[str]:
    """``count`` variants of ``NEW_DOC`` (样例0市, 样例1市, …) ingested one commit each; their doc_ids."""
    from qa.ingest import ingest

    folder.mkdir()
    added = []
    for i in range(count):
        path = folder / f"plan{i}.txt"
        path.write_text(NEW_DOC.replace("测试市", f"样例{i}市"), encoding="utf-8")
        added += ingest([path], index_dir, merge=merge).added
    return added


def copy_index(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def encode_from_threads(embedder, questions: list[str], timeout: float = 30):
    """Each question encoded by ``embedder`` from a thread of its own, all started at once; the vectors in order."""
    import threading

    import numpy as np

    found: dict[int, np.ndarray] = {}

    def ask(i: int) -> None:
        found[i] = embedder.encode_queries([questions[i]])[0]

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert sorted(found) == list(range(len(questions))), "a thread's question was not encoded"
    return np.vstack([found[i] for i in range(len(questions))])
