"""Which ticket a message belongs to: a pure decision over a snapshot of what is stored.

The order, first hit wins: In-Reply-To, then References newest first, against
the Message-ID index; then the ticket token in the subject, when the sender
already takes part in that ticket; then a ticket whose messages answer this
one (the reply came first). Otherwise a new ticket. Replies that arrived before
their parent and made tickets of their own are folded into the parent's ticket,
so arrival order never splits a conversation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

CLOSED = "closed"


class MatchedBy(StrEnum):
    """What tied a message to its ticket."""

    IN_REPLY_TO = "in_reply_to"
    REFERENCES = "references"
    SUBJECT_TOKEN = "subject_token"
    EARLIER_REPLY = "earlier_reply"
    REPLY_KEY = "reply_key"
    """A customer's signed reply key in the recipient address."""
    NEW = "new"


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What threading needs to know of a stored ticket."""

    number: int
    status: str
    participants: frozenset[str] = frozenset()
    """Lower-cased addresses that took part: the contact and every sender and recipient."""


@dataclass(frozen=True, slots=True)
class ThreadInput:
    """The parts of a message threading looks at."""

    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: str
    """Lower-cased address of the author."""


@dataclass(frozen=True, slots=True)
class KnownThreads:
    """A read-only snapshot of the store, loaded for one message."""

    by_message_id: Mapping[str, int] = field(default_factory=dict)
    """Stored Message-IDs among the message's thread keys → their ticket number."""
    answered_by: frozenset[int] = frozenset()
    """Tickets holding replies to this message that arrived before it."""
    token_ticket: TicketFacts | None = None
    """The ticket the subject token names, if it exists."""
    tickets: Mapping[int, TicketFacts] = field(default_factory=dict)
    """Facts of every ticket named above."""


@dataclass(frozen=True, slots=True)
class ThreadDecision:
    """Where a message goes."""

    ticket: int | None
    """The ticket it joins, or None for a new one."""
    matched_by: MatchedBy
    key: str | None
    """The Message-ID or token that matched."""
    merge: tuple[int, ...] = ()
    """Tickets to fold into ``ticket`` (or into the new ticket)."""
    reopen: bool = False
    """The ticket is closed and this message reopens it."""


@lru_cache(maxsize=16)
def _token_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(r"\[\s*" + re.escape(prefix) + r"\s*(\d{1,18})\s*\]")


def subject_token(subject: str, prefix: str = "#") -> int | None:
    """The ticket number in a ``[#1234]`` token of ``subject`` (the last one wins), or None."""
    matches = _token_pattern(prefix).findall(subject)
    return int(matches[-1]) if matches else None


def format_token(number: int, prefix: str = "#") -> str:
    """The subject token for ticket ``number``."""
    return f"[{prefix}{number}]"


def match_thread(
    mail: ThreadInput, known: KnownThreads, *, reopen_closed: bool = True
) -> ThreadDecision:
    """Decide which ticket ``mail`` belongs to."""
    target: int | None = None
    matched_by = MatchedBy.NEW
    key: str | None = None

    for mid in mail.in_reply_to:
        if mid in known.by_message_id:
            target, matched_by, key = known.by_message_id[mid], MatchedBy.IN_REPLY_TO, mid
            break
    if target is None:
        for mid in reversed(mail.references):
            if mid in known.by_message_id:
                target, matched_by, key = known.by_message_id[mid], MatchedBy.REFERENCES, mid
                break
    token = known.token_ticket
    # A token alone is guessable; it only counts for someone already in the conversation.
    if target is None and token is not None and mail.sender in token.participants:
        target, matched_by, key = token.number, MatchedBy.SUBJECT_TOKEN, f"#{token.number}"

    waiting = sorted(known.answered_by - ({target} if target is not None else set()))
    if target is None and waiting:
        target, matched_by, key = waiting[0], MatchedBy.EARLIER_REPLY, mail.message_id
        waiting = waiting[1:]

    reopen = False
    if target is not None and reopen_closed:
        facts = known.tickets.get(target)
        reopen = facts is not None and facts.status == CLOSED
    return ThreadDecision(target, matched_by, key, tuple(waiting), reopen)
