"""The composition root: builds every service from the config and runs them.

``gateway serve`` is one event loop (SMTP/LMTP listeners, the group-commit
intake, the worker's supervisor, the systemd watchdog) plus one pipeline worker
process that turns queued mail into tickets. Nothing else holds an engine, a
server or the config.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import ssl
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import sdnotify
from gateway.assignment import ChannelPlan, assign_pending, configured_agents, plans_for
from gateway.config.load import load_settings, reply_secret
from gateway.config.schema import OutboundSmtpSettings, Settings
from gateway.errors import ConfigError, ConfigProblem, TransientError
from gateway.inbound.intake import Intake, mark_clean_stop, replay_spool, take_clean_stop
from gateway.inbound.smtp import IntakeHandler, load_users, start_listener, tls_context
from gateway.inbound.spool import SpoolWriter
from gateway.logs import configure_logging
from gateway.outbound.smtp import SmtpRelay
from gateway.outbound.worker import OutboxPolicy, OutboxWorker
from gateway.store import tickets as store
from gateway.store.agents import sync_agents
from gateway.store.blobs import BlobStore, FileBlobStore
from gateway.store.engine import make_async_engine, make_sync_engine
from gateway.store.migrate import upgrade
from gateway.store.staged import write_with_blobs

if TYPE_CHECKING:  # the HTTP app and the mail effects are imported only when used (memory)
    from starlette.applications import Starlette

    from gateway.effects import EffectsConfig
    from gateway.web.app import WebContext
    from gateway.web.server import EmbeddedServer

log = structlog.get_logger("gateway.daemon")

SHUTDOWN_GRACE = 10.0
"""Seconds in-flight work gets after SIGTERM before it is cancelled."""
WAITING_SWEEP = 60.0
"""Seconds between looks for waiting tickets an agent can take now (working hours begin)."""


@dataclass(frozen=True, slots=True)
class Paths:
    """Where the daemon keeps its files."""

    data_dir: Path

    @property
    def spool(self) -> Path:
        """Segments of accepted raw mail."""
        return self.data_dir / "spool"

    @property
    def blobs(self) -> Path:
        """Content-addressed raw messages and attachments."""
        return self.data_dir / "blobs"

    def create(self) -> None:
        """Make the folders (0700: mail is private)."""
        for path in (self.data_dir, self.spool, self.blobs):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)


def assign_and_notify(
    conn: Connection,
    blobs: BlobStore,
    *,
    plans: Mapping[str, ChannelPlan],
    config: EffectsConfig,
) -> None:
    """Give waiting tickets to agents available now, and tell each new assignee by mail."""
    from gateway.effects import Effects, notify_assignments

    notify_assignments(conn, Effects(config, blobs), assign_pending(conn, plans))


def prepare_store(settings: Settings, *, migrate: bool) -> Settings:
    """Migrate the schema (when asked), record the configured channels and agents, and make
    sure the reply secret exists; returns the settings with the channel settings saved by
    command laid over the file's. Blocking."""
    reply_secret(settings)
    engine = make_sync_engine(settings.store_url)
    try:
        if migrate:
            upgrade(engine)
        with engine.begin() as conn:
            store.sync_channels(
                conn, [(c.name, c.kind.value, c.channel_identity) for c in settings.channels]
            )
            sync_agents(conn, configured_agents(settings))
        return with_stored_channels(settings, engine)
    finally:
        engine.dispose()


def with_stored_channels(settings: Settings, engine: Engine) -> Settings:
    """``settings`` with the channel settings saved by ``gateway channels set``. Blocking.

    Raises ConfigError when a saved value no longer fits the file.
    """
    from gateway.store.channels import SettingProblem, overlay, stored_settings

    with engine.connect() as conn:
        stored = stored_settings(conn)
    try:
        return overlay(settings, stored)
    except SettingProblem as exc:
        problem = ConfigProblem("channels", f"a setting saved by command no longer fits: {exc}")
        raise ConfigError("the store's channel settings", [problem]) from exc


