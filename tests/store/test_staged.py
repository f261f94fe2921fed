"""Staged blobs: nothing on disk during the transaction, durable before its commit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gateway.store.blobs import BlobStore, FileBlobStore
from gateway.store.engine import make_async_engine
from gateway.store.staged import StagedBlobs, write_with_blobs


def test_staged_blobs_reach_the_disk_only_on_flush(tmp_path: Path) -> None:
    disk = FileBlobStore(tmp_path / "blobs")
    staged = StagedBlobs(disk)
    sha = staged.put(b"payload")
    assert not disk.exists(sha)
    assert staged.get(sha) == b"payload"
    staged.flush()
    assert disk.get(sha) == b"payload"
    assert staged.get(sha) == b"payload"  # now read from the disk
    with pytest.raises(KeyError):
        staged.get("0" * 64)


def test_a_failed_transaction_writes_no_blob(tmp_path: Path) -> None:
    disk = FileBlobStore(tmp_path / "blobs")
    engine = make_async_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    written: list[str] = []

    def work(conn: Connection, blobs: BlobStore) -> str:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (sha TEXT)"))
        sha = blobs.put(b"answer bytes")
        conn.execute(text("INSERT INTO t VALUES (:sha)"), {"sha": sha})
        written.append(sha)
        return sha

    def failing(conn: Connection, blobs: BlobStore) -> str:
        blobs.put(b"never committed")
        raise RuntimeError("the ticket change failed")

    async def run() -> str:
        try:
            sha = await write_with_blobs(engine, disk, work)
            with pytest.raises(RuntimeError):
                await write_with_blobs(engine, disk, failing)
            return sha
        finally:
            await engine.dispose()

    sha = asyncio.run(run())
    assert written == [sha]
    assert disk.get(sha) == b"answer bytes"
    assert sorted(p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()) == [sha[2:]]
