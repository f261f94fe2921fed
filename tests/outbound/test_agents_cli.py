"""Agents and teams from the config and the command line; the reply secret on first start."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.conftest import run_cli
from tests.outbound.conftest import BOB, JANE, agents_config


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
    # The secret is kept across starts: a new one would void every reply address out there.
    before = secret.read_bytes()
    run_cli(config, "db", "upgrade")
    assert secret.read_bytes() == before
