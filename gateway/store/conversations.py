"""What outgoing mail about a ticket needs to know: who the customer is, where the thread is.

Kept apart from :mod:`gateway.store.tickets` (the intake's hot path); these run
once per notification or answer, inside the pipeline's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, select, update

from gateway.store.models import Direction, Ticket, utcnow
from gateway.store.tickets import _live, channels, contacts, identities, messages

tickets = cast(Table, Ticket.__table__)


@dataclass(frozen=True, slots=True)
class TicketContext:
    """A ticket with its customer and the thread an answer continues."""

    number: int
    subject: str
    status: str
    channel: str
    contact_id: int
    contact_name: str
    contact_address: str
    assignee_id: int | None
    last_in_message_id: str | None
    """The customer's newest message: what an answer replies to."""
    thread: tuple[str, ...]
    """Its References plus itself, oldest first."""


def ticket_context(conn: Connection, number: int) -> TicketContext | None:
    """The ticket ``number`` (following merges) with its customer and thread, or None."""
    number = _live(conn, number)
    row = conn.execute(
        select(
            tickets.c.id,
            tickets.c.subject,
            tickets.c.status,
            tickets.c.contact_id,
            tickets.c.assignee_id,
            channels.c.name.label("channel"),
            contacts.c.name.label("contact_name"),
        )
        .join(channels, channels.c.id == tickets.c.channel_id)
        .join(contacts, contacts.c.id == tickets.c.contact_id)
        .where(tickets.c.id == number)
    ).first()
    if row is None:
        return None
    address = conn.execute(
        select(identities.c.value)
        .where(identities.c.contact_id == row.contact_id, identities.c.kind == "email")
        .order_by(identities.c.id)
    ).scalar()
    last = conn.execute(
        select(messages.c.message_id, messages.c.references)
        .where(messages.c.ticket_id == number, messages.c.direction == Direction.IN.value)
        .order_by(messages.c.id.desc())
    ).first()
    thread: tuple[str, ...] = ()
    if last is not None:
        thread = (*(last.references or ()), last.message_id)
    return TicketContext(
        number=row.id,
        subject=row.subject,
        status=row.status,
        channel=row.channel,
        contact_id=row.contact_id,
        contact_name=row.contact_name or "",
        contact_address=address or "",
        assignee_id=row.assignee_id,
        last_in_message_id=last.message_id if last is not None else None,
        thread=thread,
    )


def assign(conn: Connection, number: int, user_id: int, reason: str) -> None:
    """Make ``user_id`` the assignee of ticket ``number``."""
    conn.execute(
        update(tickets)
        .where(tickets.c.id == number)
        .values(assignee_id=user_id, assignment_reason=reason[:1000], updated_at=utcnow())
    )


def latest_customer_text(conn: Connection, number: int) -> str:
    """The new text of the customer's newest message on ticket ``number`` ('' when none)."""
    row = conn.execute(
        select(messages.c.new_text, messages.c.text)
        .where(messages.c.ticket_id == _live(conn, number))
        .where(messages.c.direction == Direction.IN.value)
        .order_by(messages.c.id.desc())
    ).first()
    if row is None:
        return ""
    return str((row.new_text or "").strip() or (row.text or "").strip())
