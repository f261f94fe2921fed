"""Group commit: many sessions waiting for their ``250`` share one spool fsync and one commit.

A session hands its message to :meth:`Intake.submit` and waits. One task takes
every message waiting at that moment and, in one worker thread, appends them to
the spool with a single ``fdatasync`` and inserts their queue rows in a single
transaction (a sync connection: one thread hop per group, not one per
statement as an async driver would take); only then does it answer them all.
While it works, the next group gathers. If any step fails, every message of
the group gets :class:`TransientError` (SMTP ``451``) and the group is cut off
the spool again: none is half-accepted, and the sender keeps it and retries.

The spool record, fsynced, is what makes a ``250`` safe; on SQLite the queue
commit skips its own fsync (``synchronous=NORMAL``). A power cut may then
take back the last queue rows but never their records, and
:func:`replay_spool` queues such records again at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import TransientError
from gateway.inbound.spool import SpoolRef, SpoolWriter, iter_records, list_segments
from gateway.store import queue
from gateway.store.engine import sync_wal
from gateway.store.queue import NewInbound

log = structlog.get_logger("gateway.intake")

COMMIT_TIMEOUT = 30.0
"""Seconds a group may take to reach the disk and the database before it is refused."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message a source received and wants made durable."""

    data: bytes
    source: str
    peer: str | None
    helo: str | None
    mail_from: str | None
    rcpt_to: tuple[str, ...]


