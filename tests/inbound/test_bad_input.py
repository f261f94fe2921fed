"""Bad input through the real daemon: each message lands, is quarantined with a reason, or is
refused cleanly, and a normal mail sent right after it still becomes a ticket.

The broken messages are whole files in ``tests/fixtures/mail/bad/`` (see its README); the
10,000-line headers are generated here.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import smtplib
import socket
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, PostgresCluster, RunningDaemon, start_daemon, write_config

pytestmark = pytest.mark.integration

TEAM = "support@acme.example"
BAD = FIXTURES / "mail" / "bad"


# -- helpers ----------------------------------------------------------------------------


def read_bad(name: str) -> bytes:
    return (BAD / name).read_bytes()


def deliver(daemon: RunningDaemon, raw: bytes, *, mail_from: str = "ann@example.com") -> int:
    """Send ``raw`` in one SMTP transaction; assert the 250 and return the queue id it names."""
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.ehlo("client.example")
        assert client.mail(mail_from)[0] == 250
        assert client.rcpt(TEAM)[0] == 250
        code, text = client.data(raw)
    assert code == 250, text
    found = re.search(rb"queued as (\d+)", text)
    assert found, text
    return int(found.group(1))


def outcome(daemon: RunningDaemon, inbound_id: int, timeout: float = 30.0) -> dict[str, Any]:
    """The queue row of ``inbound_id`` once the pipeline has decided about it (and read it)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = {r["id"]: r for r in daemon.inbound()}
        row = rows.get(inbound_id)
        if row is not None and row["state"] != "queued" and not row["unread"]:
            return row
        assert time.monotonic() < deadline, f"inbound {inbound_id} still {row} after {timeout}s"
        time.sleep(0.1)


def stored_message(daemon: RunningDaemon, row: dict[str, Any]) -> dict[str, Any]:
    """The ticket message a done row became (the newest one on its ticket)."""
    assert row["state"] == "done", row
    assert row["ticket_number"] is not None, row
    return dict(daemon.ticket(row["ticket_number"])["messages"][-1])


def normal_mail(message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ann Customer <ann@example.com>"
    msg["To"] = TEAM
    msg["Subject"] = f"Still there? {message_id}"
    msg["Date"] = "Mon, 02 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content("Hello support,\nis anyone there?\n")
    return msg.as_bytes()


def assert_still_serving(daemon: RunningDaemon) -> None:
    """A normal mail sent now is accepted and becomes a ticket of its own."""
    message_id = f"alive-{uuid.uuid4().hex[:10]}@example.com"
    row = outcome(daemon, deliver(daemon, normal_mail(message_id)))
    assert row["reason"] == "new", row
    assert stored_message(daemon, row)["message_id"] == message_id


def worker_pid(daemon: RunningDaemon) -> int:
    """The daemon's pipeline worker, found among its children in /proc."""
    children: list[int] = []
    for task in Path(f"/proc/{daemon.process.pid}/task").glob("*/children"):
        children += [int(p) for p in task.read_text().split()]
    [pid] = [p for p in children if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return pid


@contextlib.contextmanager
def paused(pid: int) -> Iterator[None]:
    """SIGSTOP a process and always let it go on again."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    """One daemon for the whole module: each bad message must leave it serving the next."""
    running = start_daemon(write_config(tmp_path_factory.mktemp("bad-input")))
    yield running
    assert running.stop() == 0


# -- messages that are broken but readable land as tickets ---------------------------------


@pytest.mark.parametrize(
    ("fixture", "subject", "text"),
    [
        ("malformed-mime-no-boundary.eml", "Export broken again", "error E1021 since Friday"),
        ("malformed-mime-truncated-nested.eml", "Screenshot of the error", "upload page shows"),
        ("wrong-charset-latin1-declared-utf8.eml", "Rechnung für März", "Grüße\nJürgen Müller"),
        ("unknown-charset.eml", "Café order", "My café order #881 never arrived."),
        ("nul-bytes.eml", "Scan from MFP-2", "Scanned document attached to this message."),
    ],
)
def test_broken_message_lands_as_a_ticket(
    daemon: RunningDaemon, fixture: str, subject: str, text: str
) -> None:
    row = outcome(daemon, deliver(daemon, read_bad(fixture)))
    assert row["state"] == "done", row
    message = stored_message(daemon, row)
    assert message["subject"] == subject
    assert text in message["text"]
    assert "\x00" not in message["text"] + message["subject"]
    assert "\ufffd" not in message["text"], "a charset guess left replacement characters"
    assert_still_serving(daemon)


def test_message_without_message_id_gets_one_and_is_deduplicated(daemon: RunningDaemon) -> None:
    raw = read_bad("no-message-id.eml")
    first = outcome(daemon, deliver(daemon, raw))
    message = stored_message(daemon, first)
    assert message["message_id"].endswith("@missing-message-id.invalid")
    assert message["from"] == "root@build.example.com"
    # The same bytes again (an MTA retrying after a lost 250) are the same message.
    again = outcome(daemon, deliver(daemon, raw))
    assert (again["state"], again["reason"]) == ("done", "duplicate")
    assert again["ticket_number"] == first["ticket_number"]
    assert len(daemon.ticket(first["ticket_number"])["messages"]) == 1
    assert_still_serving(daemon)


def _folded_to_header(lines: int) -> bytes:
    """One ``To:`` header folded over ``lines`` lines, the team address first."""
    addresses = [TEAM] + [f"user{n}@example.org" for n in range(1, lines)]
    return (
        b"From: Ann Customer <ann@example.com>\r\nTo: "
        + b",\r\n ".join(a.encode() for a in addresses)
        + b"\r\n"
    )


def _received_lines(lines: int) -> bytes:
    """``lines`` trace headers on top, where MTAs put them, then the message's own headers."""
    trace = b"".join(
        f"Received: from relay{n}.example.org by mx.example.org; Mon, 2 Nov 2026\r\n".encode()
        for n in range(lines)
    )
    return trace + f"From: Ann Customer <ann@example.com>\r\nTo: {TEAM}\r\n".encode()


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(_folded_to_header, id="folded-to"),
        pytest.param(_received_lines, id="received-lines"),
    ],
)
def test_ten_thousand_line_header_lands(daemon: RunningDaemon, header: Any) -> None:
    message_id = f"huge-{uuid.uuid4().hex[:10]}@example.com"
    raw = (
        header(10_000)
        + b"Subject: Huge header\r\nDate: Mon, 02 Nov 2026 11:00:00 +0000\r\n"
        + f"Message-ID: <{message_id}>\r\n\r\nThe body is short.\r\n".encode()
    )
    started = time.monotonic()
    row = outcome(daemon, deliver(daemon, raw), timeout=30)
    assert time.monotonic() - started < 20, "a long header held up the pipeline"
    assert_still_serving(daemon)
    message = stored_message(daemon, row)
    assert message["delivered_to"] == [TEAM]
    assert "The body is short." in message["text"]
    assert (message["message_id"], message["subject"]) == (message_id, "Huge header")
    assert (message["from"], message["from_name"]) == ("ann@example.com", "Ann Customer")


