"""The HTTP service: search, cited answers, precedent wording, documents and clauses (FastAPI)."""
