"""Apply the schema's alembic migrations.

alembic is imported inside the functions: it (with mako) costs about 9 MB of
resident memory, and the pipeline worker, which never migrates, imports this
module through the daemon's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

from gateway.errors import TransientError

SCRIPT_LOCATION = "gateway.store:migrations"


def alembic_config(url: str = "") -> Config:
    """An alembic config pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision``.

    Raises TransientError when the database cannot be reached.
    """
    from alembic import command
    from sqlalchemy.exc import OperationalError

    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise TransientError(f"cannot migrate the store: {exc.orig}") from exc


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty one."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
