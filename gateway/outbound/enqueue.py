"""Render an outgoing mail, keep its bytes as a blob and queue it, inside the caller's transaction.

Used by the pipeline (answers, notifications, acknowledgements, refused-key
alerts) and by the outbox worker (delivery-failure alerts). Synchronous: it
runs in the pipeline's transaction, or through ``run_sync`` in the daemon.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import structlog
from sqlalchemy import Connection

from gateway.mail.compose import LOOP_HEADER, Outgoing, make_message_id, render_mail
from gateway.store import outbox
from gateway.store.blobs import BlobStore
from gateway.store.models import OutboxKind, utcnow

log = structlog.get_logger("gateway.outbound")

MAX_ALERTS_PER_HOUR = 20
"""Alerts one agent gets in an hour: forged keys must not become a way to flood them."""


def queue_mail(
    conn: Connection,
    blobs: BlobStore,
    *,
    node: str,
    kind: OutboxKind,
    mail: Outgoing,
    id_domain: str,
    ticket: int | None,
    alert_to: str | None = None,
    mail_from: str | None = None,
) -> str | None:
    """Render ``mail`` (with the loop header), store its bytes and queue it.

    ``mail_from`` is the envelope sender (default: the From address).

    Returns the blob's sha256, or None when its Message-ID was queued before (a redo).
    """
    if outbox.find(conn, mail.message_id) is not None:
        return None
    mail = replace(mail, headers=(*mail.headers, (LOOP_HEADER, id_domain)))
    payload = render_mail(mail)
    sha = blobs.put(payload)  # the caller syncs the blob store before it commits
    rcpt = tuple(address for _, address in mail.to)
    outbox.enqueue(
        conn,
        outbox.NewOutgoing(
            node=node,
            kind=kind.value,
            ticket_id=ticket,
            message_id=mail.message_id,
            mail_from=mail_from or mail.from_address,
            rcpt_to=rcpt,
            payload_sha256=sha,
            alert_to=alert_to,
        ),
    )
    log.info("outbox.queued", kind=kind.value, ticket=ticket, message_id=mail.message_id)
    return sha


def queue_alert(
    conn: Connection,
    blobs: BlobStore,
    *,
    node: str,
    id_domain: str,
    team_address: str,
    sender_name: str,
    to: str,
    subject: str,
    text: str,
    ticket: int | None,
    seed: str,
) -> bool:
    """Tell the agent at ``to`` that something went wrong; False when rate-limited or a redo.

    ``seed`` makes the Message-ID: the same event alerts once.
    """
    since = utcnow() - timedelta(hours=1)
    if outbox.count_recent(conn, to, OutboxKind.ALERT.value, since) >= MAX_ALERTS_PER_HOUR:
        log.warning("alert.rate_limited", ticket=ticket)
        return False
    mail = Outgoing(
        from_name=sender_name,
        from_address=team_address,
        to=(("", to),),
        subject=subject,
        message_id=make_message_id("alert", seed, id_domain),
        date=utcnow(),
        text=text,
        headers=(("Auto-Submitted", "auto-generated"),),
    )
    return (
        queue_mail(
            conn,
            blobs,
            node=node,
            kind=OutboxKind.ALERT,
            mail=mail,
            id_domain=id_domain,
            ticket=ticket,
        )
        is not None
    )
