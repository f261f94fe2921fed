"""Raw message bytes to a :class:`~gateway.mail.message.ParsedMail`, cheaply and without raising.

This is the first step of the ingest pipeline, so it uses the standard
library parser with the cheap ``compat32`` policy (``policy.default`` costs
about six times more) and decodes headers itself: RFC 2047 encoded words,
raw 8-bit header bytes, RFC 2231 parameters. Everything is bounded (headers,
MIME depth, part count, attached-message depth), and everything it had to fix
is named in ``ParsedMail.repairs`` with a short stable phrase.
"""

from __future__ import annotations

import binascii
import email
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import errors as email_errors
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from urllib.parse import unquote_to_bytes

from gateway.mail.charsets import decode_bytes, decode_header_bytes
from gateway.mail.message import Address, Attachment, ParsedMail

__all__ = ["MAX_HEADERS", "MAX_HEADER_VALUE", "MAX_MIME_DEPTH", "MAX_PARTS", "parse_message"]

MAX_HEADERS = 1000
"""Top-level headers kept; past this only the message's own headers (From, Subject,
Message-ID, Content-Type, ...) that were not seen yet are kept, with a repair."""
_MAX_HEADER_SCAN = 100_000
"""Header fields looked at at all: 10,000 Received lines above From are still read."""
# What a message needs to be read, threaded and classified. MTAs put their
# trace fields (Received, DKIM, ARC, ...) on top, so past MAX_HEADERS these are
# the ones still worth keeping.
_ESSENTIAL_HEADERS = frozenset(
    {
        *("from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id"),
        *("in-reply-to", "references", "mime-version", "content-type"),
        *("content-transfer-encoding", "content-disposition", "return-path", "auto-submitted"),
        *("precedence", "list-id", "list-unsubscribe", "x-original-from", "x-original-sender"),
        *("x-autoreply", "x-autorespond", "x-auto-response-suppress", "x-failed-recipients"),
        *("delivered-to", "x-original-to", "x-forwarded-for", "x-forwarded-to", "resent-from"),
    }
)
MAX_HEADER_VALUE = 64 * 1024
"""Characters kept of one header value."""
MAX_MIME_DEPTH = 20
"""Multipart nesting read; deeper containers are dropped with a repair."""
MAX_PARTS = 500
"""MIME parts read in one message, attached messages included."""
MAX_MESSAGE_DEPTH = 8
"""Attached messages inside attached messages parsed; deeper ones stay attachments."""
MAX_IDS = 100
"""Message-IDs kept from ``References`` / ``In-Reply-To``: the first and the newest."""
MAX_REPAIRS = 50

# Parsing nested containers recurses in the stdlib parser; past this many
# container declarations they are neutralised before parsing.
_MAX_CONTAINERS = 200
_MAX_ADDRESS_HEADER = 32 * 1024
_SCAN = 64 * 1024

_FOLD = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_WS = re.compile(r"\s+")
# RFC 2047 encoded word; sloppy forms too (no surrounding spaces, RFC 2231
# language suffix). The encoded text excludes '?' so scanning stays linear.
_ENCODED_WORD = re.compile(r"=\?([^?\s*]{1,40})(?:\*[^?\s]{0,20})?\?([qQbB])\?([^?]*)\?=")
_PARAM = re.compile(r';\s*([^\s=;"]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"?|[^;]*))?')
_ID_BRACKETED = re.compile(r"<([^<>]{1,998})>")
_COMMENT = re.compile(r"\([^()]*\)")
_ID_SPLIT = re.compile(r"[\s,;]+")
_CONTAINER = re.compile(rb"multipart/|message/", re.IGNORECASE)
_BOUNDARY_LINE = re.compile(rb"^--([0-9A-Za-z'()+_,\-./:=?]{1,70})[ \t]*\r?$", re.MULTILINE)
_HEADER_START = re.compile(rb"[!-9;-~]{1,76}:")
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I
)

_DEFECT_REPAIRS: dict[type[email_errors.MessageDefect], str] = {
    email_errors.NoBoundaryInMultipartDefect: "missing MIME boundary",
    email_errors.StartBoundaryNotFoundDefect: "MIME boundary not found",
    email_errors.CloseBoundaryNotFoundDefect: "closing MIME boundary missing",
    email_errors.MissingHeaderBodySeparatorDefect: "missing blank line after headers",
    email_errors.FirstHeaderLineIsContinuationDefect: "first header line is a continuation",
}
_ATTACHED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})


