"""Who really wrote a message: group relays, server forwards, hand forwards, attached mail.

:func:`resolve_authorship` looks at a :class:`~gateway.mail.message.ParsedMail`
and says which of five things it is, in this order (first hit wins):

1. a delivery report (``multipart/report``): never a forward, bounces are
   classified elsewhere;
2. a **group relay** that rewrote ``From`` (Google Groups and Mailman under
   DMARC: ``'Alice' via Support <support@acme.example>``): the author comes from
   ``X-Original-From``, ``Reply-To`` or ``X-Original-Sender``;
3. a message **forwarded as attachment** (``message/rfc822``), when the outer
   mail reads as a forward (a forward prefix, or hardly any text of its own and
   no subject but the attached one's); an attached forward is read in turn;
4. a **hand forward**: a forwarded header block in the text or HTML body, in the
   layouts of Gmail, Outlook, Apple Mail, Thunderbird, Yahoo, Zoho, Proton, GMX,
   Android clients, Lotus Notes and mutt, in many languages
   (:mod:`gateway.mail.forward_markers`); nested forwards resolve to the
   innermost original;
5. a **server-side forward** (alias, SRS, ``Resent-*``, Gmail auto-forwarding,
   Exchange mailbox rules): ``From`` is the author, the envelope says where it
   was first delivered.

Bounces, auto-replies and read receipts often quote or attach the mail they
answer: when 3 or 4 finds something in one of those it is dropped.

Anything else is ``NONE`` with the author taken from ``From``. The rules are
conservative on purpose: a reply that quotes an Outlook header block is not a
forward, and a forward is only read from a body when a forward prefix in the
subject or an explicit forward separator says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from enum import StrEnum
from html.parser import HTMLParser
from typing import Final

from gateway.mail.bounces import bounce_reason
from gateway.mail.classify import is_auto_reply
from gateway.mail.forward_markers import (
    AM_WORDS,
    FINNISH_FROM_LABELS,
    FORWARD_PREFIXES,
    HEADER_LABELS,
    MONTHS,
    PM_WORDS,
    REPLY_ATTRIBUTION_ENDINGS,
    REPLY_PREFIXES,
    SEPARATOR_LEADS,
    SEPARATOR_PHRASES,
    ZONE_OFFSETS,
)
from gateway.mail.message import Address, ParsedMail
from gateway.mail.quotes import is_placeholder_text, strip_signature

__all__ = [
    "Authorship",
    "ForwardKind",
    "ForwardPolicy",
    "OriginalMessage",
    "resolve_authorship",
    "ticket_contact",
]


class ForwardKind(StrEnum):
    """How a message reached us, as far as authorship is concerned."""

    NONE = "none"
    GROUP_RELAY = "group_relay"
    SERVER_FORWARD = "server_forward"
    HAND_FORWARD = "hand_forward"
    ATTACHED = "attached"


class ForwardPolicy(StrEnum):
    """Whose contact a forwarded message's ticket goes on (a channel setting)."""

    ORIGINAL = "original"
    FORWARDER = "forwarder"


@dataclass(frozen=True, slots=True)
class OriginalMessage:
    """The message someone forwarded, as read from the forwarded block or attachment."""

    sender: Address
    """Its author. ``address`` is ``""`` when the block named only a person."""
    date: datetime | None
    """When it was sent, timezone-aware, or ``None`` when the date could not be read."""
    date_text: str | None
    """The date as written in the block."""
    subject: str | None
    """Its subject, or ``None`` when the block had none."""
    to: tuple[Address, ...]
    """Its recipients as the block lists them."""
    text: str
    """The forwarded body text, below the header block."""


@dataclass(frozen=True, slots=True)
class Authorship:
    """Who wrote a message, who forwarded it, and what said so."""

    kind: ForwardKind
    author: Address | None
    """Who wrote the mail: the original sender of a forward, the relayed author, else ``From``."""
    forwarded_by: Address | None
    """The person or system that forwarded or relayed it; ``None`` when not a forward."""
    original: OriginalMessage | None
    """The forwarded message, for ``HAND_FORWARD`` and ``ATTACHED``."""
    note: str
    """The forwarder's own text above the forwarded block (``""`` if none)."""
    delivered_to: tuple[str, ...]
    """Where the envelope says the message was first delivered (alias and server forwards)."""
    reason: str
    """Which header or pattern decided, in words for a log line."""


def ticket_contact(a: Authorship, policy: ForwardPolicy) -> Address | None:
    """Whose contact gets the ticket; the caller records the other party.

    Only a hand forward or a forwarded attachment has a person on both sides, so
    only there does the policy matter. An original sender known only by name
    (no address) cannot be a contact: the forwarder gets the ticket then.
    """
    if a.kind in (ForwardKind.HAND_FORWARD, ForwardKind.ATTACHED):
        has_author = a.author is not None and bool(a.author.address)
        if policy is ForwardPolicy.FORWARDER or not has_author:
            return a.forwarded_by if a.forwarded_by is not None else a.author
        return a.author
    if a.author is not None and a.author.address:
        return a.author
    return a.forwarded_by if a.forwarded_by is not None else a.author


# --- bounds -----------------------------------------------------------------

_MAX_CHARS: Final = 65_536
"""Body text scanned for forwarded blocks."""
_MAX_LINES: Final = 200
"""Lines scanned for the first forwarded block, and for each nested one after it."""
_MAX_HTML: Final = 262_144
"""HTML characters turned into text."""
_MAX_NESTING: Final = 8
_LITTLE_TEXT: Final = 400
"""Outer text (characters) short enough for a mail with an attached message to be a forward."""


# --- text normalisation -----------------------------------------------------

