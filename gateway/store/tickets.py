"""Tickets, messages and contacts: the snapshot threading reads and the writes that follow.

All functions take a Connection inside the caller's transaction; the caller
commits. Core statements only: this runs on the pipeline's hot path, so the
statements it runs per message are built once, here, with bound parameters
(building and cache-keying a statement costs more than SQLite running it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)

from gateway.store.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Message,
    MessageRef,
    Ticket,
    TicketStatus,
    Unread,
    User,
    utcnow,
)
from gateway.threading.match import KnownThreads, TicketFacts

tickets = cast(Table, Ticket.__table__)
messages = cast(Table, Message.__table__)
_unread = cast(Table, Unread.__table__)
message_refs = cast(Table, MessageRef.__table__)
contacts = cast(Table, Contact.__table__)
identities = cast(Table, ContactIdentity.__table__)
channels = cast(Table, Channel.__table__)
attachments = cast(Table, Attachment.__table__)
users = cast(Table, User.__table__)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message already in the store."""

    pk: int
    ticket: int
    delivered_to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to store on a ticket."""

    inbound_id: int | None
    direction: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    from_address: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    html: str | None
    raw_sha256: str | None
    size: int
    classification: str
    repairs: tuple[str, ...]
    classification_reason: str | None = None
    new_text: str | None = None
    forwarded_by: str | None = None
    forward_kind: str = "none"


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An attachment whose bytes are already in the blob store."""

    sha256: str
    filename: str | None
    content_type: str
    size: int
    content_id: str | None
    inline: bool


def sync_channels(conn: Connection, configured: Iterable[tuple[str, str, str | None]]) -> None:
    """Make the channels table hold the configured (name, kind, identity) rows."""
    existing = {row.name: row for row in conn.execute(select(channels))}
    for name, kind, identity in configured:
        row = existing.get(name)
        if row is None:
            conn.execute(
                insert(channels).values(
                    name=name, kind=kind, identity=identity, settings={}, status="active"
                )
            )
        elif row.kind != kind or row.identity != identity:
            conn.execute(
                update(channels).where(channels.c.id == row.id).values(kind=kind, identity=identity)
            )


def channel_ids(conn: Connection) -> dict[str, int]:
    """Channel name → id."""
    return {row.name: row.id for row in conn.execute(select(channels.c.name, channels.c.id))}


_FIND_MESSAGE = select(messages.c.id, messages.c.ticket_id, messages.c.delivered_to).where(
    messages.c.message_id == bindparam("message_id")
)


def find_message(conn: Connection, message_id: str) -> StoredMessage | None:
    """The stored message with this Message-ID, if any."""
    row = conn.execute(_FIND_MESSAGE, {"message_id": message_id}).first()
    if row is None:
        return None
    return StoredMessage(row.id, row.ticket_id, tuple(row.delivered_to or ()))


def add_delivery(conn: Connection, stored: StoredMessage, addresses: Iterable[str]) -> None:
    """Record more team addresses that received a stored message."""
    merged = sorted(set(stored.delivered_to) | set(addresses))
    if merged != sorted(stored.delivered_to):
        conn.execute(update(messages).where(messages.c.id == stored.pk).values(delivered_to=merged))


