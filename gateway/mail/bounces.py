"""Bounces: is a message a delivery report, and what does it say failed.

Two layers, both pure and never raising:

* :func:`bounce_reason` decides *whether* a message is a delivery report. It
  needs a strong signal: the RFC 3464 report structure (``multipart/report;
  report-type=delivery-status`` or a ``message/delivery-status`` part), Exim's
  ``X-Failed-Recipients``, Exchange's ``content-class: urn:content-classes:dsn``,
  or a machine sender (MAILER-DAEMON, postmaster, Exchange's system mailbox,
  a null Return-Path) *together with* bounce wording in the subject or the
  notice text. A person writing "undeliverable" in a subject, or forwarding a
  bounce by hand, is not a machine sender and stays ordinary mail.
* :func:`read_bounce` extracts who failed, the status, the diagnostic and the
  Message-ID of the bounced message: from the ``message/delivery-status`` part
  when there is one, otherwise from the text of the non-standard formats
  (qmail, Exim, old Postfix/Sendmail, Exchange, Yahoo, Gmail).

Scanning is bounded (``SCAN_LIMIT``) and every regex is linear, so a hostile
or huge message costs little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.mail.message import ParsedMail

__all__ = [
    "SCAN_LIMIT",
    "BounceInfo",
    "bounce_reason",
    "is_machine_sender",
    "is_null_return_path",
    "notice_text",
    "read_bounce",
    "report_type",
]

SCAN_LIMIT = 64 * 1024
"""Characters of a body (or of a report part) that are ever scanned."""

_NOTICE_LIMIT = 8 * 1024
# Bounce wording sits at the top of the notice; the quoted original (which may
# contain anything a customer wrote) follows it, so wording is looked for only
# in the first few KiB.


@dataclass(frozen=True, slots=True)
class BounceInfo:
    """What a delivery report says about the message it returns."""

    failed_recipient: str | None
    """The address that could not be reached (lower-cased), when findable."""
    status: str | None
    """RFC 3463 enhanced status code such as ``"5.1.1"``, when findable."""
    diagnostic: str | None
    """The remote server's words, e.g. ``"smtp; 550 5.1.1 user unknown"``."""
    original_message_id: str | None
    """Message-ID (without ``<>``) of the bounced message, when findable."""
    permanent: bool
    """True for a permanent failure (5.x.x / Action: failed); a delay or a success
    notice is a delivery report but not a failure."""


# ---------------------------------------------------------------------------
# Small readers shared with classify


_PARAM_REPORT_TYPE = re.compile(r"""report-type\s*=\s*"?([A-Za-z0-9._-]+)""", re.IGNORECASE)


def report_type(mail: ParsedMail) -> str | None:
    """The ``report-type`` of a top-level ``multipart/report``, lower-cased, or ``None``."""
    ctype = mail.header("Content-Type")
    if ctype is None or not ctype.lstrip().lower().startswith("multipart/report"):
        return None
    found = _PARAM_REPORT_TYPE.search(ctype[:2000])
    return found.group(1).lower() if found else ""


def is_null_return_path(mail: ParsedMail) -> bool:
    """True when the envelope sender was null (``Return-Path: <>``).

    RFC 5321 and RFC 3834 want delivery reports and automatic responses sent
    with a null envelope sender, so that nothing ever answers them. Sendmail
    writes the null sender as ``<MAILER-DAEMON>``; Exchange sometimes leaves
    the header empty.
    """
    value = mail.header("Return-Path")
    if value is None:
        return False
    stripped = value.strip().strip("<>").strip().lower()
    return stripped in ("", "mailer-daemon")


_MACHINE_LOCAL = re.compile(
    r"(?:mailer[-_.]?daemon|mail[-_.]?daemon|post[-_.]?master|mail[-_.]?delivery(?:[-_.]?sub)?"
    r"(?:[-_.]?system)?|microsoftexchange[0-9a-f]{32}|mdaemon|mail[-_.]?router)",
    re.IGNORECASE,
)
_MACHINE_NAME = re.compile(
    r"\b(?:mail(?:er)?[- ]?daemon|postmaster|mail delivery (?:sub)?system|delivery subsystem"
    r"|mail administrator|mail router|mail delivery)\b",
    re.IGNORECASE,
)