_INVISIBLE = str.maketrans(
    {"\u00a0": " ", "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None, "\r": None}
)


def _fold(s: str) -> str:
    # Python lower-cases "İ" to "i" + U+0307; Turkish labels and prefixes must still match.
    return s.lower().replace("\u0307", "")


_QUOTE_PREFIX = re.compile(r"[ \t]*(?:>[ \t]?)+")
_BOLD_LABEL = re.compile(r"^\*{1,2}([^*\n]{1,40}?[:：])[ \t]*\*{1,2}")
_BOLD_LABEL_INNER = re.compile(r"^\*{1,2}([^*\n:：]{1,40}?)\*{1,2}[ \t]*([:：])")


@dataclass(frozen=True, slots=True)
class _Line:
    depth: int
    """How many ``>`` quote marks the line had."""
    text: str
    """The line without quote marks, invisible characters and bold marks, stripped."""


def _split_lines(text: str) -> list[_Line]:
    """The first lines of ``text``, cleaned for matching."""
    lines: list[_Line] = []
    for raw in text[:_MAX_CHARS].translate(_INVISIBLE).split("\n"):
        depth = 0
        m = _QUOTE_PREFIX.match(raw)
        if m is not None and ">" in m.group(0):
            depth = m.group(0).count(">")
            raw = raw[m.end() :]
        line = raw.strip()
        if line.startswith("*"):
            line = _BOLD_LABEL.sub(r"\1", line, count=1)
            line = _BOLD_LABEL_INNER.sub(r"\1\2", line, count=1)
        lines.append(_Line(depth, line))
    return lines


# --- the marker tables, compiled --------------------------------------------


def _phrase_pattern(phrases: list[str]) -> str:
    ordered = sorted({_fold(p) for p in phrases}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in ordered)


_FORWARD_PHRASES: Final = [p for p, fwd, _ in SEPARATOR_PHRASES if fwd]
_ORIGINAL_PHRASES: Final = [p for p, fwd, _ in SEPARATOR_PHRASES if not fwd]
_DECOR = r"[-=_*~#<>|\[\]()\s]"
_LEADS_PATTERN: Final = _phrase_pattern([lead for lead, _ in SEPARATOR_LEADS])
_SEPARATOR_RE: Final = re.compile(
    rf"^{_DECOR}*(?:(?P<fwd>{_phrase_pattern(_FORWARD_PHRASES)}"
    rf"|(?<=-)\s*(?:{_LEADS_PATTERN})\s[^\n]{{1,200}}?(?=\s*-{{3,}}|\s*$))"
    rf"|(?P<orig>{_phrase_pattern(_ORIGINAL_PHRASES)}))"
    rf"(?:\s*/\s*fwd\.msg)?{_DECOR}*[:：]?{_DECOR}*$"
)
_RULE_RE: Final = re.compile(r"^_{20,}$")
"""Outlook (web, new Outlook) draws a rule and nothing else above the header block."""
_FORWARD_HINTS: Final = (
    *sorted({_fold(p) for p in _FORWARD_PHRASES}),
    *sorted({_fold(lead) for lead, _ in SEPARATOR_LEADS}),
    "moz-forward-container",
)
"""Cheap substring tests (much faster than one big regex) before converting HTML to text."""


def _key_words(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """One word of each phrase (its longest), without words that hold another one."""
    longest = {max(p.split(), key=len) for p in phrases}
    return tuple(sorted(w for w in longest if not any(o != w and o in w for o in longest)))


_FORWARD_KEY_WORDS: Final = _key_words(_FORWARD_HINTS)
"""A word that each hint holds, for :func:`_may_say_forward`."""
_INVISIBLE_IN_WORDS: Final = "\u200b\u200c\u200d\ufeff"
"""Zero-width characters that split a word; ``in`` finds one far faster than a regex."""
_JAMMED_RE: Final = re.compile(
    rf"^(?P<sep>[ \t>]*-{{3,}}[ \t]*(?:{_phrase_pattern(_FORWARD_PHRASES + _ORIGINAL_PHRASES)})"
    rf"[ \t]*-{{3,}})[ \t]*(?P<rest>\S.*)$",
    re.MULTILINE | re.IGNORECASE,
)
"""Yahoo's plain text runs the separator and every header of the block into one line."""
_JAMMED_LABEL_RE: Final = re.compile(
    "|".join(
        sorted(
            {
                re.escape(variant)
                for label, field in HEADER_LABELS.items()
                if field != "other" and len(label) > 1
                for variant in (label[:1].upper() + label[1:], label.upper())
            },
            key=len,
            reverse=True,
        )
    ).join(("(?:", r")[ \t]?[:：]"))
)
_LABEL_RE: Final = re.compile(r"^(?P<label>[^\W\d_][^:：\n]{0,30}?)[ \t]*[:：][ \t]*(?P<value>.*)$")
_ATTRIBUTION_RE: Final = re.compile(
    rf"(?:{_phrase_pattern(list(REPLY_ATTRIBUTION_ENDINGS))})\s*(?:\(a\))?\s*[:：]?$"
)
_ATTRIBUTION_START_RE: Final = re.compile(
    r"^(?:on|am|le|el|il|op|em|den|dne|dnia|d\.|в|\d{4}年|\d{1,2}[./])\s", re.IGNORECASE
)
_CJK_ATTRIBUTION_RE: Final = re.compile(r"\d.*<[^<>\s]+@[^<>\s]+>\s*[:：]$")
_EMAIL_RE: Final = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_VIA_RE: Final = re.compile(r"^\s*(?P<name>.+?)\s+(?:via|через|über)\s+(?P<group>.+?)\s*$")
_PREFIX_RE: Final = re.compile(
    r"^\s*(?:\[[^\]]{0,60}\]\s*)?(?P<p>[^\W\d_][^\s:：\[\]()]{0,11}?)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]"
)
_WRAPPED_FORWARD_RE: Final = re.compile(r"^\s*\[\s*(?P<p>fwd|fw)\s*:", re.IGNORECASE)
_SRS_RE: Final = re.compile(r"<?\s*srs[01][=+-]", re.IGNORECASE)


def _label_field(text: str) -> tuple[str, str, str] | None:
    """``(field, label, value)`` when ``text`` is a known header-block line."""
    if len(text) > 2_000:
        return None
    m = _LABEL_RE.match(text)
    if m is None:
        return None
    label = " ".join(_fold(m.group("label")).split())
    field = HEADER_LABELS.get(label)
    if field is None:
        return None
    return field, label, m.group("value").strip()


def _unjam(text: str) -> str:
    """Put each header of a Yahoo-style one-line forwarded block on its own line."""

    def split(m: re.Match[str]) -> str:
        rest = m.group("rest")
        if len(_JAMMED_LABEL_RE.findall(rest)) < 2:
            return m.group(0)
        return m.group("sep") + "\n" + _JAMMED_LABEL_RE.sub(lambda h: "\n" + h.group(0), rest)

    return _JAMMED_RE.sub(split, text)


def _may_say_forward(text: str) -> bool:
    """False only when no line of ``text`` can be a separator that says "forward".

    Lines are matched cleaned (zero-width characters dropped, folded), so a
    separator's phrase, and any word of it, is in the text cleaned the same way.
    """
    head = text[:_MAX_CHARS]
    if not head.isascii() and any(ch in head for ch in _INVISIBLE_IN_WORDS):
        head = head.translate(_INVISIBLE)
    folded = _fold(head)
    return any(word in folded for word in _FORWARD_KEY_WORDS)


def _is_attribution(text: str) -> bool:
    """Whether a line introduces a quoted reply ("On …, Alice <a@b> wrote:")."""
    if len(text) > 400 or not text:
        return False
    folded = _fold(text)
    if _ATTRIBUTION_RE.search(folded) is not None:
        # A line ending in "wrote:" only counts with a date, an address or the
        # usual opening word: "He wrote:" in prose introduces nothing.
        return (
            "@" in folded
            or any(c.isdigit() for c in folded)
            or _ATTRIBUTION_START_RE.match(folded) is not None
        )
    return _CJK_ATTRIBUTION_RE.search(folded) is not None


# --- subject prefixes -------------------------------------------------------


def _subject_prefixes(subject: str) -> list[str]:
    """The reply/forward prefixes at the start of a subject, folded, outermost first."""
    found: list[str] = []
    rest = subject[:300]
    # Netscape / old Mozilla and some webmails wrap the whole subject: "[Fwd: Order]".
    wrapped = _WRAPPED_FORWARD_RE.match(rest)
    if wrapped is not None:
        found.append(_fold(wrapped.group("p")))
        rest = rest[wrapped.end() :]
    for _ in range(6):
        m = _PREFIX_RE.match(rest)
        if m is None:
            break
        prefix = _fold(m.group("p")).rstrip()
        if prefix not in FORWARD_PREFIXES and prefix not in REPLY_PREFIXES:
            break
        found.append(prefix)
        rest = rest[m.end() :]
    return found


def _prefix_kind(subject: str | None, from_label: str = "") -> str:
    """``"forward"``, ``"reply"`` or ``""`` for the outermost prefix of a subject."""
    prefixes = _subject_prefixes(subject or "")
    if not prefixes:
        return ""
    first = prefixes[0]
    if first == "vs" and from_label in FINNISH_FROM_LABELS:
        return "reply"  # Finnish "VS:" is vastaus (reply)
    if first in FORWARD_PREFIXES:
        return "forward"
    return "reply"


# --- addresses --------------------------------------------------------------

_NAME_STRIP = " \t\"'<>[]()«»„“”‘’,;:*"


def _parse_mailbox(value: str) -> Address | None:
    """The first mailbox in a block's From/To value, tolerating what clients print."""
    value = value.strip()[:500]
    if not value:
        return None
    m = _EMAIL_RE.search(value)
    if m is None:
        name = value.strip(_NAME_STRIP)
        return Address(name, "") if name and len(name) <= 100 else None
    address = m.group(0)
    before = value[: m.start()]
    if before.lower().endswith("mailto:"):
        before = before[:-7]
    cut = len(before)
    for opener in ("<", "["):
        idx = before.find(opener)
        if idx != -1:
            cut = min(cut, idx)
    name = before[:cut].strip(_NAME_STRIP)
    if _fold(name) == _fold(address):
        name = ""
    return Address(name, address)


def _parse_mailboxes(value: str) -> tuple[Address, ...]:
    """Every mailbox in a block's To/Cc value (addresses; names when written before them)."""
    value = value[:2_000]
    found: list[Address] = []
    seen: set[str] = set()
    last = 0
    for m in _EMAIL_RE.finditer(value):
        segment = value[last : m.start()]
        last = m.end()
        key = m.group(0).lower()
        if key in seen:
            continue
        seen.add(key)
        # Names sit between the previous mailbox's separator and this one's "<".
        for sep in (";", ","):
            if sep in segment and not segment.rstrip().endswith(("<", "[")):
                segment = segment.rsplit(sep, 1)[-1]
        if segment.lower().rstrip().endswith("mailto:"):
            segment = segment.rstrip()[:-7]
        name = segment.split("<")[0].split("[")[0].strip(_NAME_STRIP)
        if _fold(name) == key:
            name = ""
        found.append(Address(name, m.group(0)))
    return tuple(found)


def _header_mailbox(mail: ParsedMail, name: str) -> Address | None:
    value = mail.header(name)
    return _parse_mailbox(value) if value else None


# --- dates ------------------------------------------------------------------

_MONTH_WORDS: Final[dict[str, int]] = {
    _fold(word): month for month, words in MONTHS.items() for word in words.split()
}
_RFC_DATE_RE: Final = re.compile(
    r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*(?:[+-]\d{4}|[A-Za-z]{1,5}))?(?:\s*\([^()]*\))?$"
)
_CJK_DATE_RE: Final = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE_RE: Final = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DAY_MONTH_RE: Final = re.compile(r"\b(\d{1,2})\.?(?:\s*|-)(?:de\s+)?([^\W\d_]{2,})\.?")
_MONTH_DAY_RE: Final = re.compile(r"([^\W\d_]{2,})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b")
_NUMERIC_DATE_RE: Final = re.compile(r"\b(\d{1,2})\s*([./-])\s*(\d{1,2})\s*[./-]\s*(\d{4}|\d{2})\b")
_YEAR_RE: Final = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
_TIME_RE: Final = re.compile(r"(?<![\d:])(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?![\d])")
_OFFSET_RE: Final = re.compile(r"(?:\b(?:gmt|utc)\s*)?([+\-−])(\d{1,2})(?::?(\d{2}))?\b")
_GMT_RE: Final = re.compile(r"\b(?:gmt|utc)\b")
_GMT_OFFSET_RE: Final = re.compile(r"\b(?:gmt|utc)\s*([+\-−])(\d{1,2})(?::?(\d{2}))?\b")
"""An explicit "GMT+8" written before the time (Apple Mail zh: "2025年3月3日 GMT+8 10:15:22")."""
_WORD_RE: Final = re.compile(r"[^\W\d_]+")


def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Latin words must stand alone ("am" is not in "amsterdam"); CJK words never do.
    parts = []
    for word in sorted(words, key=len, reverse=True):
        escaped = re.escape(word)
        if word[:1].isascii():
            escaped = rf"(?<![^\W\d_]){escaped}(?![^\W\d_])"
        parts.append(escaped)
    return re.compile("|".join(parts))


_PM_RE: Final = _words_pattern(PM_WORDS)
_AM_RE: Final = _words_pattern(AM_WORDS)


def _parse_date(
    text: str | None, default_tz: tzinfo, *, swap: bool = False, near: datetime | None = None
) -> datetime | None:
    """An aware datetime from a date as a client printed it, or ``None``.

    ``swap`` reads an ambiguous numeric date ("04/03/2025") the other way round.
    With ``near`` (when the forward itself was sent) the reading that falls
    closest before it wins: "04/03/2025" in a mail of 5 March is the 4th of March.
    """
    if near is not None and not swap:
        readings = [
            d for d in (_parse_date(text, default_tz), _parse_date(text, default_tz, swap=True))
        ]
        before = [d for d in readings if d is not None and d <= near + _SLACK]
        return max(before) if before else readings[0]
    if not text:
        return None
    text = " ".join(text.split())[:200]
    parsed = None
    # email.utils guesses at anything; only hand it what RFC 5322 dates look like
    # ("Monday, March 3, 2025 10:15 PM" would lose its PM there).
    if _RFC_DATE_RE.match(text) is not None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
    if parsed is not None:
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=default_tz)
    return _parse_localized_date(_fold(text), default_tz, swap)


