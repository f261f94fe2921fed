"""What software does to tickets through the API: open one, change it, answer it, note on it.

Synchronous Core on a Connection, in the caller's transaction (the HTTP app
runs these through ``AsyncConnection.run_sync``). A ticket opened here is
stored whole in one transaction (contact, ticket, first message, routing)
and routed like a mail ticket; it never goes through SMTP.

Answers are rendered and queued by :func:`gateway.effects.relay_answer`, the
same code that relays an agent's mail answer, and new tickets and new
assignees are notified through :mod:`gateway.effects`, in the caller's
transaction. The payload blobs go to the :class:`~gateway.store.blobs.BlobStore`
the caller hands in (the HTTP app stages them and makes them durable, off the
event loop, before it commits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from sqlalchemy import Connection, select, update

from gateway import effects
from gateway.assignment import ChannelPlan, assign_new_ticket
from gateway.effects import Effects
from gateway.mail.compose import make_message_id
from gateway.routing.decide import Decision
from gateway.store import agents as agent_store
from gateway.store import conversations, directory
from gateway.store import tickets as store
from gateway.store.models import Direction, TicketStatus, UserStatus, utcnow


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


def open_ticket(
    conn: Connection,
    new: NewTicket,
    plan: ChannelPlan,
    channel_id: int,
    *,
    message_id_domain: str,
    now: datetime | None = None,
    fx: Effects | None = None,
) -> tuple[int, Decision]:
    """Store a ticket with its contact and first message, route it, and notify like mail.

    With ``fx``, the assignee (or the channel's notify list) is notified and the
    contact acknowledged as :func:`gateway.effects.after_api_ticket` says.
    Returns its number and the routing decision.
    """
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
    message_id = make_msgid(domain=message_id_domain).strip("<>")
    store.add_message(
        conn,
        number,
        _message(
            Direction.IN,
            message_id,
            new.contact_email.lower(),
            new.contact_name,
            new.subject,
            new.text,
            at,
        ),
    )
    store.touch_ticket(conn, number, at=at)
    decision = assign_new_ticket(conn, number, plan, at)
    if fx is not None:
        effects.after_api_ticket(conn, fx, ticket=number, message_id=message_id)
    return number, decision


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


def change_ticket(
    conn: Connection, number: int, changes: Mapping[str, Any], fx: Effects | None = None
) -> None:
    """Apply API changes: ``status``, ``priority``, ``assignee`` (address or None), ``properties``.

    Property values of None remove the property. With ``fx``, a new assignee is
    told by mail in the same transaction. Raises DeskProblem.
    """
    row = conn.execute(
        select(store.tickets.c.properties, store.tickets.c.assignee_id).where(
            store.tickets.c.id == number
        )
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
    assignee = values.get("assignee_id")
    if fx is not None and assignee is not None and assignee != row.assignee_id:
        effects.notify_assigned(conn, fx, number, changes["assignee"], values["assignment_reason"])


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


def answer_ticket(
    conn: Connection, fx: Effects, number: int, text: str, agent: str | None, *, seed: str
) -> tuple[int, str]:
    """Answer the customer of ticket ``number`` exactly as an agent's mail answer is sent.

    ``agent`` (an address) signs it and names the from-name; None answers in
    the channel's company mode. ``seed`` makes the gateway's Message-ID. The
    payload blob goes to ``fx.blobs``: the caller makes it durable before it
    commits. Returns (ticket, Message-ID); raises DeskProblem.
    """
    ctx = conversations.ticket_context(conn, number)
    if ctx is None:
        raise DeskProblem("number", f"no ticket {number}", status=404)
    channel = fx.config.channels.get(ctx.channel)
    if channel is None or not channel.address:
        raise DeskProblem("number", f"channel {ctx.channel!r} has no address to answer from")
    if not ctx.contact_address:
        raise DeskProblem("number", f"ticket {number} has no contact address to answer")
    sender = None
    if agent is not None:
        sender = next(iter(directory.agents_at(conn, [agent])), None)
        if sender is None:
            raise DeskProblem("agent", f"{agent} is not an agent: name an active agent's address")
    message_id = make_message_id("answer", seed, fx.config.id_domain)
    effects.relay_answer(conn, fx, ctx, channel, sender, text, message_id)
    store.touch_ticket(conn, ctx.number, at=utcnow(), status=TicketStatus.WAITING.value)
    return ctx.number, message_id