def is_machine_sender(mail: ParsedMail) -> bool:
    """True when From (or Sender) is a mail system rather than a person.

    MAILER-DAEMON, postmaster, "Mail Delivery System/Subsystem" and Exchange's
    ``MicrosoftExchange<32 hex>`` system mailbox are the senders of delivery
    reports in every common MTA.
    """
    for who in (mail.from_, mail.sender):
        if who is None:
            continue
        local = who.address.rpartition("@")[0] or who.address
        if _MACHINE_LOCAL.fullmatch(local.strip()) is not None:
            return True
        if who.name and _MACHINE_NAME.search(who.name[:200]) is not None:
            return True
    return False


_TAG = re.compile(r"<[^<>]{0,2000}>")
_BLOCK_TAG = re.compile(r"<(?:br|/p|/div|/tr|/li|/h[1-6]|/td|/table)\b[^<>]{0,200}>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")


def _drop_style_blocks(html: str) -> str:
    """HTML without <style>/<script> contents; str.find keeps it linear on any input."""
    lower = html.lower()
    out: list[str] = []
    pos = 0
    while True:
        starts = [i for i in (lower.find("<style", pos), lower.find("<script", pos)) if i >= 0]
        if not starts:
            out.append(html[pos:])
            return "".join(out)
        start = min(starts)
        closing = "</style" if lower.startswith("<style", start) else "</script"
        end = lower.find(closing, start)
        out.append(html[pos:start])
        if end < 0:
            return " ".join(out)
        close_end = lower.find(">", end)
        pos = len(html) if close_end < 0 else close_end + 1
        out.append(" ")


def notice_text(mail: ParsedMail, limit: int = SCAN_LIMIT) -> str:
    """The readable body, bounded: the plain text, else the HTML with tags removed."""
    if mail.text.strip():
        return mail.text[:limit]
    if mail.html:
        html = _drop_style_blocks(mail.html[: limit * 2])
        # Block ends become line ends: line-anchored patterns still work on HTML-only notices.
        text = _TAG.sub(" ", _BLOCK_TAG.sub("\n", html))
        text = text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">")
        return _SPACES.sub(" ", text.replace("&amp;", "&"))[:limit]
    return ""


# ---------------------------------------------------------------------------
# Detection

_DSN_PART_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_HEADER_PART_TYPES = frozenset(
    {"text/rfc822-headers", "message/rfc822-headers", "message/global-headers"}
)
_MESSAGE_PART_TYPES = frozenset({"message/rfc822", "message/global"})

# Subjects the common MTAs and Exchange (in its UI languages) give their reports.
# Anchored at the start: "Fwd: Undeliverable: ..." is a person forwarding one.
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:"
    r"undeliver(?:able|ed)|undelivered mail|returned mail|return(?:ed)? to sender"
    r"|(?:e-?)?mail (?:undeliverable|returned)|message (?:undeliverable|returned)"
    r"|mail delivery (?:failed|failure|problem|error)|delivery (?:status notification|notification)"
    r"|delivery (?:failure|failed|has failed|problem|report|delayed|delay)"
    r"|(?:permanent |temporary )?delivery failure|failure notice|failed mail|mail failure"
    r"|mail system error|non[- ]?deliver(?:y|able)|nondeliverable|non-remis|non remis"
    r"|message (?:delivery (?:failure|failed|has failed)|not delivered|could not be delivered"
    r"|status - undeliverable|delayed)"
    r"|mail could not be delivered|could not send message|warning: could not send message"
    r"|warning: message .{1,40} delayed|delayed mail|delivery to the following recipient"
    r"|notice of delivery failure|error sending message|rejected:|ndn:|message you sent blocked"
    r"|message (?:rejected|blocked|bounced)|returned mail|bounced mail|mail returned"
    r"|unzustellbar|nicht zustellbar|zustellung fehlgeschlagen|unzustellbare nachricht"
    r"|non distribuable|no se puede entregar|imposible entregar|no entregado"
    r"|onbestelbaar|niet bestelbaar|impossibile recapitare|non recapitabile|mancato recapito"
    r"|não é possível entregar|nao e possivel entregar|não entregue|olevererbart|ej levererat"
    r"|kan ikke leveres|ikke leveret|kunne ikke leveres|nie można dostarczyć|niedostarczalne"
    r"|nedoručitelné|nedoručiteľné|kézbesíthetetlen|nu se poate livra|nu a putut fi livrat"
    r"|недоставляемое|не доставлено|(?:сообщение|письмо) не доставлено|невозможно доставить"
    r"|teslim edilemiyor|teslim edilemedi"
    r"|ei voitu toimittaa|toimittamaton|ανεπίδοτο|配信不能|配送不能|送信できませんでした"
    r"|无法投递|無法傳遞|無法投遞|배달되지 않음|배달 실패|nedostavljivo|nedostavljeno"
    r")",
    re.IGNORECASE,
)

