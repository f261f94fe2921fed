"""Uvicorn inside the daemon's event loop: a task in its TaskGroup, stopped by the daemon."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

SHUTDOWN_GRACE = 10
"""Seconds open requests get to finish when the daemon stops."""


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the daemon and listens on a socket it is given."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The daemon owns SIGTERM/SIGINT/SIGHUP and sets should_exit itself.
        yield

    def stop(self) -> None:
        """Stop accepting; open requests get the grace period, then the task ends."""
        self.should_exit = True


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket for ``host:port`` (port 0: a free one), ready for uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    # Listening now queues early connections until uvicorn accepts them.
    sock.listen(128)
    return sock


def make_server(app: ASGIApp) -> EmbeddedServer:
    """A server for ``app`` with logging left to structlog and no lifespan."""
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
        http="h11",
        ws="none",
    )
    return EmbeddedServer(config)
