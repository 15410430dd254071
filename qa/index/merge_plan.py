"""Merge planning: which segments of a kind a merge compacts, and whether any merge is due at all.

Segments grow in tiers: a merge rewrites the half-dead ones, the smallest while there are too many, and
the small vector segments that together are large enough for an IVF index. ``all_alive_and_few`` decides
from the catalog's counts alone that nothing is due, so the writer need not load the segments to find out.
"""

from __future__ import annotations

from collections.abc import Iterable

from qa.index import vectors
from qa.index.catalog import Catalog

MAX_SEGMENTS = 8
MAX_DEAD_SHARE = 0.3


def merge_plan(sizes: list[int], alive: list[int], force: bool, max_segments: int = MAX_SEGMENTS,
               flat_below: int = 0) -> list[int]:
    """Which segments to merge: all when forced; else the half-dead ones, plus the smallest ones while there
    are more than ``max_segments`` (so sizes grow in tiers and a big segment is rarely rewritten); and the
    segments under ``flat_below`` live rows (vectors searched exactly, without an IVF index) once together
    they reach it: every search reads each such segment whole.

    Args:
        sizes: the rows of each segment.
        alive: the live rows of each segment.
        force: merge every segment into one.
        max_segments: how many segments may stand unmerged.
        flat_below: the live rows under which a segment is searched exactly (0: none is).

    Returns:
        the positions of the segments to merge, sorted (empty: no merge).
    """
    count = len(sizes)
    if force:
        return list(range(count)) if count > 1 or (count == 1 and alive[0] < sizes[0]) else []
    chosen = [i for i in range(count) if sizes[i] and (sizes[i] - alive[i]) / sizes[i] > MAX_DEAD_SHARE]
    flat = [i for i in range(count) if i not in chosen and alive[i] < flat_below]
    if flat_group((alive[i] for i in flat), flat_below):
        chosen += flat
    rest = sorted((i for i in range(count) if i not in chosen), key=lambda i: (alive[i], i))
    excess = len(rest) + (1 if chosen else 0) - max_segments
    if excess > 0:
        chosen += rest[:excess + (0 if chosen else 1)]
    return sorted(chosen) if len(chosen) > 1 or (chosen and alive[chosen[0]] < sizes[chosen[0]]) else []


def flat_group(rows: Iterable[int], floor: int = vectors.APPROXIMATE_ABOVE) -> bool:
    """Two or more segments too small for an IVF index that together are large enough for one."""
    small = [n for n in rows if n < floor]
    return len(small) > 1 and sum(small) >= floor


def all_alive_and_few(catalog: Catalog, kind: str) -> bool:
    """No more segments of ``kind`` than allowed and too few dead rows for any of them to be half-dead, from
    the catalog's counts alone (every live passage has one lexical row, and one vector row once it has a
    vector; the dead rows, wherever they are, cannot exceed the dead share of the smallest segment).

    Sentence segments count passages (``SegmentRecord.passages``); clauses with no sentence to embed make their
    dead look a few fewer; sentences still in the catalog's table (an older index) make the count negative, and
    the plan is then made from the loaded segments.

    Args:
        catalog: the index's catalog.
        kind: ``lexical``, ``vector`` or ``sentence``.

    Returns:
        True when no merge of ``kind`` is due.
    """
    segments = catalog.segments(kind)
    if not segments or len(segments) > MAX_SEGMENTS:
        return not segments
    if kind == "vector" and flat_group(s.rows for s in segments):
        return False
    units = [s.passages if kind == "sentence" else s.rows for s in segments]
    if None in units:  # a sentence segment written without its count
        return False
    where = "" if kind == "lexical" else " WHERE dense > 0"
    live = catalog.db.execute(f"SELECT count(*) FROM passages{where}").fetchone()[0]
    dead = sum(units) - live
    return 0 <= dead <= MAX_DEAD_SHARE * min(units)
