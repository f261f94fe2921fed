"""What software does to tickets through the API: open one, change it, answer it, note on it.

Synchronous Core on a Connection, in the caller's transaction (the HTTP app
runs these through ``AsyncConnection.run_sync``). A ticket opened here is
stored whole in one transaction (contact, ticket, first message, routing)
and routed like a mail ticket; it never goes through SMTP.

Answers are written as a ``direction=out`` message plus an outbox row holding
the rendered RFC 5322 bytes as a blob; the outbox worker sends them.
:func:`render_answer` is the one place that builds those bytes; the blob is
written (and synced, off the event loop) between :func:`plan_answer` and
:func:`record_answer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update

from gateway.assignment import ChannelPlan, assign_new_ticket
from gateway.routing.decide import Decision
from gateway.store import agents as agent_store
from gateway.store import tickets as store
from gateway.store.models import Direction, Outbox, OutboxKind, OutboxState, UserStatus, utcnow

outbox = cast(Table, Outbox.__table__)


class DeskProblem(Exception):
    """A change that cannot be made as asked; ``field`` names what to fix."""

    def __init__(self, field: str, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A ticket to open from outside mail (API, import)."""

    channel: str
    subject: str
    contact_email: str
    contact_name: str
    text: str
    properties: Mapping[str, str]
    priority: str | None = None
    source: str = "api"


@dataclass(frozen=True, slots=True)
class ChannelIdentity:
    """How answers on a channel look: the team address and names."""

    name: str
    address: str | None
    company: str
    from_name: str
    """``agent_and_company`` or ``company``."""
    subject_token: bool


def open_ticket(
    conn: Connection,
    new: NewTicket,
    plan: ChannelPlan,
    channel_id: int,
    *,
    message_id_domain: str,
    now: datetime | None = None,
) -> tuple[int, Decision]:
    """Store a ticket with its contact and first message, then route it; returns its number."""
    at = now or utcnow()
    contact = store.contact_for(conn, new.contact_email, new.contact_name)
    properties = {**plan.properties, **new.properties}
    number = store.create_ticket(
        conn,
        channel_id=channel_id,
        contact_id=contact,
        subject=new.subject[:1000],
        pipeline=plan.pipeline,
        status=plan.status,
        priority=new.priority or plan.priority,
        properties=properties,
        source=new.source,
    )
    store.add_message(
        conn,
        number,
        _message(
            Direction.IN,
            make_msgid(domain=message_id_domain).strip("<>"),
            new.contact_email.lower(),
            new.contact_name,
            new.subject,
            new.text,
            at,
        ),
    )
    store.touch_ticket(conn, number, at=at)
    return number, assign_new_ticket(conn, number, plan, at)


def _message(
    direction: Direction,
    message_id: str,
    sender: str,
    name: str,
    subject: str,
    text: str,
    at: datetime,
    *,
    to: tuple[str, ...] = (),
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
) -> store.NewMessage:
    return store.NewMessage(
        inbound_id=None,
        direction=direction.value,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        from_address=sender,
        from_name=name,
        to=to,
        cc=(),
        delivered_to=(),
        subject=subject,
        date=at,
        text=text,
        html=None,
        raw_sha256=None,
        size=len(text.encode()),
        classification="normal",
        repairs=(),
        new_text=text,
    )


def change_ticket(conn: Connection, number: int, changes: Mapping[str, Any]) -> None:
    """Apply API changes: ``status``, ``priority``, ``assignee`` (address or None), ``properties``.

    Property values of None remove the property. Raises DeskProblem.
    """
    row = conn.execute(
        select(store.tickets.c.properties).where(store.tickets.c.id == number)
    ).first()
    if row is None:
        raise DeskProblem("number", f"no ticket {number}", status=404)
    values: dict[str, Any] = {"updated_at": utcnow()}
    if "status" in changes:
        values["status"] = changes["status"]
    if "priority" in changes:
        values["priority"] = changes["priority"]
    if "properties" in changes:
        merged = dict(row.properties or {})
        for key, value in changes["properties"].items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        values["properties"] = merged or None
    if "assignee" in changes:
        values.update(_manual_assignment(conn, changes["assignee"]))
    conn.execute(update(store.tickets).where(store.tickets.c.id == number).values(values))


def _manual_assignment(conn: Connection, address: str | None) -> dict[str, Any]:
    if address is None:
        return {
            "assignee_id": None,
            "assignment_reason": "unassigned through the API",
            "assignment_pending": False,
            "mail_assignee": False,
        }
    found = [u for u in agent_store.list_users(conn) if u.address == address.lower()]
    if not found or not found[0].active:
        raise DeskProblem("assignee", f"{address} is not an agent: name an agent's address")
    if not found[0].seat:
        raise DeskProblem("assignee", f"{address} has no seat: assign an agent with a seat")
    away = found[0].status == UserStatus.AWAY.value
    return {
        "assignee_id": agent_store.user_id(conn, address),
        "assignment_reason": "assigned through the API" + (" (agent is away)" if away else ""),
        "assignment_pending": False,
        "mail_assignee": away,
    }


