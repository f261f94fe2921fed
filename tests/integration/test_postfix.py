"""A real Postfix in front of the gateway: relay, alias, queueing through a restart, bounces.

Each test starts its own throwaway Postfix instance and never reads or writes the system
one's configuration. How, as learned on Debian 12 (Postfix 3.7):

- ``postfix -c DIR start`` with a ``main.cf`` and ``master.cf`` in DIR works as root without
  listing DIR in ``alternate_config_directories`` of the default ``main.cf`` (Debian's
  "No configuration" install has no ``/etc/postfix/main.cf`` at all); so does
  ``postqueue -c DIR`` (``-j``, ``-f``). Nothing is registered anywhere.
- ``postfix -c DIR check`` creates the queue and data directories with the right owners
  (``post-install create-missing``); only ``queue_directory`` itself must exist first.
- The instance lives in its own ``mkdtemp`` under ``/tmp`` (mode 0755), not in pytest's
  ``tmp_path``: Postfix daemons run as the ``postfix`` user and cannot enter root's 0700
  ``/tmp/pytest-of-root``.
- ``master.cf`` is Debian's, edited with ``postconf -M``/``-F``: the port-25 ``smtp inet``
  service is removed, every service runs unchrooted, and one smtpd listens on a free port.
- ``maillog_file`` needs the ``postlog`` service (Debian's ``master.cf`` has it) and a path
  under ``maillog_file_prefixes`` (default ``/var, /dev/stdout``), so the prefix is set too.
- ``myhostname`` differs from the machine's name, or Postfix's SMTP client could see the
  gateway greet with its own name and bounce the mail as "loops back to myself".
- Outside mail (bounce notices to ``example.com``) goes to the ``error:`` transport, so the
  instance never looks up or contacts anything beyond loopback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, RunningDaemon, free_port, missing_component, write_config

pytestmark = pytest.mark.integration

TEAM = "support@acme.example"
BILLING = "billing@acme.example"
ALIAS = "help@acme.example"
POSTFIX = Path("/usr/sbin/postfix")


@dataclass(frozen=True)
class GatewayPorts:
    """Fixed loopback ports for the gateway, so Postfix's next hops survive a restart."""

    smtp: int
    lmtp: int

    def env(self) -> dict[str, str]:
        """The environment that makes ``gateway serve`` listen on these ports."""
        return {
            **os.environ,
            "GATEWAY__SMTP__LISTEN": f"127.0.0.1:{self.smtp}",
            "GATEWAY__SMTP__LMTP_LISTEN": f"127.0.0.1:{self.lmtp}",
        }


@dataclass(frozen=True)
class PostfixInstance:
    """A running throwaway Postfix: its config directory, SMTP port and log file."""

    root: Path
    port: int

    @property
    def config_dir(self) -> Path:
        """The directory given to ``postfix -c``."""
        return self.root / "etc"

    @property
    def maillog(self) -> Path:
        """Postfix's log (``maillog_file``)."""
        return self.root / "maillog"

    def run(self, *argv: str) -> str:
        """Run a Postfix command (``postfix``, ``postqueue``, ...) against this instance."""
        result = subprocess.run(
            [argv[0], "-c", str(self.config_dir), *argv[1:]],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr}")
        return result.stdout

    def queue(self) -> list[dict[str, Any]]:
        """The queued messages, as ``postqueue -j`` reports them."""
        return [json.loads(line) for line in self.run("postqueue", "-j").splitlines() if line]

    def log(self) -> str:
        """Everything Postfix logged so far."""
        return self.maillog.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """The first log match of ``pattern``; fails after ``timeout``."""
        found: list[re.Match[str]] = []

        def matched() -> bool:
            found.extend(re.finditer(pattern, self.log(), re.MULTILINE))
            return bool(found)

        wait_for(matched, timeout, f"{pattern!r} in the Postfix log", self.log)
        return found[0]

    def send(self, message: EmailMessage, to: str) -> None:
        """Submit ``message`` for ``to`` over SMTP; Postfix answers 250 once it has queued it."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
            client.send_message(message, from_addr="ann@example.com", to_addrs=[to])


def wait_for(
    check: Callable[[], bool], timeout: float, what: str, tail: Callable[[], str] = str
) -> None:
    """Poll ``check`` until it is true; fails after ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout}s\n{tail()}")
        time.sleep(0.1)


