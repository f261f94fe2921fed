"""Agents and teams from the config and the command line; the reply secret on first start."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from tests.conftest import RunningDaemon, run_cli
from tests.outbound.conftest import ANN, BOB, JANE, agents_config, customer_mail, send
from tests.outbound.sink import Sink


def test_users_and_teams(tmp_path: Path) -> None:
    config = agents_config(tmp_path, 2526)
    run_cli(config, "db", "upgrade")
    secret = tmp_path / "reply.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_bytes().strip()) >= 32

    listed = json.loads(run_cli(config, "users", "list", "--json").stdout)
    assert [u["address"] for u in listed] == [BOB, JANE]
    run_cli(config, "users", "add", "Carl@Acme.example", "--first-name", "Carl", "--team", "tier2")
    run_cli(config, "teams", "add-member", "tier2", JANE)
    assert json.loads(run_cli(config, "teams", "list", "--json").stdout) == {
        "tier2": ["carl@acme.example", JANE]
    }
    run_cli(config, "teams", "remove-member", "tier2", JANE)
    run_cli(config, "users", "remove", "carl@acme.example")
    users = {u["address"]: u for u in json.loads(run_cli(config, "users", "list", "--json").stdout)}
    assert users["carl@acme.example"]["active"] is False
    assert users["carl@acme.example"]["teams"] == ["tier2"]
    assert users[JANE]["teams"] == []

    refused = run_cli(
        config, "users", "add", "support@acme.example", "--first-name", "X", check=False
    )
    assert refused.returncode == 2
    assert run_cli(config, "users", "remove", "nobody@acme.example", check=False).returncode == 1
    # Bob leaves the config: inactive at the next start; Carl (added by command) is untouched.
    run_cli(config, "users", "add", "carl@acme.example", "--first-name", "Carl")
    bob_entry = f'[[agents]]\nfirst_name = "Bob"\nlast_name = "Roe"\naddress = "{BOB}"\n'
    config.write_text(config.read_text().replace(bob_entry, ""))
    run_cli(config, "db", "upgrade")
    users = {u["address"]: u for u in json.loads(run_cli(config, "users", "list", "--json").stdout)}
    assert users[BOB]["active"] is False
    assert users["carl@acme.example"]["active"] is True
    assert users["carl@acme.example"]["source"] == "cli"
    assert users[JANE]["active"] is True
    # The secret is kept across starts: a new one would void every reply address out there.
    before = secret.read_bytes()
    run_cli(config, "db", "upgrade")
    assert secret.read_bytes() == before


def test_notify_names_a_team(tmp_path: Path, sink: Sink, daemon_factory: Any) -> None:
    config = agents_config(tmp_path, sink.port)
    text = config.read_text().replace('notify = ["jane@acme.example"]', 'notify = ["tier2"]')
    config.write_text(text)
    run_cli(config, "db", "upgrade")
    run_cli(config, "teams", "add-member", "tier2", BOB)
    daemon: RunningDaemon = daemon_factory(config)
    send(daemon, customer_mail(), mail_from=ANN)
    [notice] = sink.wait_for(1)
    assert notice.rcpt_to == (BOB,)


def test_notify_entry_must_be_an_agent_or_a_team(tmp_path: Path) -> None:
    config = agents_config(tmp_path, 2526)
    config.write_text(
        config.read_text().replace('notify = ["jane@acme.example"]', 'notify = ["a b"]')
    )
    result = run_cli(config, "check-config", check=False)
    assert result.returncode == 2
    assert "neither an agent's address nor a team name" in result.stderr
