"""Assignment in the store on SQLite and PostgreSQL: new mail tickets, waiting tickets, owners."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, select

from gateway.assignment import assign_pending, plans_for, save_rule
from gateway.config.load import reply_secret
from gateway.config.schema import Settings
from gateway.daemon import Paths, assign_and_notify, prepare_store
from gateway.effects import effects_config
from gateway.inbound.spool import SpoolWriter
from gateway.pipeline import Pipeline
from gateway.store import agents
from gateway.store import tickets as store
from gateway.store.blobs import FileBlobStore
from gateway.store.engine import make_sync_engine
from gateway.store.migrate import upgrade
from gateway.store.models import Outbox, UserStatus
from tests.store.test_store import NODE, enqueue, raw_mail

outbox = cast(Table, Outbox.__table__)

AGENTS = [
    {"first_name": "Jane", "address": "jane@acme.example", "teams": ["tier1"], "skills": ["en"]},
    {"first_name": "Bob", "address": "bob@acme.example", "teams": ["tier1"], "skills": ["de"]},
    {"first_name": "Vic", "address": "vic@acme.example", "seat": False, "teams": ["tier1"]},
    {"first_name": "Olga", "address": "olga@acme.example"},
]


def settings(url: str, tmp_path: Path, routing: dict[str, Any], **channel: Any) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": tmp_path / "data",
            "node": NODE,
            "store": {"url": url},
            "agents": AGENTS,
            "channels": [
                {
                    "name": "support",
                    "kind": "team_email",
                    "address": "support@acme.example",
                    "routing": routing,
                    **channel,
                },
            ],
        }
    )


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    eng = make_sync_engine(store_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def run_mail(engine: Engine, cfg: Settings, url: str, *mails: bytes) -> None:
    paths = Paths(cfg.data_dir)
    paths.create()
    prepare_store(cfg, migrate=False)
    spool = SpoolWriter(paths.spool)
    enqueue(url, spool, list(mails))
    spool.close()
    pipeline = Pipeline(
        engine, cfg, node=NODE, blobs=FileBlobStore(paths.blobs), spool_dir=paths.spool
    )
    assert pipeline.run_batch() == len(mails)


def tickets_by_subject(engine: Engine) -> dict[str, store.TicketSummary]:
    with engine.connect() as conn:
        return {t.subject: t for t in store.list_tickets(conn)}


def test_mail_tickets_go_round_robin_to_seated_team_members(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    cfg = settings(
        store_url,
        tmp_path,
        {"assign": "users_and_teams", "teams": ["tier1"]},
        priority="high",
        properties={"product": "printers"},
    )
    run_mail(engine, cfg, store_url, *(raw_mail(f"m{i}@x", f"T{i}") for i in range(4)))
    found = tickets_by_subject(engine)
    assert [found[f"T{i}"].assignee for i in range(4)] == [
        "bob@acme.example",
        "jane@acme.example",
        "bob@acme.example",
        "jane@acme.example",
    ]
    assert "round robin among 2 available of 2 eligible" in (found["T0"].assignment_reason or "")
    assert found["T0"].priority == "high"
    assert found["T0"].properties == {"product": "printers"}
    with engine.connect() as conn:
        listed = {u.address: u for u in agents.list_users(conn)}
    assert listed["jane@acme.example"].open_tickets == 2
    assert listed["vic@acme.example"].open_tickets == 0


def waiting_for_olga(engine: Engine, store_url: str, tmp_path: Path, subject: str) -> Settings:
    """A channel for Olga alone, Olga away, and a mail ticket ``subject`` waiting for her."""
    cfg = settings(
        store_url, tmp_path, {"assign": "users_and_teams", "users": ["olga@acme.example"]}
    )
    prepare_store(cfg, migrate=False)
    with engine.begin() as conn:
        assert agents.set_status(conn, "olga@acme.example", UserStatus.AWAY)
    run_mail(engine, cfg, store_url, raw_mail(f"{subject}@x", subject))
    return cfg


def test_waiting_ticket_is_assigned_when_an_agent_becomes_available(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    cfg = waiting_for_olga(engine, store_url, tmp_path, "Waiting")
    ticket = tickets_by_subject(engine)["Waiting"]
    assert ticket.assignee is None
    assert ticket.assignment_pending
    assert "no eligible agent is available" in (ticket.assignment_reason or "")
    with engine.begin() as conn:
        assert assign_pending(conn, plans_for(cfg)) == []  # still away
        agents.set_status(conn, "olga@acme.example", UserStatus.AVAILABLE)
        assert assign_pending(conn, plans_for(cfg)) == [(ticket.number, "olga@acme.example")]
        assert assign_pending(conn, plans_for(cfg)) == []  # only once
    ticket = tickets_by_subject(engine)["Waiting"]
    assert ticket.assignee == "olga@acme.example"
    assert not ticket.assignment_pending
    assert (ticket.assignment_reason or "").startswith("waited for an available agent")


def test_the_waiting_sweep_tells_each_new_assignee_once(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    cfg = waiting_for_olga(engine, store_url, tmp_path, "Swept")
    number = tickets_by_subject(engine)["Swept"].number
    blobs = FileBlobStore(Paths(cfg.data_dir).blobs)
    config = effects_config(cfg, reply_secret(cfg))
    with engine.begin() as conn:
        agents.set_status(conn, "olga@acme.example", UserStatus.AVAILABLE)
        assign_and_notify(conn, blobs, plans=plans_for(cfg), config=config)
        assign_and_notify(conn, blobs, plans=plans_for(cfg), config=config)  # nothing waits now
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.kind, outbox.c.rcpt_to, outbox.c.payload_sha256).where(
                outbox.c.ticket_id == number
            )
        ).all()
    [(kind, rcpt_to, sha)] = rows
    assert (kind, list(rcpt_to)) == ("notify", ["olga@acme.example"])
    sent = blobs.get(sha).decode()
    assert "now assigned to you (it waited for an available agent)" in sent
    assert f"References: <ticket.{number}@" in sent


def test_working_hours_start_releases_waiting_tickets(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    hours = {"tz": "Europe/Amsterdam", "mon-fri": "09:00-17:00"}
    cfg = settings(
        store_url, tmp_path, {"assign": "users_and_teams", "users": ["olga@acme.example"]}
    )
    cfg = cfg.model_copy(
        update={"agents": [cfg.agents[3].model_copy(update={"working_hours": hours})]}
    )
    run_mail(engine, cfg, store_url, raw_mail("h1@x", "Hours"))
    ticket = tickets_by_subject(engine)["Hours"]
    saturday = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam
    with engine.begin() as conn:
        from gateway.store.tickets import tickets as table

        conn.execute(
            table.update()
            .where(table.c.id == ticket.number)
            .values(assignee_id=None, assignment_pending=True)
        )
        assert assign_pending(conn, plans_for(cfg), saturday) == []
        assert assign_pending(conn, plans_for(cfg), monday) == [
            (ticket.number, "olga@acme.example")
        ]


def test_contact_owner_gets_the_ticket_even_when_away(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    cfg = settings(store_url, tmp_path, {"assign": "contact_owner", "teams": ["tier1"]})
    run_mail(engine, cfg, store_url, raw_mail("o1@x", "First"))
    assert tickets_by_subject(engine)["First"].assignee == "bob@acme.example"  # no owner yet
    with engine.begin() as conn:
        agents.set_owner(conn, "ann@example.com", "olga@acme.example")
        agents.set_status(conn, "olga@acme.example", UserStatus.AWAY)
        with pytest.raises(agents.AgentProblem, match="has no seat"):
            agents.set_owner(conn, "ann@example.com", "vic@acme.example")
        with pytest.raises(agents.AgentProblem, match="is not an agent"):
            agents.set_owner(conn, "ann@example.com", "zed@acme.example")
        with pytest.raises(agents.AgentProblem, match="no contact has the address"):
            agents.set_owner(conn, "nobody@example.com", "olga@acme.example")
    run_mail(engine, cfg, store_url, raw_mail("o2@x", "Second"))
    second = tickets_by_subject(engine)["Second"]
    assert second.assignee == "olga@acme.example"
    assert second.mail_assignee
    assert second.contact_owner == "olga@acme.example"
    assert "who is away: still theirs, and mailed" in (second.assignment_reason or "")


def test_rule_saved_by_command_is_checked_and_used(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    cfg = settings(store_url, tmp_path, {"assign": "nobody"})
    prepare_store(cfg, migrate=False)
    with engine.begin() as conn:
        problems = save_rule(
            conn, "support", {"assign": "users_and_teams", "users": ["vic@acme.example"]}
        )
        assert problems == [
            "channel 'support' routing names vic@acme.example, who has no seat:"
            " give them seat = true or remove them from routing.users"
        ]
        assert save_rule(conn, "support", {"assign": "users_and_teams", "teams": ["nope"]})
        assert save_rule(conn, "support", {"assign": "everybody"})
        assert (
            save_rule(
                conn, "support", {"assign": "users_and_teams", "users": ["olga@acme.example"]}
            )
            == []
        )
    run_mail(engine, cfg, store_url, raw_mail("c1@x", "Command"))
    assert tickets_by_subject(engine)["Command"].assignee == "olga@acme.example"


def test_agent_removed_from_the_config_is_never_assigned(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    cfg = settings(store_url, tmp_path, {"assign": "users_and_teams", "teams": ["tier1"]})
    prepare_store(cfg, migrate=False)
    fewer = cfg.model_copy(update={"agents": [a for a in cfg.agents if a.first_name != "Bob"]})
    run_mail(engine, fewer, store_url, *(raw_mail(f"r{i}@x", f"R{i}") for i in range(3)))
    assert {t.assignee for t in tickets_by_subject(engine).values()} == {"jane@acme.example"}
    with engine.connect() as conn:
        bob = [u for u in agents.list_users(conn) if u.address == "bob@acme.example"]
    assert bob[0].active is False
    assert bob[0].teams == ()
