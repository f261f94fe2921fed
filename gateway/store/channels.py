"""Channel rows: settings changed by command, kept over the config file's until reset."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Table, select, update

from gateway.store.models import Channel

channels = cast(Table, Channel.__table__)

ROUTING_OVERRIDE = "routing"


def stored_settings(conn: Connection) -> dict[str, dict[str, Any]]:
    """Channel name → the settings saved by command (empty when none)."""
    return {
        row.name: dict(row.settings or {})
        for row in conn.execute(select(channels.c.name, channels.c.settings))
    }


def save_setting(conn: Connection, channel: str, key: str, value: Any | None) -> bool:
    """Save one setting of ``channel`` (None removes it); False when there is no such channel."""
    row = conn.execute(select(channels.c.id, channels.c.settings).where(channels.c.name == channel))
    found = row.first()
    if found is None:
        return False
    settings = dict(found.settings or {})
    if value is None:
        settings.pop(key, None)
    else:
        settings[key] = value
    conn.execute(update(channels).where(channels.c.id == found.id).values(settings=settings))
    return True
