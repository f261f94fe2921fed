"""The understanding of a parsed message, in two pure steps.

``parse_message → triage (classify, resolve_authorship) → read (extract_reply,
sanitize_html)``. :func:`triage` is what decides where a message goes (its
kind, its author, the ticket's contact) and is cheap; :func:`read` rewrites
the body for people (the new text, safe HTML) and costs several times more.
The pipeline files a ticket on the triage alone and reads the body after the
ticket row is committed; ``gateway inspect`` prints both (:func:`understand`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.mail.classify import Classification, OwnIdentity, classify
from gateway.mail.forwards import Authorship, ForwardPolicy, resolve_authorship, ticket_contact
from gateway.mail.html import SafeHtml, html_to_text, sanitize_html
from gateway.mail.message import Address, ParsedMail
from gateway.mail.quotes import ReplyText, extract_reply, is_placeholder_text


@dataclass(frozen=True, slots=True)
class Context:
    """What understanding needs to know about this installation (from the config)."""

    own: OwnIdentity | None = None
    team_addresses: frozenset[str] = frozenset()
    policy: ForwardPolicy = ForwardPolicy.ORIGINAL
    cid_urls: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Triage:
    """What decides where a message goes; no body is rewritten for it."""

    mail: ParsedMail
    classification: Classification
    authorship: Authorship
    contact: Address | None
    """Whose contact the ticket goes on, by the channel's forwarded-sender policy."""


@dataclass(frozen=True, slots=True)
class Understanding:
    """Everything the pipeline decides about one message before it touches the store."""

    mail: ParsedMail
    classification: Classification
    authorship: Authorship
    contact: Address | None
    """Whose contact the ticket goes on, by the channel's forwarded-sender policy."""
    text: str
    """The full plain text: the text part, or text derived from the HTML."""
    reply: ReplyText
    html: SafeHtml | None
    """The sanitised HTML body, when there is one."""


def triage(mail: ParsedMail, context: Context | None = None) -> Triage:
    """Classify and find the author. Never raises."""
    ctx = context or Context()
    authorship = resolve_authorship(mail, team_addresses=ctx.team_addresses)
    return Triage(
        mail=mail,
        classification=classify(mail, ctx.own),
        authorship=authorship,
        contact=ticket_contact(authorship, ctx.policy),
    )


def read(triaged: Triage, context: Context | None = None) -> Understanding:
    """Add the full text, the new text and the sanitised HTML to a triage. Never raises."""
    ctx = context or Context()
    mail = triaged.mail
    text = mail.text
    if mail.html and (not text.strip() or is_placeholder_text(text)):
        text = html_to_text(mail.html)
    return Understanding(
        mail=mail,
        classification=triaged.classification,
        authorship=triaged.authorship,
        contact=triaged.contact,
        text=text,
        reply=extract_reply(mail.text, mail.html),
        html=sanitize_html(mail.html, cid_urls=ctx.cid_urls) if mail.html else None,
    )


def understand(mail: ParsedMail, context: Context | None = None) -> Understanding:
    """Classify, find the author, cut the new text and sanitise the HTML. Never raises."""
    return read(triage(mail, context), context)
