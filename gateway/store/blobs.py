"""Content-addressed blobs: raw messages and attachments, named by their sha256.

On disk by default: ``<root>/ab/cdef…``, each written to a temporary file and
renamed into place, so a reader never sees half a blob. Writers that store many
blobs at once skip the per-file fsync and call :meth:`FileBlobStore.sync` once
for the whole batch before they commit rows that point at the blobs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
from pathlib import Path
from typing import Protocol


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
    """Blobs as files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the blob ``sha256`` lives."""
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` (not yet durable: call :meth:`sync`); return its digest."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with temp.open("wb") as fh:
            fh.write(data)
        os.replace(temp, target)
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
        """Flush the file system holding the blobs (syncfs(2); sync(2) where missing)."""
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _syncfs is None or _syncfs(fd) != 0:
                os.sync()
        finally:
            os.close(fd)


def _load_syncfs() -> ctypes._NamedFuncPointer | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        func = ctypes.CDLL(name, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int]
    func.restype = ctypes.c_int
    return func


_syncfs = _load_syncfs()
