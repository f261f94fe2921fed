"""The value a parsed message is: what every later step of the pipeline reads.

``parse_message`` (in :mod:`gateway.mail.parse`) builds it from raw bytes and
never raises; everything it had to fix to read the bytes is listed in
``repairs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox from an address header."""

    name: str
    """Display name, decoded (RFC 2047), or ``""``."""
    address: str
    """The addr-spec as written (``Jane.Doe@Example.COM``)."""

    @property
    def normalized(self) -> str:
        """The address as the gateway compares it: stripped and lower-cased."""
        return self.address.strip().lower()

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True, slots=True)
class Attachment:
    """A part of the message that is not its body text."""

    filename: str | None
    """Decoded file name (RFC 2231 / RFC 2047), or ``None``."""
    content_type: str
    """Lower-case ``type/subtype``."""
    size: int
    """Size in bytes after transfer decoding."""
    content_id: str | None
    """``Content-ID`` without angle brackets, for ``cid:`` references."""
    inline: bool
    """True for ``Content-Disposition: inline`` parts (embedded images)."""
    sha256: str
    """Hex digest of the decoded bytes: the blob store's key."""
    data: bytes = field(repr=False)
    """The decoded bytes."""


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """A message read from raw bytes, with decoded headers and bodies."""

    message_id: str | None
    """``Message-ID`` without angle brackets, or ``None`` when missing or unusable."""
    in_reply_to: tuple[str, ...]
    """Message-IDs named in ``In-Reply-To``, without angle brackets, in order."""
    references: tuple[str, ...]
    """Message-IDs named in ``References``, without angle brackets, oldest first."""
    subject: str
    """Decoded subject, whitespace folded, ``""`` when missing."""
    date: datetime | None
    """``Date`` as an aware datetime (naive dates are taken as UTC), or ``None``."""
    from_: Address | None
    """First mailbox of ``From``."""
    sender: Address | None
    """``Sender``, when present."""
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    headers: tuple[tuple[str, str], ...]
    """Every top-level header as (name as written, decoded and unfolded value), in order."""
    text: str
    """The plain-text body (first ``text/plain`` body part), decoded to str; ``""`` if none."""
    html: str | None
    """The HTML body (first ``text/html`` body part), decoded, unsanitised; ``None`` if none."""
    attachments: tuple[Attachment, ...]
    """Non-body parts, depth-first, excluding attached messages' own parts."""
    attached_messages: tuple[ParsedMail, ...]
    """``message/rfc822`` parts (forward as attachment), parsed the same way."""
    repairs: tuple[str, ...]
    """What had to be fixed to read the bytes (short stable phrases)."""
    size: int
    """Length of the raw bytes."""
    _first: dict[str, str] = field(init=False, repr=False, compare=False)
    """Lower-cased header name → its first value: :meth:`header` is asked often."""

    def __post_init__(self) -> None:
        first = {key.lower(): value for key, value in reversed(self.headers)}
        object.__setattr__(self, "_first", first)

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or ``None``."""
        return self._first.get(name.lower())

    def header_all(self, name: str) -> tuple[str, ...]:
        """Every header called ``name`` (case-insensitive), in order."""
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)

    @property
    def thread_keys(self) -> tuple[str, ...]:
        """Message-IDs this message answers: In-Reply-To first, then References newest first."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            if mid != self.message_id:
                seen.setdefault(mid, None)
        return tuple(seen)
