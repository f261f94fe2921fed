"""The inbound queue: rows that point at spooled messages and say how far each one got."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, or_, select, update

from gateway.store.models import Inbound, InboundState, Unread, utcnow

inbound = cast(Table, Inbound.__table__)
_unread = cast(Table, Unread.__table__)


@dataclass(frozen=True, slots=True)
class NewInbound:
    """What the intake knows about an accepted message."""

    node: str
    source: str
    sha256: str
    size: int
    segment: str
    offset: int
    peer: str | None
    helo: str | None
    mail_from: str | None
    rcpt_to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueuedItem:
    """A queued message as the pipeline claims it."""

    id: int
    sha256: str
    size: int
    segment: str | None
    offset: int | None
    mail_from: str | None
    rcpt_to: tuple[str, ...]
    attempts: int


@dataclass(frozen=True, slots=True)
class InboundRow:
    """A queue row as the CLI shows it."""

    id: int
    state: str
    reason: str | None
    received_at: datetime
    source: str
    mail_from: str | None
    rcpt_to: tuple[str, ...]
    size: int
    attempts: int
    ticket_number: int | None
    unread: bool = False
    """Its message is filed but its body is still to be read."""


_ENQUEUE = insert(inbound).returning(inbound.c.id, sort_by_parameter_order=True)


def enqueue(conn: Connection, items: Sequence[NewInbound]) -> list[int]:
    """Insert one row per item in the caller's transaction; return their ids in order."""
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "received_at": now,
            "node": item.node,
            "source": item.source,
            "sha256": item.sha256,
            "size": item.size,
            "segment": item.segment,
            "offset": item.offset,
            "peer": item.peer,
            "helo": item.helo,
            "mail_from": item.mail_from,
            "rcpt_to": list(item.rcpt_to),
            "state": InboundState.QUEUED.value,
            "attempts": 0,
        }
        for item in items
    ]
    return [row[0] for row in conn.execute(_ENQUEUE, rows)]


_CLAIM = (
    select(
        inbound.c.id,
        inbound.c.sha256,
        inbound.c.size,
        inbound.c.segment,
        inbound.c.offset,
        inbound.c.mail_from,
        inbound.c.rcpt_to,
        inbound.c.attempts,
    )
    .where(
        inbound.c.state == InboundState.QUEUED.value,
        inbound.c.node == bindparam("node"),
        or_(inbound.c.next_attempt_at.is_(None), inbound.c.next_attempt_at <= bindparam("now")),
    )
    .order_by(inbound.c.id)
    .limit(bindparam("limit"))
)
_CLAIM_SKIP_LOCKED = _CLAIM.with_for_update(skip_locked=True)


def claim(
    conn: Connection, node: str, limit: int, *, skip_locked: bool = False
) -> list[QueuedItem]:
    """The oldest due queued rows of ``node``, locked for this transaction where possible."""
    query = _CLAIM_SKIP_LOCKED if skip_locked else _CLAIM
    return [
        QueuedItem(
            id=row.id,
            sha256=row.sha256,
            size=row.size,
            segment=row.segment,
            offset=row.offset,
            mail_from=row.mail_from,
            rcpt_to=tuple(row.rcpt_to or ()),
            attempts=row.attempts,
        )
        for row in conn.execute(query, {"node": node, "now": utcnow(), "limit": limit})
    ]


_STILL_QUEUED = select(inbound.c.id).where(
    inbound.c.id.in_(bindparam("ids", expanding=True)),
    inbound.c.state == InboundState.QUEUED.value,
)


