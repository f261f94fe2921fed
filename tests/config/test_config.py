"""Loading the config: defaults, environment overrides, and errors that name key and line."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "gateway.demo.toml"


def test_demo_config_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GATEWAY__SMTP__LISTEN", "GATEWAY__DATA_DIR", "GATEWAY__STORE__URL"):
        monkeypatch.delenv(key, raising=False)
    cfg = load_settings(DEMO)
    assert cfg.data_dir == (REPO / "config" / "var").resolve()
    assert cfg.store_url == f"sqlite:///{cfg.data_dir / 'gateway.db'}"
    assert cfg.smtp.listen_address == ("127.0.0.1", 2525)
    assert cfg.smtp.max_message_size == 26_214_400
    assert cfg.team_addresses == {"support@demo.example": "support"}


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GATEWAY__SMTP__LISTEN", "127.0.0.1:2600")
    monkeypatch.setenv("GATEWAY__DATA_DIR", str(tmp_path / "gw"))
    monkeypatch.setenv("GATEWAY__STORE__URL", "postgresql+asyncpg://gw:secret@db.example/gw")
    cfg = load_settings(DEMO)
    assert cfg.smtp.listen == "127.0.0.1:2600"
    assert cfg.data_dir == tmp_path / "gw"
    assert cfg.store_url.startswith("postgresql+asyncpg://gw:secret@")
    assert "secret" not in repr(cfg.store)


BAD = """\
data_dir = "var"
[smtp]
listen = "127.0.0.1"
max_message_size = -3
colour = "blue"
[[channels]]
name = "support"
kind = "team_email"
address = "support@demo.example"
[[channels]]
name = "sales"
kind = "team_mail"
address = "not-an-address"
"""


def test_every_problem_has_key_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    found = {(p.key, p.line) for p in caught.value.problems}
    assert found == {
        ("smtp.listen", 3),
        ("smtp.max_message_size", 4),
        ("smtp.colour", 5),
        ("channels[1].kind", 12),
        ("channels[1].address", 13),
    }
    reasons = {p.key: p.message for p in caught.value.problems}
    assert "HOST:PORT" in reasons["smtp.listen"]
    assert reasons["smtp.colour"].startswith("unknown key")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('data_dir = "var"\n[smtp\n', "(syntax)"),
        ('data_dir = "var"\n', "channels: required key is missing"),
        (
            '[[channels]]\nname="a"\nkind="team_email"\naddress="s@x.example"\n'
            '[[channels]]\nname="b"\nkind="team_email"\naddress="S@x.example"\n',
            "belongs to one channel only",
        ),
        ('[[channels]]\nname="a"\nkind="team_email"\n', "needs an address"),
        ('[smtp]\nrequire_tls = true\n[[channels]]\nname="a"\nkind="chat"\n', "require_tls needs"),
    ],
)
def test_refused_configs(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert needle in str(caught.value)


def test_check_config_command(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    bad = subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(path), "check-config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "line 13: channels[1].address" in bad.stderr
    good = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config"],
        capture_output=True,
        text=True,
        check=False,
        env={"GATEWAY_CONFIG": str(DEMO), "PATH": "/usr/bin:/bin"},
    )
    assert good.returncode == 0, good.stderr
    assert "support@demo.example" in good.stdout


def test_example_config_loads_and_documents_every_key() -> None:
    from pydantic import BaseModel

    from gateway.config.schema import Settings

    example = REPO / "config" / "gateway.example.toml"
    cfg = load_settings(example)
    assert [c.name for c in cfg.channels] == ["support", "billing"]
    text = example.read_text()

    def model_of(annotation: object) -> type[BaseModel] | None:
        # A section (X), an optional section (X | None) or an array of tables (list[X]).
        candidates = [annotation, *typing.get_args(annotation)]
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                return candidate
        return None

    def keys(model: type[BaseModel], prefix: str) -> list[str]:
        found = []
        for name, info in model.model_fields.items():
            section = model_of(info.annotation)
            if section is not None:
                found += keys(section, f"{prefix}{name}.")
            else:
                found.append(f"{prefix}{name}")
        return found

    missing = [k for k in keys(Settings, "") if k.rpartition(".")[2] + " =" not in text]
    assert missing == []
