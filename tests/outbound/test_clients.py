"""Answers shaped like the common clients' replies: the customer gets only the new text."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.conftest import RunningDaemon
from tests.outbound.conftest import ANN, JANE, customer_mail, send
from tests.outbound.sink import Sink

pytestmark = pytest.mark.integration

NEW = "Hi Ann, a technician comes at noon."


def reply(note: EmailMessage, text: str, html: str | None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Jane Doe <{JANE}>"
    msg["To"] = note["Reply-To"]
    msg["Subject"] = "RE: " + str(note["Subject"])
    msg["Message-ID"] = make_msgid(domain="acme.example")
    msg["In-Reply-To"] = note["Message-ID"]
    msg["References"] = f"{note['References']} {note['Message-ID']}"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def quoted(note: EmailMessage) -> str:
    part = note.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def gmail(note: EmailMessage) -> EmailMessage:
    body = quoted(note)
    text = f"{NEW}\n\nOn Mon, 2 Nov 2026 at 09:00, Ann via Acme wrote:\n" + "".join(
        f"> {line}\n" for line in body.splitlines()
    )
    html = (
        f'<div dir="ltr">{NEW}</div><br><div class="gmail_quote"><div class="gmail_attr">'
        "On Mon, 2 Nov 2026 at 09:00, Ann via Acme wrote:</div>"
        f'<blockquote class="gmail_quote">{body}</blockquote></div>'
    )
    return reply(note, text, html)


def outlook(note: EmailMessage) -> EmailMessage:
    body = quoted(note)
    text = (
        f"{NEW}\n\nJane Doe\nAcme | Support\n\n"
        "________________________________\n"
        "From: Ann Customer via Acme <support+x@acme.example>\n"
        "Sent: Monday, November 2, 2026 09:00\nTo: Jane Doe <jane@acme.example>\n"
        f"Subject: {note['Subject']}\n\n{body}"
    )
    return reply(note, text, None)


def apple(note: EmailMessage) -> EmailMessage:
    body = quoted(note)
    text = (
        f"{NEW}\n\nSent from my iPhone\n\n> On 2 Nov 2026, at 09:00, Ann via Acme wrote:\n>\n"
        + ("".join(f"> {line}\n" for line in body.splitlines()))
    )
    return reply(note, text, None)


@pytest.mark.parametrize("client", [gmail, outlook, apple], ids=["gmail", "outlook", "apple"])
def test_client_shaped_answers(agent_daemon: RunningDaemon, sink: Sink, client: object) -> None:
    send(agent_daemon, customer_mail(), mail_from=ANN)
    note = sink.wait_for(1)[0].message
    assert callable(client)
    send(agent_daemon, client(note), mail_from=JANE)
    answer = sink.wait_for(2)[1]
    assert answer.rcpt_to == (ANN,)
    plain = answer.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    new_text, _, signature = plain.partition("\n-- \n")
    assert new_text.strip() == NEW
    assert signature.strip() == "Jane Doe, Acme support"
    html = answer.message.get_body(("html",)).get_content()
    for echo in ("printer is on fire", "wrote:", "Sent from my iPhone", "From: Ann"):
        assert echo not in plain
        assert echo not in html
