"""The schema: one mapped class per table. Alembic migrations are written from these.

Relationships are ``lazy="raise"``: nothing loads behind a query's back.
Hot paths (the intake and the pipeline) use SQLAlchemy Core on these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# BIGINT on PostgreSQL, but INTEGER on SQLite so that it aliases the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (alembic needs them on SQLite)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class InboundState(StrEnum):
    """Where a queued message is."""

    QUEUED = "queued"
    DONE = "done"
    QUARANTINED = "quarantined"


class TicketStatus(StrEnum):
    """A ticket's status."""

    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    CLOSED = "closed"


class Direction(StrEnum):
    """Which way a message went."""

    IN = "in"
    """From a customer."""
    OUT = "out"
    """Sent to a customer."""
    NOTE = "note"
    """Internal, never sent."""
    AUTO = "auto"
    """Sent by the gateway itself."""


class UserStatus(StrEnum):
    """Whether an agent takes work now."""

    AVAILABLE = "available"
    AWAY = "away"


class OutboxState(StrEnum):
    """Where an outgoing message is."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """Why a message is going out."""

    ANSWER = "answer"
    """An agent's answer to a customer."""
    NOTIFY = "notify"
    """A notification to an agent."""
    ACK = "ack"
    """The acknowledgement of a new ticket."""
    ALERT = "alert"
    """A warning to an agent: a failed delivery, a refused reply key."""


class User(Base):
    """An agent."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    """Personal address, lower-cased."""
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str] = mapped_column(String(255), default="")
    seat: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.AVAILABLE)
    active: Mapped[bool] = mapped_column(default=True)
    """False once removed from the config: kept for history, never assigned or trusted."""
    source: Mapped[str] = mapped_column(String(16), default="config", server_default="config")
    """``config`` (an ``[[agents]]`` entry, re-applied at every start) or ``cli``
    (``gateway users add``): a start deactivates only config agents that left the config."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    skills: Mapped[list[str] | None] = mapped_column(JSON)
    """Lower-cased skills that ticket properties can ask for."""
    working_hours: Mapped[dict[str, str] | None] = mapped_column(JSON)
    """The config's working_hours table; None: any time."""
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Team(Base):
    """A group of agents."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class TeamMember(Base):
    """An agent's membership of a team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(16), default="config", server_default="config")
    """``config`` (the agent's ``teams``, re-applied on every start) or ``cli``."""


class Outbox(Base):
    """A mail waiting to leave, or that left: rendered bytes are a blob."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    node: Mapped[str] = mapped_column(String(128))
    """The instance whose blob store holds the payload."""
    kind: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    transport: Mapped[str] = mapped_column(String(16), default="smtp")
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    """Owned by the gateway; a resend reuses it, so it is recognisably the same mail."""
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    recipient: Mapped[str] = mapped_column(String(320))
    """The first recipient, lower-cased (rate limits look it up)."""
    payload_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    alert_to: Mapped[str | None] = mapped_column(String(320))
    """Who is told if it cannot be delivered."""

    __table_args__ = (
        Index("ix_outbox_state_node", "state", "node", "next_attempt_at"),
        Index("ix_outbox_recipient", "recipient", "kind", "created_at"),
    )


class Channel(Base):
    """One connected channel (a team address, a chat, a page, a number)."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    identity: Mapped[str | None] = mapped_column(String(320), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(32), default="active")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Inbound(Base):
    """The durable queue: one accepted message waiting to become (part of) a ticket."""

    __tablename__ = "inbound"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    node: Mapped[str] = mapped_column(String(128))
    """The gateway instance whose spool holds the bytes."""
    source: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    segment: Mapped[str | None] = mapped_column(String(64))
    offset: Mapped[int | None] = mapped_column(BigInteger)
    peer: Mapped[str | None] = mapped_column(String(128))
    helo: Mapped[str | None] = mapped_column(String(255))
    mail_from: Mapped[str | None] = mapped_column(String(512))
    rcpt_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default=InboundState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    message_pk: Mapped[int | None] = mapped_column(BigInteger)
    ticket_number: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_inbound_state_node", "state", "node", "id"),
        Index("ix_inbound_segment", "segment"),
    )


