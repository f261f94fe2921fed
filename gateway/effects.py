"""What a message sets off: agent answers relayed, notifications, acknowledgements, alerts.

Called by the pipeline inside its transaction, so every outgoing mail is in the
outbox exactly when the ticket change that caused it is committed. Decisions
are the pure functions of :mod:`gateway.threading.answers` and
:mod:`gateway.signatures.render`; this module loads what they need and writes
what they decide. Nothing here sends: the outbox worker does.

Where things are recorded:

* an agent's answer: a message ``out`` on the ticket (the text the customer got);
* ``#note``: a message ``note``, never sent;
* an acknowledgement: a message ``auto`` (the customer saw it, so the agent should);
* notifications and alerts: only in the outbox (they are not part of the conversation);
* a refused reply key: the inbound row's reason (``refused agent answer: …``), a
  log line without the key, and an alert to the key's agent (to the channel's
  notify list when the key is forged, since nobody can be named).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import Connection

from gateway.config.schema import ChannelSettings, Settings
from gateway.mail.classify import MailKind
from gateway.mail.compose import Outgoing, OutgoingFile, make_message_id, text_to_html
from gateway.mail.html import sanitize_html
from gateway.mail.message import ParsedMail
from gateway.mail.parse import parse_message
from gateway.mail.understand import Understanding
from gateway.outbound.enqueue import queue_alert, queue_mail
from gateway.signatures.render import AgentFacts, ChannelFacts, TemplateError, from_name, render
from gateway.store import conversations, outbox
from gateway.store import directory as agent_store
from gateway.store import tickets as store
from gateway.store.blobs import BlobStore
from gateway.store.conversations import TicketContext
from gateway.store.directory import Agent
from gateway.store.models import Direction, OutboxKind, TicketStatus, utcnow
from gateway.threading import answers
from gateway.threading.answers import FoundKey, Refusal
from gateway.threading.match import format_token
from gateway.threading.reply_keys import ReplyKey, Role, reply_address, sign_reply_key

log = structlog.get_logger("gateway.effects")

REFUSAL_TEXT: Mapping[Refusal, str] = {
    Refusal.FORGED: "its reply address carries a key that was not made by this gateway",
    Refusal.CUSTOMER_KEY: "it was sent to a customer's reply address, not an agent's",
    Refusal.UNKNOWN_AGENT: "the agent the reply address was made for is not an active agent",
    Refusal.EXPIRED: "the reply address is older than [reply] key_max_age_days",
    Refusal.WRONG_SENDER: "it did not come from the personal address of the agent it was made for",
    Refusal.WRONG_TICKET: "it answers a notification of another ticket",
    Refusal.UNAUTHENTICATED: "the trusted MTA did not report DKIM or SPF pass for the sender",
}


@dataclass(frozen=True, slots=True)
class EffectsConfig:
    """The plain facts from the config that effects need."""

    node: str
    secret: bytes
    id_domain: str
    token_prefix: str
    key_max_age_days: int
    require_authentication: bool
    trusted_authserv_id: str | None
    channels: Mapping[str, ChannelSettings]
    team_addresses: frozenset[str]


def effects_config(settings: Settings, secret: bytes) -> EffectsConfig:
    """The effects' view of ``settings``."""
    return EffectsConfig(
        node=settings.node,
        secret=secret,
        id_domain=settings.message_id_domain,
        token_prefix=settings.threading.subject_token_prefix,
        key_max_age_days=settings.reply.key_max_age_days,
        require_authentication=settings.reply.require_authentication,
        trusted_authserv_id=settings.reply.trusted_authserv_id,
        channels={c.name: c for c in settings.channels},
        team_addresses=frozenset(settings.team_addresses),
    )


@dataclass(frozen=True, slots=True)
class Effects:
    """What the pipeline hands to effects: the config's facts and where payloads go.

    The blob store comes with it so that ``apply_mail`` needs nothing beyond its Routing.
    """

    config: EffectsConfig
    blobs: BlobStore


@dataclass(frozen=True, slots=True)
class Handled:
    """What became of a mail to a reply address that was not a customer's."""

    message_pk: int | None
    ticket: int | None
    note: str


