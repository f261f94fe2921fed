"""Reply keys that must never reach a customer, and the commands agents write on line one."""

from __future__ import annotations

import json
from datetime import date
from email.message import EmailMessage
from email.utils import parseaddr

import pytest

from gateway.threading.reply_keys import ReplyKey, Role, reply_address, sign_reply_key
from tests.conftest import RunningDaemon
from tests.outbound.conftest import ANN, BOB, JANE, TEAM, answer_to, customer_mail, send
from tests.outbound.sink import Sink

pytestmark = pytest.mark.integration


def open_ticket(
    daemon: RunningDaemon, sink: Sink, subject: str = "Printer on fire"
) -> EmailMessage:
    """A customer mail in; returns Jane's notification."""
    before = len(sink.got)
    send(daemon, customer_mail(subject), mail_from=ANN)
    return sink.wait_for(before + 1)[before].message


def secret(daemon: RunningDaemon) -> bytes:
    return (daemon.config.parent / "reply.key").read_bytes().strip()


def with_reply_to(notification: EmailMessage, address: str) -> EmailMessage:
    """The notification as if its reply address were ``address``."""
    copy = EmailMessage()
    for name in ("Subject", "Message-ID", "References"):
        copy[name] = notification[name]
    copy["Reply-To"] = address
    return copy


def refused(daemon: RunningDaemon, sink: Sink, before: int, reason: str, told: str) -> None:
    """The mail was refused for ``reason``: nothing to the customer, an alert to ``told``."""
    alert = sink.wait_for(before + 1)[before]
    assert alert.rcpt_to == (told,)
    assert "NOT sent to any customer" in alert.message.get_content()
    assert all(ANN not in e.rcpt_to for e in sink.got)
    rows = daemon.inbound("done")
    assert any((r["reason"] or "") == f"refused agent answer: {reason}" for r in rows)
    event = daemon.wait_event("answer.refused", reason=reason)
    assert event["sender"]
    # A key is a credential: none of those in the mail that went out is in the log.
    logged = json.dumps(daemon.events)
    for envelope in sink.got:
        for header in ("From", "Reply-To"):
            address = parseaddr(str(envelope.message[header] or ""))[1]
            if "+" in address:
                assert address.split("+")[1].split("@")[0] not in logged