def still_queued(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` are still queued.

    Read in the writing transaction: a row claimed without a lock (SQLite) that
    another worker finished meanwhile is not processed twice.
    """
    if not ids:
        return set()
    return {row[0] for row in conn.execute(_STILL_QUEUED, {"ids": list(ids)})}


_FINISH = (
    update(inbound)
    .where(inbound.c.id == bindparam("item_id"))
    .values(attempts=inbound.c.attempts + 1)
)


def mark_done(
    conn: Connection, item_id: int, *, message_pk: int | None, ticket: int | None, note: str | None
) -> None:
    """The item became (part of) a ticket, or was a duplicate; ``note`` says which."""
    conn.execute(
        _FINISH,
        {
            "item_id": item_id,
            "state": InboundState.DONE.value,
            "processed_at": utcnow(),
            "message_pk": message_pk,
            "ticket_number": ticket,
            "reason": note,
        },
    )


@dataclass(frozen=True, slots=True)
class Done:
    """A queued message that became (part of) a ticket, or was a duplicate."""

    item_id: int
    message_pk: int | None
    ticket: int | None
    note: str | None


def mark_many_done(conn: Connection, done: Sequence[Done]) -> None:
    """:func:`mark_done` for many items in one statement."""
    if not done:
        return
    now = utcnow()
    conn.execute(
        _FINISH,
        [
            {
                "item_id": d.item_id,
                "state": InboundState.DONE.value,
                "processed_at": now,
                "message_pk": d.message_pk,
                "ticket_number": d.ticket,
                "reason": d.note,
            }
            for d in done
        ],
    )


def quarantine(conn: Connection, item_id: int, reason: str) -> None:
    """Set the item aside for a person, with the reason; its raw bytes stay."""
    conn.execute(
        _FINISH,
        {
            "item_id": item_id,
            "state": InboundState.QUARANTINED.value,
            "processed_at": utcnow(),
            "reason": reason[:2000],
        },
    )


def retry_later(conn: Connection, item_id: int, reason: str, delay: timedelta) -> None:
    """Leave the item queued, to be tried again after ``delay``."""
    conn.execute(
        update(inbound)
        .where(inbound.c.id == item_id)
        .values(
            reason=reason[:2000],
            attempts=inbound.c.attempts + 1,
            next_attempt_at=utcnow() + delay,
        )
    )


def requeue(conn: Connection, ids: Sequence[int] | None) -> int:
    """Put quarantined items (all of them when ``ids`` is None) back in the queue."""
    query = update(inbound).where(inbound.c.state == InboundState.QUARANTINED.value)
    if ids is not None:
        query = query.where(inbound.c.id.in_(list(ids)))
    result = conn.execute(
        query.values(state=InboundState.QUEUED.value, attempts=0, next_attempt_at=None)
    )
    return int(result.rowcount or 0)


def list_rows(conn: Connection, state: str | None, limit: int) -> list[InboundRow]:
    """Queue rows, newest first."""
    query = (
        select(
            inbound,
            _unread.c.message_pk.is_not(None).label("unread"),
            _unread.c.reason.label("read_failure"),
        )
        .select_from(inbound.outerjoin(_unread, _unread.c.inbound_id == inbound.c.id))
        .order_by(inbound.c.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(inbound.c.state == state)
    return [
        InboundRow(
            id=row.id,
            state=row.state,
            reason=row.read_failure or row.reason,
            received_at=row.received_at,
            source=row.source,
            mail_from=row.mail_from,
            rcpt_to=tuple(row.rcpt_to or ()),
            size=row.size,
            attempts=row.attempts,
            ticket_number=row.ticket_number,
            unread=bool(row.unread),
        )
        for row in conn.execute(query)
    ]


def counts(conn: Connection) -> dict[str, int]:
    """Number of rows in each state."""
    query = select(inbound.c.state, func.count()).group_by(inbound.c.state)
    return {state: int(n) for state, n in conn.execute(query)}


def segments_in_use(conn: Connection, node: str) -> set[str]:
    """Segments that still hold queued messages of ``node``."""
    query = (
        select(inbound.c.segment)
        .where(inbound.c.node == node, inbound.c.state == InboundState.QUEUED.value)
        .distinct()
    )
    return {row[0] for row in conn.execute(query) if row[0]}


def spooled(conn: Connection, node: str, segment: str) -> set[tuple[int, str]]:
    """(offset, sha256) of every row of ``node`` that points into ``segment``."""
    query = select(inbound.c.offset, inbound.c.sha256).where(
        inbound.c.node == node, inbound.c.segment == segment
    )
    return {(int(row.offset), str(row.sha256)) for row in conn.execute(query)}