def _facts(channel: ChannelSettings) -> ChannelFacts:
    return ChannelFacts(channel.name, channel.address or "", channel.company)


def _agent_facts(agent: Agent) -> AgentFacts:
    return AgentFacts(agent.first_name, agent.last_name, agent.address)


def _render_or_empty(
    source: str,
    channel: ChannelSettings,
    agent: Agent | None,
    *,
    html: bool = False,
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """A user template's output; a failing template is logged and left out, never a crash."""
    if not source:
        return ""
    try:
        return render(
            source, _facts(channel), _agent_facts(agent) if agent else None, html=html, extra=extra
        )
    except TemplateError as exc:
        log.error("template.failed", channel=channel.name, error=str(exc))
        return ""


def _subject(ctx: TicketContext, channel: ChannelSettings, prefix: str) -> str:
    subject = ctx.subject or "(no subject)"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    token = format_token(ctx.number, prefix)
    if channel.subject_token and token not in subject:
        subject = f"{subject} {token}"
    return subject


def _customer_key(cfg: EffectsConfig, ctx: TicketContext, channel: ChannelSettings) -> str:
    key = ReplyKey(Role.CUSTOMER, ctx.number, ctx.contact_id, utcnow().date())
    return reply_address(channel.address or "", sign_reply_key(cfg.secret, key))


def find_key(fx: Effects, mail: ParsedMail, rcpt_to: tuple[str, ...]) -> FoundKey | None:
    """The reply key this mail was sent to (envelope first, then To and Cc), if any."""
    addresses = (*rcpt_to, *(a.address for a in (*mail.to, *mail.cc)))
    return answers.find_reply_key(fx.config.secret, addresses, fx.config.team_addresses)


# -- agent answers ----------------------------------------------------------------------


def for_agent_path(
    conn: Connection, found: FoundKey, mail: ParsedMail, seen: Understanding | None
) -> bool:
    """Whether a keyed mail is judged as an agent's answer (else it is a customer's mail).

    Agent keys and forged keys are; so is a customer's key used by an agent, which
    is then refused: a customer's key never acts as an agent's. An agent's
    ``#away``/``#available`` mail is not an answer: it goes on to the status handling.
    ``seen`` is the mail read, given when it may be a status mail (None: it cannot be).
    """
    if seen is not None and answers.is_status_mail(mail.subject, seen.reply.new_text):
        return False
    if found.key is None or found.key.role is Role.AGENT:
        return True
    sender = mail.from_.normalized if mail.from_ else ""
    return bool(sender and agent_store.agents_at(conn, [sender]))


def apply_agent_mail(
    conn: Connection,
    fx: Effects,
    *,
    found: FoundKey,
    seen: Understanding,
    envelope_from: str | None,
    inbound_id: int,
) -> Handled:
    """Relay, note or refuse a mail sent to an agent's reply address."""
    cfg, blobs = fx.config, fx.blobs
    mail = seen.mail
    key = found.key
    if seen.classification.kind is not MailKind.NORMAL:
        # An out-of-office answering a notification must never reach the customer or alert.
        log.info("answer.auto_mail_ignored", kind=seen.classification.kind.value)
        ticket = key.ticket if key is not None else None
        return Handled(
            None, None, f"{seen.classification.kind} to a reply address: ignored ({ticket})"
        )
    holder = (
        agent_store.get_agent(conn, user_id=key.holder)
        if key is not None and key.role is Role.AGENT
        else None
    )
    ctx = conversations.ticket_context(conn, key.ticket) if key is not None else None
    header_from = mail.from_.normalized if mail.from_ else None
    authenticated: bool | None = None
    if cfg.require_authentication and holder is not None:
        authenticated = answers.authentication_passes(
            mail.header_all("Authentication-Results"),
            cfg.trusted_authserv_id,
            holder.address.rpartition("@")[2],
        )
    refusal = answers.judge_agent_answer(
        found,
        answers.AgentFacts(holder.id, holder.address, holder.active) if holder else None,
        header_from=header_from,
        envelope_from=envelope_from,
        answers=(*mail.in_reply_to, *mail.references),
        id_domain=cfg.id_domain,
        today=utcnow().date(),
        max_age_days=cfg.key_max_age_days,
        authenticated=authenticated,
    )
    if refusal is not None or holder is None or ctx is None:
        refusal = refusal or (Refusal.UNKNOWN_AGENT if holder is None else Refusal.WRONG_TICKET)
        return _refuse(conn, cfg, blobs, refusal, found, holder, ctx, mail)
    item_log = log.bind(ticket=ctx.number, agent=holder.address)
    channel = cfg.channels.get(ctx.channel)
    if channel is None or not channel.address:
        return Handled(None, ctx.number, f"channel {ctx.channel} has no address: not relayed")
    source_id = mail.message_id or f"{inbound_id}.inbound"
    full_name = f"{holder.first_name} {holder.last_name}"
    text = answers.strip_agent_signature(_new_text(conn, blobs, seen), full_name)
    commands = answers.parse_commands(text)
    kind = "note" if commands.note or not commands.text.strip() else "answer"
    message_id = make_message_id(kind, source_id, cfg.id_domain)
    stored = store.find_message(conn, message_id)
    if stored is not None:
        item_log.info("answer.duplicate")
        return Handled(stored.pk, stored.ticket, "duplicate agent answer")
    notes: list[str] = list(commands.unknown)
    status: str | None = TicketStatus.WAITING.value if kind == "answer" else None
    if commands.close:
        status = TicketStatus.CLOSED.value
    if commands.assign:
        target = next(iter(agent_store.agents_at(conn, [commands.assign])), None)
        if target is None:
            notes.append(f"#assign: {commands.assign} is not an active agent")
        else:
            reason = f"#assign by {holder.address}"
            conversations.assign(conn, ctx.number, target.id, reason)
            if target.id not in (holder.id, ctx.assignee_id):
                # Assigning oneself, or the assignee again, tells nobody anything new.
                notify_assigned(conn, fx, ctx.number, target.address, reason)
    elif ctx.assignee_id is None and kind == "answer":
        conversations.assign(conn, ctx.number, holder.id, "answered by mail")
    if kind == "note":
        pk = _store_note(conn, ctx, holder, mail, message_id, commands.text or "", inbound_id)
        item_log.info("answer.noted", commands=_command_names(commands))
    else:
        files = tuple(
            OutgoingFile(a.filename, a.content_type, a.data)
            for a in seen.mail.attachments
            if not a.inline  # inline parts are the agent's own signature images
        )
        pk = relay_answer(conn, fx, ctx, channel, holder, commands.text, message_id, files)
        item_log.info("answer.relayed", commands=_command_names(commands))
    store.touch_ticket(conn, ctx.number, at=utcnow(), status=status)
    if notes:
        _alert(
            conn,
            cfg,
            blobs,
            channel,
            holder.address,
            f"{format_token(ctx.number, cfg.token_prefix)} command not done",
            "Your mail on this ticket was handled, but:\n\n" + "\n".join(notes) + "\n",
            ctx.number,
            seed=f"{source_id}:commands",
        )
    return Handled(pk, ctx.number, f"agent {kind}")


def _new_text(conn: Connection, blobs: BlobStore, seen: Understanding) -> str:
    """The agent's new text, without any quote of the notification it answers."""
    text = seen.reply.new_text
    for mid in seen.mail.in_reply_to:
        row = outbox.find(conn, mid)
        if row is None or row.kind != OutboxKind.NOTIFY.value:
            continue
        try:
            sent = parse_message(blobs.get(row.payload_sha256)).text
        except KeyError:
            continue
        return answers.strip_echo(text, sent)
    return text


def _command_names(commands: answers.Commands) -> list[str]:
    names = [n for n, on in (("note", commands.note), ("close", commands.close)) if on]
    return [*names, "assign"] if commands.assign else names


def _record(
    conn: Connection,
    ticket: int,
    *,
    direction: Direction,
    message_id: str,
    sender: tuple[str, str],
    to: tuple[str, ...],
    subject: str,
    text: str,
    new_text: str,
    html: str | None = None,
    raw_sha256: str | None = None,
    thread: tuple[str | None, tuple[str, ...]] = (None, ()),
    inbound_id: int | None = None,
    files: tuple[store.NewAttachment, ...] = (),
) -> int:
    """Store a message the gateway made (an answer, a note, an acknowledgement) on ``ticket``."""
    return store.add_message(
        conn,
        ticket,
        store.NewMessage(
            inbound_id=inbound_id,
            direction=direction.value,
            message_id=message_id,
            in_reply_to=thread[0],
            references=thread[1],
            from_address=sender[0],
            from_name=sender[1],
            to=to,
            cc=(),
            delivered_to=(),
            subject=subject,
            date=utcnow(),
            text=text,
            html=html,
            raw_sha256=raw_sha256,
            size=len(text.encode()),
            classification=MailKind.NORMAL.value,
            repairs=(),
            new_text=new_text,
        ),
        files,
    )


def _store_note(
    conn: Connection,
    ctx: TicketContext,
    agent: Agent,
    mail: ParsedMail,
    message_id: str,
    text: str,
    inbound_id: int,
) -> int:
    return _record(
        conn,
        ctx.number,
        direction=Direction.NOTE,
        message_id=message_id,
        sender=(agent.address, f"{agent.first_name} {agent.last_name}".strip()),
        to=(),
        subject=mail.subject,
        text=text,
        new_text=text,
        inbound_id=inbound_id,
    )


def relay_answer(
    conn: Connection,
    fx: Effects,
    ctx: TicketContext,
    channel: ChannelSettings,
    agent: Agent | None,
    text: str,
    message_id: str,
    files: tuple[OutgoingFile, ...] = (),
) -> int:
    """Queue an answer to the customer and store it as the ticket's ``out`` message.

    The one renderer of answers, by mail and through the API: From the team
    address with the channel's from-name for ``agent`` (company mode when
    None), the team signature in text and HTML, the customer's thread headers,
    a Reply-To with the customer's reply key, multipart/alternative. The
    payload blob is written to ``fx.blobs``: the caller makes it durable
    before it commits. Returns the stored message's key.
    """
    cfg, blobs = fx.config, fx.blobs
    signature = _render_or_empty(channel.signature_text, channel, agent).strip("\n")
    signature_html = _render_or_empty(channel.signature_html, channel, agent, html=True)
    body = text.strip("\n") + "\n"
    if signature:
        body += f"\n-- \n{signature}\n"  # RFC 3676: the customer's reply can cut it
    html_body = text_to_html(text)
    if signature_html:
        html_body += '\n<div class="signature">' + signature_html + "</div>"
    safe_html = sanitize_html(html_body).html
    display = from_name(
        channel.from_name,
        channel.from_name_template,
        _facts(channel),
        _agent_facts(agent) if agent else None,
    )
    mail = Outgoing(
        from_name=display,
        from_address=channel.address or "",
        to=((ctx.contact_name, ctx.contact_address),),
        subject=_subject(ctx, channel, cfg.token_prefix),
        message_id=message_id,
        date=utcnow(),
        text=body,
        html=f"<html><body>{safe_html}</body></html>",
        reply_to=(display, _customer_key(cfg, ctx, channel)),
        in_reply_to=ctx.last_in_message_id,
        references=ctx.thread[:-1],
        attachments=files,
    )
    alert_to = agent.address if agent else None
    sha = _queue(conn, cfg, blobs, OutboxKind.ANSWER, mail, ctx.number, alert_to=alert_to)
    attachments = tuple(
        store.NewAttachment(blobs.put(f.data), f.filename, f.content_type, len(f.data), None, False)
        for f in files
    )
    return _record(
        conn,
        ctx.number,
        direction=Direction.OUT,
        message_id=message_id,
        sender=(channel.address or "", display),
        to=(ctx.contact_address,),
        subject=mail.subject,
        text=body,
        new_text=text,
        html=safe_html,
        raw_sha256=sha,
        thread=(ctx.last_in_message_id, ctx.thread),
        files=attachments,
    )


def _refuse(
    conn: Connection,
    cfg: EffectsConfig,
    blobs: BlobStore,
    refusal: Refusal,
    found: FoundKey,
    holder: Agent | None,
    ctx: TicketContext | None,
    mail: ParsedMail,
) -> Handled:
    """Record, log and tell: never relay."""
    sender = mail.from_.normalized if mail.from_ else ""
    ticket = ctx.number if ctx is not None else None
    log.warning("answer.refused", reason=refusal.value, ticket=ticket, sender=sender)
    channel = next(
        (c for c in cfg.channels.values() if c.address == found.team_address),
        None,
    )
    if channel is not None:
        told = (
            [holder.address]
            if holder is not None and holder.active
            else [a.address for a in agent_store.notify_targets(conn, channel.notify)]
        )
        where = format_token(ticket, cfg.token_prefix) if ticket else f"to {found.team_address}"
        text = (
            f"A mail to a reply address {where} was NOT sent to any customer, because\n"
            f"{REFUSAL_TEXT[refusal]}.\n\n"
            f"From: {sender or '(none)'}\nSubject: {mail.subject}\n"
            f"Message-ID: {mail.message_id or '(none)'}\n\n"
            "If you wrote it, answer the notification again from your own address.\n"
            "If you did not, someone may be trying to write to a customer in your name.\n"
        )
        for address in told:
            _alert(
                conn,
                cfg,
                blobs,
                channel,
                address,
                f"Refused mail {where}",
                text,
                ticket,
                seed=f"{mail.message_id}:{refusal.value}:{address}",
            )
    return Handled(None, ticket, f"refused agent answer: {refusal.value}")


def _queue(
    conn: Connection,
    cfg: EffectsConfig,
    blobs: BlobStore,
    kind: OutboxKind,
    mail: Outgoing,
    ticket: int,
    *,
    alert_to: str | None = None,
    mail_from: str | None = None,
) -> str | None:
    return queue_mail(
        conn,
        blobs,
        node=cfg.node,
        kind=kind,
        mail=mail,
        id_domain=cfg.id_domain,
        ticket=ticket,
        alert_to=alert_to,
        mail_from=mail_from,
    )


def _alert(
    conn: Connection,
    cfg: EffectsConfig,
    blobs: BlobStore,
    channel: ChannelSettings,
    to: str,
    subject: str,
    text: str,
    ticket: int | None,
    *,
    seed: str,
) -> None:
    queue_alert(
        conn,
        blobs,
        node=cfg.node,
        id_domain=cfg.id_domain,
        team_address=channel.address or "",
        sender_name=f"{channel.company or channel.name} help desk",
        to=to,
        subject=subject,
        text=text,
        ticket=ticket,
        seed=seed,
    )


# -- customer mail ----------------------------------------------------------------------


def keyed_ticket(conn: Connection, found: FoundKey | None) -> int | None:
    """The live ticket a customer's reply key names, if it is one and the ticket exists."""
    if found is None or found.key is None or found.key.role is not Role.CUSTOMER:
        return None
    ctx = conversations.ticket_context(conn, found.key.ticket)
    return None if ctx is None else ctx.number


def note_bounce(conn: Connection, fx: Effects, bounced: str) -> None:
    """A bounce names one of our outgoing mails: mark it failed and tell its agent."""
    cfg, blobs = fx.config, fx.blobs
    row = outbox.find(conn, bounced)
    if row is None or not outbox.mark_failed(conn, row.id, "bounced", count_attempt=False):
        return
    log.warning("outbox.bounced", outbox_id=row.id, ticket=row.ticket_id)
    if row.alert_to and row.kind != OutboxKind.ALERT.value:
        channel = next((c for c in cfg.channels.values() if c.address == row.mail_from), None)
        if channel is not None:
            _alert(
                conn,
                cfg,
                blobs,
                channel,
                row.alert_to,
                f"Undeliverable: your answer on ticket {row.ticket_id}",
                f"Your answer to {', '.join(row.rcpt_to)} (Message-ID <{row.message_id}>)\n"
                "bounced: the customer did not get it. The bounce is on the ticket.\n",
                row.ticket_id,
                seed=f"bounce:{row.message_id}",
            )


@dataclass(frozen=True, slots=True)
class News:
    """What a notification tells its agents."""

    text: str
    """The customer's new text (or what happened)."""
    seed: str
    """Makes the notification's Message-ID: the same news is queued once per agent."""
    sender: str = ""
    """Who wrote it: an agent who wrote it is not told."""
    attachments: int | None = None
    headline: str = ""


def after_customer_message(
    conn: Connection,
    fx: Effects,
    *,
    ticket: int,
    seen: Understanding,
    message_id: str,
    new_ticket: bool,
    envelope_from: str | None,
) -> None:
    """Notify the assignee (or the channel's notify list) and acknowledge a new ticket."""
    cfg, blobs = fx.config, fx.blobs
    kind = seen.classification.kind
    if kind not in (MailKind.NORMAL, MailKind.LIST):
        return  # auto-replies and bounces are on the ticket; nobody needs a mail about them
    if (found := _with_channel(conn, cfg, ticket)) is None:
        return
    ctx, channel = found
    news = News(
        text=seen.reply.new_text.strip() or seen.text.strip(),
        seed=message_id,
        sender=seen.mail.from_.normalized if seen.mail.from_ else "",
        attachments=len(seen.mail.attachments),
    )
    _notify(conn, cfg, blobs, ctx, channel, news, _assignee_or_notify_list(conn, ctx, channel))
    if new_ticket and channel.acknowledge and kind is MailKind.NORMAL and envelope_from != "":
        _acknowledge(conn, cfg, blobs, ctx, channel, message_id)


def after_api_ticket(conn: Connection, fx: Effects, *, ticket: int, message_id: str) -> None:
    """What a new mail ticket sets off, for a ticket opened through the API.

    Its assignee (or the channel's notify list) is notified; the contact is
    acknowledged when the channel acknowledges, as for mail (never an agent
    or a team address, and rate-limited per address).
    """
    cfg, blobs = fx.config, fx.blobs
    if (found := _with_channel(conn, cfg, ticket)) is None:
        return
    ctx, channel = found
    news = News(
        text=conversations.latest_customer_text(conn, ctx.number),
        seed=message_id,
        sender=ctx.contact_address,
        attachments=0,
    )
    _notify(conn, cfg, blobs, ctx, channel, news, _assignee_or_notify_list(conn, ctx, channel))
    if channel.acknowledge:
        _acknowledge(conn, cfg, blobs, ctx, channel, message_id)


def notify_assigned(conn: Connection, fx: Effects, ticket: int, assignee: str, reason: str) -> None:
    """Tell ``assignee`` that ``ticket`` is now theirs (and why), in the ticket's thread.

    Sent whatever the agent's status: a contact's owner who is away still owns
    the ticket and gets it by mail.
    """
    cfg, blobs = fx.config, fx.blobs
    agent = agent_store.get_agent(conn, address=assignee)
    if agent is None or not agent.active or (found := _with_channel(conn, cfg, ticket)) is None:
        return
    ctx, channel = found
    news = News(
        text=conversations.latest_customer_text(conn, ctx.number),
        seed=f"assigned:{utcnow().isoformat()}",
        headline=f"This ticket is now assigned to you ({reason}).\n\n",
    )
    _notify(conn, cfg, blobs, ctx, channel, news, [agent])


def notify_assignments(conn: Connection, fx: Effects, assigned: Iterable[tuple[int, str]]) -> None:
    """:func:`notify_assigned` for each (ticket, assignee) that waited for an available agent.

    ``assigned`` is what :func:`gateway.assignment.assign_pending` returns.
    """
    for ticket, assignee in assigned:
        notify_assigned(conn, fx, ticket, assignee, "it waited for an available agent")


def _with_channel(
    conn: Connection, cfg: EffectsConfig, ticket: int
) -> tuple[TicketContext, ChannelSettings] | None:
    """The ticket and its channel, when both exist and the channel has an address to mail from."""
    ctx = conversations.ticket_context(conn, ticket)
    if ctx is None:
        return None
    channel = cfg.channels.get(ctx.channel)
    if channel is None or not channel.address:
        return None
    return ctx, channel


def _assignee_or_notify_list(
    conn: Connection, ctx: TicketContext, channel: ChannelSettings
) -> list[Agent]:
    if ctx.assignee_id is not None:
        assignee = agent_store.get_agent(conn, user_id=ctx.assignee_id)
        if assignee is not None and assignee.active:
            return [assignee]
    return agent_store.notify_targets(conn, channel.notify)


def _notify(
    conn: Connection,
    cfg: EffectsConfig,
    blobs: BlobStore,
    ctx: TicketContext,
    channel: ChannelSettings,
    news: News,
    targets: Sequence[Agent],
) -> None:
    customer = ctx.contact_name or ctx.contact_address
    root = f"ticket.{ctx.number}@{cfg.id_domain}"
    token = format_token(ctx.number, cfg.token_prefix)
    today = utcnow().date()
    files = "" if news.attachments is None else f"Attachments: {news.attachments}\n"
    for agent in targets:
        if agent.address == news.sender:
            continue  # an agent who wrote to the team address knows what they wrote
        key = sign_reply_key(cfg.secret, ReplyKey(Role.AGENT, ctx.number, agent.id, today))
        address = reply_address(channel.address or "", key)
        display = f"{customer} via {channel.company or channel.name}"
        text = (
            f"{news.headline}{news.text}\n\n"
            f"---- ticket {token} · {ctx.status} · channel {channel.name}\n"
            f"Customer: {ctx.contact_name} <{ctx.contact_address}>\n"
            f"{files}"
            f"Answer by replying to this mail: only your new text goes to the customer, from\n"
            f'{channel.address}. A first line "#note" keeps it internal; "#close" closes\n'
            f'the ticket; "#assign someone@example.com" hands it over.\n'
        )
        mail = Outgoing(
            from_name=display,
            from_address=address,
            to=((f"{agent.first_name} {agent.last_name}".strip(), agent.address),),
            subject=f"{token} {ctx.subject}",
            message_id=make_message_id(
                f"notify.{ctx.number}", f"{news.seed}:{agent.id}", cfg.id_domain
            ),
            date=utcnow(),
            text=text,
            reply_to=(display, address),
            in_reply_to=root,
            references=(root,),
            headers=(("Auto-Submitted", "auto-generated"),),
        )
        # The envelope sender is the team address: bounces must not go to the reply key.
        _queue(conn, cfg, blobs, OutboxKind.NOTIFY, mail, ctx.number, mail_from=channel.address)


def _acknowledge(
    conn: Connection,
    cfg: EffectsConfig,
    blobs: BlobStore,
    ctx: TicketContext,
    channel: ChannelSettings,
    message_id: str,
) -> None:
    to = ctx.contact_address
    if not to or to in cfg.team_addresses or agent_store.agents_at(conn, [to]):
        return
    since = utcnow() - timedelta(hours=1)
    if outbox.count_recent(conn, to, OutboxKind.ACK.value, since) >= channel.ack_per_hour:
        log.info("ack.rate_limited", ticket=ctx.number)
        return
    extra = {
        "ticket": {"number": str(ctx.number), "subject": ctx.subject},
        "contact": {"name": ctx.contact_name, "address": to},
    }
    subject = _render_or_empty(channel.ack_subject, channel, None, extra=extra).strip()
    text = _render_or_empty(channel.ack_text, channel, None, extra=extra)
    if not text.strip():
        return
    token = format_token(ctx.number, cfg.token_prefix)
    subject = subject or f"Re: {ctx.subject}"
    if channel.subject_token and token not in subject:
        subject = f"{subject} {token}"
    display = channel.company or channel.name
    ack_id = make_message_id("ack", message_id, cfg.id_domain)
    mail = Outgoing(
        from_name=display,
        from_address=channel.address or "",
        to=((ctx.contact_name, to),),
        subject=subject,
        message_id=ack_id,
        date=utcnow(),
        text=text,
        reply_to=(display, _customer_key(cfg, ctx, channel)),
        in_reply_to=message_id,
        references=ctx.thread[:-1],
        headers=(("Auto-Submitted", "auto-replied"),),  # RFC 3834
    )
    sha = _queue(conn, cfg, blobs, OutboxKind.ACK, mail, ctx.number)
    if sha is None:
        return
    _record(
        conn,
        ctx.number,
        direction=Direction.AUTO,
        message_id=ack_id,
        sender=(channel.address or "", display),
        to=(to,),
        subject=subject,
        text=text,
        new_text=text,
        raw_sha256=sha,
        thread=(message_id, ctx.thread),
    )
