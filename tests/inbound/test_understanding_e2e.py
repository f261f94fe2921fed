"""Mail understanding inside the running pipeline: forwards, auto mail, loops and spam."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest

from tests.conftest import FIXTURES, RunningDaemon, write_config

pytestmark = pytest.mark.integration

TEAM = "support@acme.example"
MAIL = FIXTURES / "mail"


def send_raw(daemon: RunningDaemon, raw: bytes, sender: str = "mta@example.net") -> None:
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.sendmail(sender, [TEAM], raw)


def plain(mid: str, subject: str, *, sender: str = "ann@example.com", extra: str = "") -> bytes:
    return (
        f"From: Ann <{sender}>\r\nTo: {TEAM}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{mid}>\r\nDate: Mon, 2 Nov 2026 09:00:00 +0000\r\n{extra}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nThe printer is on fire.\r\n"
    ).encode()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.conftest import start_daemon

    config = write_config(tmp_path_factory.mktemp("understanding"))
    running = start_daemon(config)
    yield running
    running.stop()


def by_contact(daemon: RunningDaemon, address: str) -> dict[str, Any]:
    [ticket] = [t for t in daemon.tickets() if t["contact"] == address]
    return daemon.ticket(ticket["number"])


def test_hand_forward_goes_to_the_original_sender(daemon: RunningDaemon) -> None:
    before = len(daemon.inbound())
    send_raw(daemon, (MAIL / "forwards" / "gmail-fwd-de.eml").read_bytes())
    daemon.wait_processed(before + 1)
    ticket = by_contact(daemon, "anna.berg@example.de")
    [message] = ticket["messages"]
    assert message["forwarded_by"] == "jonas.weber@gmail.com"
    assert message["from"] == "anna.berg@example.de"


def test_spam_is_quarantined_with_the_verdict(daemon: RunningDaemon) -> None:
    before = len(daemon.inbound())
    send_raw(daemon, (MAIL / "classify" / "spamassassin-flagged.eml").read_bytes())
    rows = daemon.wait_processed(before + 1)
    newest = max(rows, key=lambda r: r["id"])
    assert newest["state"] == "quarantined"
    assert newest["reason"].startswith("spam: X-Spam-Flag")


def test_own_mail_coming_back_is_dropped(daemon: RunningDaemon) -> None:
    before = len(daemon.tickets())
    rows_before = len(daemon.inbound())
    send_raw(daemon, plain("abc@gateway.acme.example", "Re: our own notification"))
    rows = daemon.wait_processed(rows_before + 1)
    newest = max(rows, key=lambda r: r["id"])
    assert newest["state"] == "done"
    assert newest["reason"].startswith("dropped loop")
    assert len(daemon.tickets()) == before


def test_auto_reply_joins_its_ticket_but_never_opens_one(daemon: RunningDaemon) -> None:
    rows_before = len(daemon.inbound())
    tickets_before = len(daemon.tickets())
    oof = (MAIL / "classify" / "outlook-oof-en.eml").read_bytes()
    send_raw(daemon, oof)
    rows = daemon.wait_processed(rows_before + 1)
    assert max(rows, key=lambda r: r["id"])["reason"].startswith("auto_reply without a ticket")
    assert len(daemon.tickets()) == tickets_before

    send_raw(
        daemon, plain("question@example.org", "Where is my order?", sender="oof.user@example.org")
    )
    auto = plain(
        "auto1@example.org",
        "Automatic reply: Where is my order?",
        sender="oof.user@example.org",
        extra="Auto-Submitted: auto-replied\r\nIn-Reply-To: <question@example.org>\r\n",
    )
    send_raw(daemon, auto)
    daemon.wait_processed(rows_before + 3)
    ticket = by_contact(daemon, "oof.user@example.org")
    assert [m["classification"] for m in ticket["messages"]] == ["normal", "auto_reply"]
    assert ticket["status"] == "new"
