"""The daemon as systemd runs it: notify protocol, reload on SIGHUP, logs without secrets."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PostgresCluster, write_config

pytestmark = pytest.mark.integration


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    yield sock, path
    sock.close()


def received(sock: socket.socket, wanted: str) -> list[str]:
    """Datagrams until one contains ``wanted``."""
    seen: list[str] = []
    while True:
        data = sock.recv(4096).decode()
        seen.append(data)
        if wanted in data.split("\n"):
            return seen


def test_ready_watchdog_and_stopping_are_notified(
    tmp_path: Path, daemon_factory: Any, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
    daemon = daemon_factory(write_config(tmp_path), env)
    assert any("READY=1" in d for d in received(sock, "READY=1"))
    received(sock, "WATCHDOG=1")
    received(sock, "WATCHDOG=1")  # it keeps pinging, every 0.2 s here
    daemon.process.send_signal(signal.SIGTERM)
    received(sock, "STOPPING=1")
    assert daemon.stop() == 0


def test_sighup_reloads_team_addresses(tmp_path: Path, daemon_factory: Any) -> None:
    config = write_config(tmp_path)
    daemon = daemon_factory(config)
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.ehlo("c.example")
        client.mail("ann@example.com")
        assert client.rcpt("sales@acme.example")[0] == 550
    write_config(tmp_path, addresses=("support@acme.example", "sales@acme.example"))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_event("daemon.reloaded")
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.sendmail("ann@example.com", ["sales@acme.example"], b"Subject: hi\r\n\r\nx\r\n")
    daemon.wait_processed(1)
    [ticket] = daemon.tickets()
    assert ticket["channel"] == "sales"


def test_bad_config_on_reload_keeps_the_old_one(tmp_path: Path, daemon_factory: Any) -> None:
    config = write_config(tmp_path)
    good = config.read_text()
    daemon = daemon_factory(config)
    config.write_text("data_dir = [broken\n")
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_event("daemon.reload_failed")
    config.write_text(good)  # for the CLI below; the daemon does not look again without SIGHUP
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.sendmail("ann@example.com", ["support@acme.example"], b"Subject: hi\r\n\r\nx\r\n")
    daemon.wait_processed(1)


def test_postgres_store_and_no_secret_in_logs(
    tmp_path: Path, daemon_factory: Any, postgres: PostgresCluster
) -> None:
    url = postgres.new_database().replace("postgres@", "postgres:Sup3rSecretPw@")
    env = dict(os.environ, GATEWAY__STORE__URL=url, GATEWAY__LOG__LEVEL="debug")
    config = write_config(tmp_path)
    daemon = daemon_factory(config, env)
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.sendmail(
            "ann@example.com",
            ["support@acme.example"],
            b"From: ann@example.com\r\nSubject: on postgres\r\n"
            b"Message-ID: <pg1@example.com>\r\n\r\nmy card number is 4111\r\n",
        )
    daemon.wait_processed(1)
    [ticket] = daemon.tickets()
    assert ticket["subject"] == "on postgres"
    checked = daemon.cli("check-config")
    assert "Sup3rSecretPw" not in checked.stdout + checked.stderr
    daemon.stop()
    log = "\n".join(json.dumps(e) for e in daemon.events)
    assert "smtp.accepted" in log
    assert "Sup3rSecretPw" not in log
    assert "4111" not in log  # message bodies are never logged
