"""`gateway channels set`: channel settings saved by command, checked like the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli, write_config
from tests.inbound.test_smtp_e2e import mail, send

AGENTS = """
[[agents]]
first_name = "Jane"
address = "jane@acme.example"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, AGENTS, addresses=("support@acme.example", "sales@acme.example"))
    run_cli(path, "db", "upgrade")
    return path


def show(config: Path, name: str = "support") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run_cli(config, "channels", "show", name, "--json").stdout)
    return data


def test_a_saved_setting_is_shown_and_unset_goes_back(config: Path) -> None:
    done = run_cli(config, "channels", "set", "support", "company", "Globex Corp")
    assert 'company = "Globex Corp" (saved)' in done.stdout
    run_cli(config, "channels", "set", "support", "acknowledge", "true")
    seen = show(config)
    assert (seen["company"], seen["acknowledge"]) == ("Globex Corp", True)
    assert seen["set_by_command"] == ["acknowledge", "company"]
    assert show(config, "sales")["company"] == ""
    run_cli(config, "channels", "set", "support", "company", "--unset")
    seen = show(config)
    assert seen["company"] == ""
    assert seen["set_by_command"] == ["acknowledge"]


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("from_name", "bogus", "from_name"),
        ("signature_text", "{{ ''.__class__.__mro__ }}", "signature_text"),
        ("address", "sales@acme.example", "one channel only"),
        ("address", "jane@acme.example", "agent"),
        ("notify", '["nobody@acme.example"]', "nobody@acme.example"),
        ("kind", "chat", "cannot be set by command"),
        ("routing", '{"assign": "nobody"}', "set-routing"),
        ("colour", "blue", "settable keys"),
    ],
)
def test_a_setting_that_does_not_fit_is_refused_and_not_saved(
    config: Path, key: str, value: str, says: str
) -> None:
    before = show(config)
    result = run_cli(config, "channels", "set", "support", key, value, check=False)
    assert result.returncode == 1
    assert says in result.stderr
    assert show(config) == before


def test_the_daemon_uses_the_saved_settings(config: Path, daemon_factory: Any) -> None:
    run_cli(config, "channels", "set", "support", "pipeline", "sales-leads")
    run_cli(config, "channels", "set", "support", "priority", "high")
    daemon = daemon_factory(config)
    send(daemon, mail("Quote for 40 seats"))
    daemon.wait_processed(1)
    [ticket] = daemon.tickets()
    seen = daemon.ticket(ticket["number"])
    assert (seen["pipeline"], seen["priority"]) == ("sales-leads", "high")
