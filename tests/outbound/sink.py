"""A test SMTP relay: an aiosmtpd Controller on 127.0.0.1 that keeps every envelope.

It can answer with scripted replies (``451`` then ``250``, a ``550``) and can hold
its answer to ``DATA`` until told, so a test can kill the gateway after the
relay has the mail but before the gateway heard ``250``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass(frozen=True)
class Envelope:
    """One mail the relay took."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes
    tls: bool = False
    """Whether the session was encrypted (STARTTLS)."""
    login: object = None
    """What the authenticator returned for the session (the user name), if it logged in."""

    @property
    def message(self) -> EmailMessage:
        """The mail, parsed with the modern policy."""
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    got: list[Envelope] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    """Answers to DATA to give first, in order; then ``250``."""
    hold: threading.Event | None = None
    attempts: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        with self.cond:
            self.attempts += 1
            reply = self.replies.pop(0) if self.replies else "250 2.0.0 OK"
            if reply.startswith("250"):
                self.got.append(
                    Envelope(
                        envelope.mail_from,
                        tuple(envelope.rcpt_tos),
                        envelope.content,
                        tls=session.ssl is not None,
                        login=session.auth_data,
                    )
                )
            self.cond.notify_all()
        hold = self.hold
        if hold is not None:
            # A threading.Event (set from the test's thread): polled, the gateway waits meanwhile.
            while not hold.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        return reply


class Sink:
    """The relay, its port and what it took."""

    def __init__(self, **smtp: Any) -> None:
        """``smtp``: aiosmtpd SMTP parameters (``tls_context``, ``auth_required``, …)."""
        self.handler = _Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **smtp)

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handler.hold is not None:
            self.handler.hold.set()
        self.controller.stop()

    @property
    def got(self) -> list[Envelope]:
        """Every mail taken so far."""
        with self.handler.cond:
            return list(self.handler.got)

    def script(self, *replies: str) -> None:
        """Answer the next DATA commands with ``replies``, in order."""
        with self.handler.cond:
            self.handler.replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Envelope]:
        """Wait until ``count`` mails were taken; returns them all."""
        deadline = time.monotonic() + timeout
        with self.handler.cond:
            while len(self.handler.got) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the relay got {len(self.handler.got)} mail(s), not {count}"
                    )
                self.handler.cond.wait(left)
            return list(self.handler.got)

    def wait_attempts(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` DATA commands were answered (or held)."""
        deadline = time.monotonic() + timeout
        with self.handler.cond:
            while self.handler.attempts < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {self.handler.attempts} attempts")
                self.handler.cond.wait(left)
