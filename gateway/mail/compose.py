"""Outgoing mail as bytes: answers, notifications, acknowledgements and alerts.

``render_mail`` turns an :class:`Outgoing` value into the exact bytes the
outbox stores and the relay sends (CRLF line ends, MIME, RFC 2047 names), so a
resend after a crash is byte for byte the same mail. Pure: the caller picks
the Message-ID and the date.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime

__all__ = [
    "LOOP_HEADER",
    "Outgoing",
    "OutgoingFile",
    "make_message_id",
    "render_mail",
    "text_to_html",
]

LOOP_HEADER = "X-Helpdesk-Gateway-Loop"
"""Every outgoing mail carries it (value: the Message-ID domain), so ours coming back is a loop."""
MAX_REFERENCES = 20
"""References kept: the first (the thread's root) and the newest ones."""


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """An attachment of an outgoing mail."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Everything an outgoing mail says; ``render_mail`` makes bytes of it."""

    from_name: str
    from_address: str
    to: tuple[tuple[str, str], ...]
    """(display name, address) pairs."""
    subject: str
    message_id: str
    """Without angle brackets."""
    date: datetime
    text: str
    html: str | None = None
    """When set, the mail is multipart/alternative (text, then this HTML)."""
    reply_to: tuple[str, str] | None = None
    """(display name, address)."""
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[OutgoingFile, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    """Further headers, e.g. ``Auto-Submitted``."""


def make_message_id(kind: str, seed: str, domain: str) -> str:
    """A gateway-owned Message-ID, the same for the same ``seed``: ``kind.<hash>@domain``.

    Deterministic on purpose: processing the same input twice names the same mail.
    """
    digest = hashlib.sha256(f"{kind}\0{seed}".encode()).hexdigest()[:32]
    return f"{kind}.{digest}@{domain}"


def text_to_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs (blank lines split them, line ends are ``<br>``)."""
    paragraphs = [p.strip("\n") for p in text.replace("\r\n", "\n").split("\n\n")]
    return "\n".join(
        "<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs if p.strip()
    )


def _address(name: str, address: str) -> HeaderAddress:
    local, _, domain = address.rpartition("@")
    return HeaderAddress(display_name=" ".join(name.split()), username=local, domain=domain)


def _references(refs: tuple[str, ...]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(r for r in refs if r))
    if len(unique) <= MAX_REFERENCES:
        return unique
    # RFC 5322 3.6.4: keep the root and the newest, so the thread still joins.
    return (unique[0], *unique[-(MAX_REFERENCES - 1) :])


def render_mail(out: Outgoing) -> bytes:
    """The bytes of ``out``, CRLF line ends, ready for SMTP ``DATA``."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _address(out.from_name, out.from_address)
    msg["To"] = [_address(name, address) for name, address in out.to]
    msg["Subject"] = " ".join(out.subject.split())
    msg["Date"] = format_datetime(out.date)
    msg["Message-ID"] = f"<{out.message_id}>"
    if out.reply_to is not None:
        msg["Reply-To"] = _address(*out.reply_to)
    if out.in_reply_to:
        msg["In-Reply-To"] = f"<{out.in_reply_to}>"
    refs = _references((*out.references, *((out.in_reply_to,) if out.in_reply_to else ())))
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    for name, value in out.headers:
        msg[name] = value
    msg.set_content(out.text if out.text.endswith("\n") else out.text + "\n")
    if out.html is not None:
        msg.add_alternative(out.html, subtype="html")
    for file in out.attachments:
        maintype, _, subtype = file.content_type.partition("/")
        msg.add_attachment(
            file.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=file.filename or "attachment",
        )
    # Boundaries from the Message-ID: the same value always renders to the same bytes.
    seed = hashlib.sha256(out.message_id.encode()).hexdigest()[:24]
    for index, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_gw_{seed}_{index}")
    return msg.as_bytes()
