"""The whole round trip on real sockets: customer → notification → agent's answer → customer."""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PostgresCluster, RunningDaemon
from tests.outbound.conftest import (
    ANN,
    JANE,
    TEAM,
    agents_config,
    answer_to,
    customer_mail,
    send,
)
from tests.outbound.sink import Sink

pytestmark = pytest.mark.integration

QUOTED = (
    "On Mon, 2 Nov 2026 at 09:00, Ann Customer <ann@example.com> wrote:\n"
    "> the printer is on fire.\n"
)
ANSWER = (
    "Hi Ann,\n\nplease switch it off and unplug it; a technician comes at noon.\n\n"
    f"{QUOTED}\n-- \nJane Doe\nSent from my personal signature block\n"
)
PDF = b"%PDF-1.4 invoice bytes\n" * 40


def text_of(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


@pytest.mark.parametrize(
    ("mode", "display"),
    [("agent_and_company", "Jane from Acme"), ("company", "Acme")],
)
def test_round_trip(
    tmp_path: Path, sink: Sink, daemon_factory: Any, mode: str, display: str
) -> None:
    daemon: RunningDaemon = daemon_factory(agents_config(tmp_path, sink.port, from_name=mode))
    first = customer_mail(message_id="<fire-1@example.com>")
    send(daemon, first, mail_from=ANN)

    [notice] = sink.wait_for(1)
    assert notice.rcpt_to == (JANE,)
    note = notice.message
    name, reply_address = parseaddr(str(note["From"]))
    assert name == "Ann Customer via Acme"
    assert reply_address.startswith("support+r")
    assert reply_address.endswith("@acme.example")
    assert parseaddr(str(note["Reply-To"]))[1] == reply_address
    assert "[#1]" in str(note["Subject"])
    assert "the printer is on fire." in text_of(note)
    assert ANN in text_of(note)
    assert notice.mail_from == TEAM  # bounces of notifications come back to the team address

    send(daemon, answer_to(note, ANSWER, attachment=PDF), mail_from=JANE)
    envelopes = sink.wait_for(2)
    answer = envelopes[1]
    assert answer.rcpt_to == (ANN,)
    assert answer.mail_from == TEAM
    mail = answer.message
    assert parseaddr(str(mail["From"])) == (display, TEAM)
    assert str(mail["Subject"]) == "Re: Printer on fire [#1]"
    assert mail["In-Reply-To"] == "<fire-1@example.com>"
    assert "<fire-1@example.com>" in str(mail["References"])
    assert str(mail["Message-ID"]).endswith("@gateway.acme.example>")
    customer_key = parseaddr(str(mail["Reply-To"]))[1]
    assert customer_key.startswith("support+r")
    assert customer_key != reply_address
    assert mail.get_content_type() == "multipart/mixed"
    alternative = next(
        p for p in mail.iter_parts() if p.get_content_type() == "multipart/alternative"
    )
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    plain, html = text_of(mail), text_of(mail, "html")
    assert "a technician comes at noon" in plain
    assert "Jane Doe, Acme support" in plain  # signature tokens rendered
    assert "<b>Jane Doe</b>" in html
    assert "Acme" in html
    for leaked in ("wrote:", "> the printer", "personal signature", "{{"):
        assert leaked not in plain
        assert leaked not in html
    [pdf] = [p for p in mail.iter_attachments()]
    assert pdf.get_filename() == "invoice.pdf"
    assert pdf.get_content() == PDF

    # The customer's reply to the answer threads by its key into the same ticket.
    follow = customer_mail("Re: Printer on fire [#1]", body="Thanks, it is off now.\n")
    follow.replace_header("To", customer_key)
    send(daemon, follow, mail_from=ANN)
    third = sink.wait_for(3)[2]  # Jane hears of it
    assert third.rcpt_to == (JANE,)
    assert third.message["References"] == note["References"]  # one thread for the agent
    [ticket] = daemon.tickets()
    shown = daemon.ticket(ticket["number"])
    by_direction = {m["direction"]: m for m in shown["messages"]}
    assert sorted(m["direction"] for m in shown["messages"]) == ["in", "in", "out"]
    assert shown["status"] == "open"  # the customer answered after the agent
    assert by_direction["out"]["new_text"].startswith("Hi Ann")
    assert "wrote:" not in by_direction["out"]["text"]
    # Nothing else was sent: exactly two notifications and the answer.
    assert [e.rcpt_to for e in sink.got] == [(JANE,), (ANN,), (JANE,)]
    rows = json.loads(daemon.cli("outbox", "list", "--json").stdout)
    assert sorted(r["kind"] for r in rows) == ["answer", "notify", "notify"]
    assert all(r["state"] == "sent" for r in rows)
    recipients = getaddresses([str(mail["To"])])
    assert [a for _, a in recipients] == [ANN]


def test_round_trip_on_postgresql(
    tmp_path: Path, sink: Sink, daemon_factory: Any, postgres: PostgresCluster
) -> None:
    env = dict(os.environ, GATEWAY__STORE__URL=postgres.new_database())
    daemon: RunningDaemon = daemon_factory(agents_config(tmp_path, sink.port), env)
    send(daemon, customer_mail(message_id="<pg-1@example.com>"), mail_from=ANN)
    note = sink.wait_for(1)[0].message
    send(daemon, answer_to(note, ANSWER), mail_from=JANE)
    answer = sink.wait_for(2)[1]
    assert answer.rcpt_to == (ANN,)
    assert answer.message["In-Reply-To"] == "<pg-1@example.com>"
    assert "wrote:" not in text_of(answer.message)
    daemon.wait_event("outbox.sent", kind="answer")
    assert {r["state"] for r in json.loads(daemon.cli("outbox", "list", "--json").stdout)} == {
        "sent"
    }


def test_require_authentication(tmp_path: Path, sink: Sink, daemon_factory: Any) -> None:
    config = agents_config(tmp_path, sink.port)
    config.write_text(
        config.read_text().replace(
            "[reply]\n",
            '[reply]\nrequire_authentication = true\ntrusted_authserv_id = "mx.acme.example"\n',
        )
    )
    daemon: RunningDaemon = daemon_factory(config)
    send(daemon, customer_mail(), mail_from=ANN)
    note = sink.wait_for(1)[0].message
    unsigned = answer_to(note, "Hi Ann, unsigned.")
    unsigned["Authentication-Results"] = "evil.example; dkim=pass header.d=acme.example"
    send(daemon, unsigned, mail_from=JANE)
    daemon.wait_event("answer.refused", reason="unauthenticated")
    signed = answer_to(note, "Hi Ann, signed.")
    signed["Authentication-Results"] = "mx.acme.example; dkim=pass header.d=acme.example"
    send(daemon, signed, mail_from=JANE)
    got = sink.wait_for(3)
    to_ann = [e for e in got if e.rcpt_to == (ANN,)]
    assert len(to_ann) == 1
    assert "signed." in text_of(to_ann[0].message)
    assert "unsigned" not in text_of(to_ann[0].message)
