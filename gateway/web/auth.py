"""Bearer-token authentication for the HTTP app: a plain ASGI class around the next app.

Paths under ``/api/`` need ``Authorization: Bearer <token>`` with a token from
``[api] token_file``; ``/healthz``, ``/metrics`` and ``/openapi.json`` are open
(bind the listener to loopback or a private network). Tokens are compared in
constant time and never logged.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import ConfigError, ConfigProblem

PROTECTED_PREFIX = "/api/"


def read_tokens(path: Path) -> frozenset[str]:
    """The tokens of a token file: one a line, blank lines and ``#`` comments skipped.

    Raises ConfigError when the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            str(path),
            [
                ConfigProblem(
                    "api.token_file",
                    f"{exc.strerror or exc}: create it with one token a line (mode 0600)",
                )
            ],
        ) from exc
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_known(token: str, tokens: frozenset[str]) -> bool:
    """True when ``token`` is one of ``tokens`` (every one compared, in constant time)."""
    found = False
    for known in tokens:
        found |= hmac.compare_digest(token.encode(), known.encode())
    return found


class BearerAuth:
    """Refuses ``/api/`` requests without a known bearer token (``401`` with a JSON error)."""

    def __init__(self, app: ASGIApp, tokens: Callable[[], frozenset[str]]) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIX):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip() and is_known(token.strip(), self.tokens()):
            await self.app(scope, receive, send)
            return
        detail = "send Authorization: Bearer <token> with a token from [api] token_file"
        body = json.dumps(
            {"error": "unauthorized", "field": "Authorization", "detail": detail}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="gateway"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
