"""Receiving DATA: the end of the data, dot-stuffing, size limits, on a real stream and socket."""

from __future__ import annotations

import asyncio
import random
import smtplib
from typing import Any

import pytest

from gateway.inbound.intake import Intake
from gateway.inbound.smtp import IntakeHandler, receive_data, start_listener

TEAM = "support@acme.example"


def on_the_wire(content: bytes) -> bytes:
    """``content`` (whole CRLF lines) as an SMTP client sends it after ``354``."""
    lines = content.split(b"\r\n")
    stuffed = [b"." + line if line.startswith(b".") else line for line in lines]
    return b"\r\n".join(stuffed) + b".\r\n"


async def received(wire: bytes, *, limit: int | None = None, piece: int = 0) -> tuple[Any, bytes]:
    """What :func:`receive_data` makes of ``wire`` fed in pieces, and what it left unread."""
    reader = asyncio.StreamReader(limit=64)
    if piece:
        for start in range(0, len(wire), piece):
            reader.feed_data(wire[start : start + piece])
    else:
        reader.feed_data(wire)
    reader.feed_eof()
    data = await receive_data(reader, limit)
    return data, await reader.read()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"Subject: one line\r\n",
        b"a\r\n",
        b".\r\n",
        b"..\r\n",
        b"Thanks.\r\n",
        b"Thanks.\r\n.\r\n.x\r\nend.\r\n",
        b"x\r\n.\r\n..\r\n...\r\n",
        b"line\r\n\r\n.\r\n",
        b"a.\r\nb\r\n.",  # no final CRLF is not valid SMTP; never sent by smtplib
        b"bare\n.\r\nlf\r\n",
        b"x" * 200 + b"\r\n" + b"." * 100 + b"\r\n",
    ],
)
@pytest.mark.parametrize("piece", [0, 1, 2, 3, 7])
async def test_data_ends_only_at_a_lone_dot(content: bytes, piece: int) -> None:
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    data, rest = await received(on_the_wire(content) + b"QUIT\r\n", piece=piece)
    assert data == content
    assert rest == b"QUIT\r\n"  # nothing past the end of the data was consumed


async def test_random_mail_round_trips_whatever_the_pieces() -> None:
    rng = random.Random(5321)
    alphabet = [b".", b"a", b"\r\n", b"\r", b"\n", b"..", b" ", b"\r\n.", b".\r\n"]
    for _ in range(400):
        content = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120)))
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        if content == b"\r\n":
            content = b""
        wire = on_the_wire(content)
        data, rest = await received(wire + b"NOOP\r\n", piece=rng.randrange(0, 9))
        assert data == content, wire
        assert rest == b"NOOP\r\n"


async def test_long_stretches_without_a_dot_pass_the_reader_limit() -> None:
    content = (b"y" * 1000 + b"\r\n") * 3 + b"z" * 5000 + b".\r\n"
    data, rest = await received(on_the_wire(content) + b"QUIT\r\n", piece=100)
    assert data == content
    assert rest == b"QUIT\r\n"


@pytest.mark.parametrize("piece", [0, 1, 50])
async def test_size_limit_counts_the_data_and_drains_what_is_over(piece: int) -> None:
    content = b"x" * 98 + b"\r\n"  # 100 bytes
    assert (await received(on_the_wire(content), limit=100, piece=piece))[0] == content
    data, rest = await received(on_the_wire(content) + b"RSET\r\n", limit=99, piece=piece)
    assert data is None
    assert rest == b"RSET\r\n"
    assert (await received(on_the_wire(b""), limit=1))[0] == b""


class Recorder:
    """An intake stand-in at the socket level: takes every message, keeps its bytes."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def submit(self, accepted: Any) -> int:
        self.messages.append(accepted.data)
        return len(self.messages)


async def listen(*, lmtp: bool, limit: int) -> tuple[asyncio.Server, IntakeHandler, Recorder]:
    recorder = Recorder()
    intake: Intake = recorder  # type: ignore[assignment]  # duck-typed: only submit() is used
    handler = IntakeHandler(intake, [TEAM, "billing@acme.example"], lmtp=lmtp)
    server = await start_listener(
        handler, "127.0.0.1", 0, hostname="gw.test", max_message_size=limit, idle_timeout=30
    )
    return server, handler, recorder


async def test_dribbled_session_over_a_socket() -> None:
    server, handler, recorder = await listen(lmtp=False, limit=10_000)
    port = server.sockets[0].getsockname()[1]
    first = b"Subject: a\r\n\r\n.hidden dot\r\nsigned off.\r\n"
    second = b"Subject: b\r\n\r\n" + b"z" * 20_000 + b"\r\n"

    def talk() -> list[tuple[int, bytes]]:
        answers = []
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.ehlo("client.example")
            client.mail("ann@example.com")
            client.rcpt(TEAM)
            client.putcmd("data")
            assert client.getreply()[0] == 354
            for byte in on_the_wire(first):  # one byte a segment
                client.sock.sendall(bytes([byte]))
            answers.append(client.getreply())
            client.mail("ann@example.com")
            client.rcpt(TEAM)
            answers.append(client.data(second))  # over the limit
            answers.append(client.noop())  # the session goes on
        return answers

    try:
        sent, too_big, noop = await asyncio.to_thread(talk)
    finally:
        server.close()
        await server.wait_closed()
    assert sent[0] == 250
    assert too_big == (552, b"5.3.4 Message too big for this system")
    assert noop[0] == 250
    assert recorder.messages == [first]
    assert handler.in_data == 0


async def test_lmtp_refuses_an_oversize_message_once_per_recipient() -> None:
    server, _, recorder = await listen(lmtp=True, limit=50)
    reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])

    async def reply() -> list[bytes]:
        lines = [await reader.readline()]
        while lines[-1][3:4] == b"-":
            lines.append(await reader.readline())
        return lines

    try:
        await reply()
        for command in (b"LHLO c", b"MAIL FROM:<a@b.example>", b"RCPT TO:<" + TEAM.encode() + b">"):
            writer.write(command + b"\r\n")
            await reply()
        writer.write(b"RCPT TO:<billing@acme.example>\r\nDATA\r\n")
        await reply()
        assert (await reply())[0].startswith(b"354")
        writer.write(on_the_wire(b"x" * 80 + b"\r\n"))
        answers = [await reply(), await reply()]
        writer.write(b"NOOP\r\n")
        assert (await reply())[0].startswith(b"250")
    finally:
        writer.close()
        server.close()
        await server.wait_closed()
    assert [a[0][:9] for a in answers] == [b"552 5.3.4"] * 2
    assert recorder.messages == []