_TICKETS_OF_MESSAGES = (
    select(
        messages.c.message_id.label("key"),
        messages.c.id.label("pk"),
        messages.c.ticket_id,
        messages.c.delivered_to,
        tickets.c.merged_into,
        tickets.c.status,
    )
    .join(tickets, tickets.c.id == messages.c.ticket_id)
    .where(messages.c.message_id.in_(bindparam("keys", expanding=True)))
)
_TICKETS_ANSWERING = (
    select(
        literal(None, String).label("key"),
        literal(None, Integer).label("pk"),
        message_refs.c.ticket_id,
        literal(None, messages.c.delivered_to.type).label("delivered_to"),
        tickets.c.merged_into,
        tickets.c.status,
    )
    .join(tickets, tickets.c.id == message_refs.c.ticket_id)
    .where(message_refs.c.ref == bindparam("ref"))
)
# One statement a message: the message itself (a duplicate?), the stored messages it
# answers, and the tickets of replies to it that arrived first, each with its ticket's facts.
_LOOK_UP = union_all(_TICKETS_OF_MESSAGES, _TICKETS_ANSWERING)
_TICKET_FACTS = select(
    tickets.c.id, tickets.c.status, tickets.c.contact_id, tickets.c.merged_into
).where(tickets.c.id.in_(bindparam("numbers", expanding=True)))
_MERGED_INTO = select(tickets.c.merged_into).where(tickets.c.id == bindparam("number"))
_CONTACT_ADDRESSES = select(identities.c.value).where(
    identities.c.contact_id == bindparam("contact_id"), identities.c.kind == "email"
)
_TICKET_PEOPLE = select(messages.c.from_address, messages.c.to, messages.c.cc).where(
    messages.c.ticket_id == bindparam("number")
)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the store knows of one incoming message."""

    stored: StoredMessage | None
    """The message itself, when it is stored already (a duplicate delivery)."""
    known: KnownThreads
    """The snapshot threading decides on; empty for a duplicate."""


def look_up(conn: Connection, message_id: str, keys: Sequence[str], token: int | None) -> Lookup:
    """Whether ``message_id`` is stored, and else the snapshot threading decides on.

    ``keys`` are the Message-IDs the message answers, ``token`` the ticket
    number in its subject. One statement answers the common case; merged
    tickets and a subject token take a few more.
    """
    stored: StoredMessage | None = None
    by_message_id: dict[str, int] = {}
    answered: set[int] = set()
    facts: dict[int, TicketFacts] = {}
    rows = conn.execute(_LOOK_UP, {"keys": [message_id, *keys], "ref": message_id}).all()
    for row in rows:
        if row.key == message_id:
            stored = StoredMessage(row.pk, row.ticket_id, tuple(row.delivered_to or ()))
            return Lookup(stored, KnownThreads())
    for row in rows:
        number = _live(conn, row.ticket_id, row.merged_into)
        if row.key is None:
            answered.add(number)
        else:
            by_message_id[row.key] = number
        if row.merged_into is None:
            facts[number] = TicketFacts(number, row.status, frozenset())
    moved = (set(by_message_id.values()) | answered) - facts.keys()
    if moved:  # merged while this looked: read where they went
        for row in conn.execute(_TICKET_FACTS, {"numbers": sorted(moved)}):
            if row.merged_into is None:
                facts[row.id] = TicketFacts(row.id, row.status, frozenset())
            elif (now := _facts(conn, row.id, with_participants=False)) is not None:
                facts[row.id] = now
    token_facts = None
    if token is not None:
        token_facts = _facts(conn, token, with_participants=True)
        if token_facts is not None and token_facts.number != token:
            token_facts = None  # merged away: the token names an old number
        if token_facts is not None:
            facts[token_facts.number] = token_facts
    return Lookup(None, KnownThreads(by_message_id, frozenset(answered), token_facts, facts))


def _live(conn: Connection, number: int, merged_into: int | None = -1) -> int:
    """Follow merges to the ticket that holds the conversation now.

    ``merged_into`` is the ticket's own column when the caller already read it
    (None: not merged, the common case, and no query at all).
    """
    if merged_into is None:
        return number
    for _ in range(32):
        merged = conn.execute(_MERGED_INTO, {"number": number}).scalar_one_or_none()
        if merged is None:
            return number
        number = merged
    return number


def _facts(conn: Connection, number: int, *, with_participants: bool) -> TicketFacts | None:
    row = conn.execute(_TICKET_FACTS, {"numbers": [number]}).first()
    if row is None:
        return None
    if row.merged_into is not None:
        return _facts(conn, _live(conn, number), with_participants=with_participants)
    people: set[str] = set()
    if with_participants:
        people.update(
            value for (value,) in conn.execute(_CONTACT_ADDRESSES, {"contact_id": row.contact_id})
        )
        for msg in conn.execute(_TICKET_PEOPLE, {"number": number}):
            people.add(msg.from_address)
            people.update(a.lower() for a in (*(msg.to or ()), *(msg.cc or ())))
    return TicketFacts(row.id, row.status, frozenset(people))


_CONTACT_BY_ADDRESS = (
    select(identities.c.contact_id, contacts.c.name)
    .join(contacts, contacts.c.id == identities.c.contact_id)
    .where(identities.c.kind == "email", identities.c.value == bindparam("value"))
)
_NAME_CONTACT = (
    update(contacts).where(contacts.c.id == bindparam("contact_id")).values(name=bindparam("name"))
)
_NEW_CONTACT = insert(contacts).returning(contacts.c.id)
_NEW_IDENTITY = insert(identities)
_NEW_TICKET = insert(tickets).returning(tickets.c.id)
_NEW_MESSAGE = insert(messages).returning(messages.c.id)
_NEW_REFS = insert(message_refs)
_NEW_ATTACHMENTS = insert(attachments)


def contact_for(conn: Connection, address: str, name: str) -> int:
    """The contact reached at ``address`` (lower-cased), created when new.

    The first name seen stays, unless it was empty.
    """
    value = address.strip().lower()
    row = conn.execute(_CONTACT_BY_ADDRESS, {"value": value}).first()
    if row is not None:
        if not row.name and name:
            conn.execute(_NAME_CONTACT, {"contact_id": row.contact_id, "name": name})
        return int(row.contact_id)
    contact_id = conn.execute(_NEW_CONTACT, {"name": name, "created_at": utcnow()}).scalar_one()
    conn.execute(
        _NEW_IDENTITY,
        {"contact_id": contact_id, "kind": "email", "value": value, "display": address.strip()},
    )
    return int(contact_id)


def create_ticket(
    conn: Connection,
    *,
    channel_id: int,
    contact_id: int,
    subject: str,
    pipeline: str,
    status: str = TicketStatus.NEW.value,
    priority: str | None = None,
    properties: dict[str, str] | None = None,
    source: str = "mail",
    last_message_at: datetime | None = None,
    assignment: Mapping[str, Any] | None = None,
) -> int:
    """A new ticket; returns its number. ``assignment``: the routing decision's columns."""
    now = utcnow()
    values = {
        **(assignment or {}),
        "last_message_at": last_message_at,
        "channel_id": channel_id,
        "contact_id": contact_id,
        "subject": subject,
        "status": status,
        "pipeline": pipeline,
        "priority": priority,
        "properties": properties or None,
        "source": source,
        "created_at": now,
        "updated_at": now,
    }
    return int(conn.execute(_NEW_TICKET, values).scalar_one())


