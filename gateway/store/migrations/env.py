"""Alembic environment: runs migrations on the connection the gateway hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from gateway.store.engine import make_sync_engine
from gateway.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Migrate on ``config.attributes["connection"]``, or on a fresh engine for the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_sync_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        _run(fresh)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER by copying the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