_SLACK: Final = timedelta(days=1)
"""Clock skew allowed between a forwarded mail's date and the forward's."""


def _find_ymd(s: str, swap: bool = False) -> tuple[int, int, int, int] | None:
    """``(year, month, day, end)`` of the calendar date in folded text."""
    m = _CJK_DATE_RE.search(s) or _ISO_DATE_RE.search(s)
    if m is not None:
        return int(m.group(1)), int(m.group(2)), int(m.group(3)), m.end()
    for m in _DAY_MONTH_RE.finditer(s):
        month = _MONTH_WORDS.get(m.group(2))
        if month is not None:
            y = _YEAR_RE.search(s, m.end()) or _YEAR_RE.search(s)
            if y is not None:
                return int(y.group(1)), month, int(m.group(1)), max(m.end(), y.end())
    for m in _MONTH_DAY_RE.finditer(s):
        month = _MONTH_WORDS.get(m.group(1))
        if month is not None:
            y = _YEAR_RE.search(s, m.end()) or _YEAR_RE.search(s)
            if y is not None:
                return int(y.group(1)), month, int(m.group(2)), max(m.end(), y.end())
    m = _NUMERIC_DATE_RE.search(s)
    if m is not None:
        a, sep, b, year = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        year += 2000 if year < 100 else 0
        # Day first unless impossible; "/" is month first (en-US Outlook) unless impossible.
        if a > 12 or (sep != "/" and b <= 12):
            day, month = a, b
        else:
            month, day = a, b
        if swap and day <= 12 and month <= 12:
            day, month = month, day
        return year, month, day, m.end()
    return None