def add_note(conn: Connection, number: int, text: str, author: str, domain: str) -> int:
    """An internal note on a ticket (``direction=note``, never sent); returns the message key."""
    summary = _live_ticket(conn, number)
    at = utcnow()
    pk = store.add_message(
        conn,
        summary.number,
        _message(
            Direction.NOTE,
            make_msgid(domain=domain).strip("<>"),
            author,
            "",
            summary.subject,
            text,
            at,
        ),
    )
    conn.execute(
        update(store.tickets).where(store.tickets.c.id == summary.number).values(updated_at=at)
    )
    return pk


def _live_ticket(conn: Connection, number: int) -> store.TicketSummary:
    found = store.get_ticket(conn, number)
    if found is None:
        raise DeskProblem("number", f"no ticket {number}", status=404)
    return found[0]


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer ready to store and send: its rendered bytes and the facts the rows need."""

    ticket: int
    message_id: str
    subject: str
    sender: str
    sender_name: str
    to: str
    text: str
    in_reply_to: str | None
    references: tuple[str, ...]
    at: datetime
    raw: bytes


def plan_answer(
    conn: Connection,
    number: int,
    text: str,
    *,
    channel: ChannelIdentity,
    agent_name: str,
    domain: str,
    token_prefix: str,
) -> Answer:
    """Render an answer to the customer of ticket ``number`` in their thread (reads only).

    Raises DeskProblem when there is no such ticket or nobody to answer.
    """
    found = store.get_ticket(conn, number)
    if found is None:
        raise DeskProblem("number", f"no ticket {number}", status=404)
    ticket, conversation = found
    if not channel.address:
        raise DeskProblem("number", f"channel {channel.name!r} has no address to answer from")
    if not ticket.contact:
        raise DeskProblem("number", f"ticket {number} has no contact address to answer")
    thread = tuple(m.message_id for m in conversation if m.direction in ("in", "out"))[-20:]
    last_in = next(
        (m.message_id for m in reversed(conversation) if m.direction == "in"),
        thread[-1] if thread else None,
    )
    subject = _answer_subject(ticket.subject, ticket.number, channel, token_prefix)
    message_id = make_msgid(domain=domain).strip("<>")
    at = utcnow()
    raw = render_answer(
        channel=channel,
        agent_name=agent_name,
        to=ticket.contact,
        to_name=ticket.contact_name,
        subject=subject,
        text=text,
        message_id=message_id,
        in_reply_to=last_in,
        references=thread,
        at=at,
    )
    return Answer(
        ticket=ticket.number,
        message_id=message_id,
        subject=subject,
        sender=channel.address,
        sender_name=_from_name(channel, agent_name),
        to=ticket.contact.lower(),
        text=text,
        in_reply_to=last_in,
        references=thread,
        at=at,
        raw=raw,
    )


def record_answer(conn: Connection, answer: Answer, *, payload_sha256: str, node: str) -> int:
    """Store the ``out`` message and its outbox row (the payload blob is already durable)."""
    pk = store.add_message(
        conn,
        answer.ticket,
        _message(
            Direction.OUT,
            answer.message_id,
            answer.sender,
            answer.sender_name,
            answer.subject,
            answer.text,
            answer.at,
            to=(answer.to,),
            in_reply_to=answer.in_reply_to,
            references=answer.references,
        ),
    )
    conn.execute(
        insert(outbox).values(
            created_at=answer.at,
            node=node,
            kind=OutboxKind.ANSWER.value,
            ticket_id=answer.ticket,
            transport="smtp",
            message_id=answer.message_id,
            mail_from=answer.sender,
            rcpt_to=[answer.to],
            recipient=answer.to,
            payload_sha256=payload_sha256,
            state=OutboxState.PENDING.value,
            attempts=0,
            next_attempt_at=answer.at,
        )
    )
    store.touch_ticket(conn, answer.ticket, at=answer.at)
    return pk


def _answer_subject(subject: str, number: int, channel: ChannelIdentity, prefix: str) -> str:
    base = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    token = f"[{prefix}{number}]"
    return f"{base} {token}" if channel.subject_token and token not in base else base


def _from_name(channel: ChannelIdentity, agent_name: str) -> str:
    if channel.from_name == "company" or not agent_name:
        return channel.company
    return f"{agent_name} from {channel.company}" if channel.company else agent_name


def render_answer(
    *,
    channel: ChannelIdentity,
    agent_name: str,
    to: str,
    to_name: str,
    subject: str,
    text: str,
    message_id: str,
    in_reply_to: str | None,
    references: tuple[str, ...],
    at: datetime,
) -> bytes:
    """The RFC 5322 bytes of an answer: from the team address, in the customer's thread.

    The one renderer of API answers; the agents branch's signature and from-name
    templates replace it on merge.
    """
    msg = EmailMessage()
    msg["From"] = formataddr((_from_name(channel, agent_name), channel.address or ""))
    msg["To"] = formataddr((to_name, to))
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    msg.set_content(text)
    return msg.as_bytes()