class _Repairs:
    """Repairs in first-seen order, each once, at most MAX_REPAIRS."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[str, None] = {}

    def add(self, phrase: str | None) -> None:
        if phrase is not None and len(self._seen) < MAX_REPAIRS:
            self._seen.setdefault(phrase, None)

    def values(self) -> tuple[str, ...]:
        return tuple(self._seen)


@dataclass(slots=True)
class _Budget:
    """Part count shared by a message and the messages attached to it."""

    parts: int = 0


@dataclass(slots=True)
class _Leaf:
    part: Message
    content_type: str
    params: dict[str, str]
    disposition: str | None
    filename: str | None
    content_id: str | None
    cte: str
    in_alternative: bool
    in_related: bool


def parse_message(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes into a :class:`ParsedMail`; never raises.

    Anything that had to be fixed or dropped to read the bytes is named in
    ``repairs`` (e.g. ``"bare LF line endings"``, ``"missing Message-ID"``,
    ``"charset: declared us-ascii, decoded as utf-8"``).
    """
    try:
        data = bytes(raw)
    except (TypeError, ValueError):
        data = b""
    return _parse_bytes(data, 0, _Budget())


def _parse_bytes(raw: bytes, depth: int, budget: _Budget) -> ParsedMail:
    repairs = _Repairs()
    try:
        data = raw
        if b"\x00" in data:
            data = data.replace(b"\x00", b"")
            repairs.add("NUL bytes removed")
        crlf = data.count(b"\r\n")
        lf = data.count(b"\n")
        if lf and not crlf:
            repairs.add("bare LF line endings")
        elif crlf and lf > crlf:
            repairs.add("mixed CRLF and LF line endings")
        if _count_containers(data) > _MAX_CONTAINERS:
            data = _neutralise_containers(data, _MAX_CONTAINERS)
            repairs.add(f"more than {_MAX_CONTAINERS} MIME containers flattened")
        try:
            msg = _quick_tree(data) or email.message_from_bytes(data, policy=compat32)
        except RecursionError:
            data = _neutralise_containers(data, MAX_MIME_DEPTH)
            repairs.add(f"multipart nesting deeper than {MAX_MIME_DEPTH} truncated")
            msg = email.message_from_bytes(data, policy=compat32)
        return _build(msg, len(raw), repairs, depth, budget)
    # Last resort, on purpose broad: the stdlib parser has had crashing inputs
    # before, and the pipeline must get a value (and keep the raw bytes), not a
    # traceback. The type name says what happened.
    except Exception as exc:  # noqa: BLE001
        repairs.add(f"unparseable message: {type(exc).__name__}")
        return _empty(len(raw), repairs)


# --- the common case, without the stdlib's line-by-line parser -------------------

_HEADER_NAME = re.compile(r"[\041-\071\073-\176]+")
"""What the stdlib parser takes for a header field name (its ``headerRE``)."""
_QUICK_MAX_PARTS = 64


def _quick_tree(data: bytes) -> Message | None:
    """The tree ``message_from_bytes(data, policy=compat32)`` builds, for plain, well-formed
    MIME; None for anything else (the caller then runs the stdlib parser).

    The stdlib parser reads a message line by line in Python; here headers are
    read line by line and bodies are cut at their boundary lines with ``find``,
    by the stdlib's own rules (RFC 2046: the line break before a boundary
    belongs to the boundary). Whatever the stdlib would flag as a defect, an
    attached message (``message/*``), an mbox ``From`` line or a bare CR makes
    this give up, so the two trees are the same wherever this one is built.
    """
    if data.count(b"\r") != data.count(b"\r\n") or data.startswith(b"From "):
        return None
    text = data.decode("ascii", "surrogateescape")
    parts = [0]
    return _quick_part(text, 0, len(text), parts, in_digest=False)


def _quick_part(
    text: str, start: int, end: int, parts: list[int], *, in_digest: bool
) -> Message | None:
    parts[0] += 1
    if parts[0] > _QUICK_MAX_PARTS or in_digest:
        return None
    msg = Message()
    pos = start
    lines: list[str] = []
    while True:
        nl = text.find("\n", pos, end)
        if nl == -1:
            return None  # no blank line before the body
        line = text[pos : nl + 1]
        pos = nl + 1
        if line == "\n" or line == "\r\n":
            break
        if line[0] in " \t":
            if not lines:
                return None  # a continuation line first
            lines.append(line)
            continue
        colon = line.find(":")
        if colon <= 0 or not _HEADER_NAME.fullmatch(line, 0, colon):
            return None
        if lines:
            msg.set_raw(*compat32.header_source_parse(lines))
        lines = [line]
    if lines:
        msg.set_raw(*compat32.header_source_parse(lines))
    maintype = msg.get_content_maintype()
    if maintype == "message":
        return None
    if maintype != "multipart":
        msg.set_payload(text[pos:end])
        return msg
    boundary = msg.get_boundary()
    cte = str(msg.get("content-transfer-encoding", "8bit")).lower()
    if not boundary or cte not in ("7bit", "8bit", "binary"):
        return None
    return _quick_multipart(msg, text, pos, end, "--" + boundary, parts)