# Wording of the human-readable notice of the common formats.
_BOUNCE_BODY = re.compile(
    r"(?:this is the qmail-send program|created automatically by mail delivery software"
    r"|this is the mail system at host|mail delivery subsystem|delivery has failed to these"
    r"|could ?n[o']t be delivered|could not be delivered|was not delivered|wasn't delivered"
    r"|has not (?:yet )?been delivered|undeliverable|undelivered|delivery (?:to the following"
    r" recipients? )?(?:has )?failed|delivery status notification|permanent (?:fatal )?error"
    r"|unable to deliver|could not deliver|couldn't deliver|failed permanently"
    r"|did not reach (?:some or all of )?the intended recipient|could not be reached"
    r"|returned to sender|message could not be sent|address not found"
    r"|recipient address rejected|user unknown|unknown user|no such user|mailbox unavailable"
    r"|mailbox (?:is )?full|mailbox not found|over quota|unrouteable address|host unknown"
    r"|remote host said|below this line is a copy of the message|original message follows"
    r"|the following addresses had permanent fatal errors|will continue trying|delivery attempts"
    r"|\b5\d\d[ -]5\.\d{1,3}\.\d{1,3}\b|\b4\d\d[ -]4\.\d{1,3}\.\d{1,3}\b"
    r"|did not reach the following recipient|recipient name is not recognized|unknown recipient"
    r"|invalid (?:user|recipient|mailbox)|requested action not taken|no mailbox here"
    r"|not listed in (?:the )?(?:domino )?directory|(?:user|mailbox|recipient) not found"
    r"|(?:user|mailbox|address|recipient) does not exist|delivery to .{1,80} failed"
    r"|konnte nicht zugestellt werden|nicht zugestellt|unzustellbar"
    r"|n'a pas pu être (?:remis|distribué)|impossible de remettre|no se pudo entregar"
    r"|no se ha podido entregar|non è stato possibile recapitare|kon niet worden bezorgd"
    r"|não foi possível entregar|kunde inte levereras|nie można dostarczyć"
    r"|не может быть доставлено|не удалось доставить|не доставлено|доставка .{0,60}не удалась"
    r"|配信できません|无法送达|无法投递)",
    re.IGNORECASE,
)

_CONTENT_CLASS_DSN = "urn:content-classes:dsn"


def bounce_reason(mail: ParsedMail) -> str | None:
    """Why ``mail`` is a delivery report (failure, delay or success), or ``None``.

    Read receipts (``report-type=disposition-notification``) are not delivery
    reports; classify counts them as automatic replies.
    """
    rtype = report_type(mail)
    if rtype == "delivery-status":
        return "multipart/report; report-type=delivery-status"
    for part in mail.attachments:
        if part.content_type in _DSN_PART_TYPES:
            return f"{part.content_type} part"
    if rtype == "feedback-report" or any(
        part.content_type == "message/feedback-report" for part in mail.attachments
    ):
        # RFC 5965 abuse report: a receiver's verdict on a message we sent,
        # which belongs with that message just like a bounce.
        return "feedback report (RFC 5965)"
    failed = mail.header("X-Failed-Recipients")
    if failed is not None and failed.strip():
        return "X-Failed-Recipients header"
    content_class = mail.header("Content-Class")
    if content_class is not None and content_class.strip().lower() == _CONTENT_CLASS_DSN:
        return f"Content-Class: {_CONTENT_CLASS_DSN}"
    machine = is_machine_sender(mail)
    null_sender = is_null_return_path(mail)
    if not (machine or null_sender):
        return None
    who = "MAILER-DAEMON/postmaster sender" if machine else "null Return-Path"
    subject_hit = _BOUNCE_SUBJECT.search(mail.subject[:300])
    body_hit = _BOUNCE_BODY.search(notice_text(mail, _NOTICE_LIMIT))
    if machine and subject_hit is not None:
        return f"{who} and subject {subject_hit.group(0).strip()!r}"
    if machine and body_hit is not None:
        return f"{who} and body {body_hit.group(0).strip()!r}"
    if machine and (
        mail.attached_messages
        or any(
            part.content_type in _MESSAGE_PART_TYPES or part.content_type in _HEADER_PART_TYPES
            for part in mail.attachments
        )
    ):
        # A mail system returning a message (Exchange 2003, odd gateways) even
        # when its own words are unknown to us.
        return f"{who} returning a message"
    # A null sender is shared by auto-replies, so it needs both kinds of wording.
    if subject_hit is not None and body_hit is not None:
        return f"{who}, subject {subject_hit.group(0).strip()!r} and body wording"
    return None


