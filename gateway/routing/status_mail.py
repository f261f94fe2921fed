"""``#away`` and ``#available`` mails: an agent sets their own status by writing to the gateway.

The sender's address alone never makes anyone an agent (From is trivially
forged). A status mail counts only when it proves who sent it, by one of:

1. a signed reply address: it was sent to ``<team>+<key>@…`` where the key is
   an agent key (``gateway.threading.reply_keys``) issued to the agent whose
   address is the From, and not older than ``[reply] key_max_age_days``; the
   agent has such an address in the Reply-To of every notification;
2. the trusted MTA's ``Authentication-Results`` (``[reply]
   trusted_authserv_id``): DKIM or SPF passed for the From address's domain.

Anything else is ordinary customer mail. Pure: the caller loads the agents,
the secret and the headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from gateway.mail.authresults import passes_for, trusted_results
from gateway.threading.reply_keys import ReplyKey, Role, verify_reply_key


class StatusCommand(StrEnum):
    """What a status mail asks for."""

    AWAY = "away"
    AVAILABLE = "available"


def status_command(subject: str, new_text: str) -> StatusCommand | None:
    """``#away`` / ``#available`` as the subject or the first line the sender wrote, else None."""
    first = next((line.strip() for line in new_text.splitlines() if line.strip()), "")
    for candidate in (subject.strip(), first):
        word = candidate.lower().removeprefix("re:").strip()
        if word in ("#away", "#available"):
            return StatusCommand(word.removeprefix("#"))
    return None


@dataclass(frozen=True, slots=True)
class AgentProof:
    """Who a mail provably comes from, and how; ``agent`` None when unproven."""

    agent: str | None
    how: str


def prove_agent(
    *,
    sender: str,
    agents: Mapping[int, str],
    tags: Sequence[str],
    secret: bytes | None,
    max_age_days: int,
    today: date,
    auth_headers: Sequence[str],
    trusted_authserv_id: str | None,
) -> AgentProof:
    """Whether ``sender`` is provably the agent of that address (see the module docstring)."""
    sender = sender.strip().lower()
    if sender not in agents.values():
        return AgentProof(None, f"{sender} is not an agent")
    if secret is not None:
        for tag in tags:
            key = verify_reply_key(secret, tag)
            if not isinstance(key, ReplyKey) or key.role is not Role.AGENT:
                continue
            if agents.get(key.holder) != sender:
                continue
            if today - key.issued > timedelta(days=max_age_days):
                continue
            return AgentProof(sender, "signed reply address issued to the agent")
    if trusted_authserv_id:
        verdict = passes_for(trusted_results(auth_headers, trusted_authserv_id), sender)
        if verdict is not None:
            return AgentProof(sender, f"Authentication-Results of {trusted_authserv_id}: {verdict}")
    return AgentProof(
        None, "no signed reply address or trusted Authentication-Results: From alone proves nothing"
    )
