"""Fixtures for the agents' round trip: a relay sink and a config that sends through it."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningDaemon
from tests.outbound.sink import Sink

TEAM = "support@acme.example"
JANE = "jane@acme.example"
BOB = "bob@acme.example"
ANN = "ann@example.com"


def agents_config(
    folder: Path,
    relay_port: int,
    *,
    from_name: str = "agent_and_company",
    extra: str = "",
    channel_extra: str = "",
) -> Path:
    """A config with Jane and Bob as agents, the support channel notifying Jane."""
    path = folder / "gateway.toml"
    path.write_text(
        f"""data_dir = "var"
{extra}
[reply]
secret_file = "reply.key"

[outbound]
retry_base_seconds = 0.2
poll_interval = 0.1
max_attempts = 3

[outbound.smtp]
host = "127.0.0.1"
port = {relay_port}
timeout = 5

[[agents]]
first_name = "Jane"
last_name = "Doe"
address = "{JANE}"

[[agents]]
first_name = "Bob"
last_name = "Roe"
address = "{BOB}"

[[channels]]
name = "support"
kind = "team_email"
address = "{TEAM}"
company = "Acme"
from_name = "{from_name}"
signature_text = "{{{{ agent.first_name }}}} {{{{ agent.last_name }}}}, {{{{ channel.company }}}} \
support"
signature_html = "<p><b>{{{{ agent.full_name }}}}</b> &middot; {{{{ channel.company }}}}</p>"
notify = ["{JANE}"]
{channel_extra}
""",
        encoding="utf-8",
    )
    return path


def customer_mail(
    subject: str = "Printer on fire",
    *,
    body: str = "Hello support,\nthe printer is on fire.\n",
    message_id: str | None = None,
    sender: str = f"Ann Customer <{ANN}>",
    to: str = TEAM,
) -> EmailMessage:
    """A customer's mail to the team address."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    msg.set_content(body)
    return msg


def send(daemon: RunningDaemon, message: EmailMessage, *, mail_from: str | None = None) -> None:
    """Deliver ``message`` to the daemon over SMTP (envelope from ``mail_from``)."""
    rcpt = [str(a) for a in message["To"].addresses] if message["To"] else []
    rcpt = [a.split("<")[-1].rstrip(">") for a in rcpt]
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as client:
        client.send_message(message, from_addr=mail_from, to_addrs=rcpt)


def answer_to(
    notification: EmailMessage,
    body: str,
    *,
    sender: str = f"Jane Doe <{JANE}>",
    attachment: bytes | None = None,
) -> EmailMessage:
    """What a mail client makes when the agent hits Reply on ``notification``."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = notification["Reply-To"]
    reply["Subject"] = "Re: " + str(notification["Subject"])
    reply["Date"] = "Mon, 02 Nov 2026 09:30:00 +0000"
    reply["Message-ID"] = make_msgid(domain="acme.example")
    reply["In-Reply-To"] = notification["Message-ID"]
    reply["References"] = f"{notification['References']} {notification['Message-ID']}"
    reply.set_content(body)
    if attachment is not None:
        reply.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="invoice.pdf"
        )
    return reply


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A relay on 127.0.0.1 that keeps what it gets."""
    with Sink() as relay:
        yield relay


@pytest.fixture
def agent_daemon(tmp_path: Path, sink: Sink, daemon_factory: Any) -> RunningDaemon:
    """The gateway with Jane and Bob, sending through ``sink``."""
    daemon: RunningDaemon = daemon_factory(agents_config(tmp_path, sink.port))
    return daemon
