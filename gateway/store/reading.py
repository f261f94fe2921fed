"""Messages filed on their headers whose bodies are still to be read (the ``unread`` table).

Filing (the pipeline's hot path) stores a customer's message with its
threading, sender and triage, and adds an ``unread`` row; reading later fills
in the text, the safe HTML, the new text and the attachments, sends what the
message sets off (notifications, the acknowledgement) and deletes the row, in
one transaction. The raw bytes stay in the node's spool until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, or_, select, update

from gateway.store.models import Channel, Inbound, Message, Ticket, Unread, utcnow
from gateway.store.tickets import NewAttachment, add_attachments

unread = cast(Table, Unread.__table__)
_messages = cast(Table, Message.__table__)
_inbound = cast(Table, Inbound.__table__)
_tickets = cast(Table, Ticket.__table__)
_channels = cast(Table, Channel.__table__)

MAX_ATTEMPTS = 5
"""Readings tried before a message is left with its headers only (and the reason)."""
RETRY_DELAY = timedelta(seconds=30)
"""Wait after the first failed reading; it doubles with each one after."""


@dataclass(frozen=True, slots=True)
class UnreadItem:
    """A filed message to read, with where its raw bytes are."""

    message_pk: int
    ticket: int
    channel: str
    message_id: str
    inbound_id: int | None
    sha256: str | None
    """The raw message's digest (its blob name)."""
    segment: str | None
    offset: int | None
    size: int
    mail_from: str | None
    opened_ticket: bool
    attempts: int


@dataclass(frozen=True, slots=True)
class Body:
    """What reading a message found."""

    text: str
    html: str | None
    new_text: str | None
    files: tuple[NewAttachment, ...]


@dataclass(frozen=True, slots=True)
class NewUnread:
    """A just-filed message that is still to be read."""

    message_pk: int
    inbound_id: int | None
    opened_ticket: bool


_ADD = insert(unread)


def add_many(conn: Connection, filed: Sequence[NewUnread], *, node: str) -> None:
    """Mark just-filed messages as still to be read by ``node``'s pipeline (one statement)."""
    if not filed:
        return
    now = utcnow()
    conn.execute(
        _ADD,
        [
            {
                "message_pk": f.message_pk,
                "inbound_id": f.inbound_id,
                "node": node,
                "opened_ticket": f.opened_ticket,
                "filed_at": now,
                "attempts": 0,
            }
            for f in filed
        ],
    )


_CLAIM = (
    select(
        unread.c.message_pk,
        unread.c.inbound_id,
        unread.c.opened_ticket,
        unread.c.attempts,
        _messages.c.ticket_id,
        _messages.c.message_id,
        _messages.c.raw_sha256,
        _messages.c.size,
        _channels.c.name.label("channel"),
        _inbound.c.segment,
        _inbound.c.offset,
        _inbound.c.mail_from,
    )
    .select_from(
        unread.join(_messages, _messages.c.id == unread.c.message_pk)
        .join(_tickets, _tickets.c.id == _messages.c.ticket_id)
        .join(_channels, _channels.c.id == _tickets.c.channel_id)
        .outerjoin(_inbound, _inbound.c.id == unread.c.inbound_id)
    )
    .where(
        unread.c.node == bindparam("node"),
        unread.c.attempts < MAX_ATTEMPTS,
        or_(unread.c.next_attempt_at.is_(None), unread.c.next_attempt_at <= bindparam("now")),
    )
    .order_by(unread.c.message_pk)
    .limit(bindparam("limit"))
)
_CLAIM_SKIP_LOCKED = _CLAIM.with_for_update(skip_locked=True, of=unread)


def claim(
    conn: Connection,
    node: str,
    limit: int,
    *,
    skip_locked: bool = False,
    filed_before: datetime | None = None,
) -> list[UnreadItem]:
    """The oldest messages ``node`` still has to read (only those filed before
    ``filed_before``, when given), locked for this transaction if possible."""
    query = _CLAIM_SKIP_LOCKED if skip_locked else _CLAIM
    if filed_before is not None:
        query = query.where(unread.c.filed_at < filed_before)
    return [
        UnreadItem(
            message_pk=row.message_pk,
            ticket=row.ticket_id,
            channel=row.channel,
            message_id=row.message_id,
            inbound_id=row.inbound_id,
            sha256=row.raw_sha256,
            segment=row.segment,
            offset=row.offset,
            size=row.size,
            mail_from=row.mail_from,
            opened_ticket=bool(row.opened_ticket),
            attempts=row.attempts,
        )
        for row in conn.execute(query, {"node": node, "limit": limit, "now": utcnow()})
    ]


_STILL_UNREAD = select(unread.c.message_pk).where(
    unread.c.message_pk.in_(bindparam("pks", expanding=True))
)


def still_unread(conn: Connection, pks: Sequence[int]) -> set[int]:
    """Which of ``pks`` are still to be read (read in the writing transaction)."""
    if not pks:
        return set()
    return {row[0] for row in conn.execute(_STILL_UNREAD, {"pks": list(pks)})}


_SET_BODY = (
    update(_messages)
    .where(_messages.c.id == bindparam("pk"))
    .values(text=bindparam("text"), html=bindparam("html"), new_text=bindparam("new_text"))
)
_DONE = delete(unread).where(unread.c.message_pk == bindparam("pk"))


def store_body(conn: Connection, message_pk: int, body: Body) -> None:
    """Give the message its body and attachments; it is read."""
    conn.execute(
        _SET_BODY,
        {"pk": message_pk, "text": body.text, "html": body.html, "new_text": body.new_text},
    )
    add_attachments(conn, message_pk, body.files)
    conn.execute(_DONE, {"pk": message_pk})


def failed(conn: Connection, message_pk: int, attempts: int, reason: str) -> None:
    """Count a failed reading (the ``attempts``-th); it is tried again later, at most
    :data:`MAX_ATTEMPTS` times in all. The raw bytes stay in the spool meanwhile."""
    conn.execute(
        update(unread)
        .where(unread.c.message_pk == message_pk)
        .values(
            attempts=attempts,
            next_attempt_at=utcnow() + RETRY_DELAY * 2 ** (attempts - 1),
            reason=reason[:2000],
        )
    )


def segments_in_use(conn: Connection, node: str) -> set[str]:
    """Spool segments that hold raw bytes ``node`` has still to read."""
    query = (
        select(_inbound.c.segment)
        .select_from(unread.join(_inbound, _inbound.c.id == unread.c.inbound_id))
        .where(unread.c.node == node)
        .distinct()
    )
    return {row[0] for row in conn.execute(query) if row[0]}