# ---------------------------------------------------------------------------
# Extraction

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
_SMTP_REPLY = re.compile(r"(?<![\d.])([45])\d\d(?=[ :-] ?\S)")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})")
_MESSAGE_ID = re.compile(
    r"^[ \t>]*Message-ID:[ \t]*<?([^\s<>]{1,250}@[^\s<>]{1,250})>?", re.I | re.M
)
_DIAGNOSTIC_LINE = re.compile(
    r"^[ \t]*(?:remote host said:|said:|smtp error from remote mail server[^:\n]{0,80}:"
    r"|diagnostic-code:|remote server returned|error:)?[ \t]*'?(?:[45]\d\d[ :-].{3,300})$"
    # qmail and Yahoo: the reason is the line after "<address>:".
    r"|^<[^<>\s]{1,200}@[^<>\s]{1,200}>:[ \t]*\n[ \t]*(?:remote host said:[ \t]*)?(.{3,300})$",
    re.IGNORECASE | re.MULTILINE,
)
_DELAY_WORDS = re.compile(
    r"(?:has not yet been delivered|not yet been delivered|delivery (?:has been )?delayed"
    r"|will (?:continue|keep) (?:trying|to try|retrying)|still being retried|this is only a warning"
    r"|you do not need to resend|no action is required on your part|could not send message for past"
    r"|warning: message .{0,60} delayed|\(delay\)|delayed mail|delivery delayed|temporary failure"
    r"|will retry|retry (?:timeout|again))",
    re.IGNORECASE,
)
_COPY_MARKERS = re.compile(
    r"^(?:-{2,}.{0,40}(?:below this line is a copy|copy of the message|original message"
    r"|undelivered message|returned message|message headers).{0,40}$"
    r"|original message headers:|------ this is a copy of the message)",
    re.IGNORECASE | re.MULTILINE,
)
_IGNORED_LOCALS = re.compile(r"^(?:mailer[-_.]?daemon|postmaster|mail[-_.]?daemon)$", re.I)


def read_bounce(mail: ParsedMail) -> BounceInfo:
    """What a delivery report says; fields are ``None`` when they cannot be found.

    The ``message/delivery-status`` part wins over the notice text; the text
    of the non-standard formats is read only for what the part did not give.
    """
    from_dsn = _read_delivery_status(mail)
    text = notice_text(mail)
    own_part, _, _ = _split_copy(text)
    failed = (
        from_dsn.get("recipient") or _failed_from_header(mail) or _failed_from_text(mail, own_part)
    )
    status = from_dsn.get("status") or _status_from_text(own_part)
    diagnostic = from_dsn.get("diagnostic") or _diagnostic_from_text(own_part)
    action = from_dsn.get("action")
    permanent = _is_permanent(action, status, own_part, mail.subject)
    return BounceInfo(
        failed_recipient=failed.lower() if failed else None,
        status=status,
        diagnostic=diagnostic,
        original_message_id=_original_message_id(mail, text),
        permanent=permanent,
    )


def _is_permanent(action: str | None, status: str | None, text: str, subject: str) -> bool:
    """RFC 3464: only ``Action: failed`` is a failure; without it, the status class decides."""
    if action is not None:
        return action == "failed"
    if status is not None:
        return status.startswith("5")
    return _DELAY_WORDS.search(text[:_NOTICE_LIMIT]) is None and (
        _DELAY_WORDS.search(subject[:300]) is None
    )


