"""The outbox worker against a real relay: retries, failures, bounces and a crash mid-send."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningDaemon, missing_component
from tests.inbound.test_durability import child_pids
from tests.outbound.conftest import ANN, JANE, TEAM, agents_config, answer_to, customer_mail, send
from tests.outbound.sink import Sink

pytestmark = pytest.mark.integration


def outbox(daemon: RunningDaemon, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(daemon.cli("outbox", "list", "--json", *args).stdout))


def test_4xx_is_retried_until_the_relay_takes_it(agent_daemon: RunningDaemon, sink: Sink) -> None:
    sink.script("451 4.3.0 try again later", "421 4.7.0 busy")
    send(agent_daemon, customer_mail(), mail_from=ANN)
    [notice] = sink.wait_for(1)
    assert notice.rcpt_to == (JANE,)
    agent_daemon.wait_event("outbox.sent", kind="notify")
    [row] = outbox(agent_daemon)
    assert row["state"] == "sent"
    assert row["attempts"] == 3
    retries = [e for e in agent_daemon.events if e.get("event") == "outbox.retry"]
    assert len(retries) == 2
    assert "451" in retries[0]["error"]


def test_5xx_fails_the_answer_and_tells_the_agent(agent_daemon: RunningDaemon, sink: Sink) -> None:
    send(agent_daemon, customer_mail(), mail_from=ANN)
    note = sink.wait_for(1)[0].message
    sink.script("550 5.1.1 <ann@example.com>: no such user")
    send(agent_daemon, answer_to(note, "Hi Ann,\nswitch it off.\n"), mail_from=JANE)
    alert = sink.wait_for(2)[1]
    assert alert.rcpt_to == (JANE,)
    assert "550 5.1.1" in alert.message.get_content()
    [failed] = outbox(agent_daemon, "--state", "failed")
    assert failed["kind"] == "answer"
    assert failed["attempts"] == 1
    assert failed["last_error"].startswith("550")
    # Once the cause is fixed, ops send it again: the same mail, the same Message-ID.
    agent_daemon.cli("outbox", "retry", str(failed["id"]))
    resent = sink.wait_for(3)[2]
    assert resent.rcpt_to == (ANN,)
    assert resent.message["Message-ID"] == f"<{failed['message_id']}>"
    agent_daemon.wait_event("outbox.sent", kind="answer")
    assert {r["state"] for r in outbox(agent_daemon)} == {"sent"}


def dsn(original_message_id: str) -> bytes:
    """An RFC 3464 delivery status notification for a mail the gateway sent."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        f"To: {TEAM}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "\r\n--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {TEAM}\r\nMessage-ID: <{original_message_id}>\r\n"
        "\r\n--b1--\r\n"
    ).encode()


def test_bounce_marks_the_answer_failed(agent_daemon: RunningDaemon, sink: Sink) -> None:
    send(agent_daemon, customer_mail(), mail_from=ANN)
    note = sink.wait_for(1)[0].message
    send(agent_daemon, answer_to(note, "Hi Ann"), mail_from=JANE)
    answer = sink.wait_for(2)[1]
    agent_daemon.wait_event("outbox.sent", kind="answer")
    message_id = str(answer.message["Message-ID"]).strip("<>")
    with smtplib.SMTP("127.0.0.1", agent_daemon.smtp_port, timeout=30) as client:
        client.sendmail("", [TEAM], dsn(message_id))
    alert = sink.wait_for(3)[2]
    assert alert.rcpt_to == (JANE,)
    assert "bounced" in alert.message.get_content()
    [failed] = outbox(agent_daemon, "--state", "failed")
    assert failed["message_id"] == message_id
    assert failed["last_error"] == "bounced"


def test_crash_between_send_and_mark_resends_the_same_mail(
    tmp_path: Path, sink: Sink, daemon_factory: Any
) -> None:
    config = agents_config(tmp_path, sink.port)
    daemon: RunningDaemon = daemon_factory(config)
    sink.handler.hold = threading.Event()  # the relay keeps the mail but does not answer yet
    send(daemon, customer_mail(), mail_from=ANN)
    [first] = sink.wait_for(1)
    # The relay has the mail; the gateway has not heard 250: kill it now.
    for pid in [*child_pids(daemon.process.pid), daemon.process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    daemon.process.wait(10)
    sink.handler.hold.set()
    sink.handler.hold = None

    again: RunningDaemon = daemon_factory(config)
    second = sink.wait_for(2)[1]
    assert second.message["Message-ID"] == first.message["Message-ID"]
    assert second.data == first.data  # the same bytes, not a second rendering
    again.wait_event("outbox.sent", kind="notify")
    [row] = outbox(again)
    assert row["state"] == "sent"


def test_too_many_4xx_fail_and_alert(agent_daemon: RunningDaemon, sink: Sink) -> None:
    send(agent_daemon, customer_mail(), mail_from=ANN)
    note = sink.wait_for(1)[0].message
    sink.script(*["451 4.3.0 mailbox busy"] * 3)  # max_attempts = 3 in the test config
    send(agent_daemon, answer_to(note, "Hi Ann"), mail_from=JANE)
    alert = sink.wait_for(2)[1]
    assert alert.rcpt_to == (JANE,)
    assert "gave up after 3 attempts" in alert.message.get_content()
    [failed] = outbox(agent_daemon, "--state", "failed")
    assert failed["attempts"] == 3


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl."""
    cert, key = folder / "relay.pem", folder / "relay.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


# aiosmtpd's STARTTLS leaves the pre-TLS transport of the relay's session to the garbage
# collector, which warns about it in the sink's thread; that is the test relay, not the gateway.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_relay_with_starttls_and_auth(tmp_path: Path, daemon_factory: Any) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    if shutil.which("openssl") is None:
        missing_component("openssl")
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"gateway",
            b"s3cret relay password",
        )
        return AuthResult(success=ok, auth_data="gateway" if ok else None)

    (tmp_path / "relay.pass").write_text("s3cret relay password\n")
    with Sink(
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=check,
    ) as sink:
        config = agents_config(tmp_path, sink.port)
        config.write_text(
            config.read_text().replace(
                "timeout = 5\n",
                'timeout = 5\nstarttls = true\nusername = "gateway"\n'
                'password_file = "relay.pass"\nca_file = "relay.pem"\n',
                1,
            )
        )
        daemon: RunningDaemon = daemon_factory(config)
        send(daemon, customer_mail(), mail_from=ANN)
        [notice] = sink.wait_for(1)
        assert notice.tls
        assert notice.login == "gateway"
        assert notice.rcpt_to == (JANE,)
    assert "s3cret" not in json.dumps(daemon.events)
    gc.collect()  # let the relay's leftover transport be collected inside this test's filters
