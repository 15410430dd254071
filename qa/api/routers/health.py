"""``GET /health``: is the service up, what does the index hold, which embedder answers, how far dense
search reaches (model vectors, student vectors, none yet) and what the embedding job is doing."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from qa.api.deps import SnapshotDep, StateDep
from qa.config import settings
from qa.errors import Unavailable
from qa.index.milvus import backend, milvus_store
from qa.schemas import DenseCoverage, Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Service status, index counts, embedder and dense coverage")
def health(snapshot: SnapshotDep, state: StateDep, request: Request) -> Health:
    """Counts of the loaded commit, the embedder (its name, the model it is, ``load_error`` when the configured
    one was replaced), dense coverage, the embedding job, whether uploads are enabled and their size limit."""
    index = snapshot.index
    embedder = snapshot.searcher.embedder or state.embedder
    info = embedder.info() if embedder is not None else None
    counts = index.counts()
    passages = counts["passages"]
    coverage = DenseCoverage(model_vectors=counts["teacher_vectors"], student_vectors=counts["student_vectors"],
                             without_vectors=passages - counts["teacher_vectors"] - counts["student_vectors"],
                             share_model=round(counts["teacher_vectors"] / passages, 4) if passages else 0.0)
    storage = {"vectors": "local FAISS segments", "lexical": "local BM25 segments", "damaged": index.damaged}
    status = "ok" if index.documents else "empty"
    if backend() == "milvus":
        storage["vectors"] = f"milvus {settings().milvus_uri} collection {settings().milvus_collection}"
        try:
            storage["milvus_vectors"] = milvus_store(int((index.embedder_info or {}).get("dim") or 384)).count()
        except Unavailable as err:
            storage["milvus_error"], status = str(err), "degraded"
    if index.damaged:
        status = "degraded"
    background = getattr(request.app.state, "background", None)
    job = asdict(background.job) if background is not None else None
    error = state.embedder_error if embedder is None else None
    return Health(status=status, documents=counts["documents"], storage=storage,
                  clauses=counts["clauses"], passages=passages, embedder=info,
                  embedder_is_fallback=bool(info.get("is_fallback")) if info else None,
                  embedder_error=error or (None if embedder is not None else "no embedding model: lexical search only"),
                  dense=coverage, embed_job=job, index_generation=snapshot.generation,
                  index_format=snapshot.index_format, uploads_enabled=bool(state.settings.api_token),
                  max_upload_mb=state.settings.max_upload_mb)