def _parse_localized_date(s: str, default_tz: tzinfo, swap: bool = False) -> datetime | None:
    ymd = _find_ymd(s, swap)
    if ymd is None:
        return None
    year, month, day, end = ymd
    hour = minute = second = 0
    tm = _TIME_RE.search(s, end) or _TIME_RE.search(s)
    tz: tzinfo = default_tz
    if tm is not None:
        hour, minute = int(tm.group(1)), int(tm.group(2))
        second = int(tm.group(3) or 0)
        if _PM_RE.search(s) is not None and hour < 12:
            hour += 12
        elif _AM_RE.search(s) is not None and hour == 12:
            hour = 0
        tz = _find_zone(s[tm.end() :]) or _gmt_offset(s[: tm.start()]) or default_tz
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None


def _gmt_offset(s: str) -> tzinfo | None:
    m = _GMT_OFFSET_RE.search(s)
    if m is None:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes > 14 * 60:
        return None
    return timezone(timedelta(minutes=(-1 if m.group(1) in "-−" else 1) * minutes))


def _find_zone(s: str) -> tzinfo | None:
    m = _OFFSET_RE.search(s)
    if m is not None and (m.group(0)[:1] in "gu" or len(m.group(2)) == 2 or m.group(3)):
        minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
        if minutes <= 14 * 60:
            sign = -1 if m.group(1) in "-−" else 1
            return timezone(timedelta(minutes=sign * minutes))
    for word in _WORD_RE.findall(s):
        offset = ZONE_OFFSETS.get(word)
        if offset is not None:
            return timezone(timedelta(minutes=offset))
    if _GMT_RE.search(s) is not None:
        return UTC
    return None


# --- HTML to text (private; gateway.mail.html will hold the full one) --------

