"""Content-addressed blobs: raw messages and attachments, named by their sha256.

On disk by default: ``<root>/ab/cdef…``, each written to a temporary file and
renamed into place, so a reader never sees half a blob. Writers that store many
blobs at once let :meth:`FileBlobStore.put` write in the background and call
:meth:`FileBlobStore.sync` (or :meth:`FileBlobStore.flush`, which does it in
the background too) once for the whole batch before they commit rows that point
at the blobs: it waits for the writes and fsyncs exactly the files and folders
the batch touched.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
IO_THREADS = 8
"""Writes and fsyncs in flight at once. File creation is kernel time that runs beside the
caller's parsing this way, and ext4 folds concurrent fsyncs into one journal commit: 200 files
take about 18 ms against 47 ms one after the other (bench/RESULTS.md)."""


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
        self._writes: dict[str, Future[bool]] = {}
        """Blobs put since the last sync: path → its write (True when it made a new file)."""
        self._pool: ThreadPoolExecutor | None = None
        self._syncer: ThreadPoolExecutor | None = None
        """Runs the sync rounds one after the other, each fanning its fsyncs out to the pool."""
        self._last_round: Future[None] = Future()
        self._last_round.set_result(None)
        self._lock = threading.Lock()
        """Callers may put and sync from several threads (the daemon's to_thread calls)."""
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
        """Store ``data`` in the background (durable after :meth:`sync`); return its digest."""
        sha = hashlib.sha256(data).hexdigest()
        target = os.path.join(self._root, sha[:2], sha[2:])
        with self._lock:
            if target not in self._writes:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="blobs")
                self._writes[target] = self._pool.submit(_write_file, target, data)
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
        """Make every blob put so far durable; raises OSError (disk full, I/O error)."""
        self.flush().result()

    def flush(self) -> Future[None]:
        """Start making every blob put so far durable: wait for the writes, then fsync the
        files and the folders that got new names.

        The future raises OSError if that fails; then rows must not name those
        blobs, and a caller that redoes its batch puts them again. Rounds run one
        after the other, so with nothing new put this is the last round, which
        may hold another thread's writes that this caller's blobs joined.
        """
        with self._lock:
            writes, self._writes = self._writes, {}
            if writes:
                if self._syncer is None:
                    self._syncer = ThreadPoolExecutor(1, thread_name_prefix="blob-sync")
                self._last_round = self._syncer.submit(self._sync_round, writes)
            return self._last_round

    def _sync_round(self, writes: dict[str, Future[bool]]) -> None:
        assert self._pool is not None
        folders = {os.path.dirname(path) for path, made in writes.items() if made.result()}
        # All at once; a name that became durable before its bytes is found short by put.
        for _ in self._pool.map(_fsync_path, [*writes, *folders]):
            pass

    def close(self) -> None:
        """Stop the background threads (a later :meth:`put` starts them again)."""
        with self._lock:
            syncer, pool = self._syncer, self._pool
            self._syncer = self._pool = None
        for executor in (syncer, pool):
            if executor is not None:
                executor.shutdown()


def _write_file(target: str, data: bytes) -> bool:
    """Write ``data`` to ``target`` through a temporary file; False if it was there already."""
    try:
        # A blob a crash cut short (written, never synced) is shorter: write it again.
        if os.stat(target).st_size == len(data):
            return False  # fsynced all the same: it may never have been, before a crash
    except FileNotFoundError:
        pass
    folder, name = os.path.split(target)
    # Per thread: two writes of the same blob (a logo in two chunks) may run at once.
    temp = os.path.join(folder, f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temp, _WRITE_FLAGS, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(temp, target)
    return True


def _fsync_path(path: str) -> None:
    fd = os.open(path, _READ_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
