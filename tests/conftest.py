"""Shared fixtures: paths to the shipped corpus and ../shared, offline model loading, and a live service over the
seed index with an HTTP client (per module; a module overrides ``server`` to serve other settings)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
LAWS = SHARED / "data" / "lawrefbook_laws"


def corpus_file(prefix: str) -> Path:
    matches = sorted(CORPUS.glob(f"{prefix}*"))
    assert matches, f"no corpus file starting with {prefix}"
    return matches[0]


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared is not beside the project")
    return SHARED


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The service over the seed index, on loopback, with default settings."""
    from tests.test_api import live_server

    server = live_server(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=60) as session:
        yield session
