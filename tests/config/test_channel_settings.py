"""Channel settings from the config file: routing, defaults, agents, errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.errors import ConfigError

AGENTS = """
[[agents]]
first_name = "Jane"
address = "jane@acme.example"
teams = ["tier1"]
skills = ["EN", "billing"]
working_hours = { tz = "Europe/Amsterdam", mon-fri = "09:00-17:00" }

[[agents]]
first_name = "Vic"
address = "vic@acme.example"
seat = false
teams = ["tier1"]
"""


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return load_settings(path)


def test_the_issue_example_loads(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        AGENTS
        + """
[api]
listen = "127.0.0.1:8025"
token_file = "api.tokens"

[[channels]]
name = "support"
kind = "team_email"
address = "support@acme.example"
priority = "high"
properties = { product = "printers" }
routing = { assign = "users_and_teams", users = ["jane@acme.example"], teams = ["tier1"], \
only_available = true, spread = "round_robin" }

[[channels]]
name = "wa"
kind = "whatsapp"
identity = "+31 (20) 123-4567"
""",
    )
    channel = cfg.channels[0]  # type: ignore[attr-defined]
    assert channel.routing.assign == "users_and_teams"
    assert channel.routing.spread == "round_robin"
    assert channel.properties == {"product": "printers"}
    assert cfg.channels[1].channel_identity == "+31201234567"  # type: ignore[attr-defined]
    assert cfg.agents[0].skills == ["billing", "en"]  # type: ignore[attr-defined]
    assert cfg.api.token_file == tmp_path / "api.tokens"  # type: ignore[attr-defined]


CHANNEL = '[[channels]]\nname = "support"\nkind = "team_email"\naddress = "support@acme.example"\n'


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        (
            AGENTS
            + CHANNEL
            + 'routing = { assign = "users_and_teams", users = ["vic@acme.example"] }',
            "(top level)",
            "vic@acme.example, who has no seat: give them seat = true or remove them",
        ),
        (
            AGENTS
            + CHANNEL
            + 'routing = { assign = "contact_owner", users = ["zed@acme.example"] }',
            "(top level)",
            "zed@acme.example, who is not an agent: add them under [[agents]]",
        ),
        (
            AGENTS + CHANNEL + 'routing = { assign = "users_and_teams", teams = ["tier9"] }',
            "(top level)",
            "team 'tier9', which no agent is in",
        ),
        (
            AGENTS + CHANNEL + 'routing = { assign = "users_and_teams" }',
            "channels[0].routing",
            "needs users or teams",
        ),
        (
            AGENTS + CHANNEL + 'routing = { assign = "everyone" }',
            "channels[0].routing.assign",
            "'nobody', 'users_and_teams' or 'contact_owner'",
        ),
        (
            '[[agents]]\nfirst_name = "S"\naddress = "support@acme.example"\n' + CHANNEL,
            "(top level)",
            "team address of channel 'support' and an agent's personal address",
        ),
        (
            CHANNEL + CHANNEL.replace('"support"', '"other"', 1),
            "(top level)",
            "belongs to one channel only",
        ),
        (
            CHANNEL
            + '[[channels]]\nname = "a"\nkind = "whatsapp"\nidentity = "+31 20 1234567"\n'
            + '[[channels]]\nname = "b"\nkind = "calling"\nidentity = "+31-20-1234567"\n',
            "(top level)",
            "+31201234567 is connected to channels 'a' and 'b'",
        ),
        (
            '[[agents]]\nfirst_name = "J"\naddress = "j@acme.example"\n'
            'working_hours = { tz = "Europe/Amsterdam", weekdays = "09:00-17:00" }\n' + CHANNEL,
            "agents[0].working_hours",
            "not a day or range of days",
        ),
        (
            CHANNEL + 'status = "closed"\n',
            "channels[0].status",
            "'new', 'open' or 'waiting'",
        ),
    ],
)
def test_config_file_errors_say_what_to_change(
    tmp_path: Path, body: str, key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, body)
    problems = {p.key: p.message for p in caught.value.problems}
    assert key in problems, problems
    assert words in problems[key]
