"""The routing commands: users, contacts, channels; errors that say what to change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.store.engine import make_sync_engine
from tests.conftest import run_cli, write_config

AGENTS = """
[[agents]]
first_name = "Jane"
address = "jane@acme.example"
teams = ["tier1"]

[[agents]]
first_name = "Vic"
address = "vic@acme.example"
seat = false
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, AGENTS)
    run_cli(path, "db", "upgrade")
    return path


def add_contact(config: Path, address: str) -> None:
    engine = make_sync_engine(f"sqlite:///{config.parent / 'var' / 'gateway.db'}")
    with engine.begin() as conn:
        contact = conn.execute(
            text(
                "INSERT INTO contacts (name, created_at) VALUES ('Ann', '2026-01-01') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO contact_identities (contact_id, kind, value, display)"
                " VALUES (:c, 'email', :a, :a)"
            ),
            {"c": contact, "a": address},
        )
    engine.dispose()


def test_users_list_json_and_set_status(config: Path) -> None:
    users = json.loads(run_cli(config, "users", "list", "--json").stdout)
    assert [(u["address"], u["status"], u["seat"], u["open_tickets"]) for u in users] == [
        ("jane@acme.example", "available", True, 0),
        ("vic@acme.example", "available", False, 0),
    ]
    done = run_cli(config, "users", "set-status", "Jane@acme.example", "away")
    assert "jane@acme.example is away" in done.stdout
    users = json.loads(run_cli(config, "users", "list", "--json").stdout)
    assert users[0]["status"] == "away"
    table = run_cli(config, "users", "list").stdout
    [jane] = [line.split() for line in table.splitlines() if line.startswith("jane@")]
    assert jane[2] == "away"


def test_set_status_of_someone_who_is_no_agent(config: Path) -> None:
    failed = run_cli(config, "users", "set-status", "zed@acme.example", "away", check=False)
    assert failed.returncode == 1
    assert "no agent has the address zed@acme.example: add them under [[agents]]" in failed.stderr
    bad = run_cli(config, "users", "set-status", "jane@acme.example", "asleep", check=False)
    assert bad.returncode == 2


def test_set_owner_checks_seat_agent_and_contact(config: Path) -> None:
    add_contact(config, "ann@example.com")
    ok = run_cli(config, "contacts", "set-owner", "ann@example.com", "jane@acme.example")
    assert "ann@example.com is owned by jane@acme.example" in ok.stdout
    for agent, words in [
        ("vic@acme.example", "vic@acme.example has no seat: give them seat = true"),
        ("zed@acme.example", "zed@acme.example is not an agent: add them under [[agents]]"),
    ]:
        failed = run_cli(config, "contacts", "set-owner", "ann@example.com", agent, check=False)
        assert failed.returncode == 1
        assert words in failed.stderr
    failed = run_cli(
        config, "contacts", "set-owner", "bob@example.com", "jane@acme.example", check=False
    )
    assert "no contact has the address bob@example.com" in failed.stderr
    cleared = run_cli(config, "contacts", "set-owner", "ann@example.com", "--clear")
    assert "owned by nobody" in cleared.stdout


def test_channels_list_show_and_set_routing(config: Path) -> None:
    listed = json.loads(run_cli(config, "channels", "list", "--json").stdout)
    assert [(c["name"], c["address"], c["routing"]["assign"]) for c in listed] == [
        ("support", "support@acme.example", "nobody")
    ]
    failed = run_cli(
        config,
        "channels",
        "set-routing",
        "support",
        '{"assign": "users_and_teams", "users": ["vic@acme.example"]}',
        check=False,
    )
    assert failed.returncode == 1
    assert "vic@acme.example, who has no seat: give them seat = true" in failed.stderr
    failed = run_cli(
        config,
        "channels",
        "set-routing",
        "support",
        '{"assign": "users_and_teams", "teams": ["tier9"]}',
        check=False,
    )
    assert "team 'tier9', which no agent is in" in failed.stderr
    failed = run_cli(config, "channels", "set-routing", "support", '{"assign": "all"}', check=False)
    assert "routing.assign" in failed.stderr
    run_cli(
        config,
        "channels",
        "set-routing",
        "support",
        '{"assign": "users_and_teams", "teams": ["tier1"], "spread": "fewest_open"}',
    )
    shown = json.loads(run_cli(config, "channels", "show", "support", "--json").stdout)
    assert shown["routing"]["spread"] == "fewest_open"
    assert shown["routing_source"] == "command"
    assert "channel(s) OK" in run_cli(config, "channels", "validate").stdout
    run_cli(config, "channels", "set-routing", "support", "--reset")
    shown = json.loads(run_cli(config, "channels", "show", "support", "--json").stdout)
    assert shown["routing_source"] == "config"
    missing = run_cli(config, "channels", "show", "nope", check=False)
    assert missing.returncode == 1


def test_channels_validate_finds_a_seat_taken_away_in_the_store(config: Path) -> None:
    run_cli(
        config,
        "channels",
        "set-routing",
        "support",
        '{"assign": "contact_owner", "users": ["jane@acme.example"]}',
    )
    engine = make_sync_engine(f"sqlite:///{config.parent / 'var' / 'gateway.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET seat = false WHERE address = 'jane@acme.example'"))
    engine.dispose()
    failed = run_cli(config, "channels", "validate", check=False)
    assert failed.returncode == 1
    assert "jane@acme.example, who has no seat" in failed.stderr


def test_config_file_errors_from_check_config(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        AGENTS + '\n[[channels]]\nname = "x"\nkind = "team_email"\naddress = "jane@acme.example"\n',
    )
    failed = run_cli(path, "check-config", check=False)
    assert failed.returncode == 2
    assert "team address of channel 'x' and an agent's personal address" in failed.stderr


def test_channels_validate_finds_an_agent_at_a_team_address(config: Path) -> None:
    # An agent added to the store by command (not the file) at the team's own address.
    engine = make_sync_engine(f"sqlite:///{config.parent / 'var' / 'gateway.db'}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (address, first_name, last_name, seat, status, active,"
                " created_at) VALUES ('support@acme.example', 'S', '', true, 'available', true,"
                " '2026-01-01')"
            )
        )
    engine.dispose()
    failed = run_cli(config, "channels", "validate", check=False)
    assert failed.returncode == 1
    assert (
        "support@acme.example is the team address of channel 'support' and an agent's"
        " personal address: use a personal address for the agent"
    ) in failed.stderr
