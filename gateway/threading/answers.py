"""Agent or customer: what a mail to a signed reply address is, decided without I/O.

A mail is an agent's answer only when every check passes:

1. a ``+tag`` of a team address among its recipients is a key that verifies;
2. the key's role is *agent* (a customer's key only threads the customer's mail);
3. the key's holder is an active agent and the key is younger than the configured
   maximum age;
4. the header ``From`` and the envelope sender (when there is one) are that agent's
   personal address: the address alone never makes anyone an agent, and a key alone
   is not enough either (a notification can be forwarded);
5. the mail does not answer a notification of another ticket;
6. optionally, the trusted MTA's ``Authentication-Results`` say DKIM or SPF pass
   for the agent's domain.

Replays: the same answer delivered again has the same Message-ID, so it is a
duplicate and is stored and relayed once. A key older than ``key_max_age_days``
is refused, so a key found in an old mail cannot be used for ever.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from html import unescape

from gateway.threading.reply_keys import KeyProblem, ReplyKey, Role, verify_reply_key

__all__ = [
    "AgentFacts",
    "Commands",
    "FoundKey",
    "Refusal",
    "authentication_passes",
    "find_reply_key",
    "is_status_mail",
    "judge_agent_answer",
    "notification_ticket",
    "parse_commands",
    "strip_agent_signature",
    "strip_echo",
]


class Refusal(StrEnum):
    """Why a mail to a reply address is not relayed as an agent's answer."""

    FORGED = "forged_key"
    CUSTOMER_KEY = "customer_key_as_agent"
    UNKNOWN_AGENT = "unknown_agent"
    EXPIRED = "expired_key"
    WRONG_SENDER = "wrong_sender"
    WRONG_TICKET = "wrong_ticket"
    UNAUTHENTICATED = "unauthenticated"


@dataclass(frozen=True, slots=True)
class FoundKey:
    """A reply-address ``+tag`` that is one of ours: the verified key, or forged."""

    team_address: str
    key: ReplyKey | None
    """``None`` when the signature is wrong."""


@dataclass(frozen=True, slots=True)
class AgentFacts:
    """The key holder as the store knows them."""

    id: int
    address: str
    active: bool


def _split(address: str) -> tuple[str, str, str] | None:
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or "+" not in local:
        return None
    base, _, tag = local.partition("+")
    return base.lower(), tag, domain.lower()


def find_reply_key(
    secret: bytes, addresses: Iterable[str], team_addresses: Iterable[str]
) -> FoundKey | None:
    """The first reply key among ``addresses`` (envelope first, then headers), or None.

    An ordinary ``+tag`` that does not look like a key is none; one that looks like a
    key but does not verify is a forged :class:`FoundKey`.
    """
    teams = {t.lower() for t in team_addresses}
    forged: FoundKey | None = None
    for address in addresses:
        parts = _split(address)
        if parts is None:
            continue
        base, tag, domain = parts
        team = f"{base}@{domain}"
        if team not in teams:
            continue
        result = verify_reply_key(secret, tag)
        if isinstance(result, ReplyKey):
            return FoundKey(team, result)
        if result is KeyProblem.FORGED and forged is None:
            forged = FoundKey(team, None)
    return forged


_NOTIFY_ID = re.compile(r"^notify\.(\d{1,18})\.")


def notification_ticket(message_id: str, domain: str) -> int | None:
    """The ticket a notification Message-ID of ours names, or None."""
    local, _, host = message_id.rpartition("@")
    if host.lower() != domain.lower():
        return None
    match = _NOTIFY_ID.match(local)
    return int(match.group(1)) if match else None


def judge_agent_answer(
    found: FoundKey,
    agent: AgentFacts | None,
    *,
    header_from: str | None,
    envelope_from: str | None,
    answers: Sequence[str],
    id_domain: str,
    today: date,
    max_age_days: int,
    authenticated: bool | None,
) -> Refusal | None:
    """Why this keyed mail is not the key holder's answer, or None when it is.

    ``answers`` are the Message-IDs it replies to; ``authenticated`` is None when
    authentication is not required.
    """
    key = found.key
    if key is None:
        return Refusal.FORGED
    if key.role is not Role.AGENT:
        return Refusal.CUSTOMER_KEY
    if agent is None or not agent.active or agent.id != key.holder:
        return Refusal.UNKNOWN_AGENT
    if (today - key.issued).days > max_age_days:
        return Refusal.EXPIRED
    senders = [header_from or ""]
    if envelope_from:
        senders.append(envelope_from)
    if any(s.strip().lower() != agent.address for s in senders):
        return Refusal.WRONG_SENDER
    for mid in answers:
        other = notification_ticket(mid, id_domain)
        if other is not None and other != key.ticket:
            return Refusal.WRONG_TICKET
    if authenticated is False:
        return Refusal.UNAUTHENTICATED
    return None


_RESULT = re.compile(r"\b(dkim|spf)\s*=\s*(\w+)([^;]*)", re.IGNORECASE)
_DOMAIN_PROP = re.compile(r"\b(?:header\.d|header\.i|smtp\.mailfrom)\s*=\s*\S*?@?([\w.-]+)\b")


