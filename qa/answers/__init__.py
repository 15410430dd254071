"""Cited answers over retrieved clauses: extractive (default), LLM-composed (optional), similar wording."""