def add_message(
    conn: Connection, ticket: int, message: NewMessage, files: Sequence[NewAttachment] = ()
) -> int:
    """Store ``message`` on ``ticket`` with its references and attachments; returns its key."""
    now = utcnow()
    values: dict[str, Any] = {
        "ticket_id": ticket,
        "inbound_id": message.inbound_id,
        "direction": message.direction,
        "message_id": message.message_id,
        "in_reply_to": message.in_reply_to,
        "references": list(message.references),
        "from_address": message.from_address,
        "from_name": message.from_name,
        "to": list(message.to),
        "cc": list(message.cc),
        "delivered_to": list(message.delivered_to),
        "subject": message.subject,
        "date": message.date,
        "received_at": now,
        "text": message.text,
        "html": message.html,
        "raw_sha256": message.raw_sha256,
        "size": message.size,
        "classification": message.classification,
        "repairs": list(message.repairs),
        "classification_reason": message.classification_reason,
        "new_text": message.new_text,
        "forwarded_by": message.forwarded_by,
        "forward_kind": message.forward_kind,
    }
    pk = int(conn.execute(_NEW_MESSAGE, values).scalar_one())
    refs = {r for r in (message.in_reply_to, *message.references) if r}
    if refs:
        conn.execute(
            _NEW_REFS,
            [{"message_pk": pk, "ticket_id": ticket, "ref": ref} for ref in sorted(refs)],
        )
    add_attachments(conn, pk, files)
    return pk