def authentication_passes(headers: Iterable[str], authserv_id: str | None, domain: str) -> bool:
    """True when an ``Authentication-Results`` of the trusted MTA says DKIM or SPF pass
    for ``domain`` (RFC 8601). Headers of other authserv-ids are ignored: anyone can
    write one."""
    wanted = domain.lower()
    for value in headers:
        serv = value.split(";", 1)[0].strip().split()
        if not serv or (authserv_id and serv[0].lower() != authserv_id.lower()):
            continue
        for _method, result, props in _RESULT.findall(value):
            if result.lower() != "pass":
                continue
            domains = {d.lower() for d in _DOMAIN_PROP.findall(props)}
            if not domains or wanted in domains:
                return True
    return False


STATUS_WORDS = frozenset({"#away", "#available"})
"""An agent's own status commands (issue 6, routing): not an answer to anyone."""


_STATUS_WORD = re.compile(r"#\s*(?:away|available)", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")


def may_be_status_mail(subject: str, text: str, html: str | None) -> bool:
    """False when a mail cannot be a status mail, decided before its body is read.

    The new text is cut from the text or the HTML body, so a status word that
    is in neither (nor in the subject) cannot be its first line. HTML is looked
    at without its tags and with its character references decoded.
    """
    if _STATUS_WORD.search(subject) or _STATUS_WORD.search(text):
        return True
    return bool(html) and _STATUS_WORD.search(unescape(_TAG.sub("", html or ""))) is not None


def is_status_mail(subject: str, new_text: str) -> bool:
    """True when the subject or the first line written is ``#away`` or ``#available``."""
    first = next((line.strip() for line in new_text.splitlines() if line.strip()), "")
    return any(
        c.lower().removeprefix("re:").strip() in STATUS_WORDS for c in (subject.strip(), first)
    )


@dataclass(frozen=True, slots=True)
class Commands:
    """The commands on the first line of an agent's answer, and the text without them."""

    note: bool = False
    close: bool = False
    assign: str | None = None
    unknown: tuple[str, ...] = ()
    text: str = ""
    """The answer's text without the command line."""


_COMMAND = re.compile(r"#(note|close|assign)\b(?:\s+(\S+@\S+))?", re.IGNORECASE)


def parse_commands(text: str) -> Commands:
    """``#note``, ``#close`` and ``#assign <address>`` on the first non-blank line.

    The line counts only when it holds nothing but commands; ``#assign`` needs an
    address. The text returned has that line removed.
    """
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not lines[first].lstrip().startswith("#"):
        return Commands(text=text)
    line = lines[first].strip()
    if _COMMAND.sub("", line).strip(" ,;"):
        return Commands(text=text)  # a line that merely starts with "#", e.g. "#1 priority"
    note = close = False
    assign: str | None = None
    unknown: list[str] = []
    for name, arg in _COMMAND.findall(line):
        match name.lower():
            case "note":
                note = True
            case "close":
                close = True
            case _:
                if arg:
                    assign = arg.strip("<>,;").lower()
                else:
                    unknown.append("#assign without an address")
    rest = "\n".join(lines[first + 1 :]).strip("\n")
    return Commands(note, close, assign, tuple(unknown), rest)


_QUOTE_PREFIX = re.compile(r"^[\s>|]+")


def _echo_key(line: str) -> str:
    return " ".join(_QUOTE_PREFIX.sub("", line).split())


def strip_echo(text: str, sent: str) -> str:
    """``text`` without the lines that quote ``sent`` (the notification it answers).

    The gateway knows exactly what it sent, so a quote of it is recognised whatever
    the client's quoting looks like (``>``, a tab, spaces: s-nail indents with a tab by
    default), and the attribution line before it goes too. Only indented or
    ``>``-prefixed lines count, so a line the agent typed is never taken for a quote.
    """
    known = {key for line in sent.splitlines() if (key := _echo_key(line))}
    lines = text.splitlines()
    drop = [bool(line[:1] in ("\t", " ", ">", "|") and _echo_key(line) in known) for line in lines]
    for i, line in enumerate(lines):
        # An empty quoted line ("> ", a lone tab) inside an echoed block goes with it.
        if not drop[i] and not _echo_key(line) and i > 0 and drop[i - 1]:
            drop[i] = True
    for i, line in enumerate(lines):
        if drop[i] or not line.rstrip().endswith(":"):
            continue
        nxt = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
        if nxt is not None and drop[nxt]:
            drop[i] = True  # "Ann via Acme <support+…> wrote:"
    kept = [line for line, gone in zip(lines, drop, strict=True) if not gone]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


MAX_SIGNATURE_LINES = 8


def strip_agent_signature(text: str, full_name: str) -> str:
    """``text`` without a closing block that starts with the agent's own full name.

    Clients such as Outlook insert the personal signature without a ``-- `` line, so
    the quote extraction keeps it; the gateway knows the agent's name, and the team
    signature replaces it. A sign-off (``Best regards,`` then the name) is kept.
    """
    name = " ".join(full_name.split()).lower()
    if not name:
        return text
    blocks = re.split(r"\n[ \t]*\n", text.strip("\n"))
    if len(blocks) < 2:
        return text
    last = blocks[-1].splitlines()
    if len(last) > MAX_SIGNATURE_LINES or " ".join(last[0].split()).lower() != name:
        return text
    return "\n\n".join(blocks[:-1])
