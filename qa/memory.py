"""Handing freed heap memory back to the system between the phases and batches of heavy work.

glibc keeps blocks a process has freed for reuse; after many allocations of varying shape (the model's
activations, one batch after another) the process keeps hundreds of megabytes it no longer uses.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any


def release_freed_memory() -> None:
    """Hand the heap's free pages back to the system (glibc only; elsewhere nothing).

    Every batch leaves activations of a different shape behind; glibc keeps the freed blocks, so encoding
    8,000 articles grew the process by about 1 GB it no longer used (6,000 paragraphs: +270 MB anonymous
    memory untrimmed, +10 MB trimmed, same time). A trim costs about 0.15 ms.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _load_libc()