class Intake:
    """Makes accepted messages durable in groups."""

    def __init__(
        self,
        spool: SpoolWriter,
        engine: Engine,
        *,
        node: str,
        batch_max: int = 256,
        batch_wait: float = 0.002,
        on_commit: Callable[[int], None] | None = None,
        arriving: Callable[[], int] | None = None,
    ) -> None:
        self.spool = spool
        self.engine = engine
        self.node = node
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.on_commit = on_commit
        self.arriving = arriving
        """Sessions between DATA and their answer: those still receiving may join a group."""
        self._arrived = asyncio.Event()
        self._waiting: asyncio.Queue[tuple[Accepted, asyncio.Future[int]]] = asyncio.Queue()
        self._inflight = 0
        self._writing = threading.Lock()
        """Held by the thread writing a group; one past its timeout still owns the spool."""
        self.committed = 0
        self.refused = 0

    @property
    def pending(self) -> int:
        """Messages waiting for their answer: queued for a group or in the one being written."""
        return self._waiting.qsize() + self._inflight

    async def submit(self, message: Accepted) -> int:
        """Wait until ``message`` is durable; return its queue id. Raises TransientError."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._waiting.put((message, future))
        self._arrived.set()
        return await future

    async def run(self) -> None:
        """Commit groups until cancelled."""
        last = 0
        while True:
            group = [await self._waiting.get()]
            if self.batch_wait > 0:
                await self._gather(len(group), last)
            while len(group) < self.batch_max and not self._waiting.empty():
                group.append(self._waiting.get_nowait())
            last = len(group)
            self._inflight = len(group)
            try:
                await self._commit(group)
            finally:
                self._inflight = 0

    async def _gather(self, have: int, last: int) -> None:
        """Wait up to ``batch_wait`` for company while company is on its way.

        With ``arriving``, the wait ends as soon as every session that is
        receiving a message has handed it over: nobody else can join soon.
        Without it, only after a group of more than one (a single sender, a
        quiet hour: the next message is written at once).
        """
        if self.arriving is None:
            if last > 1:
                await asyncio.sleep(self.batch_wait)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.batch_wait
        while self.arriving() > have + self._waiting.qsize():
            left = deadline - loop.time()
            if left <= 0:
                return
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def _commit(self, group: list[tuple[Accepted, asyncio.Future[int]]]) -> None:
        messages = [message for message, _ in group]
        try:
            async with asyncio.timeout(COMMIT_TIMEOUT):
                ids = await self._write(messages)
        except TransientError as exc:
            self.refused += len(group)
            log.warning("intake.refused", messages=len(group), reason=str(exc))
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        except TimeoutError:
            self.refused += len(group)
            log.warning("intake.refused", messages=len(group), reason="timeout")
            for _, future in group:
                if not future.done():
                    future.set_exception(TransientError("storage timed out"))
            return
        self.committed += len(group)
        for (_, future), inbound_id in zip(group, ids, strict=True):
            if not future.done():
                future.set_result(inbound_id)
        log.debug("intake.committed", messages=len(group), first_id=ids[0])
        if self.on_commit is not None:
            self.on_commit(len(group))

    async def _write(self, messages: list[Accepted]) -> list[int]:
        return await asyncio.to_thread(self._write_blocking, messages)

    def _write_blocking(self, messages: list[Accepted]) -> list[int]:
        # A writer thread the timeout gave up on may still hold the spool; never wait forever
        # for it, or every thread of the executor ends up waiting here.
        if not self._writing.acquire(timeout=COMMIT_TIMEOUT):
            raise TransientError("the previous group is still being written")
        try:
            return self._write_locked(messages)
        finally:
            self._writing.release()

    def _write_locked(self, messages: list[Accepted]) -> list[int]:
        try:
            refs = self.spool.append_batch(
                [m.data for m in messages], [envelope_bytes(m) for m in messages]
            )
        except OSError as exc:
            raise TransientError(f"spool write failed: {exc.strerror or exc}") from exc
        rows = [
            _queue_row(self.node, ref, *_envelope(m)) for m, ref in zip(messages, refs, strict=True)
        ]
        try:
            with self.engine.begin() as conn:
                return queue.enqueue(conn, rows)
        except (SQLAlchemyError, OSError) as exc:
            self.spool.undo_last_batch()  # refused: a replay must not bring it back
            reason = getattr(exc, "orig", None) or exc
            raise TransientError(f"queue commit failed: {reason}") from exc


def envelope_bytes(message: Accepted) -> bytes:
    """What the spool keeps of ``message`` besides its bytes, to queue it again."""
    return json.dumps(_envelope(message), separators=(",", ":")).encode()


def _envelope(m: Accepted) -> tuple[str, str | None, str | None, str | None, tuple[str, ...]]:
    return m.source, m.peer, m.helo, m.mail_from, m.rcpt_to


def _queue_row(
    node: str,
    ref: SpoolRef,
    source: str,
    peer: str | None,
    helo: str | None,
    mail_from: str | None,
    rcpt_to: Sequence[str],
) -> NewInbound:
    """The queue row of a spooled message; the arguments after ``ref`` are its envelope."""
    return NewInbound(
        node=node,
        source=source,
        sha256=ref.sha256,
        size=ref.length,
        segment=ref.segment,
        offset=ref.offset,
        peer=peer,
        helo=helo,
        mail_from=mail_from,
        rcpt_to=tuple(rcpt_to),
    )


CLEAN_STOP = "clean-stop"
"""A file in the spool folder: the daemon stopped cleanly and every queue row is durable."""


def mark_clean_stop(spool_dir: Path, engine: Engine) -> None:
    """After the last group: make every queue row durable and say so. Blocking."""
    sync_wal(engine)
    path = spool_dir / CLEAN_STOP
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _sync_dir(spool_dir)


def take_clean_stop(spool_dir: Path) -> bool:
    """Whether the daemon stopped cleanly last time (then no replay is needed); the mark
    is removed for good before anything new is accepted. Blocking."""
    try:
        (spool_dir / CLEAN_STOP).unlink()
    except FileNotFoundError:
        return False
    _sync_dir(spool_dir)
    return True


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replay_spool(spool_dir: Path, engine: Engine, *, node: str) -> int:
    """Queue every spooled message that has no queue row; returns how many. Blocking.

    Run at start-up, before the listener, unless the daemon stopped cleanly
    (:func:`take_clean_stop`): a record is in the spool only once its batch
    was fsynced, and its row can be missing only if power was lost before
    SQLite wrote the row's commit out. A row is matched by segment,
    offset and digest, since a segment's name comes back once every segment
    has been deleted. Records from before envelopes were kept are never
    replayed: their rows were committed with an fsync of their own.
    """
    replayed = 0
    for _, name in list_segments(spool_dir):
        with engine.connect() as conn:
            known = queue.spooled(conn, node, name)

        def queued(offset: int, sha256: str, known: set[tuple[int, str]] = known) -> bool:
            return (offset, sha256) in known

        rows = [
            _queue_row(
                node,
                SpoolRef(name, record.offset, len(record.payload), record.sha256),
                *json.loads(envelope),
            )
            for record in iter_records(spool_dir / name, skip=queued)
            if (envelope := record.envelope) is not None
        ]
        if rows:
            with engine.begin() as conn:
                queue.enqueue(conn, rows)
            replayed += len(rows)
            log.warning("spool.replayed", segment=name, messages=len(rows))
    return replayed
