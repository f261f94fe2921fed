"""Real SMTP and LMTP sessions on a socket against a running daemon."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningDaemon, write_config

pytestmark = pytest.mark.integration

TEAM = "support@acme.example"


def mail(
    subject: str,
    *,
    sender: str = "Ann Customer <ann@example.com>",
    to: str = TEAM,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    body: str = "Hello support,\nthe printer is on fire.\n",
    minutes: int = 0,
) -> EmailMessage:
    """A plain customer mail."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(
        datetime(2026, 11, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    )
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body)
    return msg


def send(daemon: RunningDaemon, *messages: EmailMessage, to: list[str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        for message in messages:
            client.send_message(message, to_addrs=to)


@pytest.fixture
def daemon(tmp_path: Path, daemon_factory: Any) -> RunningDaemon:
    config = write_config(tmp_path, addresses=(TEAM, "billing@acme.example"))
    return daemon_factory(config, lmtp=True)


def test_new_mail_becomes_ticket(daemon: RunningDaemon) -> None:
    send(daemon, mail("Printer on fire", message_id="<p1@example.com>"))
    daemon.wait_processed(1)
    [ticket] = daemon.tickets()
    assert ticket["subject"] == "Printer on fire"
    assert ticket["status"] == "new"
    assert ticket["contact"] == "ann@example.com"
    assert ticket["channel"] == "support"
    assert ticket["message_count"] == 1
    shown = daemon.ticket(ticket["number"])
    [message] = shown["messages"]
    assert message["direction"] == "in"
    assert message["from"] == "ann@example.com"
    assert message["message_id"] == "p1@example.com"
    assert message["date"].startswith("2026-11-02T09:00")


def test_reply_threads_by_in_reply_to(daemon: RunningDaemon) -> None:
    send(daemon, mail("Question", message_id="<q1@example.com>"))
    send(
        daemon,
        mail(
            "Re: Question", message_id="<q2@example.com>", in_reply_to="<q1@example.com>", minutes=5
        ),
    )
    daemon.wait_processed(2)
    [ticket] = daemon.tickets()
    assert ticket["message_count"] == 2
    assert [m["message_id"] for m in daemon.ticket(ticket["number"])["messages"]] == [
        "q1@example.com",
        "q2@example.com",
    ]


def test_reply_threads_by_references_only(daemon: RunningDaemon) -> None:
    send(daemon, mail("Order 42", message_id="<o1@example.com>"))
    reply = mail(
        "Re: Order 42",
        message_id="<o3@example.com>",
        references="<o1@example.com> <o2@unknown.example>",
        minutes=9,
    )
    send(daemon, reply)
    daemon.wait_processed(2)
    [ticket] = daemon.tickets()
    assert ticket["message_count"] == 2


def test_subject_token_threads_for_participants_only(daemon: RunningDaemon) -> None:
    send(daemon, mail("Invoice wrong", message_id="<i1@example.com>"))
    daemon.wait_processed(1)
    number = daemon.tickets()[0]["number"]
    send(daemon, mail(f"Re: Invoice wrong [#{number}]", message_id="<i2@example.com>", minutes=3))
    send(
        daemon,
        mail(
            f"Hijack [#{number}]",
            sender="mallory@evil.example",
            message_id="<i3@evil.example>",
            minutes=4,
        ),
    )
    daemon.wait_processed(3)
    tickets = {t["contact"]: t for t in daemon.tickets()}
    assert tickets["ann@example.com"]["message_count"] == 2
    assert tickets["mallory@evil.example"]["number"] != number


def test_reply_before_parent_joins_one_ticket(daemon: RunningDaemon) -> None:
    send(
        daemon,
        mail(
            "Re: Late parent",
            message_id="<c2@example.com>",
            in_reply_to="<c1@example.com>",
            minutes=10,
        ),
    )
    daemon.wait_processed(1)
    send(daemon, mail("Late parent", message_id="<c1@example.com>"))
    daemon.wait_processed(2)
    [ticket] = daemon.tickets()
    assert ticket["message_count"] == 2
    assert ticket["subject"] == "Late parent"
    ids = [m["message_id"] for m in daemon.ticket(ticket["number"])["messages"]]
    assert ids == ["c1@example.com", "c2@example.com"]


def test_split_conversation_is_merged_when_the_middle_arrives(daemon: RunningDaemon) -> None:
    send(daemon, mail("Root", message_id="<m1@example.com>"))
    daemon.wait_processed(1)
    # m3 answers m2, which has not arrived yet and names no References.
    send(
        daemon,
        mail("Re: Root", message_id="<m3@example.com>", in_reply_to="<m2@example.com>", minutes=20),
    )
    daemon.wait_processed(2)
    assert len(daemon.tickets()) == 2
    send(
        daemon,
        mail("Re: Root", message_id="<m2@example.com>", in_reply_to="<m1@example.com>", minutes=10),
    )
    daemon.wait_processed(3)
    [ticket] = daemon.tickets()
    assert ticket["message_count"] == 3


def test_reply_to_closed_ticket_reopens_it(daemon: RunningDaemon) -> None:
    import sqlite3

    send(daemon, mail("Done?", message_id="<d1@example.com>"))
    daemon.wait_processed(1)
    number = daemon.tickets()[0]["number"]
    db = sqlite3.connect(daemon.config.parent / "var" / "gateway.db")
    with db:
        db.execute("UPDATE tickets SET status = 'closed' WHERE id = ?", (number,))
    db.close()
    assert daemon.tickets()[0]["status"] == "closed"
    send(
        daemon,
        mail(
            "Re: Done?", message_id="<d2@example.com>", in_reply_to="<d1@example.com>", minutes=30
        ),
    )
    daemon.wait_processed(2)
    [ticket] = daemon.tickets()
    assert ticket["status"] == "open"
    assert ticket["message_count"] == 2


def test_duplicate_delivery_is_stored_once(daemon: RunningDaemon) -> None:
    original = mail("Twice", message_id="<dup@example.com>", to=f"{TEAM}, billing@acme.example")
    send(daemon, original, to=[TEAM])
    send(daemon, original, to=["billing@acme.example"])
    send(daemon, original, to=[TEAM])
    rows = daemon.wait_processed(3)
    [ticket] = daemon.tickets()
    assert ticket["message_count"] == 1
    [message] = daemon.ticket(ticket["number"])["messages"]
    assert sorted(message["delivered_to"]) == ["billing@acme.example", TEAM]
    assert sorted(r["reason"] for r in rows) == ["duplicate", "duplicate", "new"]


def test_sub_address_is_accepted_unknown_recipient_refused(daemon: RunningDaemon) -> None:
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.ehlo("client.example")
        assert client.mail("ann@example.com")[0] == 250
        assert client.rcpt("support+vip@acme.example")[0] == 250
        code, text = client.rcpt("someone@elsewhere.example")
        assert code == 550
        assert text.startswith(b"5.1.1")
        code, _ = client.rcpt("support@acme.example.evil.example")
        assert code == 550


def test_open_relay_refused_without_any_valid_recipient(daemon: RunningDaemon) -> None:
    with (
        smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        client.sendmail("spam@example.net", ["victim@example.org"], b"Subject: hi\r\n\r\nbuy\r\n")
    assert daemon.inbound() == []


def test_ehlo_advertises_8bitmime_smtputf8_and_size(daemon: RunningDaemon) -> None:
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.ehlo("client.example")
        assert client.has_extn("8bitmime")
        assert client.has_extn("smtputf8")
        assert client.esmtp_features["size"] == "26214400"


def test_oversize_message_refused_with_552(tmp_path: Path, daemon_factory: Any) -> None:
    config = write_config(tmp_path, "[smtp]\nmax_message_size = 20000\n")
    daemon = daemon_factory(config)
    big = mail("Big", body=("x" * 70 + "\n") * 500)
    long_line = mail("Long line", body="y" * 5000 + "\n", message_id="<long@example.com>")
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.ehlo("client.example")
        client.mail("ann@example.com")
        client.rcpt(TEAM)
        code, text = client.data(big.as_bytes())
        assert code == 552
        assert text.startswith(b"5.3.4")
        # Lines over RFC 5321's 1000 octets are taken: refusing would bounce real mail.
        client.sendmail("ann@example.com", [TEAM], long_line.as_bytes())
    [row] = daemon.wait_processed(1)
    assert row["state"] == "done"


def test_lmtp_answers_data_once_per_accepted_recipient(daemon: RunningDaemon) -> None:
    # smtplib.LMTP reads only one DATA reply, so this speaks LMTP on a raw socket.
    import socket

    with socket.create_connection(("127.0.0.1", daemon.lmtp_port), timeout=30) as sock:
        reader = sock.makefile("rb")

        def say(line: bytes) -> list[bytes]:
            sock.sendall(line + b"\r\n")
            return reply()

        def reply() -> list[bytes]:
            lines = []
            while True:
                line = reader.readline()
                lines.append(line)
                if line[3:4] != b"-":
                    return lines

        reply()  # greeting
        assert say(b"EHLO client.example")[0].startswith(b"500")  # LMTP speaks LHLO only
        assert say(b"LHLO client.example")[-1].startswith(b"250")
        assert say(b"MAIL FROM:<ann@example.com>")[0].startswith(b"250")
        assert say(f"RCPT TO:<{TEAM}>".encode())[0].startswith(b"250")
        assert say(b"RCPT TO:<nobody@acme.example>")[0].startswith(b"550 5.1.1")
        assert say(b"RCPT TO:<billing+x@acme.example>")[0].startswith(b"250")
        assert say(b"DATA")[0].startswith(b"354")
        sock.sendall(
            b"From: ann@example.com\r\nTo: support@acme.example\r\nSubject: two\r\n"
            b"Message-ID: <l2@example.com>\r\n\r\nhi\r\n.\r\n"
        )
        first, second = reply(), reply()
        assert first[0].startswith(b"250 2.0.0")
        assert second[0].startswith(b"250 2.0.0")
        assert say(b"QUIT")[0].startswith(b"221")
        reader.close()
    daemon.wait_processed(1)
    [ticket] = daemon.tickets()
    [message] = daemon.ticket(ticket["number"])["messages"]
    assert sorted(message["delivered_to"]) == ["billing@acme.example", TEAM]