def mail(subject: str, to: str = TEAM) -> EmailMessage:
    """A plain customer mail."""
    msg = EmailMessage()
    msg["From"] = "Ann Customer <ann@example.com>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content("Hello support,\nthe printer is on fire.\n")
    return msg


def _main_cf(root: Path, ports: GatewayPorts) -> str:
    lmtp = f"lmtp:inet:127.0.0.1:{ports.lmtp}"
    smtp = f"smtp:[127.0.0.1]:{ports.smtp}"
    return f"""\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = mx.postfix-test.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
alias_maps =
alias_database =
relay_domains = acme.example
virtual_alias_maps = inline:{{ {ALIAS}={TEAM} }}
# The team mailbox over LMTP (per-recipient replies), billing over SMTP: both paths are real.
transport_maps = inline:{{ acme.example={lmtp}, {BILLING}={smtp} }}
default_transport = error:this test instance sends nothing beyond loopback
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
"""


@pytest.fixture
def gateway_ports() -> GatewayPorts:
    """Two free loopback ports for the gateway's SMTP and LMTP listeners."""
    return GatewayPorts(smtp=free_port(), lmtp=free_port())


@pytest.fixture
def gateway(
    tmp_path: Path, daemon_factory: Any, gateway_ports: GatewayPorts
) -> Callable[[], RunningDaemon]:
    """Start ``gateway serve`` on the fixed ports (again after a stop, on the same store)."""
    config = write_config(tmp_path, addresses=(TEAM, BILLING))

    def start() -> RunningDaemon:
        daemon: RunningDaemon = daemon_factory(config, gateway_ports.env(), lmtp=True)
        return daemon

    return start


@pytest.fixture
def postfix(gateway_ports: GatewayPorts) -> Iterator[PostfixInstance]:
    """A throwaway Postfix on a free loopback port relaying acme.example to the gateway."""
    if not POSTFIX.exists():
        missing_component("Postfix (Debian package postfix)")
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("the Postfix tests must run as root when CI=true")
        pytest.skip("Postfix starts only as root")
    root = Path(tempfile.mkdtemp(prefix="gw-postfix."))
    root.chmod(0o755)
    instance = PostfixInstance(root, free_port())
    etc = instance.config_dir
    try:
        etc.mkdir()
        (root / "queue").mkdir(mode=0o755)
        shutil.copy("/etc/postfix/master.cf", etc / "master.cf")
        (etc / "main.cf").write_text(_main_cf(root, gateway_ports), encoding="utf-8")
        listener = f"127.0.0.1:{instance.port}"
        instance.run("postconf", "-MX", "smtp/inet")
        instance.run("postconf", "-F", "*/*/chroot = n")
        instance.run("postconf", "-M", f"{listener}/inet={listener} inet n - n - - smtpd")
        instance.run("postfix", "check")
        instance.run("postfix", "start")
        yield instance
    finally:
        subprocess.run(
            [str(POSTFIX), "-c", str(etc), "stop"], capture_output=True, timeout=30, check=False
        )

        def stopped() -> bool:
            status = [str(POSTFIX), "-c", str(etc), "status"]
            return subprocess.run(status, capture_output=True, timeout=30).returncode != 0

        try:
            wait_for(stopped, 10, "stopped Postfix")
        except AssertionError:
            subprocess.run([str(POSTFIX), "-c", str(etc), "abort"], capture_output=True, timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def delivered_log(to: str, transport: str, port: int) -> str:
    """A log line pattern: Postfix's ``transport`` client delivered ``to`` to ``port``."""
    relay = rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port},"
    return rf"postfix/{transport}\[\d+\]: \w+: to=<{re.escape(to)}>.*{relay}.*status=sent.*"