def _decode(data: bytes) -> str:
    return data[:SCAN_LIMIT].decode("utf-8", errors="replace")


def _field_blocks(text: str) -> list[dict[str, str]]:
    """RFC 3464 fields: header-like blocks separated by blank lines, names lower-cased."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[0] in " \t" and last is not None:
            current[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            last = None
            continue
        last = name.strip().lower()
        current.setdefault(last, value.strip())
    if current:
        blocks.append(current)
    return blocks


def _typed_value(value: str) -> str:
    """``rfc822; user@example.com`` -> ``user@example.com`` (RFC 3464 address-type)."""
    _, sep, rest = value.partition(";")
    return (rest if sep else value).strip().strip("<>").strip()


def _read_delivery_status(mail: ParsedMail) -> dict[str, str]:
    """Fields of the first failed (else first) recipient block of the DSN part."""
    for part in mail.attachments:
        if part.content_type not in _DSN_PART_TYPES:
            continue
        blocks = _field_blocks(_decode(part.data))
        recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
        if not recipients:
            recipients = [b for b in blocks if "action" in b or "status" in b]
        if not recipients:
            continue
        chosen = next(
            (b for b in recipients if b.get("action", "").lower().startswith("failed")),
            recipients[0],
        )
        found: dict[str, str] = {}
        address = _typed_value(chosen.get("final-recipient") or "") or _typed_value(
            chosen.get("original-recipient") or ""
        )
        if _ADDRESS.fullmatch(address):
            found["recipient"] = address
        status = _STATUS.search(chosen.get("status", ""))
        if status:
            found["status"] = status.group(0)
        diagnostic = chosen.get("diagnostic-code", "").strip()
        if diagnostic:
            found["diagnostic"] = diagnostic[:500]
        action = chosen.get("action", "").strip().lower()
        if action:
            found["action"] = action.split()[0]
        return found
    return {}


def _split_copy(text: str) -> tuple[str, str, str]:
    """The notice, the marker line and the returned copy, split at the first marker."""
    marker = _COPY_MARKERS.search(text)
    if marker is None:
        return text, "", ""
    return text[: marker.start()], marker.group(0), text[marker.end() :]


def _failed_from_header(mail: ParsedMail) -> str | None:
    value = mail.header("X-Failed-Recipients")
    if not value:
        return None
    found = _ADDRESS.search(value)
    return found.group(0).rstrip(".") if found else None


def _failed_from_text(mail: ParsedMail, text: str) -> str | None:
    """The first address in the notice that is neither party of the report itself."""
    skip = {a.normalized for a in (*mail.to, *mail.cc) if a.address}
    if mail.from_ is not None:
        skip.add(mail.from_.normalized)
    for found in _ADDRESS.finditer(text[:_NOTICE_LIMIT]):
        address = found.group(0).rstrip(".-")
        local = address.partition("@")[0]
        if address.lower() in skip or _IGNORED_LOCALS.match(local):
            continue
        return address
    return None


def _status_from_text(text: str) -> str | None:
    found = _STATUS.search(text[:_NOTICE_LIMIT])
    if found:
        return found.group(0)
    reply = _SMTP_REPLY.search(text[:_NOTICE_LIMIT])
    # A bare SMTP reply code gives only the class: 5.0.0 / 4.0.0 (RFC 3463 "other").
    return f"{reply.group(1)}.0.0" if reply else None


def _diagnostic_from_text(text: str) -> str | None:
    found = _DIAGNOSTIC_LINE.search(text[:_NOTICE_LIMIT])
    if found is None:
        return None
    return (found.group(1) or found.group(0)).strip().strip("'")[:500]


def _original_message_id(mail: ParsedMail, text: str) -> str | None:
    for attached in mail.attached_messages:
        if attached.message_id:
            return attached.message_id
    for part in mail.attachments:
        if part.content_type in _HEADER_PART_TYPES or part.content_type in _MESSAGE_PART_TYPES:
            # Only the header block: a returned body may quote other Message-IDs.
            head = _decode(part.data).replace("\r\n", "\n").split("\n\n", 1)[0]
            found = _MESSAGE_ID.search(head)
            if found:
                return found.group(1)
    _, _, copy = _split_copy(text)
    found = _MESSAGE_ID.search(copy or text)
    return found.group(1) if found else None