# -- a client that goes away is refused cleanly ---------------------------------------------


@pytest.mark.parametrize("at", ["after-354", "mid-body", "mid-line"])
def test_client_dropping_mid_data_leaves_nothing_behind(daemon: RunningDaemon, at: str) -> None:
    before = len(daemon.inbound())
    body = normal_mail(f"dropped-{at}@example.com").replace(b"\n", b"\r\n")
    cut = {"after-354": b"", "mid-body": body[: len(body) // 2], "mid-line": body[:-9]}[at]
    with socket.create_connection(("127.0.0.1", daemon.smtp_port), timeout=30) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        for command in (b"HELO client.example", b"MAIL FROM:<ann@example.com>"):
            sock.sendall(command + b"\r\n")
            assert reader.readline().startswith(b"250")
        sock.sendall(f"RCPT TO:<{TEAM}>\r\n".encode())
        assert reader.readline().startswith(b"250")
        sock.sendall(b"DATA\r\n")
        assert reader.readline().startswith(b"354")
        sock.sendall(cut)
        reader.close()
    assert_still_serving(daemon)
    rows = daemon.inbound()
    assert len(rows) == before + 1, "a message the client never finished was queued"


# -- what cannot become a ticket is quarantined, and can be retried ----------------------


def test_message_without_any_sender_is_quarantined_and_retry_requeues_it(
    daemon: RunningDaemon,
) -> None:
    inbound_id = deliver(daemon, read_bad("no-sender.eml"), mail_from="<>")
    row = outcome(daemon, inbound_id)
    assert row["state"] == "quarantined", row
    assert row["reason"].startswith("no sender"), row
    assert row["mail_from"] in (None, "", "<>")
    assert row["attempts"] == 1
    assert_still_serving(daemon)

    with paused(worker_pid(daemon)):
        result = daemon.cli("inbound", "retry", str(inbound_id))
        assert result.stdout.strip() == "requeued 1 message(s)"
        [queued] = [r for r in daemon.inbound("queued") if r["id"] == inbound_id]
        assert queued["attempts"] == 0
        assert daemon.cli("inbound", "retry", "999999", check=False).returncode == 1
        assert daemon.cli("inbound", "retry", check=False).returncode == 2
    # Retried, it is still senderless: quarantined again, with the same reason.
    again = outcome(daemon, inbound_id)
    assert (again["state"], again["attempts"]) == ("quarantined", 1)
    assert again["reason"] == row["reason"]

    with paused(worker_pid(daemon)):
        result = daemon.cli("inbound", "retry", "--all")
        assert result.stdout.strip() == "requeued 1 message(s)"
        assert daemon.inbound("quarantined") == []
    assert outcome(daemon, inbound_id)["state"] == "quarantined"
    assert_still_serving(daemon)


# -- the same bad input on PostgreSQL, whose text columns refuse NUL ------------------------


def test_bad_input_lands_on_postgresql(
    tmp_path: Path, daemon_factory: Any, postgres: PostgresCluster
) -> None:
    env = dict(os.environ, GATEWAY__STORE__URL=postgres.new_database())
    pg_daemon: RunningDaemon = daemon_factory(write_config(tmp_path), env)
    names = sorted(p.name for p in BAD.glob("*.eml") if p.name != "no-sender.eml")
    ids = {deliver(pg_daemon, read_bad(name)): name for name in names}
    rows = {r["id"]: r for r in pg_daemon.wait_processed(len(ids))}
    outcomes = {ids[i]: (rows[i]["state"], rows[i]["reason"]) for i in ids}
    assert outcomes == {name: ("done", "new") for name in names}
    assert len(pg_daemon.tickets()) == len(names)
    assert_still_serving(pg_daemon)