def _boundary_line(text: str, at: int, end: int, separator: str) -> tuple[int, bool] | None:
    """(where the next line starts, whether it closes) when a boundary line starts at ``at``."""
    nl = text.find("\n", at, end)
    stop = end if nl == -1 else nl + 1
    rest = text[at + len(separator) : stop]
    closing = rest.startswith("--")
    if closing:
        rest = rest[2:]
    if rest.rstrip("\r\n").strip(" \t"):
        return None
    return stop, closing


def _next_boundary(text: str, pos: int, end: int, separator: str) -> tuple[int, int, bool] | None:
    """The next boundary line at or after ``pos``: (its start, the next line's, closing)."""
    at = pos if text.startswith(separator, pos, end) else -1
    while True:
        if at == -1:
            found = text.find("\n" + separator, pos, end)
            if found == -1:
                return None
            at = found + 1
        line = _boundary_line(text, at, end, separator)
        if line is not None:
            return at, line[0], line[1]
        pos, at = at + 1, -1


def _strip_eol(value: str) -> str:
    if value.endswith("\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith("\n") else value


def _quick_multipart(
    msg: Message, text: str, pos: int, end: int, separator: str, parts: list[int]
) -> Message | None:
    first = _next_boundary(text, pos, end, separator)
    if first is None or first[2]:
        return None  # no start boundary, or a close boundary first
    if first[0] > pos:
        msg.preamble = _strip_eol(text[pos : first[0]])
    digest = msg.get_content_type() == "multipart/digest"
    children: list[Message | str] = []
    start = first[1]
    while True:
        found = _next_boundary(text, start, end, separator)
        if found is None or found[0] == start:
            return None  # no close boundary, or two boundary lines in a row
        child = _quick_part(text, start, found[0], parts, in_digest=digest)
        if child is None:
            return None
        if child.is_multipart():
            if child.epilogue == "":
                child.epilogue = None
            elif child.epilogue is not None:
                child.epilogue = _strip_eol(child.epilogue)
        else:
            # The stored string, not get_payload(): that decodes 8-bit bytes with a charset.
            child.set_payload(_strip_eol(getattr(child, "_payload", "")))
        children.append(child)
        if found[2]:
            msg.set_payload(children)
            msg.epilogue = text[found[1] : end]
            return msg
        start = found[1]


def _empty(size: int, repairs: _Repairs) -> ParsedMail:
    return ParsedMail(
        message_id=None,
        in_reply_to=(),
        references=(),
        subject="",
        date=None,
        from_=None,
        sender=None,
        reply_to=(),
        to=(),
        cc=(),
        headers=(),
        text="",
        html=None,
        attachments=(),
        attached_messages=(),
        repairs=repairs.values(),
        size=size,
    )


def _count_containers(data: bytes) -> int:
    # bytes.count is far cheaper than a case-insensitive regex over the whole message.
    return sum(data.count(word) for word in (b"ultipart/", b"ULTIPART/", b"essage/", b"ESSAGE/"))


def _neutralise_containers(data: bytes, keep: int) -> bytes:
    """Turn every container type after the first ``keep`` into a leaf type."""
    seen = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal seen
        seen += 1
        return match.group(0) if seen <= keep else b"x-flattened/"

    return _CONTAINER.sub(replace, data)


# --- headers -----------------------------------------------------------------


def _to_bytes(value: str) -> bytes:
    """The bytes the parser read (it decodes them as ASCII with surrogateescape)."""
    try:
        return value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


def _unfold(value: str, repairs: _Repairs) -> str:
    """One header value: 8-bit bytes decoded, folding removed, length capped."""
    if len(value) > MAX_HEADER_VALUE:
        value = value[:MAX_HEADER_VALUE]
        repairs.add("header too long truncated")
    if not value.isascii():
        decoded = decode_header_bytes(_to_bytes(value))
        repairs.add(decoded.repair)
        value = decoded.text
    return _FOLD.sub("", value).strip()


def _decode_words(text: str, repairs: _Repairs) -> str:
    """Decode RFC 2047 encoded words, sloppy ones too; text between them is kept."""
    if "=?" not in text:
        return text
    out: list[str] = []
    pending = bytearray()
    pending_charset = ""
    pos = 0
    last_was_word = False

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            decoded = decode_bytes(bytes(pending), pending_charset, guess=False)
            repairs.add(decoded.repair)
            out.append(decoded.text)
        pending = bytearray()
        pending_charset = ""

    for match in _ENCODED_WORD.finditer(text):
        between = text[pos : match.start()]
        word = _decode_word(match.group(2), match.group(3))
        if word is None:
            # Undecodable: keep the literal text, as a reader would see it.
            flush()
            out.append(text[pos : match.end()])
            pos = match.end()
            last_was_word = False
            continue
        # RFC 2047 6.2: whitespace between adjacent encoded words is dropped.
        if between and not (last_was_word and between.isspace()):
            flush()
            out.append(between)
        charset = match.group(1).lower()
        if charset != pending_charset:
            flush()
            pending_charset = charset
        # Same-charset words are joined before decoding: encoders split
        # multibyte characters across words.
        pending += word
        pos = match.end()
        last_was_word = True
    flush()
    out.append(text[pos:])
    return "".join(out)


def _decode_word(encoding: str, payload: str) -> bytes | None:
    raw = payload.encode("utf-8", "replace")
    if encoding in "qQ":
        return binascii.a2b_qp(raw, header=True)
    if not raw.strip():
        return b""
    decoded = _decode_base64(raw)[0]
    # Nothing decodable at all: the caller keeps the literal text instead.
    return decoded or None


def _clean_value(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _decode_header(value: str, repairs: _Repairs) -> str:
    return _clean_value(_decode_words(value, repairs))


# --- message ids, dates, addresses -------------------------------------------


def _ids(value: str) -> list[str]:
    """Message-IDs in a header value, in order, without brackets or whitespace."""
    value = value[:_SCAN]
    found = [_WS.sub("", m) for m in _ID_BRACKETED.findall(value)]
    found = [f for f in found if f.strip("<>")]
    if found:
        return found
    # Sloppy: ids without angle brackets, comma or space separated.
    plain = _COMMENT.sub(" ", value)
    return [t.strip("<>\"'") for t in _ID_SPLIT.split(plain) if "@" in t and t.strip("<>\"'")]


def _message_id(value: str | None, repairs: _Repairs) -> str | None:
    if value is None or not value.strip():
        repairs.add("missing Message-ID")
        return None
    found = _ids(value)
    if found:
        if "<" not in value:
            repairs.add("Message-ID without angle brackets")
        return found[0][:998]
    token = _COMMENT.sub(" ", value).strip().split()
    if token and token[0].strip("<>"):
        repairs.add("Message-ID without angle brackets")
        return token[0].strip("<>")[:998]
    repairs.add("unusable Message-ID")
    return None


def _id_list(value: str | None, repairs: _Repairs) -> tuple[str, ...]:
    if not value:
        return ()
    ids = list(dict.fromkeys(_ids(value)))
    if len(ids) > MAX_IDS:
        # The root and the newest ids carry the thread; the middle does not.
        ids = [ids[0], *ids[-(MAX_IDS - 1) :]]
        repairs.add(f"more than {MAX_IDS} message ids truncated")
    return tuple(ids)


def _date(value: str | None, repairs: _Repairs) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        repairs.add("unparseable Date")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _addresses(values: Iterable[str], repairs: _Repairs) -> list[Address]:
    """Mailboxes of address header values (8-bit already decoded, words not yet)."""
    capped = []
    for value in values:
        if len(value) > _MAX_ADDRESS_HEADER:
            repairs.add("address header too long truncated")
            value = value[:_MAX_ADDRESS_HEADER]
        capped.append(value)
    capped = [_tidy_mailbox_syntax(v) for v in capped]
    pairs = _simple_mailboxes(capped)
    if pairs is None:
        pairs = getaddresses(capped)
    if not any("@" in addr for _, addr in pairs) and any("=?" in v for v in capped):
        # Some senders encode the whole "Name <addr>" as one encoded word.
        decoded = [_decode_words(v, repairs) for v in capped]
        if any("@" in v for v in decoded):
            pairs = getaddresses(decoded)
            repairs.add("encoded address decoded")
    out: list[Address] = []
    pending: list[str] = []
    for name, addr in pairs:
        addr = _clean_value(addr)
        if not addr:
            continue
        clean_name = " ".join(_decode_header(name, repairs).split()).strip("\"' ")
        if "@" not in addr and not clean_name and len(addr) <= 64:
            # A display name with an unquoted comma ("Doe, Jane <jane@x>") splits
            # off a bogus "address": it is the start of the next mailbox's name.
            pending.append(" ".join(_decode_header(addr, repairs).split()))
            out.append(Address(name="", address=addr))
            continue
        if pending and "@" in addr:
            clean_name = ", ".join([*pending, clean_name] if clean_name else pending)
        pending = []
        out.append(Address(name=clean_name, address=addr))
    with_at = [a for a in out if "@" in a.address]
    return with_at if with_at else out


_ATOM = r'[^\s"(),.:;<>@\[\]\\]+'
_DOT_ATOMS = rf"{_ATOM}(?:\.{_ATOM})*"
_SIMPLE_MAILBOX = re.compile(
    rf'[ \t]*(?:([^"(),:;<>@\[\]\\\r\n]*?)[ \t]*<({_DOT_ATOMS}@{_DOT_ATOMS})>'
    rf"|({_DOT_ATOMS}@{_DOT_ATOMS}))[ \t]*"
)
"""One mailbox with nothing to parse: ``addr@dom`` or ``Name <addr@dom>``, no quotes,
comments, groups or lists."""


def _simple_mailboxes(values: Sequence[str]) -> list[tuple[str, str]] | None:
    """``getaddresses(values)`` for values that are each one simple mailbox, else None.

    Nearly every From, To and Cc is one of these; ``getaddresses`` costs ten
    times more, and gives the same pairs (a test holds the two together).
    """
    pairs: list[tuple[str, str]] = []
    for value in values:
        found = _SIMPLE_MAILBOX.fullmatch(value)
        if found is None:
            return None
        name, bracketed, bare = found.groups()
        pairs.append(("", bare) if bare is not None else (" ".join(name.split()), bracketed))
    return pairs


_MAILTO_ANGLE = re.compile(r"<\s*mailto:", re.IGNORECASE)
_BRACKETED_ADDRESS = re.compile(
    r"\[\s*(?:mailto:)?([^\[\]\s@<>]+@[^\[\]\s<>]+?)\s*\]", re.IGNORECASE
)
_TRAILING_ADDRESS = re.compile(
    r"^([^<>\"(),;@]{1,200}?)\s+([^\s<>\"(),;@]{1,64}@[^\s<>\"(),;@]{1,255})\s*$"
)


def _tidy_mailbox_syntax(value: str) -> str:
    """Rewrite the mailbox forms clients get wrong into ``Name <addr>``.

    ``Name <mailto:addr>`` and ``Name [addr]`` (Outlook copies), and a bare
    ``Name addr`` that ``getaddresses`` would read as one odd address.
    """
    if "mailto:" in value.lower():
        value = _MAILTO_ANGLE.sub("<", value)
    if "<" not in value and "[" in value:
        value = _BRACKETED_ADDRESS.sub(r"<\1>", value)
    if "<" not in value and "@" in value:
        bare = _TRAILING_ADDRESS.match(value)
        if bare is not None:
            value = f"{bare.group(1)} <{bare.group(2)}>"
    return value


# --- MIME parameters ---------------------------------------------------------


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if value.startswith('"'):
        return value[1:]
    return value


def _params(value: str | None, repairs: _Repairs) -> tuple[str, dict[str, str]]:
    """The main value (lower-case) and parameters of a MIME header, RFC 2231 joined."""
    if not value:
        return "", {}
    value = value[:_SCAN]
    main, sep, rest = value.partition(";")
    params: dict[str, str] = {}
    extended: dict[str, list[tuple[int, bool, str]]] = {}
    for match in _PARAM.finditer(sep + rest):
        name = match.group(1).lower()
        raw = match.group(2) or ""
        if "*" in name:
            base, _, tail = name.partition("*")
            encoded = tail.endswith("*") or tail == ""
            index_text = tail.rstrip("*")
            index = int(index_text) if index_text.isdigit() and len(index_text) <= 3 else 0
            pieces = extended.setdefault(base, [])
            if len(pieces) < 64:
                pieces.append((index, encoded, _unquote(raw)))
        else:
            params.setdefault(name, _unquote(raw))
    for base, pieces in extended.items():
        # RFC 2231 wins over the plain parameter that clients send beside it.
        params[base] = _join_rfc2231(sorted(pieces, key=lambda p: p[0]), repairs)
    return main.strip().lower(), params


def _join_rfc2231(pieces: list[tuple[int, bool, str]], repairs: _Repairs) -> str:
    """Join RFC 2231 continuations, percent-decoding the encoded ones in their charset."""
    charset: str | None = None
    out: list[str] = []
    buffer = bytearray()
    for position, (_, encoded, text) in enumerate(pieces):
        if encoded:
            if position == 0 and text.count("'") >= 2:
                # charset'language'percent-encoded-text
                charset, _language, text = text.split("'", 2)
            buffer += unquote_to_bytes(text)
        else:
            if buffer:
                decoded = decode_bytes(bytes(buffer), charset or "utf-8", guess=False)
                repairs.add(decoded.repair)
                out.append(decoded.text)
                buffer = bytearray()
            out.append(text)
    if buffer:
        decoded = decode_bytes(bytes(buffer), charset or "utf-8", guess=False)
        repairs.add(decoded.repair)
        out.append(decoded.text)
    return "".join(out)


def _filename(value: str | None, repairs: _Repairs) -> str | None:
    if value is None:
        return None
    # Outlook writes RFC 2047 words inside the quoted name, sometimes inside RFC 2231 too.
    name = _clean_value(_decode_words(value, repairs))
    return name or None


def _content_id(value: str | None) -> str | None:
    if value is None:
        return None
    match = _ID_BRACKETED.search(value)
    cid = match.group(1) if match else value
    cid = _WS.sub("", cid).strip("<>")
    return cid or None


# --- bodies and parts --------------------------------------------------------


def _part_headers(part: Message) -> dict[str, str]:
    """The first value of each header of a MIME part, lower-case names, raw."""
    wanted: dict[str, str] = {}
    for count, (name, value) in enumerate(part.raw_items()):
        if count >= _MAX_HEADER_SCAN:
            break
        wanted.setdefault(name.lower(), value)
    return wanted


def _raw_payload(part: Message) -> bytes:
    """The undecoded body bytes of a leaf part.

    ``get_payload()`` would decode 8-bit bodies lossily with a guessed charset,
    and ``get_payload(decode=True)`` applies its own transfer decoding, so the
    stored payload is read directly.
    """
    payload = getattr(part, "_payload", "")
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return _to_bytes(payload)
    return b""


def _decode_base64(data: bytes) -> tuple[bytes, bool]:
    """Base64-decode leniently: (bytes, whether a repair was needed)."""
    try:
        return binascii.a2b_base64(data), False
    except binascii.Error:
        pass
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data.split(b"=", 1)[0])
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return binascii.a2b_base64(cleaned), True
    except binascii.Error:
        return b"", True


def _transfer_decode(data: bytes, cte: str, repairs: _Repairs) -> bytes:
    if cte == "base64":
        decoded, repaired = _decode_base64(data)
        if repaired:
            repairs.add("base64 damaged, decoded leniently")
        return decoded
    if cte == "quoted-printable":
        # a2b_qp keeps invalid escapes as written rather than failing.
        return binascii.a2b_qp(data)
    return data


def _walk(msg: Message, repairs: _Repairs, budget: _Budget) -> list[_Leaf]:
    """Leaves in document order, with their body-selection context; bounded."""
    leaves: list[_Leaf] = []
    # Explicit stack, not recursion: depth is bounded here, not by Python's stack.
    stack: list[tuple[Message, int, bool, bool]] = [(msg, 0, False, False)]
    while stack:
        part, depth, in_alt, in_rel = stack.pop()
        if budget.parts >= MAX_PARTS:
            repairs.add(f"more than {MAX_PARTS} MIME parts truncated")
            break
        budget.parts += 1
        for defect in part.defects:
            repairs.add(_DEFECT_REPAIRS.get(type(defect)))
        headers = _part_headers(part)
        ctype_value = headers.get("content-type")
        if ctype_value is not None and not ctype_value.isascii():
            ctype_value = decode_header_bytes(_to_bytes(ctype_value)).text
        ctype, params = _params(_FOLD.sub("", ctype_value or ""), repairs)
        if ctype.count("/") != 1 or " " in ctype:
            if ctype:
                repairs.add("invalid Content-Type")
            ctype = part.get_default_type()
        payload = part.get_payload() if part.is_multipart() else None
        if ctype.startswith("multipart/"):
            if isinstance(payload, list):
                if depth >= MAX_MIME_DEPTH:
                    repairs.add(f"multipart nesting deeper than {MAX_MIME_DEPTH} truncated")
                    continue
                children_alt = ctype == "multipart/alternative"
                children_rel = ctype == "multipart/related" or (in_rel and not children_alt)
                for child in reversed(payload):
                    if isinstance(child, Message):
                        stack.append((child, depth + 1, children_alt or in_alt, children_rel))
                continue
            recovered = _recover_multipart(part, ctype)
            if recovered is not None:
                for child in reversed(recovered):
                    stack.append((child, depth + 1, in_alt, in_rel))
                continue
            # No usable boundary: the body is read as plain text.
            ctype, params = "text/plain", {"charset": params.get("charset", "")}
        leaves.append(_leaf(part, headers, ctype, params, in_alt, in_rel, repairs))
    return leaves


def _recover_multipart(part: Message, ctype: str) -> list[Message] | None:
    """Re-split a multipart whose declared boundary is missing or never appears."""
    body = _raw_payload(part)
    match = _BOUNDARY_LINE.search(body, 0, _SCAN)
    if match is None:
        return None
    boundary = match.group(1)
    if body.count(b"--" + boundary) < 2:
        return None
    head = b"Content-Type: " + ctype.encode("ascii", "replace") + b'; boundary="'
    rebuilt = email.message_from_bytes(head + boundary + b'"\r\n\r\n' + body, policy=compat32)
    children = rebuilt.get_payload() if rebuilt.is_multipart() else None
    if not isinstance(children, list):
        return None
    return [child for child in children if isinstance(child, Message)]


def _leaf(
    part: Message,
    headers: dict[str, str],
    ctype: str,
    params: dict[str, str],
    in_alt: bool,
    in_rel: bool,
    repairs: _Repairs,
) -> _Leaf:
    disp_value = headers.get("content-disposition")
    disposition: str | None = None
    disp_params: dict[str, str] = {}
    if disp_value is not None:
        disposition, disp_params = _params(_unfold(disp_value, repairs), repairs)
        disposition = disposition or None
    name = disp_params.get("filename") or params.get("name")
    cte_value = headers.get("content-transfer-encoding", "")
    cte = _FOLD.sub("", cte_value).strip().lower().split(";")[0].strip()
    return _Leaf(
        part=part,
        content_type=ctype,
        params=params,
        disposition=disposition,
        filename=_filename(name, repairs),
        content_id=_content_id(headers.get("content-id")),
        cte=cte,
        in_alternative=in_alt,
        in_related=in_rel,
    )


def _is_body_candidate(leaf: _Leaf) -> bool:
    return leaf.disposition != "attachment" and leaf.filename is None


def _pick(leaves: list[_Leaf], ctype: str) -> _Leaf | None:
    candidates = [leaf for leaf in leaves if leaf.content_type == ctype]
    bodies = [leaf for leaf in candidates if _is_body_candidate(leaf)]
    for leaf in bodies:
        if leaf.in_alternative:
            return leaf
    if bodies:
        return bodies[0]
    # Last chance: an inline text part that carries a file name.
    for leaf in candidates:
        if leaf.disposition != "attachment":
            return leaf
    return None


def _body_text(leaf: _Leaf, repairs: _Repairs) -> str:
    data = _transfer_decode(_raw_payload(leaf.part), leaf.cte, repairs)
    charset = leaf.params.get("charset") or None
    if charset is None and leaf.content_type == "text/html":
        meta = _META_CHARSET.search(data, 0, 4096)
        if meta is not None:
            charset = meta.group(1).decode("ascii")
    decoded = decode_bytes(data, charset)
    repairs.add(decoded.repair)
    return decoded.text.replace("\r\n", "\n").replace("\r", "\n")


def _serialise(msg: Message) -> bytes:
    """The bytes of a parsed message part, or ``b""`` when the generator cannot."""
    try:
        return msg.as_bytes()
    except (ValueError, TypeError, LookupError, AttributeError, IndexError, RecursionError):
        return b""


def _attachment(leaf: _Leaf, data: bytes) -> Attachment:
    inline = leaf.disposition == "inline" or (
        leaf.disposition is None and leaf.content_id is not None and leaf.in_related
    )
    return Attachment(
        filename=leaf.filename,
        content_type=leaf.content_type,
        size=len(data),
        content_id=leaf.content_id,
        inline=inline,
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )


def _looks_like_message(data: bytes) -> bool:
    head = data[:4096]
    return _HEADER_START.match(head) is not None and (
        b"\nFrom:" in head or b"\nSubject:" in head or head.startswith((b"From:", b"Received:"))
    )


def _build(msg: Message, size: int, repairs: _Repairs, depth: int, budget: _Budget) -> ParsedMail:
    headers: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    address_values: dict[str, list[str]] = {}
    for count, (name, value) in enumerate(msg.raw_items()):
        key = name.lower()
        if count >= MAX_HEADERS and (
            count >= _MAX_HEADER_SCAN or key not in _ESSENTIAL_HEADERS or key in first
        ):
            repairs.add(f"more than {MAX_HEADERS} headers truncated")
            if count >= _MAX_HEADER_SCAN:
                break
            continue
        unfolded = _unfold(value, repairs)
        first.setdefault(key, unfolded)
        if key in ("to", "cc"):
            address_values.setdefault(key, []).append(unfolded)
        headers.append((name, _decode_header(unfolded, repairs)))
    if not headers and size:
        repairs.add("no headers")

    message_id = _message_id(first.get("message-id"), repairs)
    from_list = _addresses([first["from"]], repairs) if "from" in first else []
    sender_list = _addresses([first["sender"]], repairs) if "sender" in first else []

    leaves = _walk(msg, repairs, budget)
    text_leaf = _pick(leaves, "text/plain")
    html_leaf = _pick(leaves, "text/html")
    attachments: list[Attachment] = []
    attached: list[ParsedMail] = []
    for leaf in leaves:
        if leaf is text_leaf or leaf is html_leaf:
            continue
        _collect(leaf, repairs, depth, budget, attachments, attached)

    subject = " ".join(_decode_header(first.get("subject", ""), repairs).split())
    return ParsedMail(
        message_id=message_id,
        in_reply_to=_id_list(first.get("in-reply-to"), repairs),
        references=_id_list(first.get("references"), repairs),
        subject=subject,
        date=_date(first.get("date"), repairs),
        from_=from_list[0] if from_list else None,
        sender=sender_list[0] if sender_list else None,
        reply_to=tuple(_addresses([first["reply-to"]], repairs)) if "reply-to" in first else (),
        to=tuple(_addresses(address_values.get("to", ()), repairs)),
        cc=tuple(_addresses(address_values.get("cc", ()), repairs)),
        headers=tuple(headers),
        text=_body_text(text_leaf, repairs) if text_leaf is not None else "",
        html=_body_text(html_leaf, repairs) if html_leaf is not None else None,
        attachments=tuple(attachments),
        attached_messages=tuple(attached),
        repairs=repairs.values(),
        size=size,
    )


def _collect(
    leaf: _Leaf,
    repairs: _Repairs,
    depth: int,
    budget: _Budget,
    attachments: list[Attachment],
    attached: list[ParsedMail],
) -> None:
    """File a non-body leaf as an attachment or an attached message."""
    part = leaf.part
    if leaf.content_type.startswith("message/"):
        inner = part.get_payload() if part.is_multipart() else None
        children = [c for c in inner if isinstance(c, Message)] if isinstance(inner, list) else []
        if leaf.content_type in _ATTACHED_MESSAGE_TYPES:
            if leaf.cte in ("base64", "quoted-printable") and children:
                # Illegal but seen: an encoded message/rfc822 body, which the
                # stdlib parser read as a header-less message.
                data = _transfer_decode(_raw_payload(children[0]), leaf.cte, repairs)
                _attach_message_bytes(leaf, data, repairs, depth, budget, attachments, attached)
                return
            if children and depth < MAX_MESSAGE_DEPTH:
                sub_repairs = _Repairs()
                sub_size = len(_serialise(children[0]))
                attached.append(_build(children[0], sub_size, sub_repairs, depth + 1, budget))
                return
            if children:
                repairs.add(f"attached messages deeper than {MAX_MESSAGE_DEPTH} kept as files")
        data = b"".join(_serialise(c) for c in children) if children else _raw_payload(part)
        attachments.append(_attachment(leaf, data))
        return
    data = _transfer_decode(_raw_payload(part), leaf.cte, repairs)
    name = (leaf.filename or "").lower()
    if leaf.content_type == "application/ms-tnef" or name == "winmail.dat":
        repairs.add("TNEF not decoded")
    if (
        name.endswith(".eml")
        and leaf.content_type in ("application/octet-stream", "text/plain", "application/x-eml")
        and _looks_like_message(data)
    ):
        _attach_message_bytes(leaf, data, repairs, depth, budget, attachments, attached)
        return
    attachments.append(_attachment(leaf, data))


def _attach_message_bytes(
    leaf: _Leaf,
    data: bytes,
    repairs: _Repairs,
    depth: int,
    budget: _Budget,
    attachments: list[Attachment],
    attached: list[ParsedMail],
) -> None:
    if depth < MAX_MESSAGE_DEPTH:
        attached.append(_parse_bytes(data, depth + 1, budget))
    else:
        repairs.add(f"attached messages deeper than {MAX_MESSAGE_DEPTH} kept as files")
        attachments.append(_attachment(leaf, data))
