"""What ``gateway inspect`` shows: the pure pipeline's view of one message, as plain data."""

from __future__ import annotations

from typing import Any

from gateway.mail.message import Address, ParsedMail
from gateway.mail.parse import parse_message


def _address(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    return {"name": address.name, "address": address.address}


def describe(mail: ParsedMail) -> dict[str, Any]:
    """The JSON-ready description of a parsed message (schema in the README)."""
    return {
        "from": _address(mail.from_),
        "to": [_address(a) for a in mail.to],
        "cc": [_address(a) for a in mail.cc],
        "reply_to": [_address(a) for a in mail.reply_to],
        "subject": mail.subject,
        "date": mail.date.isoformat() if mail.date else None,
        "message_id": mail.message_id,
        "in_reply_to": list(mail.in_reply_to),
        "references": list(mail.references),
        "thread_keys": list(mail.thread_keys),
        "text": mail.text,
        "has_html": mail.html is not None,
        "attachments": [
            {
                "name": a.filename,
                "type": a.content_type,
                "size": a.size,
                "content_id": a.content_id,
                "inline": a.inline,
            }
            for a in mail.attachments
        ],
        "attached_messages": len(mail.attached_messages),
        "repairs": list(mail.repairs),
        "size": mail.size,
    }


def inspect_message(raw: bytes) -> dict[str, Any]:
    """Parse ``raw`` and describe it; never raises on bad input."""
    return describe(parse_message(raw))