@pytest.mark.parametrize(("recipient", "transport"), [(TEAM, "lmtp"), (BILLING, "smtp")])
def test_mail_relayed_by_postfix_becomes_ticket(
    postfix: PostfixInstance,
    gateway: Callable[[], RunningDaemon],
    gateway_ports: GatewayPorts,
    recipient: str,
    transport: str,
) -> None:
    daemon = gateway()
    postfix.send(mail("Printer on fire", to=recipient), recipient)
    daemon.wait_processed(1)
    [ticket] = daemon.tickets()
    assert ticket["subject"] == "Printer on fire"
    assert ticket["contact"] == "ann@example.com"
    assert ticket["channel"] == recipient.split("@")[0]
    port = gateway_ports.lmtp if transport == "lmtp" else gateway_ports.smtp
    postfix.wait_log(delivered_log(recipient, transport, port))
    assert postfix.queue() == []


def test_alias_forwarded_by_postfix_becomes_ticket(
    postfix: PostfixInstance, gateway: Callable[[], RunningDaemon], gateway_ports: GatewayPorts
) -> None:
    daemon = gateway()
    postfix.send(mail("Invoice wrong", to=ALIAS), ALIAS)
    daemon.wait_processed(1)
    [ticket] = daemon.tickets()
    assert ticket["subject"] == "Invoice wrong"
    assert ticket["channel"] == "support"
    [message] = daemon.ticket(ticket["number"])["messages"]
    assert message["delivered_to"] == [TEAM]
    line = postfix.wait_log(delivered_log(TEAM, "lmtp", gateway_ports.lmtp)).group(0)
    assert f"orig_to=<{ALIAS}>" in line


def test_postfix_queues_while_gateway_is_down_and_delivers_on_flush(
    postfix: PostfixInstance, gateway: Callable[[], RunningDaemon]
) -> None:
    first = gateway()
    postfix.send(mail("Before the restart"), TEAM)
    first.wait_processed(1)
    first.stop()

    postfix.send(mail("During the restart"), TEAM)

    def deferred() -> bool:
        return [m["queue_name"] for m in postfix.queue()] == ["deferred"]

    wait_for(deferred, 20, "deferred message", postfix.log)
    [queued] = postfix.queue()
    assert "Connection refused" in queued["recipients"][0]["delay_reason"]

    second = gateway()
    # Postfix waits minimal_backoff_time (300 s) before retrying on its own: nothing moves yet.
    time.sleep(1)
    assert [t["subject"] for t in second.tickets()] == ["Before the restart"]

    postfix.run("postqueue", "-f")
    second.wait_processed(2)
    assert sorted(t["subject"] for t in second.tickets()) == [
        "Before the restart",
        "During the restart",
    ]
    wait_for(lambda: postfix.queue() == [], 20, "empty Postfix queue", postfix.log)


def test_recipient_the_gateway_refuses_is_bounced_by_postfix(
    postfix: PostfixInstance, gateway: Callable[[], RunningDaemon]
) -> None:
    daemon = gateway()
    # Postfix relays all of acme.example, so it accepts the mail and learns of the refusal
    # only from the gateway's RCPT reply: a 5xx there must bounce, not retry.
    postfix.send(mail("Anyone there?", to="nobody@acme.example"), "nobody@acme.example")
    bounced = postfix.wait_log(r"^.*to=<nobody@acme\.example>.*$").group(0)
    assert "status=bounced" in bounced
    assert "5.1.1" in bounced
    queue_id = bounced.split(": to=")[0].rsplit(" ", 1)[-1]
    postfix.wait_log(rf"{queue_id}: sender non-delivery notification")
    wait_for(lambda: postfix.queue() == [], 20, "empty Postfix queue", postfix.log)
    assert daemon.inbound() == []
    assert daemon.tickets() == []
