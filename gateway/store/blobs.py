"""Content-addressed blobs: raw messages and attachments, named by their sha256.

On disk by default: ``<root>/ab/cdef…``, each written to a temporary file and
renamed into place, so a reader never sees half a blob. Writers that store many
blobs at once skip the per-file fsync in :meth:`FileBlobStore.put` and call
:meth:`FileBlobStore.sync` once for the whole batch before they commit rows that
point at the blobs; it fsyncs exactly the files and folders the batch touched.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
SYNC_THREADS = 8
"""fsyncs in flight at once: ext4 folds concurrent fsyncs into one journal commit, so 200 files
take about 18 ms this way against 47 ms one after the other (bench/RESULTS.md)."""


class BlobStore(Protocol):
    """Where blob bytes live."""

    def put(self, data: bytes) -> str:
        """Store ``data``; return its sha256 hex digest."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored as ``sha256``; raises KeyError if there are none."""
        ...

    def sync(self) -> None:
        """Make every blob stored so far durable."""
        ...


class FileBlobStore:
    """Blobs as files under ``root``, in 256 fan-out folders made once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = os.fspath(root)
        self._pending: dict[str, None] = {}
        """Files put since the last sync, in order (a dict: no duplicates)."""
        self._dirs: set[str] = set()
        """Fan-out folders that got a new entry since the last sync."""
        self._syncer: ThreadPoolExecutor | None = None
        root.mkdir(parents=True, exist_ok=True)
        made = False
        for n in range(256):
            try:
                os.mkdir(os.path.join(self._root, f"{n:02x}"))
                made = True
            except FileExistsError:
                pass
        if made:
            _fsync_path(self._root)  # the new folders' entries, before any blob names them

    def path(self, sha256: str) -> Path:
        """Where the blob ``sha256`` lives."""
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` (not yet durable: call :meth:`sync`); return its digest."""
        sha = hashlib.sha256(data).hexdigest()
        folder = os.path.join(self._root, sha[:2])
        target = os.path.join(folder, sha[2:])
        try:
            # A blob a crash cut short (written, never synced) is shorter: write it again.
            if os.stat(target).st_size == len(data):
                self._pending[target] = None  # perhaps never synced before a crash
                return sha
        except FileNotFoundError:
            pass
        temp = os.path.join(folder, f".{sha[2:]}.{os.getpid()}.tmp")
        fd = os.open(temp, _WRITE_FLAGS, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temp, target)
        self._pending[target] = None
        self._dirs.add(folder)
        return sha

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; KeyError when missing or damaged."""
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise KeyError(sha256) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise KeyError(f"{sha256}: content does not match its name")
        return data

    def exists(self, sha256: str) -> bool:
        """True when the blob is stored."""
        return self.path(sha256).exists()

    def sync(self) -> None:
        """fsync every file put since the last call and the folders that got new names.

        Raises OSError; then nothing is forgotten, and the next call tries again.
        """
        if not self._pending:
            return
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="blob-sync")
        # All at once; a name that became durable before its bytes is found short by put.
        for _ in self._syncer.map(_fsync_path, [*self._pending, *self._dirs]):
            pass
        self._pending.clear()
        self._dirs.clear()

    def close(self) -> None:
        """Stop the fsync threads (a later :meth:`sync` starts them again)."""
        if self._syncer is not None:
            self._syncer.shutdown()
            self._syncer = None


def _fsync_path(path: str) -> None:
    fd = os.open(path, _READ_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
