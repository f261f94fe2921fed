"""What ``gateway inspect`` shows: the pure pipeline's view of one message, as plain data."""

from __future__ import annotations

from typing import Any

from gateway.mail.forwards import ForwardKind
from gateway.mail.message import Address
from gateway.mail.parse import parse_message
from gateway.mail.understand import Context, Understanding, understand


def _address(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    return {"name": address.name, "address": address.address}


def describe(seen: Understanding) -> dict[str, Any]:
    """The JSON-ready description of an understood message (schema in the README)."""
    mail = seen.mail
    authorship = seen.authorship
    original = authorship.original
    original_sender: dict[str, Any] | None = None
    if original is not None:
        original_sender = {
            "name": original.sender.name,
            "address": original.sender.address,
            "date": original.date.isoformat() if original.date else original.date_text,
            "subject": original.subject,
        }
    elif authorship.kind is ForwardKind.GROUP_RELAY and authorship.author is not None:
        # A group relay rewrote From: the author is the original sender, and the message
        # itself is the original. (A server-side forward left From as it was: no original
        # sender to name, and none is invented; forwarded_by and delivered_to say what
        # happened on the way.)
        original_sender = {
            "name": authorship.author.name,
            "address": authorship.author.address,
            "date": mail.date.isoformat() if mail.date else None,
            "subject": mail.subject,
        }
    classification: dict[str, Any] = {
        "kind": seen.classification.kind.value,
        "reason": seen.classification.reason,
    }
    if (bounce := seen.classification.bounce) is not None:
        classification |= {
            "failed_recipient": bounce.failed_recipient,
            "status": bounce.status,
            "diagnostic": bounce.diagnostic,
            "original_message_id": bounce.original_message_id,
            "permanent": bounce.permanent,
        }
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
        "original_sender": original_sender,
        "forwarded_by": _address(authorship.forwarded_by),
        "forward_kind": authorship.kind.value,
        "forward_note": authorship.note or None,
        "delivered_to": list(authorship.delivered_to),
        "contact": _address(seen.contact),
        "classification": classification,
        "new_text": seen.reply.new_text,
        "quote_method": seen.reply.method,
        "signature": seen.reply.signature or None,
        "text": seen.text,
        "html": seen.html.html if seen.html else None,
        "blocked_images": list(seen.html.blocked_images) if seen.html else [],
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


def inspect_message(raw: bytes, context: Context | None = None) -> dict[str, Any]:
    """Parse and understand ``raw``, and describe it; never raises on bad input."""
    return describe(understand(parse_message(raw), context))
