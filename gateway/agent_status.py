"""Agents' ``#away`` / ``#available`` mails in the pipeline: prove the sender, set the status.

A proven status mail never becomes a ticket; an unproven one is ordinary
customer mail (see :mod:`gateway.routing.status_mail` for what proves an agent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import Connection, select

from gateway.assignment import ChannelPlan, assign_pending
from gateway.config.schema import Settings
from gateway.effects import Effects, notify_assignments
from gateway.mail.addresses import base_address, sub_address_tag
from gateway.mail.message import ParsedMail
from gateway.routing.status_mail import prove_agent, status_command
from gateway.store import agents as agent_store
from gateway.store.models import UserStatus, utcnow

log = structlog.get_logger("gateway.agent_status")


@dataclass(frozen=True, slots=True)
class StatusMailPolicy:
    """What proving an agent needs from the config."""

    secret: bytes | None
    """The reply-key secret (None until it exists: then no signed address proves anyone)."""
    max_age_days: int
    trusted_authserv_id: str | None


def policy_for(settings: Settings, secret: bytes) -> StatusMailPolicy:
    """The policy of ``settings`` with the reply-key ``secret``."""
    return StatusMailPolicy(
        secret=secret,
        max_age_days=settings.reply.key_max_age_days,
        trusted_authserv_id=settings.reply.trusted_authserv_id,
    )


def apply_status_mail(
    conn: Connection,
    policy: StatusMailPolicy,
    plans: Mapping[str, ChannelPlan],
    mail: ParsedMail,
    new_text: str,
    envelope_rcpts: Sequence[str],
    team_addresses: Mapping[str, str],
    fx: Effects | None = None,
) -> str | None:
    """Apply a proven status mail and say what was done; None when it is not one.

    With ``fx``, each waiting ticket the agent takes now is notified to them.
    """
    command = status_command(mail.subject, new_text)
    if command is None or mail.from_ is None:
        return None
    users = agent_store.users
    agents = {
        int(row.id): str(row.address)
        for row in conn.execute(select(users.c.id, users.c.address).where(users.c.active))
    }
    recipients = [*envelope_rcpts, *(a.address for a in (*mail.to, *mail.cc))]
    tags = [
        tag
        for address in recipients
        if base_address(address) in team_addresses and (tag := sub_address_tag(address))
    ]
    proof = prove_agent(
        sender=mail.from_.normalized,
        agents=agents,
        tags=tags,
        secret=policy.secret,
        max_age_days=policy.max_age_days,
        today=utcnow().date(),
        auth_headers=mail.header_all("Authentication-Results"),
        trusted_authserv_id=policy.trusted_authserv_id,
    )
    if proof.agent is None:
        log.warning("agent.status_mail_refused", command=command.value, reason=proof.how)
        return None
    agent_store.set_status(conn, proof.agent, UserStatus(command.value))
    assigned = assign_pending(conn, plans) if command.value == "available" else []
    if fx is not None:
        notify_assignments(conn, fx, assigned)
    log.info("agent.status_set", agent=proof.agent, status=command.value, by=proof.how)
    return f"agent {proof.agent} {command.value} by mail ({proof.how}); {len(assigned)} assigned"