def add_attachments(conn: Connection, message_pk: int, files: Sequence[NewAttachment]) -> None:
    """Record ``files`` (already in the blob store) as the message's attachments."""
    if files:
        conn.execute(
            _NEW_ATTACHMENTS,
            [
                {
                    "message_pk": message_pk,
                    "sha256": f.sha256,
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": f.size,
                    "content_id": f.content_id,
                    "inline": f.inline,
                }
                for f in files
            ],
        )


_TOUCH_TICKET = update(tickets).where(tickets.c.id == bindparam("number"))
_TICKET_STATUS = select(tickets.c.status).where(tickets.c.id == bindparam("number"))


def touch_ticket(conn: Connection, ticket: int, *, at: datetime, status: str | None = None) -> None:
    """A message landed on ``ticket`` at ``at``; optionally change its status."""
    values: dict[str, Any] = {"number": ticket, "updated_at": utcnow(), "last_message_at": at}
    if status is not None:
        values["status"] = status
    conn.execute(_TOUCH_TICKET, values)


def set_subject(conn: Connection, ticket: int, subject: str) -> None:
    """Give ``ticket`` a new subject."""
    conn.execute(_TOUCH_TICKET, {"number": ticket, "subject": subject})


def ticket_status(conn: Connection, ticket: int) -> str:
    """The status of ``ticket``."""
    return str(conn.execute(_TICKET_STATUS, {"number": ticket}).scalar_one())


