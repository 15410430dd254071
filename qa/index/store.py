"""Atomic on-disk generations of the index folder.

The folder holds numbered generations (``gen-000007/``) and a ``CURRENT`` file naming the live one.
A save writes a whole new generation beside the live one, renames it into place and only then
replaces ``CURRENT`` (``os.replace`` is atomic), so a process killed at any moment leaves the
previous generation loadable and whole. One writer at a time holds ``write.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
KEEP_GENERATIONS = 2


class IndexCorruptError(RuntimeError):
    """The live generation is missing files or fails its checksums."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class GenerationStore:
    """Reads and writes generations of one index folder.

    Args:
        root: the index folder (created on first write).
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def current(self) -> Path | None:
        """The live generation folder, or None for an empty index."""
        pointer = self.root / CURRENT
        if not pointer.exists():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        path = self.root / name
        if not (path / MANIFEST).exists():
            raise IndexCorruptError(f"{pointer} names {name!r}, which has no {MANIFEST}")
        return path

    def read_manifest(self, generation: Path | None = None) -> dict | None:
        generation = generation or self.current()
        if generation is None:
            return None
        return json.loads((generation / MANIFEST).read_text(encoding="utf-8"))

    def verify(self, generation: Path) -> None:
        """Check every file listed in the manifest against its checksum."""
        manifest = self.read_manifest(generation) or {}
        for name, digest in manifest.get("files", {}).items():
            path = generation / name
            if not path.exists():
                raise IndexCorruptError(f"{path} is missing")
            if file_sha256(path) != digest:
                raise IndexCorruptError(f"{path} does not match its checksum in {MANIFEST}")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's write lock (blocks while another writer holds it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "write.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def write(self, manifest: dict) -> Iterator[Path]:
        """Write a new generation: yields a staging folder; on clean exit it becomes live.

        The caller writes its files into the yielded folder; the manifest (with their
        checksums added) is written last, then the folder is renamed and ``CURRENT`` replaced.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob("gen-*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        number = self._next_number()
        final = self.root / f"gen-{number:06d}"
        staging = self.root / f"gen-{number:06d}.tmp"
        staging.mkdir()
        try:
            yield staging
            files = {}
            for path in sorted(p for p in staging.rglob("*") if p.is_file()):
                with path.open("rb") as handle:
                    os.fsync(handle.fileno())
                files[path.relative_to(staging).as_posix()] = file_sha256(path)
            manifest = {**manifest, "generation": number, "files": files}
            manifest_path = staging / MANIFEST
            manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            with manifest_path.open("rb") as handle:
                os.fsync(handle.fileno())
            _fsync_dir(staging)
            os.rename(staging, final)
            pointer_tmp = self.root / (CURRENT + ".tmp")
            pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
            with pointer_tmp.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(pointer_tmp, self.root / CURRENT)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._prune(keep=final)

    @staticmethod
    def link_tree(source: Path, target: Path) -> None:
        """Copy a folder from an older generation by hard links (files are never modified in place)."""
        for path in source.rglob("*"):
            dest = target / path.relative_to(source)
            if path.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, dest)
            except OSError:
                shutil.copy2(path, dest)

    def _next_number(self) -> int:
        numbers = [int(p.name[4:10]) for p in self.root.glob("gen-*") if p.name[4:10].isdigit()]
        return max(numbers, default=0) + 1

    def _prune(self, keep: Path) -> None:
        """Delete old generations, keeping the newest few (readers may still be loading one)."""
        generations = sorted(p for p in self.root.glob("gen-*") if p.is_dir() and not p.name.endswith(".tmp"))
        for old in generations[:-KEEP_GENERATIONS]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)
