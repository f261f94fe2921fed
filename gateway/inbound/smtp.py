"""The SMTP and LMTP listener (aiosmtpd) in the daemon's event loop.

Policy lives in :class:`IntakeHandler`: only the team addresses (and their
``+tag`` forms) are accepted, so the gateway is never an open relay; ``250``
is answered only once :class:`~gateway.inbound.intake.Intake` says the message
is durable, ``451 4.3.0`` when it cannot be, so the sending MTA keeps it.
"""

from __future__ import annotations

import asyncio
import hmac
import ssl
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import structlog
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from gateway.errors import ConfigError, ConfigProblem, TransientError
from gateway.inbound.intake import Accepted, Intake
from gateway.mail.addresses import base_address

log = structlog.get_logger("gateway.smtp")

_TOO_BIG = "552 5.3.4 Message too big for this system"
# aiosmtpd's own size refusals carry no enhanced status code (RFC 3463); ours do.
_REWRITES = {
    "552 Error: Too much mail data": _TOO_BIG,
    "552 Error: message size exceeds fixed maximum message size": _TOO_BIG,
}


class IntakeHandler:
    """aiosmtpd handler: recipient policy and durable acceptance."""

    def __init__(self, intake: Intake, team_addresses: Iterable[str], *, lmtp: bool) -> None:
        self.intake = intake
        self.team_addresses = frozenset(a.lower() for a in team_addresses)
        self.lmtp = lmtp
        self.source = "lmtp" if lmtp else "smtp"
        self.in_data = 0
        """Sessions between DATA and their answer: a shutdown waits for them."""

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept only team addresses and their sub-addresses."""
        if base_address(address) not in self.team_addresses:
            log.info("smtp.rejected_recipient", recipient=address, peer=_peer(session))
            return f"550 5.1.1 <{address}>: no such team address here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Answer only when the message is durable (or refuse it temporarily)."""
        data = envelope.original_content or b""
        accepted = Accepted(
            data=bytes(data),
            source=self.source,
            peer=_peer(session),
            helo=session.host_name,
            mail_from=envelope.mail_from or None,
            rcpt_to=tuple(envelope.rcpt_tos),
        )
        try:
            inbound_id = await self.intake.submit(accepted)
        except TransientError as exc:
            log.warning("smtp.deferred", reason=str(exc), peer=accepted.peer)
            return self._each("451 4.3.0 Temporary storage failure, try again later", envelope)
        log.info("smtp.accepted", inbound_id=inbound_id, size=len(data), peer=accepted.peer)
        return self._each(f"250 2.0.0 OK queued as {inbound_id}", envelope)

    def _each(self, line: str, envelope: Envelope) -> str:
        # LMTP answers DATA once per accepted recipient (RFC 2033 section 4.2).
        if not self.lmtp:
            return line
        return "\r\n".join(line for _ in envelope.rcpt_tos) or line


def _peer(session: Session) -> str | None:
    peer: Any = session.peer
    if isinstance(peer, tuple) and peer:
        return f"{peer[0]}:{peer[1]}" if len(peer) > 1 else str(peer[0])
    return str(peer) if peer else None


# RFC 5321 caps lines at 1000 octets, but real mail breaks that and Postfix passes it on;
# refusing it would bounce a customer's mail, so accept long lines (the size limit still holds).
LINE_LENGTH_LIMIT = 1 << 20


_END = b".\r\n"
_END_OF_DATA = b"\r\n.\r\n"


async def receive_data(reader: asyncio.StreamReader, limit: int | None) -> bytes | None:
    """The message after ``354``, un-dot-stuffed (RFC 5321 section 4.5.2); None past ``limit``.

    aiosmtpd reads DATA a line at a time: a coroutine step, two joins and a log
    call for every line, most of its CPU per message. This reads up to each
    ``.<CRLF>`` instead (in most mail only the end of the data) and checks
    whether that dot stood alone on its line. A message over ``limit`` is read
    to its end and dropped, so the session can go on after the ``552``.
    """
    chunks: list[bytes] = []
    size = 0
    before = b"\r\n"  # the line before the data: DATA's own CRLF
    while True:
        try:
            chunk = await reader.readuntil(_END)
            ended = (before + chunk[-5:])[-5:] == _END_OF_DATA
        except asyncio.LimitOverrunError as exc:  # a megabyte without ".<CRLF>"
            chunk = await reader.readexactly(exc.consumed)
            ended = False
        size += len(chunk)
        if not limit or size <= limit + len(_END):
            chunks.append(chunk)
        elif chunks:
            chunks.clear()  # too big: keep draining, hold nothing
        before = (before + chunk[-2:])[-2:]
        if ended:
            break
    if not chunks:
        return None
    data = b"".join(chunks)[: -len(_END)]
    if data.startswith(b"."):
        data = data[1:]
    return data.replace(b"\r\n.", b"\r\n")


