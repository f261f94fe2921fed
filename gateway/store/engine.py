"""Engines for the store: sync for the hot paths and the CLI, async for event-loop callers.

The intake commits through a sync engine inside ``asyncio.to_thread`` (one
thread hop per group, not one per statement); the pipeline worker and the CLI
are synchronous.

One URL in the config gives both: ``sqlite:///…`` runs on aiosqlite and the
standard ``sqlite3``; ``postgresql+asyncpg://…`` on asyncpg and psycopg;
``postgresql+psycopg://…`` on psycopg for both.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

SQLITE_BUSY_TIMEOUT_MS = 5000


def is_sqlite(url: str | URL) -> bool:
    """True when ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def sync_url(url: str) -> URL:
    """The URL with a synchronous driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite")
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def async_url(url: str) -> URL:
    """The URL with an asyncio driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        return parsed.set(drivername="postgresql+asyncpg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, synchronous: str = "FULL") -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI read while the daemon writes; FULL makes a commit survive power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_sync_engine(url: str, *, pool_size: int = 5, redoable: bool = False) -> Engine:
    """A synchronous engine for ``url``; on SQLite, transactions begin IMMEDIATE.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so two writers queue on the
    busy timeout instead of failing with a lock upgrade error mid-transaction. A
    connection with execution option ``sqlite_begin="DEFERRED"`` only reads.

    ``redoable`` is for a writer whose every commit can be redone from what is
    durable already (the intake: the spool, replayed at start-up; the
    pipeline: the spool, the queue, fsynced blobs). On SQLite its commits skip
    the fsync (``synchronous=NORMAL``, safe in WAL mode): power lost right
    after one may undo it, never corrupt the file. Before anything that only
    the database remembers is deleted (a spool segment), :func:`sync_wal`.
    """
    target = sync_url(url)
    if target.get_backend_name() != "sqlite":
        return create_engine(target, pool_size=pool_size, pool_pre_ping=True)
    engine = create_engine(target)
    event.listen(engine, "connect", _sqlite_connect_redoable if redoable else _sqlite_connect_sync)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect_sync(dbapi_connection: Any, record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    _sqlite_pragmas(dbapi_connection, record)


def _sqlite_connect_redoable(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None
    _sqlite_pragmas(dbapi_connection, record, "NORMAL")


def _sqlite_begin(connection: Any) -> None:
    # A reader that must neither wait for nor hold up the writer asks for execution option
    # ``sqlite_begin="DEFERRED"``; everything else takes the write lock up front.
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_async_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An asyncio engine for ``url``."""
    # Imported here: the daemon and the worker use sync engines, and asyncio support costs
    # several MB of resident memory in every process that imports it.
    from sqlalchemy.ext.asyncio import create_async_engine

    target = async_url(url)
    if target.get_backend_name() != "sqlite":
        return create_async_engine(target, pool_size=pool_size, pool_pre_ping=True)
    engine = create_async_engine(target)
    event.listen(engine.sync_engine, "connect", _sqlite_connect_sync)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def sync_wal(engine: Engine) -> None:
    """Make every commit so far durable, ``redoable`` ones included (SQLite: fsync the WAL).

    Blocking. A no-op on PostgreSQL, whose commits are durable when they return.
    """
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return
    for suffix in ("-wal", ""):
        try:
            fd = os.open(engine.url.database + suffix, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
