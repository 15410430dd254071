"""``qa search`` and ``qa eval``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the retrieval commands to the ``qa`` parser."""
