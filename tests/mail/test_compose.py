"""Outgoing mail bytes: headers, parts, and the same bytes for the same value."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

from gateway.mail.compose import Outgoing, OutgoingFile, make_message_id, render_mail, text_to_html

OUT = Outgoing(
    from_name="Jane from Ácme",
    from_address="support@acme.example",
    to=(("Ann Customer", "ann@example.com"),),
    subject="Re: Printer on fire [#1]",
    message_id=make_message_id("answer", "<x@y>", "gateway.acme.example"),
    date=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    text="Hi Ann,\n\nswitch it off.\n",
    html="<p>Hi Ann,</p>",
    reply_to=("Jane from Ácme", "support+rkey@acme.example"),
    in_reply_to="fire-1@example.com",
    references=("root@example.com",),
    attachments=(OutgoingFile("invoice.pdf", "application/pdf", b"%PDF"),),
)


def test_headers_and_parts() -> None:
    raw = render_mail(OUT)
    assert b"\r\n" in raw
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert mail["From"].addresses[0].display_name == "Jane from Ácme"
    assert mail["Message-ID"] == f"<{OUT.message_id}>"
    assert mail["In-Reply-To"] == "<fire-1@example.com>"
    assert mail["References"] == "<root@example.com> <fire-1@example.com>"
    assert mail["Reply-To"].addresses[0].addr_spec == "support+rkey@acme.example"
    assert mail.get_content_type() == "multipart/mixed"
    assert [p.get_filename() for p in mail.iter_attachments()] == ["invoice.pdf"]
    assert mail.get_body(("html",)).get_content().strip() == "<p>Hi Ann,</p>"


def test_same_value_same_bytes() -> None:
    assert render_mail(OUT) == render_mail(OUT)
    assert make_message_id("a", "s", "d") == make_message_id("a", "s", "d")
    assert make_message_id("a", "s", "d") != make_message_id("a", "t", "d")


def test_text_to_html_escapes() -> None:
    assert text_to_html("a < b\nc\n\nd") == "<p>a &lt; b<br>\nc</p>\n<p>d</p>"
