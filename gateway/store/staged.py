"""Blobs written from the event loop: kept in memory during the transaction, made durable before
its commit, with the file I/O and fsync in a thread.

The effects code writes payload blobs synchronously inside the caller's
transaction. The pipeline worker may block; the daemon's event loop (the HTTP
app, the waiting-ticket sweep) may not, so there the effects get a
:class:`StagedBlobs` and :func:`write_with_blobs` flushes it off the loop
before the rows that name the blobs are committed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.blobs import BlobStore

T = TypeVar("T")


class StagedBlobs:
    """A :class:`BlobStore` that holds new blobs in memory until :meth:`flush`."""

    def __init__(self, target: BlobStore) -> None:
        self.target = target
        self.pending: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        """Remember ``data``; return its sha256 (nothing is written yet)."""
        sha = hashlib.sha256(data).hexdigest()
        self.pending.setdefault(sha, data)
        return sha

    def get(self, sha256: str) -> bytes:
        """A staged blob, or the target's; KeyError when neither has it."""
        if (data := self.pending.get(sha256)) is not None:
            return data
        return self.target.get(sha256)

    def sync(self) -> None:
        """Nothing: :meth:`flush` writes and syncs (the caller runs it in a thread)."""

    def flush(self) -> None:
        """Write every staged blob to the target and make them durable. Blocking."""
        if not self.pending:
            return
        for data in self.pending.values():
            self.target.put(data)
        self.target.sync()
        self.pending.clear()


async def write_with_blobs(
    engine: AsyncEngine, blobs: BlobStore, work: Callable[[Connection, BlobStore], T]
) -> T:
    """Run ``work`` in one transaction; the blobs it stored are durable before the commit."""
    staged = StagedBlobs(blobs)
    async with engine.begin() as conn:
        result = await conn.run_sync(lambda sync_conn: work(sync_conn, staged))
        await asyncio.to_thread(staged.flush)
    return result
