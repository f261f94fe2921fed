"""Shared fixtures: config files, a real daemon on loopback, a throwaway PostgreSQL.

Integration fixtures fail instead of skipping when ``CI=true`` and a component
is missing, so a green CI run always means the component was exercised.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ENV = "GATEWAY_TEST_POSTGRES_URL"


def missing_component(what: str) -> None:
    """Skip locally, fail in CI: a missing component must never pass silently there."""
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} is not installed")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    folder: Path, body: str = "", *, addresses: tuple[str, ...] = ("support@acme.example",)
) -> Path:
    """A config file in ``folder`` with one team_email channel per address, plus ``body``."""
    channels = "".join(
        f'\n[[channels]]\nname = "{a.split("@")[0]}"\nkind = "team_email"\naddress = "{a}"\n'
        for a in addresses
    )
    path = folder / "gateway.toml"
    path.write_text(f'data_dir = "var"\n{body}\n{channels}', encoding="utf-8")
    return path


# -- the daemon -------------------------------------------------------------------------


@dataclass
class RunningDaemon:
    """A ``gateway serve`` child process and what it logged."""

    config: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    events: list[dict[str, Any]] = field(default_factory=list)
    smtp_port: int = 0
    lmtp_port: int = 0
    _reader: threading.Thread | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "raw", "line": line.decode("utf-8", "replace").rstrip()}
            with self._cond:
                self.events.append(event)
                if event.get("event") == "smtp.listening":
                    if event.get("protocol") == "lmtp":
                        self.lmtp_port = int(event["port"])
                    else:
                        self.smtp_port = int(event["port"])
                self._cond.notify_all()

    def wait_event(self, name: str, timeout: float = 20.0, **match: Any) -> dict[str, Any]:
        """The first logged event called ``name`` with the given keys; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event.get("event") == name and all(
                        event.get(k) == v for k, v in match.items()
                    ):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    tail = "\n".join(json.dumps(e) for e in self.events[-30:])
                    raise AssertionError(f"no {name} event within {timeout}s; log tail:\n{tail}")
                self._cond.wait(min(left, 0.2))

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``gateway --config <config> ARGS`` against the same store."""
        return run_cli(self.config, *args, env=self.env, check=check)

    def tickets(self) -> list[dict[str, Any]]:
        """``gateway tickets list --json``."""
        return list(json.loads(self.cli("tickets", "list", "--json", "--limit", "100000").stdout))

    def ticket(self, number: int) -> dict[str, Any]:
        """``gateway tickets show N --json``."""
        return dict(json.loads(self.cli("tickets", "show", str(number), "--json").stdout))

    def users(self) -> list[dict[str, Any]]:
        """``gateway users list --json``."""
        return list(json.loads(self.cli("users", "list", "--json").stdout))

    def inbound(self, state: str | None = None) -> list[dict[str, Any]]:
        """``gateway inbound list --json``."""
        extra = ("--state", state) if state else ()
        return list(
            json.loads(self.cli("inbound", "list", "--json", "--limit", "100000", *extra).stdout)
        )

    def wait_processed(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until ``count`` inbound rows are no longer queued and their messages are read
        (bodies stored, notifications written); return all rows."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.inbound()
            if len([r for r in rows if r["state"] != "queued" and not r["unread"]]) >= count:
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"only {rows} processed after {timeout}s")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the daemon and wait for it to exit; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader is not None:
            self._reader.join(5)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return int(self.process.returncode)


def run_cli(
    config: Path,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the gateway command line in a child process."""
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=60,
        input=stdin.decode() if stdin is not None else None,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"gateway {' '.join(args)} exited {result.returncode}: {result.stderr}"
        )
    return result


def start_daemon(
    config: Path, env: dict[str, str] | None = None, *, lmtp: bool = False
) -> RunningDaemon:
    """Start ``gateway serve`` on ephemeral ports and wait until it is ready."""
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("GATEWAY__SMTP__LISTEN", "127.0.0.1:0")
    if lmtp:
        child_env.setdefault("GATEWAY__SMTP__LMTP_LISTEN", "127.0.0.1:0")
    child_env.setdefault("GATEWAY__LOG__FORMAT", "json")
    child_env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--config", str(config), "serve"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=child_env,
    )
    daemon = RunningDaemon(config, process, child_env)
    daemon._reader = threading.Thread(target=daemon._read, daemon=True)
    daemon._reader.start()
    daemon.wait_event("daemon.ready", timeout=60)
    daemon.wait_event("worker.ready", timeout=60)
    return daemon


@pytest.fixture
def daemon_factory() -> Iterator[Any]:
    """Start daemons on demand; every one is stopped at the end of the test."""
    started: list[RunningDaemon] = []

    def factory(
        config: Path, env: dict[str, str] | None = None, *, lmtp: bool = False
    ) -> RunningDaemon:
        daemon = start_daemon(config, env, lmtp=lmtp)
        started.append(daemon)
        return daemon

    yield factory
    for daemon in started:
        daemon.stop()


# -- PostgreSQL -------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(argv: list[str]) -> list[str]:
    # The server refuses to run as root; a throwaway cluster runs as the postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@dataclass(frozen=True)
class PostgresCluster:
    """A running throwaway cluster (or the one named by GATEWAY_TEST_POSTGRES_URL)."""

    base_url: str
    """``postgresql+asyncpg://user@host:port`` without a database."""
    data_dir: Path | None
    bin_dir: Path | None
    port: int

    def new_database(self) -> str:
        """Create an empty database; returns its URL."""
        import psycopg

        name = f"gw_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base_url}/{name}"

    def _dsn(self, database: str) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(f"{self.base_url}/{database}")
        password = f" password={url.password}" if url.password else ""
        return f"host={url.host} port={url.port} user={url.username} dbname={database}{password}"

    def pg_ctl(self, action: str) -> None:
        """Stop or start the throwaway cluster (for outage tests)."""
        if self.data_dir is None or self.bin_dir is None:
            pytest.skip("the PostgreSQL under test is not ours to stop")
        args = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-w", "-m", "fast", action]
        if action == "start":
            args += ["-l", str(self.data_dir / "server.log")]
        subprocess.run(_as_postgres(args), check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster on 127.0.0.1 for the whole session."""
    if url := os.environ.get(PG_ENV):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        base = parsed.set(database=None).render_as_string(hide_password=False).rstrip("/")
        yield PostgresCluster(base, None, None, parsed.port or 5432)
        return
    bin_dir = _pg_bin()
    if bin_dir is None:
        missing_component("PostgreSQL (Debian package postgresql)")
        return
    root = Path(
        subprocess.run(
            ["mktemp", "-d", "/tmp/gw-pg.XXXXXX"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    data_dir = root / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(data_dir, "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
            f"unix_socket_directories = '{data_dir}'\n"
            "fsync = on\nmax_connections = 200\nshared_buffers = 128MB\n"
        )
    cluster = PostgresCluster(
        f"postgresql+asyncpg://postgres@127.0.0.1:{port}", data_dir, bin_dir, port
    )
    cluster.pg_ctl("start")
    try:
        yield cluster
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()
