"""Learning from the officials' feedback: marked clauses stored, imported pairs, the query model trained on them."""
