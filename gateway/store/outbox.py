"""The outbox: every outgoing mail, written in the transaction of the change that caused it.

A row names its rendered bytes by sha256 (a blob on the row's node) and its
gateway-owned Message-ID. The worker that sends them marks a row ``sent`` only
after the relay said ``250``; a crash in between leaves it ``pending``, and the
resend is the same bytes with the same Message-ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, func, insert, or_, select, update

from gateway.store.models import Outbox, OutboxState, utcnow

outbox = cast(Table, Outbox.__table__)


@dataclass(frozen=True, slots=True)
class NewOutgoing:
    """A rendered mail to queue."""

    node: str
    kind: str
    ticket_id: int | None
    message_id: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    payload_sha256: str
    alert_to: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A row as the worker and the CLI see it."""

    id: int
    kind: str
    ticket_id: int | None
    message_id: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    recipient: str
    payload_sha256: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    alert_to: str | None


def _row(r: object) -> OutboxRow:
    o = cast(Outbox, r)
    return OutboxRow(
        o.id,
        o.kind,
        o.ticket_id,
        o.message_id,
        o.mail_from,
        tuple(o.rcpt_to or ()),
        o.recipient,
        o.payload_sha256,
        o.state,
        o.attempts,
        o.created_at,
        o.next_attempt_at,
        o.sent_at,
        o.last_error,
        o.alert_to,
    )


def enqueue(conn: Connection, mail: NewOutgoing) -> int | None:
    """Queue ``mail``; None when a mail with its Message-ID is already queued (a redo)."""
    if find(conn, mail.message_id) is not None:
        return None
    now = utcnow()
    return int(
        conn.execute(
            insert(outbox)
            .values(
                created_at=now,
                node=mail.node,
                kind=mail.kind,
                ticket_id=mail.ticket_id,
                transport="smtp",
                message_id=mail.message_id,
                mail_from=mail.mail_from,
                rcpt_to=list(mail.rcpt_to),
                recipient=mail.rcpt_to[0].lower() if mail.rcpt_to else "",
                payload_sha256=mail.payload_sha256,
                state=OutboxState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                alert_to=mail.alert_to,
            )
            .returning(outbox.c.id)
        ).scalar_one()
    )


def find(conn: Connection, message_id: str) -> OutboxRow | None:
    """The row with this Message-ID, if any."""
    row = conn.execute(select(outbox).where(outbox.c.message_id == message_id)).first()
    return None if row is None else _row(row)


def due(conn: Connection, node: str, limit: int, now: datetime | None = None) -> list[OutboxRow]:
    """Pending rows of ``node`` whose time has come, oldest first."""
    at = now or utcnow()
    query = (
        select(outbox)
        .where(
            outbox.c.state == OutboxState.PENDING.value,
            outbox.c.node == node,
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= at),
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [_row(r) for r in conn.execute(query)]


def mark_sent(conn: Connection, row_id: int) -> None:
    """The relay took the mail."""
    now = utcnow()
    conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(
            state=OutboxState.SENT.value,
            sent_at=now,
            attempts=outbox.c.attempts + 1,
            next_attempt_at=None,
            last_error=None,
        )
    )


def retry_later(conn: Connection, row_id: int, error: str, at: datetime) -> None:
    """A temporary failure: try again at ``at``."""
    conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(attempts=outbox.c.attempts + 1, next_attempt_at=at, last_error=error[:2000])
    )


def mark_failed(conn: Connection, row_id: int, error: str, *, count_attempt: bool = True) -> bool:
    """The mail cannot be delivered; False if it was already failed."""
    values: dict[str, object] = {
        "state": OutboxState.FAILED.value,
        "next_attempt_at": None,
        "last_error": error[:2000],
    }
    if count_attempt:
        values["attempts"] = outbox.c.attempts + 1
    done = conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id, outbox.c.state != OutboxState.FAILED.value)
        .values(values)
    )
    return bool(done.rowcount)


def count_recent(conn: Connection, recipient: str, kind: str, since: datetime) -> int:
    """How many mails of ``kind`` went (or wait to go) to ``recipient`` since ``since``."""
    return int(
        conn.execute(
            select(func.count()).where(
                outbox.c.recipient == recipient.lower(),
                outbox.c.kind == kind,
                outbox.c.created_at >= since,
            )
        ).scalar_one()
    )


def list_rows(conn: Connection, state: str | None, limit: int) -> list[OutboxRow]:
    """Rows, newest first."""
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(outbox.c.state == state)
    return [_row(r) for r in conn.execute(query)]


def requeue(conn: Connection, ids: Sequence[int] | None) -> int:
    """Put failed rows (all when ``ids`` is None) back to pending, due now."""
    query = update(outbox).where(outbox.c.state == OutboxState.FAILED.value)
    if ids is not None:
        query = query.where(outbox.c.id.in_(list(ids)))
    done = conn.execute(
        query.values(state=OutboxState.PENDING.value, attempts=0, next_attempt_at=utcnow())
    )
    return int(done.rowcount)


def backoff(base_seconds: float, attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: doubling, at most an hour."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 3600.0))
