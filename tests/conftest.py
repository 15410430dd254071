"""Shared fixtures: paths to the shipped corpus and ../shared, offline model loading."""

from __future__ import annotations

import os
from pathlib import Path

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
