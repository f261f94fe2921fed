"""What a ``250`` promises: a crash, a database outage or a shutdown never loses acknowledged mail.

These tests run the real daemon (``gateway serve`` and its pipeline worker
child) and break it from outside: SIGKILL of both processes right after a burst
of ``250`` replies, a PostgreSQL cluster stopped under it, a SQLite database
held locked past the busy timeout, SIGTERM while sessions wait for their answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import smtplib
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PostgresCluster, RunningDaemon, write_config

pytestmark = pytest.mark.integration

TEAM = "support@acme.example"


# -- helpers ----------------------------------------------------------------------------


def mail(message_id: str, subject: str | None = None, *, attachment: int = 0) -> bytes:
    """A customer mail with its own subject, so each one opens its own ticket.

    ``attachment`` bytes of attached log file make the pipeline's share of the work
    (decoding, blob writes) heavier than the intake's, as real mail does.
    """
    msg = EmailMessage()
    msg["From"] = "Ann Customer <ann@example.com>"
    msg["To"] = TEAM
    msg["Subject"] = subject or f"Case {message_id}"
    msg["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content("Hello support,\nthe printer is on fire.\n")
    if attachment:
        log = (message_id.encode() + b" printer log line\n") * (attachment // 30 + 1)
        msg.add_attachment(log[:attachment], maintype="text", subtype="plain", filename="log.txt")
    return msg.as_bytes()


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid``, read from /proc (the worker is the daemon's child)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in task.read_text().split()]
    return found


def worker_pid(daemon: RunningDaemon) -> int:
    """The pid of the daemon's pipeline worker."""
    [pid] = [p for p in child_pids(daemon.process.pid) if _is_worker(p)]
    return pid


def _is_worker(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"worker" in argv and b"gateway" in argv


def kill_hard(daemon: RunningDaemon) -> None:
    """SIGKILL the worker and the daemon at once, as a power cut would (minus the disk cache)."""
    children = child_pids(daemon.process.pid)
    # The daemon first: a SIGKILLed worker alone would be restarted by its supervisor.
    os.kill(daemon.process.pid, signal.SIGKILL)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    daemon.process.wait(10)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and not _is_zombie(pid) for pid in children):
        assert time.monotonic() < deadline, f"worker {children} survived SIGKILL"
        time.sleep(0.02)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


@contextlib.contextmanager
def paused(pid: int) -> Iterator[None]:
    """SIGSTOP a process (a worker that falls behind) and always let it go on again."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def sqlite_db(daemon: RunningDaemon) -> Path:
    return daemon.config.parent / "var" / "gateway.db"


def query(daemon: RunningDaemon, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the daemon's SQLite store, read beside it (WAL allows that)."""
    db = sqlite3.connect(sqlite_db(daemon), timeout=10)
    try:
        return list(db.execute(sql, args))
    finally:
        db.close()


