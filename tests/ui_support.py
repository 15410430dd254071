"""Helpers for the UI tests: a seed index with a hostile document, the real service on loopback.

Used by ``tests/test_ui.py`` (Streamlit AppTest) and ``tests/test_browser.py`` (headless Chromium, its page
steps in ``tests/browser_support.py``); each starts its own service (the AppTest tests delete a document, the
browser tests take screenshots of the seed corpus alone).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import CORPUS, ROOT
from tests.helpers import NEW_DOC

QA = str(Path(sys.executable).with_name("qa"))
TOKEN = "ui-test-token"

# A policy file whose text carries markup: the UI must show it as text, never render it.
MARKUP_DOC = """关于印发《测试县政务标记安全试点方案》的通知
测政办发〔2025〕9号
各乡镇人民政府，县各有关部门：
现将《测试县政务标记安全试点方案》印发给你们，请认真贯彻执行。
测试县人民政府办公室
2025年3月1日
测试县政务标记安全试点方案
一、工作目标
到2026年，建成<script>alert(1)</script>政务数字化审批平台<b>x</b>，实现“一网通办”。
二、主要任务
（一）完善审批平台。推行<img src=x onerror=alert(2)>电子证照，[链接](javascript:alert(3))不得执行。
（二）强化安全保障。建立**数据分级**保护制度，定期开展安全评估。
"""

# A file the delete test removes (nothing else depends on it).
DISPOSABLE_DOC = NEW_DOC  # the plan the index tests ingest, here removed by the delete test


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QA_API_URL", "QA_API_TOKEN")}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra}


def build_index(workdir: Path, test_documents: bool = True) -> Path:
    """Ingest the seed corpus (plus, by default, the markup and disposable documents) into ``workdir/index``."""
    paths = [str(CORPUS)]
    if test_documents:
        extra = workdir / "extra"
        extra.mkdir(parents=True, exist_ok=True)
        (extra / "markup-test-plan.txt").write_text(MARKUP_DOC, encoding="utf-8")
        (extra / "disposable-test-plan.txt").write_text(DISPOSABLE_DOC, encoding="utf-8")
        paths.append(str(extra))
    index = workdir / "index"
    result = subprocess.run([QA, "--index", str(index), "ingest", "--quiet", *paths], cwd=ROOT,
                            env=offline_env(), capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise AssertionError(f"qa ingest failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return index


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=2.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout:.0f}s:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def running(args: list[str], url: str, log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Start ``args``, wait until ``url`` answers 200, stop the process afterwards."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(url, proc, log)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@contextlib.contextmanager
def service(index: Path, workdir: Path) -> Iterator[str]:
    """``qa --index INDEX serve`` on a free loopback port with uploads enabled; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [QA, "--index", str(index), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running(args, f"{url}/health", workdir / f"service-{port}.log", offline_env(QA_API_TOKEN=TOKEN)):
        yield url