def test_forged_key_is_refused(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    forged = reply_address(
        TEAM, sign_reply_key(b"not-the-secret" * 3, ReplyKey(Role.AGENT, 1, 1, date.today()))
    )
    send(agent_daemon, answer_to(with_reply_to(note, forged), "Hello Ann"), mail_from=JANE)
    refused(agent_daemon, sink, 1, "forged_key", JANE)  # the channel's notify agent


def test_key_from_the_wrong_address_is_refused(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    mallory = answer_to(note, "Send me your password, Ann", sender="Mallory <mallory@evil.example>")
    send(agent_daemon, mallory, mail_from="mallory@evil.example")
    refused(agent_daemon, sink, 1, "wrong_sender", JANE)


def test_header_from_spoofed_but_envelope_differs(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    send(agent_daemon, answer_to(note, "Hi Ann"), mail_from="mallory@evil.example")
    refused(agent_daemon, sink, 1, "wrong_sender", JANE)


def test_customer_key_cannot_act_as_agent(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    customer_key = reply_address(
        TEAM, sign_reply_key(secret(agent_daemon), ReplyKey(Role.CUSTOMER, 1, 1, date.today()))
    )
    send(agent_daemon, answer_to(with_reply_to(note, customer_key), "Hi"), mail_from=JANE)
    refused(agent_daemon, sink, 1, "customer_key_as_agent", JANE)


def test_expired_key_is_refused(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    old = reply_address(
        TEAM, sign_reply_key(secret(agent_daemon), ReplyKey(Role.AGENT, 1, 1, date(2021, 1, 1)))
    )
    send(agent_daemon, answer_to(with_reply_to(note, old), "Hi Ann"), mail_from=JANE)
    refused(agent_daemon, sink, 1, "expired_key", JANE)


def test_key_for_another_ticket_is_refused(agent_daemon: RunningDaemon, sink: Sink) -> None:
    first = open_ticket(agent_daemon, sink, "First problem")
    second = open_ticket(agent_daemon, sink, "Second problem")
    # Jane answers ticket 2's notification, but the reply address is ticket 1's.
    mixed = answer_to(second, "Hi Ann")
    mixed.replace_header("To", str(first["Reply-To"]))
    send(agent_daemon, mixed, mail_from=JANE)
    refused(agent_daemon, sink, 2, "wrong_ticket", JANE)


def test_replayed_answer_is_relayed_once(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    answer = answer_to(note, "Hi Ann,\nswitch it off.\n")
    send(agent_daemon, answer, mail_from=JANE)
    sink.wait_for(2)
    send(agent_daemon, answer, mail_from=JANE)  # the same mail again (an MTA retry, a replay)
    agent_daemon.wait_processed(3)
    rows = json.loads(agent_daemon.cli("outbox", "list", "--json").stdout)
    assert sorted(r["kind"] for r in rows) == ["answer", "notify"]
    assert [e.rcpt_to for e in sink.got] == [(JANE,), (ANN,)]


def test_note_close_and_assign(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    send(agent_daemon, answer_to(note, "#note\nShe called, it is the toner.\n"), mail_from=JANE)
    send(agent_daemon, answer_to(note, f"#assign {BOB}\n"), mail_from=JANE)
    agent_daemon.wait_processed(3)
    [ticket] = agent_daemon.tickets()
    shown = agent_daemon.ticket(ticket["number"])
    notes = [m for m in shown["messages"] if m["direction"] == "note"]
    assert [n["new_text"] for n in notes] == ["She called, it is the toner.", ""]
    assert notes[0]["from"] == JANE
    # Bob is told the ticket is his, in the ticket's notification thread.
    handed = sink.wait_for(2)[1]
    assert handed.rcpt_to == (BOB,)
    assert f"now assigned to you (#assign by {JANE})" in handed.message.get_content()
    assert handed.message["References"] == note["References"]
    # Bob is the assignee now: the customer's next mail goes to him alone.
    follow = customer_mail("Re: Printer on fire [#1]", body="Still burning.\n")
    send(agent_daemon, follow, mail_from=ANN)
    bob_note = sink.wait_for(3)[2]
    assert bob_note.rcpt_to == (BOB,)
    bob_answer = answer_to(bob_note.message, "#close\nFixed, closing.\n", sender=f"Bob <{BOB}>")
    send(agent_daemon, bob_answer, mail_from=BOB)
    final = sink.wait_for(4)[3]
    assert final.rcpt_to == (ANN,)
    assert "Fixed, closing." in final.message.get_body(("plain",)).get_content()
    assert "#close" not in final.message.get_body(("plain",)).get_content()
    agent_daemon.wait_processed(5)
    assert agent_daemon.tickets()[0]["status"] == "closed"
    assert all(ANN not in e.rcpt_to for e in sink.got[:3])  # the note was never sent


def test_out_of_office_to_reply_address_is_ignored(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    ooo = answer_to(note, "I am away until Monday.")
    ooo["Auto-Submitted"] = "auto-replied"
    send(agent_daemon, ooo, mail_from=JANE)
    agent_daemon.wait_processed(2)
    assert [e.rcpt_to for e in sink.got] == [(JANE,)]


def test_assign_to_someone_unknown_is_reported(agent_daemon: RunningDaemon, sink: Sink) -> None:
    note = open_ticket(agent_daemon, sink)
    send(
        agent_daemon,
        answer_to(note, "#assign nobody@acme.example\nHi Ann, we are on it.\n"),
        mail_from=JANE,
    )
    got = sink.wait_for(3)
    to_ann = [e for e in got if e.rcpt_to == (ANN,)]
    [alert] = [e for e in got[1:] if e.rcpt_to == (JANE,)]
    assert "we are on it" in to_ann[0].message.get_body(("plain",)).get_content()
    assert "nobody@acme.example is not an active agent" in alert.message.get_content()