def merge_into(conn: Connection, target: int, others: Sequence[int]) -> None:
    """Move every message of ``others`` to ``target`` and mark them merged."""
    for other in others:
        if other == target:
            continue
        conn.execute(update(messages).where(messages.c.ticket_id == other).values(ticket_id=target))
        conn.execute(
            update(message_refs).where(message_refs.c.ticket_id == other).values(ticket_id=target)
        )
        conn.execute(
            update(tickets)
            .where(tickets.c.id == other)
            .values(merged_into=target, status=TicketStatus.CLOSED.value, updated_at=utcnow())
        )
    first = conn.execute(
        select(func.min(tickets.c.created_at)).where(tickets.c.id.in_([target, *others]))
    ).scalar_one()
    last = conn.execute(
        select(func.max(messages.c.received_at)).where(messages.c.ticket_id == target)
    ).scalar_one()
    conn.execute(
        update(tickets)
        .where(tickets.c.id == target)
        .values(created_at=first, last_message_at=last, updated_at=utcnow())
    )


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """One line of ``gateway tickets list``."""

    number: int
    subject: str
    status: str
    contact: str
    contact_name: str
    channel: str
    message_count: int
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    assignee: str | None = None
    """The assigned agent's address; a ticket goes to one agent or to nobody."""
    assignment_reason: str | None = None
    """Why it went where it went (routing's reason)."""
    assignment_pending: bool = False
    """Unassigned until an eligible agent becomes available."""
    mail_assignee: bool = False
    """The assignee was unavailable when assigned and must get it by mail."""
    pipeline: str = "support"
    priority: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    source: str = "mail"
    contact_owner: str | None = None


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message as ``gateway tickets show`` prints it."""

    direction: str
    from_address: str
    from_name: str
    message_id: str
    date: datetime | None
    received_at: datetime
    subject: str
    text: str
    delivered_to: tuple[str, ...]
    classification: str
    new_text: str | None
    forwarded_by: str | None
    unread: bool = False
    """Filed, but its body is still to be read (its text is empty until then)."""


def _summary_query() -> Any:
    counts = (
        select(messages.c.ticket_id, func.count().label("n"))
        .group_by(messages.c.ticket_id)
        .subquery()
    )
    assignee = users.alias("assignee")
    owner = users.alias("owner")
    return (
        select(
            tickets,
            identities.c.display.label("contact"),
            contacts.c.name.label("contact_name"),
            channels.c.name.label("channel"),
            func.coalesce(counts.c.n, 0).label("message_count"),
            assignee.c.address.label("assignee"),
            owner.c.address.label("contact_owner"),
        )
        .join(contacts, contacts.c.id == tickets.c.contact_id)
        .join(assignee, assignee.c.id == tickets.c.assignee_id, isouter=True)
        .join(owner, owner.c.id == contacts.c.owner_id, isouter=True)
        .join(
            identities,
            (identities.c.contact_id == contacts.c.id) & (identities.c.kind == "email"),
            isouter=True,
        )
        .join(channels, channels.c.id == tickets.c.channel_id)
        .join(counts, counts.c.ticket_id == tickets.c.id, isouter=True)
        .where(tickets.c.merged_into.is_(None))
    )


def _summary(row: Any) -> TicketSummary:
    return TicketSummary(
        number=row.id,
        subject=row.subject,
        status=row.status,
        contact=row.contact or "",
        contact_name=row.contact_name or "",
        channel=row.channel,
        message_count=int(row.message_count),
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_message_at=row.last_message_at,
        assignee=row.assignee,
        assignment_reason=row.assignment_reason,
        assignment_pending=bool(row.assignment_pending),
        mail_assignee=bool(row.mail_assignee),
        pipeline=row.pipeline,
        priority=row.priority,
        properties=dict(row.properties or {}),
        source=row.source,
        contact_owner=row.contact_owner,
    )


def list_tickets(
    conn: Connection,
    *,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
    assignee: str | None = None,
    channel: str | None = None,
    contact: str | None = None,
) -> list[TicketSummary]:
    """Tickets, most recently updated first (merged-away tickets left out).

    ``assignee`` is an agent's address, or ``""`` for unassigned tickets.
    """
    query = _summary_query().order_by(tickets.c.updated_at.desc(), tickets.c.id.desc())
    if status is not None:
        query = query.where(tickets.c.status == status)
    if assignee == "":
        query = query.where(tickets.c.assignee_id.is_(None))
    elif assignee is not None:
        query = query.where(
            tickets.c.assignee_id.in_(select(users.c.id).where(users.c.address == assignee.lower()))
        )
    if channel is not None:
        query = query.where(channels.c.name == channel)
    if contact is not None:
        query = query.where(identities.c.value == contact.lower())
    return [_summary(row) for row in conn.execute(query.limit(limit).offset(offset))]


def get_ticket(conn: Connection, number: int) -> tuple[TicketSummary, list[MessageView]] | None:
    """A ticket and its conversation, oldest message first; follows merges."""
    number = _live(conn, number)
    row = conn.execute(_summary_query().where(tickets.c.id == number)).first()
    if row is None:
        return None
    query = (
        select(messages, _unread.c.message_pk.is_not(None).label("unread"))
        .select_from(messages.outerjoin(_unread, _unread.c.message_pk == messages.c.id))
        .where(messages.c.ticket_id == number)
        .order_by(func.coalesce(messages.c.date, messages.c.received_at), messages.c.id)
    )
    views = [
        MessageView(
            direction=m.direction,
            from_address=m.from_address,
            from_name=m.from_name,
            message_id=m.message_id,
            date=m.date,
            received_at=m.received_at,
            subject=m.subject,
            text=m.text,
            delivered_to=tuple(m.delivered_to or ()),
            classification=m.classification,
            new_text=m.new_text,
            forwarded_by=m.forwarded_by,
            unread=bool(m.unread),
        )
        for m in conn.execute(query)
    ]
    return _summary(row), views