class _FastData(SMTP):
    """DATA received by :func:`receive_data`; the session counts as in flight until answered."""

    async def smtp_DATA(self, arg: str) -> None:
        """Receive the message and answer with the handler's reply line."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        envelope = self.envelope
        assert envelope is not None
        if not envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        handler: IntakeHandler = self.event_handler
        handler.in_data += 1
        try:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            try:
                data = await receive_data(self._reader, self.data_size_limit)
            except asyncio.CancelledError:  # the connection went away mid-DATA
                self._writer.close()
                raise
            if data is None:
                await self.push(_TOO_BIG)
                self._after_data()
                return
            envelope.content = envelope.original_content = data
            assert self.session is not None
            status = await handler.handle_DATA(self, self.session, envelope)
            self._after_data()
            await self.push(status)
        finally:
            handler.in_data -= 1

    def _after_data(self) -> None:
        self._set_post_data_state()  # type: ignore[no-untyped-call]  # unannotated in aiosmtpd


class GatewaySMTP(_FastData):
    """aiosmtpd's SMTP with a faster DATA and enhanced status codes on its refusals."""

    line_length_limit = LINE_LENGTH_LIMIT

    async def push(self, status: Any) -> None:
        """Send a reply line, rewriting aiosmtpd's bare size refusals."""
        if isinstance(status, str):
            status = _REWRITES.get(status, status)
        await super().push(status)


class GatewayLMTP(_FastData, LMTP):
    """aiosmtpd's LMTP with a faster DATA and per-recipient size refusals."""

    line_length_limit = LINE_LENGTH_LIMIT

    async def push(self, status: Any) -> None:
        """Send a reply line; after DATA, one per recipient as LMTP wants."""
        if isinstance(status, str):
            status = _REWRITES.get(status, status)
            if status == _TOO_BIG and self.envelope is not None and self.envelope.rcpt_tos:
                status = "\r\n".join(status for _ in self.envelope.rcpt_tos)
        await super().push(status)


def load_users(path: Path) -> dict[str, str]:
    """``user:password`` lines (``#`` comments allowed); raises ConfigError."""
    users: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(str(path), [ConfigProblem("smtp.auth_file", str(exc))]) from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip():
            raise ConfigError(
                str(path), [ConfigProblem("smtp.auth_file", "expected user:password", number)]
            )
        users[user.strip()] = password
    return users


def make_authenticator(users: dict[str, str]) -> Callable[..., AuthResult]:
    """An aiosmtpd authenticator checking LOGIN/PLAIN against ``users``."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        expected = users.get(login)
        ok = expected is not None and hmac.compare_digest(expected, password)
        if not ok:
            log.warning("smtp.auth_failed", user=login, peer=_peer(session))
        return AuthResult(success=ok)

    return authenticate


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server TLS context for STARTTLS; raises ConfigError if the files do not load."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(str(cert), [ConfigProblem("smtp.tls_cert_file", str(exc))]) from exc
    return context


async def start_listener(
    handler: IntakeHandler,
    host: str,
    port: int,
    *,
    hostname: str | None,
    max_message_size: int,
    idle_timeout: float,
    tls: ssl.SSLContext | None = None,
    require_tls: bool = False,
    users: dict[str, str] | None = None,
    require_auth: bool = False,
    auth_plaintext: bool = False,
) -> asyncio.Server:
    """Listen on ``host:port`` (port 0 picks one); the caller closes the server."""
    loop = asyncio.get_running_loop()
    protocol = GatewayLMTP if handler.lmtp else GatewaySMTP

    def factory() -> SMTP:
        return protocol(
            handler,
            data_size_limit=max_message_size,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident="Helpdesk Gateway",
            tls_context=tls,
            require_starttls=require_tls,
            timeout=idle_timeout,
            authenticator=make_authenticator(users) if users else None,
            auth_required=require_auth,
            auth_require_tls=not auth_plaintext,
            loop=loop,
        )

    server = await loop.create_server(factory, host=host, port=port)
    bound = server.sockets[0].getsockname()
    log.info("smtp.listening", protocol=handler.source, host=bound[0], port=bound[1])
    return server
