"""The outbox worker: sends pending mail through the transport, with retries.

It runs on the daemon's event loop. A row is ``sent`` only in the commit after
the relay said ``250``; if the process dies in between, the row is still
``pending`` and the same bytes (the same Message-ID) go out again, so the
recipient sees one mail twice at worst, never two different mails. ``4xx``
replies and network errors retry with doubling delays up to ``max_attempts``;
a ``5xx`` reply (or too many attempts) marks the row ``failed`` and queues an
alert to the agent the mail was for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

import structlog
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from gateway.errors import PermanentError, TransientError
from gateway.outbound.enqueue import queue_alert
from gateway.outbound.smtp import Transport
from gateway.store import outbox
from gateway.store.blobs import FileBlobStore
from gateway.store.models import OutboxKind, utcnow
from gateway.store.outbox import OutboxRow

log = structlog.get_logger("gateway.outbound")

BATCH = 50
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """How the worker retries and whom it names in alerts."""

    node: str
    id_domain: str
    max_attempts: int
    retry_base_seconds: float
    poll_interval: float
    team_names: Mapping[str, str]
    """Team address → the name alerts come from."""


class OutboxWorker:
    """Delivers the node's pending outbox rows until cancelled."""

    def __init__(
        self,
        engine: Engine,
        blobs: FileBlobStore,
        transport: Transport,
        policy: OutboxPolicy,
    ) -> None:
        self.engine = engine
        self.blobs = blobs
        self.transport = transport
        self.policy = policy
        self.wakeup = asyncio.Event()

    async def _in_transaction(
        self, work: Callable[Concatenate[Connection, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run a store function in one transaction, in a thread: the loop never blocks on it."""

        def run() -> R:
            with self.engine.begin() as conn:
                return work(conn, *args, **kwargs)

        return await asyncio.to_thread(run)

    async def run(self) -> None:
        """Deliver what is due, then wait for the poll interval (or a wake-up)."""
        while True:
            try:
                await self.run_once()
            except (DBAPIError, OSError) as exc:
                log.warning("outbox.store_unavailable", error=str(exc))
            try:
                async with asyncio.timeout(self.policy.poll_interval):
                    await self.wakeup.wait()
            except TimeoutError:
                pass
            self.wakeup.clear()

    async def run_once(self) -> int:
        """Try every due row once; returns how many were tried."""
        rows = await self._in_transaction(outbox.due, self.policy.node, BATCH)
        for row in rows:
            await self.deliver(row)
        return len(rows)

    async def deliver(self, row: OutboxRow) -> None:
        """Send one row and record the outcome."""
        row_log = log.bind(outbox_id=row.id, kind=row.kind, ticket=row.ticket_id)
        try:
            payload = await asyncio.to_thread(self.blobs.get, row.payload_sha256)
        except KeyError:
            await self._fail(row, "payload missing from the blob store")
            row_log.error("outbox.failed", error="payload missing")
            return
        try:
            await self.transport.send(row.mail_from, row.rcpt_to, payload)
        except TransientError as exc:
            if row.attempts + 1 >= self.policy.max_attempts:
                await self._fail(row, f"gave up after {row.attempts + 1} attempts: {exc}")
                row_log.error("outbox.failed", error=str(exc), attempts=row.attempts + 1)
                return
            delay = outbox.backoff(self.policy.retry_base_seconds, row.attempts + 1)
            await self._in_transaction(outbox.retry_later, row.id, str(exc), utcnow() + delay)
            row_log.warning("outbox.retry", error=str(exc), retry_in=delay.total_seconds())
            return
        except PermanentError as exc:
            await self._fail(row, str(exc))
            row_log.error("outbox.failed", error=str(exc))
            return
        await self._in_transaction(outbox.mark_sent, row.id)
        row_log.info("outbox.sent", message_id=row.message_id, attempts=row.attempts + 1)

    async def _fail(self, row: OutboxRow, error: str) -> None:
        def record(conn: Connection) -> bool:
            if not outbox.mark_failed(conn, row.id, error):
                return False
            if row.kind == OutboxKind.ALERT.value or not row.alert_to:
                return False  # never alert about an alert: that could loop
            queued = queue_alert(
                conn,
                self.blobs,
                node=self.policy.node,
                id_domain=self.policy.id_domain,
                team_address=row.mail_from,
                sender_name=self.policy.team_names.get(row.mail_from, "Help desk"),
                to=row.alert_to,
                subject=f"Undeliverable: your answer on ticket {row.ticket_id}",
                text=(
                    f"Your mail to {', '.join(row.rcpt_to)} (Message-ID <{row.message_id}>)\n"
                    f"could not be delivered: {error}\n\n"
                    "The customer did not get it. `gateway outbox retry "
                    f"{row.id}` sends it again once the cause is fixed.\n"
                ),
                ticket=row.ticket_id,
                seed=f"failed:{row.message_id}",
            )
            if queued:
                self.blobs.sync()  # the alert's row names a new blob: durable before the commit
            return queued

        if await self._in_transaction(record):
            self.wakeup.set()
