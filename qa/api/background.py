"""The service's background work: follow the index's commits, merge segments once writes pause, and run
the embedding job.

One thread polls the catalog's commit number every ``poll_seconds``; when another process (``qa
ingest``, ``qa embed``, the job) has committed, the service swaps in a fresh snapshot. While passages
lack the model's vectors it keeps one ``qa embed`` process running (one torch thread, lower priority,
killed by the kernel if the service dies), so uploads and large ingests get the model's vectors without
anyone starting a job.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("qa.api")


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    os.nice(10)


@dataclass
class JobStatus:
    """The embedding job as ``/health`` reports it."""

    enabled: bool = True
    running: bool = False
    pid: int | None = None
    started: float | None = None
    runs: int = 0
    failures: int = 0
    last_exit: int | None = None
    last_error: str | None = None
    log_file: str | None = None
    history: list[str] = field(default_factory=list)


class Background:
    """Polls for new commits and keeps the embedding job running while it has work.

    Args:
        state: the service state (``reload``, ``snapshot``, ``index_dir``).
        poll_seconds: how often to look.
        embed_job: run ``qa embed`` in the background when passages lack model vectors.
    """

    def __init__(self, state, poll_seconds: float = 2.0, embed_job: bool = True):
        self.state = state
        self.poll_seconds = poll_seconds
        self.job = JobStatus(enabled=embed_job)
        self._process: subprocess.Popen | None = None
        self._bridge_checked: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="qa-background", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.tick()
            except Exception:  # the service keeps serving; the cause is logged
                log.exception("background check failed")

    def tick(self) -> None:
        """One round: reload on a new commit, merge when due, start or reap the embedding job."""
        catalog_commit = self.state.latest_commit()
        if catalog_commit is not None and catalog_commit != self.state.snapshot.generation:
            self.state.reload()
        self.state.merge_if_idle()
        finished = self._reap()
        if finished:  # the job may have refreshed the term bridge: take it in
            self.state.remember()
        if self.job.enabled and self._process is None and (self.state.pending_vectors() > 0
                                                           or self._bridge_due()):
            self._start_job()

    def _bridge_due(self) -> bool:
        """The term bridge is behind the documents (checked once a commit, not every tick)."""
        generation = self.state.snapshot.generation
        if generation == self._bridge_checked:
            return False
        self._bridge_checked = generation
        return self.state.bridge_stale()

    def _reap(self) -> bool:
        """Collect a finished job; True when one finished."""
        if self._process is None or self._process.poll() is None:
            return False
        code = self._process.returncode
        self.job.running, self.job.last_exit, self._process = False, code, None
        if code != 0:
            self.job.failures += 1
            tail = _tail(self.job.log_file)
            self.job.last_error = tail or f"exit status {code}"
            log.error("the embedding job failed (exit %s): %s", code, tail)
            if self.job.failures >= 3:  # do not restart a job that keeps failing; /health says why
                self.job.enabled = False
        return True

    def _start_job(self) -> None:
        log_file = Path(self.state.index_dir) / "embed-job.log"
        handle = log_file.open("ab")
        command = [sys.executable, "-m", "qa.cli", "--index", str(self.state.index_dir), "embed", "--threads", "1"]
        if self.state.model:
            command += ["--model", self.state.model]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        self._process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env,
                                         preexec_fn=_die_with_parent)
        handle.close()
        self.job.running, self.job.pid, self.job.started = True, self._process.pid, time.time()
        self.job.runs += 1
        self.job.log_file = str(log_file)
        log.info("started the embedding job (pid %s) for %d passages", self._process.pid,
                 self.state.pending_vectors())


def _tail(path: str | None, lines: int = 3) -> str:
    if not path or not Path(path).exists():
        return ""
    text = Path(path).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(text[-lines:])
