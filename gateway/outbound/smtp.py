"""The SMTP relay transport: every outgoing mail leaves through one relay (aiosmtplib).

Errors are translated into the gateway's tree: a ``4xx`` reply, a timeout or a
lost connection is a :class:`TransientError` (retry later), a ``5xx`` reply a
:class:`PermanentError` (the mail failed; its agent is told).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import aiosmtplib

from gateway.errors import PermanentError, TransientError


class Transport(Protocol):
    """Delivers rendered mail; raises TransientError or PermanentError."""

    async def send(self, mail_from: str, rcpt_to: Sequence[str], payload: bytes) -> None:
        """Hand ``payload`` over for ``rcpt_to``."""
        ...


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    """An SMTP relay with optional STARTTLS or implicit TLS and AUTH."""

    host: str
    port: int
    timeout: float
    starttls: bool = False
    tls: bool = False
    username: str | None = None
    password: str | None = None
    tls_context: ssl.SSLContext | None = None
    """Verifies the relay's certificate (None: the system's CAs)."""

    async def send(self, mail_from: str, rcpt_to: Sequence[str], payload: bytes) -> None:
        """Deliver ``payload``; raises TransientError (4xx, network) or PermanentError (5xx)."""
        try:
            async with asyncio.timeout(self.timeout * 2):
                await aiosmtplib.send(
                    payload,
                    sender=mail_from,
                    recipients=list(rcpt_to),
                    hostname=self.host,
                    port=self.port,
                    timeout=self.timeout,
                    use_tls=self.tls,
                    start_tls=self.starttls,
                    username=self.username,
                    password=self.password,
                    tls_context=self.tls_context,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentError(f"recipients refused: {detail}") from exc
            raise TransientError(f"recipients refused: {detail}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            message = f"{exc.code} {exc.message}"
            if 500 <= exc.code < 600:
                raise PermanentError(message) from exc
            raise TransientError(message) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