def smtp_relay(cfg: OutboundSmtpSettings) -> SmtpRelay:
    """The relay transport; reads the password file (a systemd credential) once."""
    password = None
    if cfg.password_file is not None:
        password = cfg.password_file.read_text(encoding="utf-8").strip()
    return SmtpRelay(
        host=cfg.host,
        port=cfg.port,
        timeout=cfg.timeout,
        starttls=cfg.starttls,
        tls=cfg.tls,
        username=cfg.username,
        password=password,
        tls_context=(ssl.create_default_context(cafile=str(cfg.ca_file)) if cfg.ca_file else None),
    )


def outbox_worker(settings: Settings, engine: Engine, blobs: FileBlobStore) -> OutboxWorker:
    """The outbox worker for ``settings`` (which must have ``[outbound.smtp]``)."""
    out = settings.outbound
    assert out.smtp is not None
    return OutboxWorker(
        engine,
        blobs,
        smtp_relay(out.smtp),
        OutboxPolicy(
            node=settings.node,
            id_domain=settings.message_id_domain,
            max_attempts=out.max_attempts,
            retry_base_seconds=out.retry_base_seconds,
            poll_interval=out.poll_interval,
            team_names={
                c.address: f"{c.company or c.name} help desk"
                for c in settings.channels
                if c.address
            },
        ),
    )


