"""The per-channel acknowledgement: new tickets only, never auto mail or lists, rate-limited."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningDaemon
from tests.outbound.conftest import ANN, JANE, TEAM, agents_config, customer_mail, send
from tests.outbound.sink import Sink

pytestmark = pytest.mark.integration

ACK = """acknowledge = true
ack_per_hour = 1
ack_text = "Hello {{ contact.name }}, your ticket is {{ ticket.number }}. {{ channel.company }}"
"""


def test_acknowledgement(tmp_path: Path, sink: Sink, daemon_factory: Any) -> None:
    daemon: RunningDaemon = daemon_factory(agents_config(tmp_path, sink.port, channel_extra=ACK))
    send(daemon, customer_mail(message_id="<a1@example.com>"), mail_from=ANN)
    got = sink.wait_for(2)
    [ack] = [e for e in got if e.rcpt_to == (ANN,)]
    assert [e.rcpt_to for e in got if e is not ack] == [(JANE,)]
    mail = ack.message
    assert mail["Auto-Submitted"] == "auto-replied"
    assert parseaddr(str(mail["From"])) == ("Acme", TEAM)
    assert str(mail["Subject"]) == "Re: Printer on fire [#1]"
    assert mail["In-Reply-To"] == "<a1@example.com>"
    assert parseaddr(str(mail["Reply-To"]))[1].startswith("support+r")
    assert "Hello Ann Customer, your ticket is 1. Acme" in mail.get_content()

    # At most ack_per_hour to one address: the second new ticket gets no acknowledgement.
    send(daemon, customer_mail("Another thing", message_id="<a2@example.com>"), mail_from=ANN)
    # Never to lists or auto-replies.
    listed = customer_mail("Newsletter", sender="News <news@lists.example>")
    listed["List-Id"] = "<news.lists.example>"
    listed["List-Unsubscribe"] = "<mailto:leave@lists.example>"
    send(daemon, listed, mail_from="news@lists.example")
    auto = customer_mail("Out of office", sender="Carl <carl@example.org>")
    auto["Auto-Submitted"] = "auto-replied"
    send(daemon, auto, mail_from="carl@example.org")
    daemon.wait_processed(4)
    sink.wait_for(4)  # the notifications of the two new tickets
    daemon.wait_event("outbox.sent", ticket=3, kind="notify")
    assert sum(1 for e in sink.got if e.rcpt_to != (JANE,)) == 1
    shown = daemon.ticket(1)
    assert [m["direction"] for m in shown["messages"]] == ["in", "auto"]
