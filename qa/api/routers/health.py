"""``GET /health``: is the service up, what does the index hold, which embedder answers."""

from __future__ import annotations

from fastapi import APIRouter

from qa.api.deps import SnapshotDep, StateDep
from qa.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Service status, index counts and embedder")
def health(snapshot: SnapshotDep, state: StateDep) -> Health:
    """Counts of the loaded generation, the embedder (with ``is_fallback`` and ``load_error``), and
    whether uploads are enabled (``QA_API_TOKEN`` set)."""
    index = snapshot.index
    embedder = snapshot.searcher.embedder
    if embedder is not None:
        info = embedder.info()
    else:
        info = dict(index.embedder_info or {}) or None
        if info is not None:
            info.setdefault("load_error", "no embedder loaded: the index is searched lexically only")
    is_fallback = bool(info.get("is_fallback")) if info else None
    return Health(status="ok" if index.documents else "empty", documents=len(index.documents),
                  clauses=len({c.clause_id for c in index.passages}), passages=len(index.passages),
                  embedder=info, embedder_is_fallback=is_fallback, index_generation=snapshot.generation,
                  index_format=snapshot.index_format, uploads_enabled=bool(state.settings.api_token))