class WorkerProcess:
    """Runs ``gateway worker`` as a child process and restarts it if it dies."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self.restarts = 0

    def is_stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopping

    def wake(self, _count: int = 1) -> None:
        """Tell the worker there is new mail (a byte on its stdin)."""
        proc = self.process
        if proc is not None and proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.write(b"\n")

    async def supervise(self) -> None:
        """Keep one worker running until :meth:`stop`."""
        backoff = 0.5
        while not self._stopping:
            started = time.monotonic()
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE
            )
            log.info("worker.started", pid=self.process.pid)
            code = await self.process.wait()
            if self.is_stopping():
                return
            self.restarts += 1
            backoff = 0.5 if time.monotonic() - started > 30 else min(backoff * 2, 30.0)
            log.error("worker.exited", code=code, restart_in=backoff)
            await asyncio.sleep(backoff)

    async def restart(self) -> None:
        """Let the running worker finish its batch and exit; the supervisor starts a new one."""
        await self._end(self.process)

    async def stop(self, grace: float) -> None:
        """Let the worker finish its batch; terminate it after ``grace`` seconds."""
        self._stopping = True
        await self._end(self.process, grace)

    @staticmethod
    async def _end(proc: asyncio.subprocess.Process | None, grace: float = SHUTDOWN_GRACE) -> None:
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # end of file: the worker finishes its batch and exits
        try:
            async with asyncio.timeout(grace):
                await proc.wait()
        except TimeoutError:
            proc.terminate()
            try:
                async with asyncio.timeout(5):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()


class Daemon:
    """Everything ``gateway serve`` runs, built from one Settings."""

    def __init__(self, settings: Settings, config_path: Path) -> None:
        self.settings = settings
        self.config_path = config_path
        self.paths = Paths(settings.data_dir)
        self.stopping = asyncio.Event()
        self.reload_requested = asyncio.Event()
        self.queue_engine: Engine | None = None
        """The intake's: sync, used from its writer thread (one hop per group commit)."""
        self.handlers: list[IntakeHandler] = []
        self.servers: list[asyncio.Server] = []
        self.command = [sys.executable, "-m", "gateway", "--config", str(config_path)]
        """How this daemon's own ``gateway`` commands are run (worker, migrations)."""
        self.worker = WorkerProcess([*self.command, "worker"])
        self.engine: AsyncEngine | None = None
        """The API's and the waiting-ticket sweeper's."""
        self.api_tokens: frozenset[str] = frozenset()
        self.http: EmbeddedServer | None = None
        self.app: Starlette | None = None
        self.reply_secret = b""
        """The reply keys' HMAC secret, read once the store is prepared."""

    async def run(self) -> int:
        """Serve until SIGTERM/SIGINT; returns the exit code."""
        cfg = self.settings
        self.paths.create()
        if cfg.api is not None:
            # Before anything listens: a missing token file is a config error (exit 2).
            from gateway.web.auth import read_tokens

            self.api_tokens = await asyncio.to_thread(read_tokens, cfg.api.token_file)
        await self._prepare_store()
        cfg = self.settings  # now with the channel settings saved by command
        self.reply_secret = await asyncio.to_thread(reply_secret, cfg)
        self.engine = make_async_engine(cfg.store_url, pool_size=cfg.store.pool_size)
        if cfg.api is not None:
            from gateway.web.app import build_app

            self.app = build_app(self._web_context(cfg), lambda: self.api_tokens)
        # Its commits are redone from the spool after a power cut (replay_spool), so on
        # SQLite they skip the fsync: the spool's own fdatasync is what a 250 waits for.
        self.queue_engine = make_sync_engine(
            cfg.store_url, pool_size=cfg.store.pool_size, redoable=True
        )
        if not await asyncio.to_thread(take_clean_stop, self.paths.spool):
            await asyncio.to_thread(
                replay_spool, self.paths.spool, self.queue_engine, node=cfg.node
            )
        spool = SpoolWriter(self.paths.spool)
        intake = Intake(
            spool,
            self.queue_engine,
            node=cfg.node,
            batch_max=cfg.smtp.batch_max,
            batch_wait=cfg.smtp.batch_wait_ms / 1000,
            on_commit=self.worker.wake,
            arriving=lambda: sum(h.in_data for h in self.handlers),
        )
        outbox_engine: Engine | None = None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload_requested.set)
        try:
            async with asyncio.TaskGroup() as tasks:
                intake_task = tasks.create_task(intake.run())
                worker_task = tasks.create_task(self.worker.supervise())
                await self._listen(intake)
                http_task = self._serve_http(tasks)
                sweeper = tasks.create_task(self._assign_waiting())
                watchdog = tasks.create_task(self._watchdog())
                reloader = tasks.create_task(self._reloader())
                sender: asyncio.Task[None] | None = None
                if cfg.outbound.smtp is not None:
                    # Its own small sync engine: outbox work is rare, runs in a thread, and
                    # must not share the intake's connections.
                    outbox_engine = make_sync_engine(cfg.store_url, pool_size=2)
                    blobs = FileBlobStore(self.paths.blobs)
                    sender = tasks.create_task(outbox_worker(cfg, outbox_engine, blobs).run())
                else:
                    log.warning("outbox.no_relay", hint="set [outbound.smtp]; mail waits")
                sdnotify.notify("READY=1", "STATUS=accepting mail")
                log.info("daemon.ready", node=cfg.node, channels=len(cfg.channels))
                await self.stopping.wait()
                sdnotify.notify("STOPPING=1")
                log.info("daemon.stopping")
                if self.http is not None:
                    self.http.stop()  # stop accepting; open requests get the grace period
                await self._drain(intake)
                if http_task is not None:
                    await http_task
                intake_task.cancel()
                sweeper.cancel()
                watchdog.cancel()
                reloader.cancel()
                if sender is not None:
                    # A send cut off here stays pending and goes out again, same Message-ID.
                    sender.cancel()
                await self.worker.stop(SHUTDOWN_GRACE)
                worker_task.cancel()
                if intake.pending == 0:
                    await asyncio.to_thread(mark_clean_stop, self.paths.spool, self.queue_engine)
        finally:
            spool.close()
            await self.engine.dispose()
            self.queue_engine.dispose()
            if outbox_engine is not None:
                outbox_engine.dispose()
        log.info("daemon.stopped", accepted=intake.committed, deferred=intake.refused)
        return 0

    def _web_context(self, cfg: Settings) -> WebContext:
        from gateway.effects import effects_config
        from gateway.web.app import WebContext

        assert self.engine is not None
        assert cfg.api is not None
        return WebContext(
            engine=self.engine,
            plans=plans_for(cfg),
            effects=effects_config(cfg, self.reply_secret),
            default_channel=cfg.channels[0].name,
            message_id_domain=cfg.message_id_domain,
            blobs=FileBlobStore(self.paths.blobs),
            max_body_bytes=cfg.api.max_body_bytes,
        )

    def _serve_http(self, tasks: asyncio.TaskGroup) -> asyncio.Task[None] | None:
        api = self.settings.api
        if api is None or self.app is None:
            return None
        from gateway.web.server import bind, make_server

        host, port = api.listen_address
        try:
            sock = bind(host, port)
        except OSError as exc:
            problem = f"cannot listen on {api.listen}: {exc.strerror or exc}"
            raise ConfigError("[api]", [ConfigProblem("api.listen", problem)]) from exc
        self.http = make_server(self.app)
        log.info("http.listening", host=host, port=sock.getsockname()[1])
        return tasks.create_task(self.http.serve(sockets=[sock]))

    async def _assign_waiting(self) -> None:
        """Give waiting tickets to agents whose working hours began (status changes: at once)."""
        assert self.engine is not None
        pending = store.tickets.c.assignment_pending
        while True:
            await asyncio.sleep(WAITING_SWEEP)
            try:
                async with self.engine.connect() as conn:
                    waiting = (await conn.execute(select(pending).where(pending).limit(1))).first()
                if waiting is None:
                    continue
                from gateway.effects import effects_config

                plans = plans_for(self.settings)
                config = effects_config(self.settings, self.reply_secret)
                await write_with_blobs(
                    self.engine,
                    FileBlobStore(self.paths.blobs),
                    functools.partial(assign_and_notify, plans=plans, config=config),
                )
            except (OperationalError, DBAPIError) as exc:
                log.warning("routing.sweep_failed", error=str(exc.orig))

    async def _prepare_store(self) -> None:
        delay = 1.0
        while True:
            try:
                if self.settings.store.migrate_on_start:
                    await self._migrate()
                self.settings = await asyncio.to_thread(prepare_store, self.settings, migrate=False)
                return
            except TransientError as exc:
                # Not listening yet, so the MTA in front keeps the mail until the store is back.
                log.warning("store.unavailable", error=str(exc), retry_in=delay)
                sdnotify.notify(f"STATUS=waiting for the store: {exc}")
                try:
                    async with asyncio.timeout(delay):
                        await self.stopping.wait()
                    raise SystemExit(1)
                except TimeoutError:
                    delay = min(delay * 2, 30.0)

    async def _migrate(self) -> None:
        """Apply migrations in a short-lived ``gateway db upgrade``; raises TransientError.

        alembic and mako would stay in this long-running process's memory (about
        9 MB of the 150 MB budget) for one use at start-up.
        """
        proc = await asyncio.create_subprocess_exec(
            *self.command,
            "db",
            "upgrade",
            stdout=asyncio.subprocess.DEVNULL,
        )
        code = await proc.wait()
        if code != 0:
            raise TransientError(f"`gateway db upgrade` exited with {code}; its error is above")

    async def _listen(self, intake: Intake) -> None:
        cfg = self.settings.smtp
        tls = None
        if cfg.tls_cert_file is not None and cfg.tls_key_file is not None:
            tls = tls_context(cfg.tls_cert_file, cfg.tls_key_file)
        users = load_users(cfg.auth_file) if cfg.auth_file else None
        targets: list[tuple[bool, tuple[str, int]]] = [(False, cfg.listen_address)]
        if cfg.lmtp_address is not None:
            targets.append((True, cfg.lmtp_address))
        for lmtp, (host, port) in targets:
            handler = IntakeHandler(intake, self.settings.team_addresses, lmtp=lmtp)
            server = await start_listener(
                handler,
                host,
                port,
                hostname=cfg.hostname,
                max_message_size=cfg.max_message_size,
                idle_timeout=cfg.timeout,
                tls=tls,
                require_tls=cfg.require_tls,
                users=users,
                require_auth=cfg.require_auth,
                auth_plaintext=cfg.auth_plaintext,
            )
            self.handlers.append(handler)
            self.servers.append(server)

    async def _drain(self, intake: Intake) -> None:
        """Stop accepting; let sessions already in DATA (sending or waiting) get their answer."""
        for server in self.servers:
            server.close()
        deadline = time.monotonic() + SHUTDOWN_GRACE

        def busy() -> bool:
            return bool(intake.pending or any(h.in_data for h in self.handlers))

        while busy() and time.monotonic() < deadline:  # noqa: ASYNC110 - a deadline poll
            await asyncio.sleep(0.05)
        # One more round lets the last group's answers reach their sockets.
        await asyncio.sleep(0.1)

    async def _watchdog(self) -> None:
        interval = sdnotify.watchdog_interval()
        if interval is None:
            return
        while True:
            sdnotify.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    async def _reloader(self) -> None:
        while True:
            await self.reload_requested.wait()
            self.reload_requested.clear()
            await self.reload()

    async def reload(self) -> None:
        """SIGHUP: re-read the config; team addresses, channels and log level change live."""
        sdnotify.notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")
        try:
            fresh = await asyncio.to_thread(load_settings, self.config_path)
            fresh = await asyncio.to_thread(prepare_store, fresh, migrate=False)
        except (ConfigError, TransientError) as exc:
            log.error("daemon.reload_failed", error=str(exc))
            sdnotify.notify("READY=1")
            return
        for field in ("smtp", "store", "data_dir", "node", "outbound", "reply"):
            if getattr(fresh, field) != getattr(self.settings, field):
                log.warning("daemon.reload_needs_restart", section=field)
        if (fresh.api and fresh.api.listen) != (self.settings.api and self.settings.api.listen):
            log.warning("daemon.reload_needs_restart", section="api")
        if fresh.api is not None and self.app is not None:
            try:
                from gateway.web.auth import read_tokens

                self.api_tokens = await asyncio.to_thread(read_tokens, fresh.api.token_file)
            except ConfigError as exc:
                log.error("daemon.reload_failed", error=str(exc))
            self.app.state.ctx = self._web_context(fresh)
        configure_logging(fresh.log.level, fresh.log.format.value)
        for handler in self.handlers:
            handler.team_addresses = frozenset(fresh.team_addresses)
        self.settings = fresh
        await self.worker.restart()
        log.info("daemon.reloaded", channels=len(fresh.channels))
        sdnotify.notify("READY=1")


def serve(settings: Settings, config_path: Path) -> int:
    """Run the daemon on uvloop when it is installed; returns the exit code."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(Daemon(settings, config_path).run())
    return uvloop.run(Daemon(settings, config_path).run())


def worker_main(settings: Settings) -> int:
    """``gateway worker``: the pipeline loop, fed wake-ups on stdin by the daemon."""
    from gateway.pipeline import Pipeline, run_worker
    from gateway.store.blobs import FileBlobStore

    paths = Paths(settings.data_dir)
    paths.create()
    stop = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    engine = make_sync_engine(settings.store_url, pool_size=1, redoable=True)
    settings = with_stored_channels(settings, engine)
    blobs = FileBlobStore(paths.blobs)
    pipeline = Pipeline(engine, settings, node=settings.node, blobs=blobs, spool_dir=paths.spool)
    log.info("worker.ready", pid=os.getpid())
    with contextlib.suppress(KeyboardInterrupt):
        run_worker(
            pipeline,
            wake_fd=sys.stdin.fileno(),
            should_stop=lambda: stop,
            poll_interval=settings.pipeline.poll_interval,
        )
    blobs.close()
    engine.dispose()
    log.info("worker.stopped")
    return 0
