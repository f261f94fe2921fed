"""Mail in over real SMTP → a ticket assigned by the channel's rule, and the reason shown."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.threading.reply_keys import ReplyKey, Role, reply_address, sign_reply_key
from tests.conftest import RunningDaemon, write_config
from tests.inbound.test_smtp_e2e import mail, send

pytestmark = pytest.mark.integration

SECRET = b"e2e-reply-secret-0123456789abcdef"

CONFIG = """
[reply]
trusted_authserv_id = "mx.acme.example"

[[agents]]
first_name = "Jane"
last_name = "Doe"
address = "jane@acme.example"
seat = true
teams = ["tier1"]
skills = ["en", "billing"]

[[agents]]
first_name = "Bob"
address = "bob@acme.example"
teams = ["tier1"]
skills = ["de"]

[[agents]]
first_name = "Vic"
address = "vic@acme.example"
seat = false
teams = ["tier1"]

[[channels]]
name = "support"
kind = "team_email"
address = "support@acme.example"
routing = { assign = "users_and_teams", users = ["jane@acme.example"], teams = ["tier1"], \
only_available = true, spread = "round_robin" }

[[channels]]
name = "sales"
kind = "team_email"
address = "sales@acme.example"
routing = { assign = "contact_owner", users = ["bob@acme.example"] }

[[channels]]
name = "billing"
kind = "team_email"
address = "billing@acme.example"
"""


@pytest.fixture
def daemon(tmp_path: Path, daemon_factory: Any) -> RunningDaemon:
    config = write_config(tmp_path, CONFIG, addresses=())
    (tmp_path / "reply.key").write_bytes(SECRET)
    return daemon_factory(config)


def ticket_for(daemon: RunningDaemon, subject: str) -> dict[str, Any]:
    [found] = [t for t in daemon.tickets() if t["subject"] == subject]
    return daemon.ticket(found["number"])


def test_mail_is_assigned_by_the_channel_rule(daemon: RunningDaemon) -> None:
    send(daemon, mail("One", minutes=0), mail("Two", minutes=1))
    send(daemon, mail("Three", minutes=2, to="billing@acme.example"))
    daemon.wait_processed(3)
    one, two = ticket_for(daemon, "One"), ticket_for(daemon, "Two")
    assert {one["assignee"], two["assignee"]} == {"jane@acme.example", "bob@acme.example"}
    assert (
        "users_and_teams: round robin among 2 available of 2 eligible" in one["assignment_reason"]
    )
    three = ticket_for(daemon, "Three")
    assert three["assignee"] is None
    assert three["assignment_reason"] == "channel rule assigns nobody"
    shown = daemon.cli("tickets", "show", str(one["number"])).stdout
    assert f"assigned to {one['assignee']}, because: users_and_teams: round robin" in shown
    users = {u["address"]: u for u in daemon.users()}
    assert users["jane@acme.example"]["open_tickets"] == 1
    assert users["vic@acme.example"]["open_tickets"] == 0


def test_waiting_mail_goes_to_the_first_agent_back(daemon: RunningDaemon) -> None:
    daemon.cli("users", "set-status", "jane@acme.example", "away")
    daemon.cli("users", "set-status", "bob@acme.example", "away")
    send(daemon, mail("Nobody home"))
    daemon.wait_processed(1)
    waiting = ticket_for(daemon, "Nobody home")
    assert waiting["assignee"] is None
    assert waiting["assignment_pending"] is True
    assert (
        "no eligible agent is available: assigned when one becomes available"
        in waiting["assignment_reason"]
    )
    back = daemon.cli("users", "set-status", "bob@acme.example", "available").stdout
    assert f"ticket {waiting['number']} assigned to bob@acme.example" in back
    assert ticket_for(daemon, "Nobody home")["assignee"] == "bob@acme.example"


def test_contact_owner_keeps_the_ticket_while_away(daemon: RunningDaemon) -> None:
    send(daemon, mail("Before owner", to="sales@acme.example"))
    daemon.wait_processed(1)
    assert ticket_for(daemon, "Before owner")["assignee"] == "bob@acme.example"
    daemon.cli("contacts", "set-owner", "ann@example.com", "jane@acme.example")
    daemon.cli("users", "set-status", "jane@acme.example", "away")
    send(daemon, mail("After owner", to="sales@acme.example", minutes=5))
    daemon.wait_processed(2)
    after = ticket_for(daemon, "After owner")
    assert after["assignee"] == "jane@acme.example"
    assert after["mail_assignee"] is True
    assert "contact owner jane@acme.example, who is away" in after["assignment_reason"]


def user_id(daemon: RunningDaemon, address: str) -> int:
    with sqlite3.connect(daemon.config.parent / "var" / "gateway.db") as db:
        return int(db.execute("SELECT id FROM users WHERE address = ?", (address,)).fetchone()[0])


def status_of(daemon: RunningDaemon, address: str) -> str:
    return str({u["address"]: u for u in daemon.users()}[address]["status"])


def test_status_mail_needs_proof_of_the_agent(daemon: RunningDaemon) -> None:
    # From alone: a customer's ticket, the status stays.
    send(daemon, mail("#away", sender="Jane Doe <jane@acme.example>"))
    daemon.wait_processed(1)
    assert status_of(daemon, "jane@acme.example") == "available"
    assert [t["subject"] for t in daemon.tickets()] == ["#away"]
    # A signed reply address issued to Jane: her status, and no ticket.
    tag = sign_reply_key(
        SECRET,
        ReplyKey(
            Role.AGENT,
            ticket=1,
            holder=user_id(daemon, "jane@acme.example"),
            issued=datetime.now(UTC).date(),
        ),
    )
    send(
        daemon,
        mail("Re: your ticket", sender="jane@acme.example", body="#away\n\nback Monday\n"),
        to=[reply_address("support@acme.example", tag)],
    )
    rows = daemon.wait_processed(2)
    assert status_of(daemon, "jane@acme.example") == "away"
    assert "agent jane@acme.example away by mail (signed reply address" in rows[0]["reason"]
    assert len(daemon.tickets()) == 1
    # Bob sends through Jane's key: not proof for Bob.
    send(
        daemon,
        mail("#away", sender="bob@acme.example", minutes=3),
        to=[reply_address("support@acme.example", tag)],
    )
    daemon.wait_processed(3)
    assert status_of(daemon, "bob@acme.example") == "available"
    # Trusted Authentication-Results: Jane back, and waiting tickets go to her.
    daemon.cli("users", "set-status", "bob@acme.example", "away")
    send(daemon, mail("Waiting for Jane", minutes=4))
    daemon.wait_processed(4)
    back = mail("#available", sender="jane@acme.example", minutes=5)
    back["Authentication-Results"] = "mx.acme.example; dkim=pass header.d=acme.example"
    forged = mail("#available", sender="bob@acme.example", minutes=6)
    forged["Authentication-Results"] = "mx.evil.example; dkim=pass header.d=acme.example"
    send(daemon, back, forged)
    daemon.wait_processed(6)
    assert status_of(daemon, "jane@acme.example") == "available"
    assert status_of(daemon, "bob@acme.example") == "away"
    assert ticket_for(daemon, "Waiting for Jane")["assignee"] == "jane@acme.example"