_BLOCK_TAGS: Final = frozenset(
    {
        *("address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt"),
        *("fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table"),
        *("tbody", "thead", "tfoot", "tr", "ul"),
    }
)
_SKIP_TAGS: Final = frozenset({"script", "style", "head", "title", "template"})
_CELL_TAGS: Final = frozenset({"td", "th"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.classes_seen: set[str] = set()
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "br" or tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if href.lower().startswith("mailto:"):
                self._href = href[7:].split("?")[0].strip()
                self._link_text = []
        for key, val in attrs:
            if key in ("class", "id") and val:
                self.classes_seen.update(val.split())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP_TAGS:
            self.skip -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "a" and self._href is not None:
            # Keep the address a mailto link hides behind a name: "Alice <alice@x>".
            if self._href and self._href.lower() not in "".join(self._link_text).lower():
                self.parts.append(f" <{self._href}>")
            self._href = None

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = " ".join(data.split())
        if not text:
            if data:
                self.parts.append(" ")
            return
        if data[:1].isspace():
            text = " " + text
        if data[-1:].isspace():
            text += " "
        self.parts.append(text)
        if self._href is not None:
            self._link_text.append(text)


_BLANKS_RE: Final = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


def _html_text(html: str) -> tuple[str, frozenset[str]]:
    """Readable text of an HTML body, and the class/id names its elements carry."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html[:_MAX_HTML])
        extractor.close()
    except (AssertionError, ValueError, IndexError, TypeError, RecursionError):
        pass  # html.parser gives up on some broken markup: keep what it read
    text = "".join(extractor.parts)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANKS_RE.sub("\n\n", text).strip()
    return text[:_MAX_CHARS], frozenset(extractor.classes_seen)


# --- forwarded header blocks ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    """Line index of the separator, or of the first header line when there is none."""
    end: int
    """Line index just after the header block."""
    says_forward: bool
    """A separator that says "forward" introduced it."""
    separator: str
    """The separator line, or ``""``."""
    fields: tuple[tuple[str, str], ...]
    from_label: str
    depth: int

    def get(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None


_WRAPPED_SUBJECT: Final = 50
"""Characters a Subject value must have before a wrapped second line is read."""


def _header_block(lines: list[_Line], i: int) -> tuple[int, dict[str, str], str] | None:
    """The header block starting at line ``i``: (end, fields, from label), when valid."""
    fields: dict[str, str] = {}
    from_label = ""
    last = ""
    j = i
    limit = min(len(lines), i + 40)
    while j < limit:
        text = lines[j].text
        if not text:
            # One blank line inside a block (Apple Mail HTML) when a label follows.
            if fields and j + 1 < limit and _label_field(lines[j + 1].text) is not None:
                j += 1
                continue
            break
        hit = _label_field(text)
        if hit is not None:
            field, label, value = hit
            if field != "other" and field in fields:
                break  # a second From/Subject: the next block begins
            if (not value or value.endswith(("<", "[", "("))) and j + 1 < limit:
                # The value on the next line, or the rest of it: Gmail's plain text
                # wraps a long From after "Name <".
                following = lines[j + 1].text
                if following and _label_field(following) is None:
                    value = f"{value}{following}" if value else following
                    j += 1
            if field != "other":
                fields[field] = value
            if field == "from":
                from_label = label
            last = field
        elif last in ("to", "cc") and "@" in text:
            fields[last] = f"{fields.get(last, '')} {text}"  # a wrapped recipient list
        elif last == "subject" and j == i + 1 and not fields.get("subject"):
            fields["subject"] = text
        elif (
            last == "subject"
            and len(fields.get("subject", "")) >= _WRAPPED_SUBJECT
            and j + 1 < limit
            and (after := _label_field(lines[j + 1].text)) is not None
            and after[0] in ("to", "cc", "date", "from")
        ):
            # Gmail's plain text wraps a long Subject; its To: line follows.
            fields["subject"] = f"{fields['subject']} {text}".strip()
        else:
            break
        j += 1
    if "from" in fields and ("date" in fields or "subject" in fields):
        return j, fields, from_label
    return None


def _next_block(lines: list[_Line], start: int, stop: int) -> tuple[_Block | None, int | None]:
    """The first forwarded/quoted header block from ``start``, and where a reply attribution was.

    Returns ``(block, attribution_line)``; the attribution is the first "On …
    wrote:" line before the block, which makes the block quoted history.
    """
    attribution: int | None = None
    i = start
    stop = min(stop, len(lines))
    while i < stop:
        text = lines[i].text
        if not text:
            i += 1
            continue
        if len(text) <= 160:
            sep = _SEPARATOR_RE.match(_fold(text))
            rule = _RULE_RE.match(text) is not None
            if sep is not None or rule:
                k = i + 1
                skipped = 0
                while k < len(lines) and skipped < 4:
                    if lines[k].text:
                        found = _header_block(lines, k) or _notes_block(lines, k)
                        if found is not None:
                            end, fields, from_label = found
                            block = _Block(
                                start=i,
                                end=end,
                                says_forward=sep is not None and sep.group("fwd") is not None,
                                separator=text,
                                fields=tuple(fields.items()),
                                from_label=from_label,
                                depth=lines[i].depth,
                            )
                            return block, attribution
                        skipped += 1
                    k += 1
                i += 1
                continue
            if attribution is None and _is_attribution(text):
                attribution = i
                i += 1
                continue
        hit = _label_field(text)
        if hit is not None and hit[0] != "other":
            found = _header_block(lines, i)
            if found is not None:
                end, fields, from_label = found
                block = _Block(
                    start=i,
                    end=end,
                    says_forward=False,
                    separator="",
                    fields=tuple(fields.items()),
                    from_label=from_label,
                    depth=lines[i].depth,
                )
                return block, attribution
        i += 1
    return None, attribution


_NOTES_DATE: Final = r"\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
_NOTES_ON_RE: Final = re.compile(
    rf"^(?P<who>[^:\n]{{1,200}}?)\s+(?:on|am|le|el|il|op)\s+(?P<date>{_NOTES_DATE})$", re.IGNORECASE
)
_NOTES_DATE_RE: Final = re.compile(rf"^{_NOTES_DATE}$", re.IGNORECASE)
_NOTES_DOMAIN_RE: Final = re.compile(r"@[A-Za-z][\w-]*$")


def _notes_block(lines: list[_Line], i: int) -> tuple[int, dict[str, str], str] | None:
    """A Lotus Notes block: ``(end, fields, from label)``, when line ``i`` starts one.

    Notes writes no From label: '"Sam Lee" <sam@x> on 03/03/2025 10:15:22 AM' (or
    the author, then the date on a line of its own), then To:, cc: and Subject:.
    """
    first = lines[i].text
    m = _NOTES_ON_RE.match(first)
    if m is not None:
        who, date, j = m.group("who"), m.group("date"), i + 1
    else:
        if len(first) > 100 or _label_field(first) is not None or i + 1 >= len(lines):
            return None
        if _NOTES_DATE_RE.match(lines[i + 1].text) is None:
            return None
        who, date, j = first, lines[i + 1].text, i + 2
    # "Kay Mann@ENRON": a Notes domain, not a mail address.
    fields = {"from": _NOTES_DOMAIN_RE.sub("", who.strip()), "date": date}
    last = ""
    limit = min(len(lines), j + 16)
    while j < limit:
        text = lines[j].text
        if text:
            hit = _label_field(text)
            if hit is not None and hit[0] in ("to", "cc", "subject"):
                last = hit[0]
                if last == "subject":
                    fields["subject"] = hit[2]
                    return j + 1, fields, "from"
                fields[last] = f"{fields.get(last, '')} {hit[2]}".strip()
            elif last in ("to", "cc"):
                fields[last] = f"{fields[last]} {text}"  # a wrapped recipient list
            else:
                return None
        j += 1
    return None


@dataclass(frozen=True, slots=True)
class _HandForward:
    chain: tuple[_Block, ...]
    """Forwarded blocks, outermost first."""
    lines: list[_Line]
    note: str
    source: str


def _find_hand_forward(
    text: str, subject: str, *, forward_hint: bool, source: str
) -> _HandForward | None:
    """The chain of forwarded blocks in a body, when the body reads as a forward."""
    if not forward_hint and _prefix_kind(subject) != "forward" and not _may_say_forward(text):
        # Without a forward prefix only a separator that says "forward" makes a forward;
        # most mail has none, and this costs far less than reading the lines.
        return None
    lines = _split_lines(_unjam(text[:_MAX_CHARS]) if "---" in text[:_MAX_CHARS] else text)
    first, attribution = _next_block(lines, 0, _MAX_LINES)
    if first is None:
        return None
    prefix = _prefix_kind(subject, first.from_label)
    if prefix == "reply" and not (first.says_forward and attribution is None and not first.depth):
        # A reply quotes; only an explicit forward separator before any quote
        # (Notes keeps "Re: ..." when it forwards a reply) is still a forward.
        return None
    if attribution is not None and attribution < first.start and prefix != "forward":
        return None  # the block sits in quoted reply history
    if prefix != "forward" and not first.says_forward and not forward_hint:
        return None  # a bare Outlook block or "Original Message": a reply as likely as not
    chain = [first]
    current = first
    while len(chain) < _MAX_NESTING:
        inner, attribution = _next_block(lines, current.end, current.end + _MAX_LINES)
        if inner is None or (attribution is not None and attribution < inner.start):
            break
        inner_is_forward = inner.says_forward or (
            _prefix_kind(current.get("subject"), current.from_label) == "forward"
        )
        if not inner_is_forward:
            break
        chain.append(inner)
        current = inner
    note_lines = [ln.text for ln in lines[: first.start] if ln.depth <= first.depth]
    # The forwarder's note without their "Sent from my Galaxy" or "-- " signature.
    note = strip_signature("\n".join(note_lines))[0].strip()
    return _HandForward(tuple(chain), lines, note, source)


def _original_from_block(
    found: _HandForward,
    block: _Block,
    next_start: int | None,
    default_tz: tzinfo,
    near: datetime | None,
) -> OriginalMessage:
    sender = _parse_mailbox(block.get("from") or "") or Address("", "")
    date_text = block.get("date")
    body_lines = found.lines[block.end : next_start if next_start is not None else None]
    # Zoho closes the header block with a second separator line.
    while body_lines and (
        not body_lines[0].text or _SEPARATOR_RE.match(_fold(body_lines[0].text)) is not None
    ):
        body_lines = body_lines[1:]
    body = "\n".join(ln.text for ln in body_lines).strip()
    subject = block.get("subject")
    return OriginalMessage(
        sender=sender,
        date=_parse_date(date_text, default_tz, near=near),
        date_text=date_text or None,
        subject=subject.strip() if subject else subject,
        to=_parse_mailboxes(block.get("to") or ""),
        text=body,
    )


def _pick_original(
    found: _HandForward, team: frozenset[str], default_tz: tzinfo, near: datetime | None
) -> OriginalMessage:
    """The innermost original whose sender is not the team itself (else the innermost)."""
    chain = found.chain
    originals = [
        _original_from_block(
            found, block, chain[n + 1].start if n + 1 < len(chain) else None, default_tz, near
        )
        for n, block in enumerate(chain)
    ]
    for original in reversed(originals):
        if original.sender.address and original.sender.normalized not in team:
            return original
    for original in reversed(originals):
        if original.sender.address:
            return original
    return originals[-1]


# --- the rules --------------------------------------------------------------


def _content_type(mail: ParsedMail) -> str:
    value = mail.header("Content-Type") or ""
    return value.split(";", 1)[0].strip().lower()


def _has_text(mail: ParsedMail) -> bool:
    """Whether the text part holds text (not empty, not an "HTML only" notice)."""
    return bool(mail.text.strip()) and not (mail.html and is_placeholder_text(mail.text))


def _body_text(mail: ParsedMail) -> str:
    if _has_text(mail):
        return mail.text[:_MAX_CHARS]
    if mail.html:
        return _html_text(mail.html)[0]
    return ""


def _group_relay(mail: ParsedMail, team: frozenset[str]) -> tuple[Address, Address, str] | None:
    """(author, group, reason) when a list or group rewrote From to its own address."""
    frm = mail.from_
    if frm is None:
        return None
    own = frm.normalized

    def usable(a: Address | None) -> bool:
        return a is not None and bool(a.address) and a.normalized not in (own, *team)

    via = _VIA_RE.match(frm.name) if frm.name else None
    # "'Alice' via Support <support@x>": the group is "Support", not the whole name.
    group = Address(via.group("group").strip(_NAME_STRIP), frm.address) if via else frm
    original_from = _header_mailbox(mail, "X-Original-From")
    if original_from is not None and usable(original_from):
        return original_from, group, "X-Original-From names the author; the group rewrote From"
    if via is None:
        return None
    name = via.group("name").strip(_NAME_STRIP)
    for reply_to in mail.reply_to:
        if usable(reply_to):
            return (
                Address(reply_to.name or name, reply_to.address),
                group,
                f"From says '{frm.name}'; Reply-To names the author",
            )
    original_sender = _header_mailbox(mail, "X-Original-Sender")
    if original_sender is not None and usable(original_sender):
        return (
            Address(name, original_sender.address),
            group,
            f"From says '{frm.name}'; X-Original-Sender names the author",
        )
    for cc in mail.cc:
        if usable(cc) and cc.name and _fold(cc.name) == _fold(name):
            return cc, group, f"From says '{frm.name}'; Cc names the author (Mailman)"
    listish = any(
        mail.header(h) is not None
        for h in ("List-Id", "List-Post", "X-Google-Group-Id", "Mailing-List", "X-BeenThere")
    )
    if listish:
        return Address(name, ""), group, f"From says '{frm.name}'; the author's address is gone"
    return None


def _delivered_to(mail: ParsedMail) -> tuple[str, ...]:
    """Where the envelope says the message was sent before it was forwarded, oldest first."""
    found: dict[str, None] = {}

    def add(values: tuple[str, ...] | list[str]) -> None:
        for value in values:
            for m in _EMAIL_RE.finditer(value[:1_000]):
                found.setdefault(m.group(0).lower(), None)

    add(mail.header_all("X-Original-To"))
    add([v for v in reversed(mail.header_all("Delivered-To")) if "mailing list" not in v.lower()])
    add(mail.header_all("X-Forwarded-For"))
    add(mail.header_all("X-Forwarded-To"))
    add(mail.header_all("Resent-To"))
    add(mail.header_all("X-MS-Exchange-Inbox-Rules-Loop"))
    add([v.split(";")[0] for v in mail.header_all("X-MS-Exchange-ForwardingLoop")])
    return tuple(found)


def _server_forward(mail: ParsedMail) -> tuple[Address | None, str] | None:
    """(forwarder, reason) when the envelope or a server header shows a forward."""
    if (mail.header("Auto-Submitted") or "no").strip().lower() != "no":
        return None  # mail a server wrote itself (auto-replies) is no forward of a person's mail
    if mail.header("List-Id") is not None:
        return None  # list traffic (SmartList adds Resent-From too) is relayed, not forwarded
    resent = _header_mailbox(mail, "Resent-From") or _header_mailbox(mail, "Resent-Sender")
    if resent is not None and resent.address:
        return resent, "Resent-From: the message was redirected (RFC 5322 resent fields)"
    own = mail.from_.normalized if mail.from_ is not None else ""
    # Exchange stamps the rule's mailbox on what its rules send: on a redirect that
    # is someone else's mailbox, on an out-of-office reply it is From itself.
    rules_loop = _parse_mailbox(mail.header("X-MS-Exchange-Inbox-Rules-Loop") or "")
    if rules_loop is not None and rules_loop.address and rules_loop.normalized != own:
        return rules_loop, "X-MS-Exchange-Inbox-Rules-Loop: an Exchange inbox rule"
    forwarding_loop = _parse_mailbox(
        (mail.header("X-MS-Exchange-ForwardingLoop") or "").split(";")[0]
    )
    if (
        forwarding_loop is not None
        and forwarding_loop.address
        and forwarding_loop.normalized != own
    ):
        return forwarding_loop, "X-MS-Exchange-ForwardingLoop: Exchange mailbox forwarding"
    if (mail.header("X-MS-Exchange-Organization-AutoForwarded") or "").strip().lower() == "true":
        return None, "X-MS-Exchange-Organization-AutoForwarded: Exchange auto-forward"
    source = mail.header("X-MS-Exchange-Generated-Message-Source") or ""
    if "mailbox rules agent" in source.lower():
        return None, "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent"
    for name in ("X-Forwarded-For", "X-Forwarded-To"):
        value = mail.header(name)
        if value and "@" in value:
            first = _EMAIL_RE.search(value)
            who = Address("", first.group(0)) if name == "X-Forwarded-For" and first else None
            return who, f"{name}: Gmail auto-forwarding"
    return_path = mail.header("Return-Path") or ""
    if _SRS_RE.match(return_path.strip()) is not None:
        return None, "Return-Path is SRS-rewritten: an alias forwarded it"
    delivered = {
        m.group(0).lower()
        for v in mail.header_all("Delivered-To")
        if "mailing list" not in v.lower()
        for m in _EMAIL_RE.finditer(v[:500])
    }
    if len(delivered) > 1 and mail.header("List-Id") is None:
        return None, "Delivered-To names more than one mailbox: delivered, then forwarded"
    return None


def _same_subject(outer: str, inner: str) -> bool:
    """Whether the outer subject is empty or the attached message's own subject."""
    outer = " ".join(outer.split()).casefold()
    return not outer or outer == " ".join(inner.split()).casefold()


def _attached_forward(mail: ParsedMail, team: frozenset[str], outer_text: str) -> Authorship | None:
    if not mail.attached_messages or _content_type(mail) == "multipart/digest":
        return None
    inner = next((m for m in mail.attached_messages if m.from_ is not None), None)
    if inner is None or inner.from_ is None:
        return None
    is_forward = _prefix_kind(mail.subject) == "forward"
    little = len(outer_text.strip()) <= _LITTLE_TEXT
    if not is_forward and (not little or len(mail.attached_messages) > 2):
        return None
    if not is_forward and not _same_subject(mail.subject, inner.subject):
        # Without "Fwd:" only a mail that is nothing but the attached one (Gmail
        # leaves the subject empty or copies it) is a forward; "Re: ..." with our
        # mail attached, or "Problem" with a sample mail, is the sender's own.
        return None
    sender = inner.from_
    relay = _group_relay(inner, team)
    if relay is not None and relay[0].address:
        sender = relay[0]
    inner_text = _body_text(inner).strip()
    original = OriginalMessage(
        sender=sender,
        date=inner.date,
        date_text=inner.header("Date"),
        subject=inner.subject or None,
        to=inner.to,
        text=inner_text,
    )
    why = "a forward prefix" if is_forward else "little text of its own"
    # The attached mail may itself be a forward (inline or attached): nested
    # forwards resolve to the first original author. Each level is a smaller
    # part of the same bytes, so this ends.
    deeper = resolve_authorship(inner, team_addresses=team)
    if (
        deeper.kind in (ForwardKind.HAND_FORWARD, ForwardKind.ATTACHED)
        and deeper.original is not None
        and deeper.original.sender.address
        and deeper.original.sender.normalized not in team
    ):
        original = deeper.original
        sender = deeper.original.sender
        why += ", itself a forward"
    return Authorship(
        kind=ForwardKind.ATTACHED,
        author=sender,
        forwarded_by=mail.from_,
        original=original,
        note=strip_signature(outer_text)[0].strip(),
        delivered_to=(),
        reason=f"message/rfc822 attached to a mail with {why}",
    )


def _hand_forward(mail: ParsedMail) -> _HandForward | None:
    """The forwarded blocks of the text body, else of the HTML body."""
    found: _HandForward | None = None
    if _has_text(mail):
        found = _find_hand_forward(mail.text, mail.subject, forward_hint=False, source="text")
        if found is not None and _parse_mailbox(found.chain[-1].get("from") or "") is not None:
            sender = _parse_mailbox(found.chain[-1].get("from") or "")
            if sender is not None and sender.address:
                return found
    if not mail.html:
        return found
    html = mail.html[:_MAX_HTML]
    if _prefix_kind(mail.subject) != "forward":
        # Without a forward prefix only an explicit separator counts, and a text
        # part carries it as well as the HTML does: skip the HTML conversion for
        # the many mails that cannot have one.
        if _has_text(mail) and found is None:
            return None
        folded = _fold(html)
        if not any(hint in folded for hint in _FORWARD_HINTS):
            return found
    text, classes = _html_text(html)
    hint = "moz-forward-container" in classes
    from_html = _find_hand_forward(text, mail.subject, forward_hint=hint, source="html")
    if from_html is None:
        return found
    if found is None:
        return from_html
    # Both bodies have it: the HTML may carry the address the text lost (mailto links).
    html_sender = _parse_mailbox(from_html.chain[-1].get("from") or "")
    if html_sender is not None and html_sender.address:
        return from_html
    return found


def _machine_answer(mail: ParsedMail) -> bool:
    """Whether a mail system or a responder wrote ``mail`` in answer to another.

    An Exchange rule that forwards is auto-generated too, but writes "FW:".
    """
    if bounce_reason(mail) is not None:
        return True
    return _prefix_kind(mail.subject) != "forward" and is_auto_reply(mail) is not None


def resolve_authorship(
    mail: ParsedMail, *, team_addresses: frozenset[str] = frozenset()
) -> Authorship:
    """Who wrote ``mail``, who forwarded or relayed it, and the forwarded original.

    ``team_addresses`` (lower-cased) are the gateway's own addresses: they are
    never taken as a group relay's author, and a forwarded block sent by the
    team gives way to the customer's block inside it. Never raises.
    """
    team = frozenset(a.strip().lower() for a in team_addresses)
    frm = mail.from_
    default_tz: tzinfo = mail.date.tzinfo if mail.date and mail.date.tzinfo else UTC

    def none(reason: str) -> Authorship:
        return Authorship(ForwardKind.NONE, frm, None, None, "", (), reason)

    if _content_type(mail) == "multipart/report":
        return none("a delivery report (multipart/report), not a forward")

    relay = _group_relay(mail, team)
    person = relay[0] if relay is not None and relay[0].address else frm
    server = _server_forward(mail)
    delivered = _delivered_to(mail) if server is not None else ()

    outer_text = _body_text(mail)
    attached = _attached_forward(mail, team, outer_text)
    found = _hand_forward(mail) if attached is None else None
    if (attached is not None or found is not None) and _machine_answer(mail):
        # Bounces, responders and read receipts quote or attach the mail they
        # answer: that is no forward. (Only asked when there is something to drop.)
        attached = found = None
    if attached is not None:
        return Authorship(
            kind=attached.kind,
            author=attached.author,
            forwarded_by=person,
            original=attached.original,
            note=attached.note,
            delivered_to=delivered,
            reason=attached.reason,
        )

    if found is not None:
        original = _pick_original(found, team, default_tz, mail.date)
        block = found.chain[0]
        how = f"separator '{block.separator[:60]}'" if block.separator else "a header block"
        depth = f", {len(found.chain)} levels deep" if len(found.chain) > 1 else ""
        return Authorship(
            kind=ForwardKind.HAND_FORWARD,
            author=original.sender,
            forwarded_by=person,
            original=original,
            note=found.note,
            delivered_to=delivered,
            reason=f"forwarded block in the {found.source} body after {how}{depth}",
        )

    if relay is not None:
        author, group, reason = relay
        return Authorship(ForwardKind.GROUP_RELAY, author, group, None, "", delivered, reason)

    if server is not None:
        forwarder, reason = server
        if forwarder is None and delivered:
            forwarder = Address("", delivered[0])
        return Authorship(ForwardKind.SERVER_FORWARD, frm, forwarder, None, "", delivered, reason)

    return none("no relay, forward or attachment evidence")
