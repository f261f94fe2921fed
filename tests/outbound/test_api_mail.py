"""The tickets API sends mail like the mail path does, on real sockets: answers rendered as an
agent's mail answer, new tickets and new assignees notified, all through the relay sink."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningDaemon
from tests.outbound.conftest import (
    ANN,
    BOB,
    JANE,
    TEAM,
    agents_config,
    answer_to,
    customer_mail,
    send,
)
from tests.outbound.sink import Envelope, Sink

pytestmark = pytest.mark.integration

TOKEN = "api-mail-token-abcdefghijklmnop"
API = """[api]
listen = "127.0.0.1:0"
token_file = "api.tokens"
"""
ACK = """acknowledge = true
ack_text = "Hello {{ contact.name }}, your ticket is {{ ticket.number }}. {{ channel.company }}"
"""


def start(
    tmp_path: Path, sink: Sink, daemon_factory: Any, channel_extra: str
) -> tuple[RunningDaemon, httpx.Client]:
    (tmp_path / "api.tokens").write_text(f"{TOKEN}\n")
    config = agents_config(tmp_path, sink.port, extra=API, channel_extra=channel_extra)
    daemon: RunningDaemon = daemon_factory(config)
    port = int(daemon.wait_event("http.listening")["port"])
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        timeout=httpx.Timeout(10.0, connect=5.0),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    return daemon, client


def open_ticket(client: httpx.Client, subject: str = "Invoice is wrong") -> dict[str, Any]:
    created = client.post(
        "/api/v1/tickets",
        json={
            "subject": subject,
            "contact": {"email": ANN, "name": "Ann Customer"},
            "text": "The invoice lists two printers; I bought one.",
        },
    )
    assert created.status_code == 201, created.text
    ticket: dict[str, Any] = created.json()
    return ticket


def text_of(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def wait_until(sink: Sink, count: int, matches: Callable[[Envelope], bool]) -> list[Envelope]:
    """The first ``count`` mails after which the sink has one that ``matches``."""
    got = sink.wait_for(count)
    assert any(matches(e) for e in got), [(e.rcpt_to, e.message["Subject"]) for e in got]
    return got


def test_api_ticket_is_notified_answered_like_mail_and_the_answer_threads_back(
    tmp_path: Path, sink: Sink, daemon_factory: Any
) -> None:
    rule = f'routing = {{ assign = "users_and_teams", users = ["{BOB}"] }}\n'
    daemon, client = start(tmp_path, sink, daemon_factory, rule + ACK)
    with client:
        ticket = open_ticket(client)
        number = ticket["number"]
        assert ticket["assignee"] == BOB

        # The same as a mail ticket: the assignee is notified, the contact acknowledged.
        first = sink.wait_for(2)
        by_rcpt = {e.rcpt_to: e for e in first}
        assert set(by_rcpt) == {(BOB,), (ANN,)}  # Jane (the notify list) is not told
        notice = by_rcpt[(BOB,)].message
        assert parseaddr(str(notice["From"]))[0] == "Ann Customer via Acme"
        assert parseaddr(str(notice["Reply-To"]))[1].startswith("support+r")
        assert f"[#{number}]" in str(notice["Subject"])
        assert "two printers" in text_of(notice)
        ack = by_rcpt[(ANN,)].message
        assert text_of(ack).strip() == f"Hello Ann Customer, your ticket is {number}. Acme"

        reply = client.post(
            f"/api/v1/tickets/{number}/replies",
            json={"text": "Sorry, a corrected invoice is attached to your account.", "agent": BOB},
        )
        assert reply.status_code == 201, reply.text
        [answer] = sink.wait_for(3)[2:]
        assert answer.rcpt_to == (ANN,)
        assert answer.mail_from == TEAM
        mail = answer.message
        assert mail.get_content_type() == "multipart/alternative"
        assert parseaddr(str(mail["From"])) == ("Bob from Acme", TEAM)
        assert str(mail["Subject"]) == f"Re: Invoice is wrong [#{number}]"
        assert mail["Message-ID"] == f"<{reply.json()['message_id']}>"
        first_in = ticket["messages"][0]["message_id"]
        assert mail["In-Reply-To"] == f"<{first_in}>"
        plain = text_of(mail)
        assert plain.startswith("Sorry, a corrected invoice")
        assert plain.rstrip().endswith("-- \nBob Roe, Acme support")
        assert "<b>Bob Roe</b> · Acme" in text_of(mail, "html")
        customer_key = parseaddr(str(mail["Reply-To"]))[1]
        assert customer_key.startswith("support+r")
        assert customer_key != TEAM

        # The customer answers the answer by mail, from another client that drops the
        # thread headers and the subject: the reply key alone puts it on the ticket.
        again = customer_mail(
            "one more thing", body="Thanks! Can you also send it by post?\n", to=customer_key
        )
        send(daemon, again, mail_from=ANN)
        [told] = sink.wait_for(4)[3:]
        assert told.rcpt_to == (BOB,)
        assert "send it by post" in text_of(told.message)
        got = client.get(f"/api/v1/tickets/{number}").json()
        [later] = [m for m in got["messages"] if "send it by post" in m["text"]]
        assert later["direction"] == "in"
        assert sorted(m["direction"] for m in got["messages"]) == ["auto", "in", "in", "out"]
        assert client.get("/api/v1/tickets").json()["tickets"][0]["number"] == number
        assert len(client.get("/api/v1/tickets").json()["tickets"]) == 1


def test_api_answer_without_an_agent_is_in_company_mode(
    tmp_path: Path, sink: Sink, daemon_factory: Any
) -> None:
    _daemon, client = start(tmp_path, sink, daemon_factory, "")
    with client:
        number = open_ticket(client)["number"]
        [notice] = sink.wait_for(1)  # unassigned: the channel's notify list
        assert notice.rcpt_to == (JANE,)
        reply = client.post(f"/api/v1/tickets/{number}/replies", json={"text": "On it."})
        assert reply.status_code == 201, reply.text
        [answer] = sink.wait_for(2)[1:]
        assert answer.rcpt_to == (ANN,)
        assert parseaddr(str(answer.message["From"])) == ("Acme", TEAM)
        assert parseaddr(str(answer.message["Reply-To"]))[1].startswith("support+r")


def test_new_assignees_are_notified_in_the_tickets_thread(
    tmp_path: Path, sink: Sink, daemon_factory: Any
) -> None:
    rule = f'routing = {{ assign = "users_and_teams", users = ["{BOB}"] }}\n'
    daemon, client = start(tmp_path, sink, daemon_factory, rule)
    with client:
        assert client.patch(f"/api/v1/users/{BOB}", json={"status": "away"}).status_code == 200
        ticket = open_ticket(client)
        number = ticket["number"]
        assert (ticket["assignee"], ticket["assignment_pending"]) == (None, True)
        [waiting] = sink.wait_for(1)
        assert waiting.rcpt_to == (JANE,)  # unassigned: the notify list
        root = str(waiting.message["References"])

        # Delayed assignment: Bob becomes available and gets the ticket by mail.
        assert client.patch(f"/api/v1/users/{BOB}", json={"status": "available"}).status_code == 200
        [taken] = sink.wait_for(2)[1:]
        assert taken.rcpt_to == (BOB,)
        assert "now assigned to you (it waited for an available agent)" in text_of(taken.message)
        assert "two printers" in text_of(taken.message)
        assert str(taken.message["References"]) == root  # one thread per ticket

        # PATCH to another agent: Jane is told; the same assignee again tells nobody.
        changed = client.patch(f"/api/v1/tickets/{number}", json={"assignee": JANE})
        assert changed.json()["assignee"] == JANE
        [handed] = sink.wait_for(3)[2:]
        assert handed.rcpt_to == (JANE,)
        assert "assigned through the API" in text_of(handed.message)
        assert str(handed.message["References"]) == root
        client.patch(f"/api/v1/tickets/{number}", json={"assignee": JANE, "priority": "high"})

        # #assign by mail: Jane hands it to Bob from her notification; Bob is told.
        send(
            daemon, answer_to(handed.message, f"#note #assign {BOB}\nOver to you."), mail_from=JANE
        )
        [by_mail] = sink.wait_for(4)[3:]
        assert by_mail.rcpt_to == (BOB,)
        assert f"#assign by {JANE}" in text_of(by_mail.message)
        assert str(by_mail.message["References"]) == root
        got = client.get(f"/api/v1/tickets/{number}").json()
        assert got["assignee"] == BOB
    assert len(sink.got) == 4


def test_an_away_owner_still_gets_their_contacts_ticket_by_mail(
    tmp_path: Path, sink: Sink, daemon_factory: Any
) -> None:
    daemon, client = start(
        tmp_path, sink, daemon_factory, 'routing = { assign = "contact_owner" }\n'
    )
    with client:
        open_ticket(client, "First")  # makes the contact; nobody owns it yet
        sink.wait_for(1)
        assert client.patch(f"/api/v1/contacts/{ANN}", json={"owner": BOB}).status_code == 200
        assert client.patch(f"/api/v1/users/{BOB}", json={"status": "away"}).status_code == 200

        over_api = open_ticket(client, "Second")
        assert (over_api["assignee"], over_api["mail_assignee"]) == (BOB, True)
        [notice] = sink.wait_for(2)[1:]
        assert notice.rcpt_to == (BOB,)
        assert "[#2]" in str(notice.message["Subject"])

        send(daemon, customer_mail("Third", body="Another question.\n"), mail_from=ANN)
        [mailed] = sink.wait_for(3)[2:]
        assert mailed.rcpt_to == (BOB,)
        assert "[#3]" in str(mailed.message["Subject"])
        assert client.get("/api/v1/tickets/3").json()["assignee"] == BOB


def test_mail_tickets_notify_the_routed_agent_and_whoever_takes_a_waiting_one(
    daemon_factory: Any, tmp_path: Path, sink: Sink
) -> None:
    rule = f'routing = {{ assign = "users_and_teams", users = ["{BOB}"] }}\n'
    daemon: RunningDaemon = daemon_factory(agents_config(tmp_path, sink.port, channel_extra=rule))
    daemon.cli("users", "set-status", BOB, "away")
    send(daemon, customer_mail("Waiting one"), mail_from=ANN)
    [waiting] = sink.wait_for(1)
    assert waiting.rcpt_to == (JANE,)  # unassigned: the channel's notify list

    # By command: Bob is back and the waiting ticket is his; the outbox worker tells him.
    back = daemon.cli("users", "set-status", BOB, "available").stdout
    assert f"ticket 1 assigned to {BOB}" in back
    [taken] = sink.wait_for(2)[1:]
    assert taken.rcpt_to == (BOB,)
    assert "now assigned to you" in text_of(taken.message)
    assert str(taken.message["References"]) == str(waiting.message["References"])

    # By a #available mail, answered from Bob's own notification (his signed address).
    daemon.cli("users", "set-status", BOB, "away")
    send(daemon, customer_mail("Waiting two"), mail_from=ANN)
    assert sink.wait_for(3)[2].rcpt_to == (JANE,)
    send(daemon, answer_to(taken.message, "#available", sender=f"Bob Roe <{BOB}>"), mail_from=BOB)
    [second] = sink.wait_for(4)[3:]
    assert second.rcpt_to == (BOB,)
    assert "[#2]" in str(second.message["Subject"])
    assert "now assigned to you (it waited for an available agent)" in text_of(second.message)

    # Mail in while Bob is available: assigned by the rule, and Bob is the one told.
    send(daemon, customer_mail("Routed at once"), mail_from=ANN)
    [routed] = sink.wait_for(5)[4:]
    assert routed.rcpt_to == (BOB,)
    assert "[#3]" in str(routed.message["Subject"])
    assert [t["assignee"] for t in sorted(daemon.tickets(), key=lambda t: t["number"])] == [
        BOB,
        BOB,
        BOB,
    ]