def pause_outside_a_write(daemon: RunningDaemon) -> None:
    """SIGSTOP the worker at a moment it holds no SQLite write lock.

    Paused inside a write transaction, it would hold up every group commit,
    and the intake would rightly answer 451 until it came back.
    """
    workers = child_pids(daemon.process.pid)
    for _ in range(100):
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        db = sqlite3.connect(sqlite_db(daemon), timeout=0.2, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            pass  # paused mid-transaction: let it finish and try again
        finally:
            db.close()
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError("the worker held the write lock every time it was paused")


def stored_message_ids(daemon: RunningDaemon) -> list[str]:
    """Message-IDs of every message on a ticket, one entry per stored message."""
    return [row[0] for row in query(daemon, "SELECT message_id FROM messages")]


def wait_drained(daemon: RunningDaemon, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Wait until no inbound row is queued and every filed message is read; return the rows."""
    deadline = time.monotonic() + timeout
    while True:
        rows = daemon.inbound()
        if rows and all(r["state"] != "queued" and not r["unread"] for r in rows):
            return rows
        if time.monotonic() >= deadline:
            tail = "\n".join(json.dumps(e) for e in daemon.events[-30:])
            raise AssertionError(f"queue not drained after {timeout}s: {rows[:5]}\n{tail}")
        time.sleep(0.1)


def send_one(port: int, message_id: str) -> tuple[int, bytes]:
    """One whole SMTP transaction; the DATA reply code and text (4xx/5xx do not raise)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example")
        client.mail("ann@example.com")
        client.rcpt(TEAM)
        return client.data(mail(message_id))


# -- SIGKILL after 250 --------------------------------------------------------------------


def test_sigkill_after_250_loses_no_acknowledged_message(
    tmp_path: Path, daemon_factory: Any
) -> None:
    config = write_config(tmp_path)
    daemon = daemon_factory(config)
    connections, per_connection, kill_after = 8, 25, 100
    acknowledged: list[str] = []
    lock = threading.Lock()
    halfway = threading.Event()
    enough = threading.Event()

    def client(n: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as smtp:
                for i in range(per_connection):
                    message_id = f"k{n}-{i}@example.com"
                    smtp.sendmail("ann@example.com", [TEAM], mail(message_id, attachment=20_000))
                    with lock:
                        acknowledged.append(message_id)
                        if len(acknowledged) >= kill_after // 2:
                            halfway.set()
                        if len(acknowledged) >= kill_after:
                            enough.set()
        except (smtplib.SMTPException, OSError):
            return  # the daemon died under this session: what it had not answered is not ours

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    # Kill at a moment the pipeline is behind: halfway the worker is paused, so that what is
    # acknowledged after waits in the queue (and what it filed before may wait to be read).
    assert halfway.wait(60), f"only {len(acknowledged)} messages acknowledged"
    pause_outside_a_write(daemon)
    assert enough.wait(60), f"only {len(acknowledged)} messages acknowledged"
    kill_hard(daemon)
    with lock:
        promised = set(acknowledged)
    for thread in threads:
        thread.join(30)
    states = dict(query(daemon, "SELECT state, count(*) FROM inbound GROUP BY state"))
    assert states.get("queued", 0) > 0, states

    restarted = daemon_factory(config)
    rows = wait_drained(restarted)
    stored = stored_message_ids(restarted)
    missing = promised - set(stored)
    assert not missing, f"{len(missing)} acknowledged messages lost: {sorted(missing)[:5]}"
    assert len(stored) == len(set(stored)), "a message was stored twice"
    assert {r["state"] for r in rows} == {"done"}
    assert [r for r in rows if r["reason"] == "duplicate"] == []
    assert len(restarted.tickets()) == len(stored)
    # Every message was read after the restart, those filed before the kill too.
    assert query(restarted, "SELECT count(*) FROM messages WHERE text = ''") == [(0,)]
    assert query(restarted, "SELECT count(*) FROM unread") == [(0,)]


def test_spooled_messages_whose_queue_rows_were_lost_are_ticketed_at_start(
    tmp_path: Path, daemon_factory: Any
) -> None:
    # SQLite's queue commit skips its fsync: a power cut can take back rows whose 250 the
    # spool's fdatasync already made safe. Here the rows never reached the database at all.
    from gateway.inbound.intake import Accepted, envelope_bytes
    from gateway.inbound.spool import SpoolWriter

    config = write_config(tmp_path)
    first = daemon_factory(config)
    with smtplib.SMTP("127.0.0.1", first.smtp_port, timeout=30) as smtp:
        smtp.sendmail("ann@example.com", [TEAM], mail("before@example.com"))
    wait_drained(first)
    first.stop()
    # A clean stop says every row is durable: the next start does not replay.
    assert (tmp_path / "var" / "spool" / "clean-stop").exists()
    second = daemon_factory(config)
    assert not (tmp_path / "var" / "spool" / "clean-stop").exists()
    kill_hard(second)  # a crash: the next start replays
    lost = [
        Accepted(
            mail(f"lost{n}@example.com"),
            "smtp",
            "192.0.2.7:25",
            "mx.example",
            "ann@example.com",
            (TEAM,),
        )
        for n in range(3)
    ]
    spool = SpoolWriter(tmp_path / "var" / "spool")
    spool.append_batch([m.data for m in lost], [envelope_bytes(m) for m in lost])
    spool.close()

    restarted = daemon_factory(config)
    rows = wait_drained(restarted)
    assert sorted(stored_message_ids(restarted)) == [
        "before@example.com",
        "lost0@example.com",
        "lost1@example.com",
        "lost2@example.com",
    ]
    assert {r["state"] for r in rows} == {"done"}
    assert next(e for e in restarted.events if e.get("event") == "spool.replayed")["messages"] == 3
    assert (
        query(restarted, "SELECT mail_from, peer FROM inbound WHERE id > 1")
        == [("ann@example.com", "192.0.2.7:25")] * 3
    )


# -- the database goes away ------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_locked(path: Path) -> Iterator[None]:
    """Hold the SQLite database's write lock from another connection, as a stuck writer would."""
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_sqlite_locked_past_busy_timeout_answers_451_then_250(
    tmp_path: Path, daemon_factory: Any
) -> None:
    daemon = daemon_factory(write_config(tmp_path))
    with sqlite_locked(sqlite_db(daemon)):
        started = time.monotonic()
        code, text = send_one(daemon.smtp_port, "locked@example.com")
        waited = time.monotonic() - started
    assert (code, text[:5]) == (451, b"4.3.0"), text
    assert waited > 4.0, "451 came before the 5 s busy timeout ran out"
    # The sender keeps the mail and tries again, as an MTA does.
    code, text = send_one(daemon.smtp_port, "locked@example.com")
    assert code == 250, text
    [row] = wait_drained(daemon)
    assert row["state"] == "done"
    assert stored_message_ids(daemon) == ["locked@example.com"]
    assert len(daemon.tickets()) == 1


def test_postgres_outage_answers_451_and_the_queue_drains_after(
    tmp_path: Path, daemon_factory: Any, postgres: PostgresCluster
) -> None:
    url = postgres.new_database()
    env = dict(os.environ, GATEWAY__STORE__URL=url)
    daemon = daemon_factory(write_config(tmp_path), env)
    assert send_one(daemon.smtp_port, "before@example.com")[0] == 250
    daemon.wait_processed(1)
    worker = worker_pid(daemon)
    running = True
    try:
        with paused(worker):
            # The worker falls behind: these two are acknowledged but not yet tickets.
            assert send_one(daemon.smtp_port, "queued-1@example.com")[0] == 250
            assert send_one(daemon.smtp_port, "queued-2@example.com")[0] == 250
            postgres.pg_ctl("stop")
            running = False
            code, text = send_one(daemon.smtp_port, "during@example.com")
            assert (code, text[:5]) == (451, b"4.3.0"), text
            # Still listening, still refusing cleanly.
            code, text = send_one(daemon.smtp_port, "during@example.com")
            assert (code, text[:5]) == (451, b"4.3.0"), text
        postgres.pg_ctl("start")
        running = True
    finally:
        if not running:
            postgres.pg_ctl("start")
    code, text = send_one(daemon.smtp_port, "during@example.com")
    assert code == 250, text
    rows = daemon.wait_processed(4, timeout=60)
    assert sorted(r["state"] for r in rows) == ["done"] * 4, rows
    stored = {
        m["message_id"] for t in daemon.tickets() for m in daemon.ticket(t["number"])["messages"]
    }
    assert stored == {
        "before@example.com",
        "queued-1@example.com",
        "queued-2@example.com",
        "during@example.com",
    }


# -- SIGTERM ----------------------------------------------------------------------------------


def test_sigterm_answers_sessions_waiting_in_data_and_keeps_what_got_250(
    tmp_path: Path, daemon_factory: Any
) -> None:
    config = write_config(tmp_path)
    daemon = daemon_factory(config)
    replies: dict[str, tuple[int, bytes] | str] = {}

    def client(message_id: str) -> None:
        try:
            replies[message_id] = send_one(daemon.smtp_port, message_id)
        except (smtplib.SMTPException, OSError) as exc:
            replies[message_id] = f"no answer: {exc!r}"

    ids = [f"term-{n}@example.com" for n in range(6)]
    threads = [threading.Thread(target=client, args=(m,)) for m in ids]
    with sqlite_locked(sqlite_db(daemon)):
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every session has sent its dot and waits for the group commit
        assert replies == {}
        daemon.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
    for thread in threads:
        thread.join(30)
    assert daemon.process.wait(30) == 0
    codes = {m: r if isinstance(r, str) else r[0] for m, r in replies.items()}
    assert set(codes.values()) <= {250, 451}, codes
    assert 250 in codes.values(), codes
    restarted = daemon_factory(config)
    wait_drained(restarted)
    stored = set(stored_message_ids(restarted))
    assert {m for m, c in codes.items() if c == 250} <= stored


def test_sigterm_answers_a_session_still_sending_its_body(
    tmp_path: Path, daemon_factory: Any
) -> None:
    config = write_config(tmp_path)
    daemon = daemon_factory(config)
    body = mail("slow@example.com").replace(b"\n", b"\r\n")
    with socket.create_connection(("127.0.0.1", daemon.smtp_port), timeout=30) as sock:
        reader = sock.makefile("rb")

        def say(line: bytes) -> bytes:
            sock.sendall(line + b"\r\n")
            return reader.readline()

        reader.readline()  # greeting
        assert say(b"HELO client.example").startswith(b"250")
        assert say(b"MAIL FROM:<ann@example.com>").startswith(b"250")
        assert say(f"RCPT TO:<{TEAM}>".encode()).startswith(b"250")
        assert say(b"DATA").startswith(b"354")
        sock.sendall(body[: len(body) // 2])
        daemon.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # well inside the shutdown grace period
        with contextlib.suppress(OSError):
            sock.sendall(body[len(body) // 2 :] + b".\r\n")
        answer = reader.readline()
        reader.close()
    assert daemon.process.wait(30) == 0
    assert answer[:3] in (b"250", b"421", b"451"), f"no SMTP answer, got {answer!r}"
    if answer.startswith(b"250"):
        restarted = daemon_factory(config)
        wait_drained(restarted)
        assert stored_message_ids(restarted) == ["slow@example.com"]
