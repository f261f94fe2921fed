"""A real Debian mail client (s-nail) answers a captured notification, with its own quoting."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunningDaemon, missing_component
from tests.outbound.conftest import ANN, JANE, TEAM, customer_mail, send
from tests.outbound.sink import Sink

pytestmark = pytest.mark.integration

NEW_TEXT = "Thanks Ann, please switch it off. A technician comes at noon."


def snail_reply(daemon: RunningDaemon, mbox: Path, body: str, home: Path) -> None:
    """Open ``mbox`` in s-nail, ``reply`` to message 1 with ``body`` and send via the gateway."""
    snail = shutil.which("s-nail")
    if snail is None:
        missing_component("s-nail (Debian package s-nail)")
        return
    commands = f"reply 1\n{body}\n~.\nquit\n"
    result = subprocess.run(
        [
            snail,
            "-#",  # batch mode: commands from standard input
            "-~",  # tilde escapes, so "~." ends the message as at a terminal
            "-:/",  # no system or user rc files
            "-S",
            "v15-compat",
            "-S",
            f"mta=smtp://127.0.0.1:{daemon.smtp_port}",
            "-S",
            "smtp-auth=none",
            "-S",
            f"from=Jane Doe <{JANE}>",
            "-S",
            "quote",  # quote the message replied to, s-nail's own way (tab indent)
            "-S",
            "sendwait",
            "-S",
            "ttycharset=utf-8",
            "-R",
            "-f",
            str(mbox),
        ],
        input=commands.encode(),
        capture_output=True,
        timeout=60,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"not sent" not in result.stderr, result.stderr.decode()


def test_snail_reply_reaches_the_customer_as_new_text_only(
    tmp_path: Path, agent_daemon: RunningDaemon, sink: Sink
) -> None:
    send(
        agent_daemon, customer_mail(body="Hello support,\nthe printer is on fire.\n"), mail_from=ANN
    )
    [notice] = sink.wait_for(1)
    mbox = tmp_path / "jane.mbox"
    raw = notice.data.replace(b"\r\n", b"\n")
    mbox.write_bytes(
        b"From " + notice.mail_from.encode() + b" Mon Nov  2 09:00:00 2026\n" + raw + b"\n"
    )

    snail_reply(agent_daemon, mbox, NEW_TEXT, tmp_path)

    answer = sink.wait_for(2)[1]
    assert answer.rcpt_to == (ANN,)
    mail = answer.message
    assert mail["From"].addresses[0].addr_spec == TEAM
    plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content()
    new_text, _, signature = plain.partition("\n-- \n")
    assert new_text.strip() == NEW_TEXT
    assert signature.strip() == "Jane Doe, Acme support"
    for echo in ("printer is on fire", "wrote:", "ticket [#1]", "via Acme"):
        assert echo not in plain
        assert echo not in html
    assert len(sink.got) == 2