class Contact(Base):
    """A person who writes to the help desk."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """The agent who owns this contact (a channel's ``contact_owner`` rule routes to them)."""


class ContactIdentity(Base):
    """How a contact is reached: (kind, value), e.g. ("email", "ann@example.com")."""

    __tablename__ = "contact_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    """Normalised: a lower-cased address, an E.164 number, a page-scoped id."""
    display: Mapped[str] = mapped_column(String(320))
    """As first written."""

    __table_args__ = (
        UniqueConstraint("kind", "value"),
        Index("ix_contact_identities_contact_id", "contact_id"),
    )


class Ticket(Base):
    """A conversation with one contact on one channel. Its id is its number."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.NEW)
    pipeline: Mapped[str] = mapped_column(String(64), default="support")
    priority: Mapped[str | None] = mapped_column(String(16))
    merged_into: Mapped[int | None] = mapped_column(BigInteger)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignment_reason: Mapped[str | None] = mapped_column(Text)
    assignment_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Unassigned only until an eligible agent becomes available."""
    mail_assignee: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The assignee was not available when it was assigned: they get it by mail."""
    properties: Mapped[dict[str, str] | None] = mapped_column(JSON)
    """Custom properties (``language``, ``product``, …); some are routing skills."""
    source: Mapped[str] = mapped_column(String(16), default="mail", server_default="mail")
    """How the ticket was opened: ``mail``, ``api``, ``import``."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_tickets_contact_id", "contact_id"),
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_assignee_id", "assignee_id", "status"),
        Index("ix_tickets_assignment_pending", "assignment_pending"),
    )


class Message(Base):
    """One message of a conversation."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    inbound_id: Mapped[int | None] = mapped_column(BigInteger)
    direction: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str] = mapped_column(String(998))
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(255), default="")
    to: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivered_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Every team address that received this message."""
    subject: Mapped[str] = mapped_column(Text, default="")
    date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    classification: Mapped[str] = mapped_column(String(16), default="normal")
    classification_reason: Mapped[str | None] = mapped_column(Text)
    new_text: Mapped[str | None] = mapped_column(Text)
    """What the sender wrote in this message: no quoted history, no signature."""
    forwarded_by: Mapped[str | None] = mapped_column(String(320))
    """Who forwarded it, when the ticket's contact is the original author (or the other way)."""
    forward_kind: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    repairs: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (
        UniqueConstraint("message_id"),
        Index("ix_messages_ticket_id", "ticket_id", "id"),
        Index("ix_messages_from_address", "from_address"),
    )


class Unread(Base):
    """A filed message whose body is still to be read: text, attachments, notifications.

    The pipeline files a ticket on a message's headers and triage, then reads
    its body outside the hot path; the row goes when the reading is committed.
    The raw bytes stay in the spool of ``node`` until then.
    """

    __tablename__ = "unread"

    message_pk: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    inbound_id: Mapped[int | None] = mapped_column(BigInteger)
    node: Mapped[str] = mapped_column(String(128))
    opened_ticket: Mapped[bool] = mapped_column(Boolean, default=False)
    """The message opened its ticket (an acknowledgement may be due)."""
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    """Why the last reading failed, if it did."""

    __table_args__ = (Index("ix_unread_node", "node", "message_pk"),)


class MessageRef(Base):
    """A Message-ID that a stored message names in In-Reply-To or References.

    Lets a parent that arrives after its reply find the reply's ticket.
    """

    __tablename__ = "message_refs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    ref: Mapped[str] = mapped_column(String(998))

    __table_args__ = (Index("ix_message_refs_ref", "ref"),)


class Attachment(Base):
    """A stored attachment: its bytes are a blob named by their sha256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(1024))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content_id: Mapped[str | None] = mapped_column(String(998))
    inline: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_attachments_message_pk", "message_pk"),)
