"""Signed reply keys: the ``+tag`` of a reply address says which ticket and who it was issued to.

A key is ``r`` + base32 (lower case, no padding) of::

    version (1) | role (1: "a" agent, "c" customer) | ticket (6) | holder id (4)
    | issued day (3) | HMAC (10)

The HMAC-SHA256 (truncated to 80 bits) covers everything before it, so nobody
can make a key for another ticket, another holder or another role, and a
customer's key can never pass for an agent's. Lower-case base32 survives MTAs
and clients that change the case of local parts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

VERSION = 1
PREFIX = "r"
_BODY = struct.Struct(">Bc6s4s3s")
_MAC_BYTES = 10
_EPOCH = date(2020, 1, 1)


class Role(StrEnum):
    """Whom a key was issued to."""

    AGENT = "a"
    CUSTOMER = "c"


@dataclass(frozen=True, slots=True)
class ReplyKey:
    """What a verified key says."""

    role: Role
    ticket: int
    holder: int
    """The agent's user id, or the customer's contact id."""
    issued: date


class KeyProblem(StrEnum):
    """Why a tag is not a usable key."""

    NOT_A_KEY = "not_a_key"
    """It does not look like one of ours (an ordinary +tag)."""
    FORGED = "forged"
    """It looks like a key but its signature is wrong."""


def _mac(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).digest()[:_MAC_BYTES]


def sign_reply_key(secret: bytes, key: ReplyKey) -> str:
    """The ``+tag`` for ``key``, signed with ``secret``."""
    day = max(0, (key.issued - _EPOCH).days)
    body = _BODY.pack(
        VERSION,
        key.role.value.encode(),
        key.ticket.to_bytes(6, "big"),
        key.holder.to_bytes(4, "big"),
        day.to_bytes(3, "big"),
    )
    raw = body + _mac(secret, body)
    return PREFIX + base64.b32encode(raw).decode().rstrip("=").lower()


def verify_reply_key(secret: bytes, tag: str) -> ReplyKey | KeyProblem:
    """The key a ``+tag`` carries, or why it is none. Never raises."""
    tag = tag.strip().lower()
    length = _BODY.size + _MAC_BYTES
    expected_chars = len(base64.b32encode(bytes(length)).rstrip(b"="))
    if not tag.startswith(PREFIX) or len(tag) != len(PREFIX) + expected_chars:
        return KeyProblem.NOT_A_KEY
    text = tag[len(PREFIX) :].upper()
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return KeyProblem.NOT_A_KEY
    body, mac = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(mac, _mac(secret, body)):
        return KeyProblem.FORGED
    version, role, ticket, holder, day = _BODY.unpack(body)
    if version != VERSION or role not in (b"a", b"c"):
        return KeyProblem.FORGED
    return ReplyKey(
        role=Role(role.decode()),
        ticket=int.from_bytes(ticket, "big"),
        holder=int.from_bytes(holder, "big"),
        issued=date.fromordinal(_EPOCH.toordinal() + int.from_bytes(day, "big")),
    )


def reply_address(team_address: str, tag: str) -> str:
    """``support@acme.example`` + tag → ``support+tag@acme.example``."""
    local, _, domain = team_address.partition("@")
    return f"{local}+{tag}@{domain}"
