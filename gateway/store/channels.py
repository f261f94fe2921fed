"""Channel rows: settings changed by command, kept over the config file's until reset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, select, update

from gateway.store.models import Channel

if TYPE_CHECKING:
    from gateway.config.schema import Settings

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


FIXED = frozenset({"name", "kind", ROUTING_OVERRIDE})
"""Channel keys no command may change: the name and kind say which channel it is; the
routing rule has its own command (``gateway channels set-routing``), which checks seats."""


class SettingProblem(ValueError):
    """A channel setting that cannot be saved, and what to change."""


def settable_keys() -> list[str]:
    """The channel keys ``gateway channels set`` accepts."""
    from gateway.config.schema import ChannelSettings

    return sorted(k for k in ChannelSettings.model_fields if k not in FIXED)


def overlay(settings: Settings, stored: Mapping[str, Mapping[str, Any]]) -> Settings:
    """``settings`` with the channel settings saved by command laid over the file's.

    The result is validated as a whole, like the file (one identity per channel, a team
    address is no agent's, notify names agents or teams); raises SettingProblem when the
    saved values no longer fit the file.
    """
    from pydantic import ValidationError

    from gateway.config.schema import ChannelSettings, Settings

    if not any({k for k in stored.get(c.name, {}) if k not in FIXED} for c in settings.channels):
        return settings
    channels: list[ChannelSettings] = []
    try:
        for channel in settings.channels:
            saved = {k: v for k, v in stored.get(channel.name, {}).items() if k not in FIXED}
            data = channel.model_dump() | saved
            channels.append(ChannelSettings.model_validate(data))
        data = settings.model_dump() | {"channels": [c.model_dump() for c in channels]}
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingProblem(_explain(exc)) from exc


def save_channel_setting(
    conn: Connection, settings: Settings, channel: str, key: str, value: Any | None
) -> Settings:
    """Save ``key`` of ``channel`` over the file's (None: back to the file's value).

    Checks the result as the file would be checked, templates included, and saves
    nothing when it does not fit; returns the settings now in force. Raises
    SettingProblem saying what to change.
    """
    from gateway.config.load import check_templates

    if key in FIXED or key not in settable_keys():
        hint = "use `gateway channels set-routing`" if key == ROUTING_OVERRIDE else ""
        raise SettingProblem(
            f"{key!r} cannot be set by command{': ' + hint if hint else ''};"
            f" settable keys: {', '.join(settable_keys())}"
        )
    if channel not in {c.name for c in settings.channels}:
        raise SettingProblem(f"no channel is named {channel!r}: see `gateway channels list`")
    stored = stored_settings(conn)
    wanted = dict(stored.get(channel, {}))
    if value is None:
        wanted.pop(key, None)
    else:
        wanted[key] = value
    result = overlay(settings, {**stored, channel: wanted})
    problems = check_templates(result)
    if problems:
        raise SettingProblem("; ".join(f"{p.key}: {p.message}" for p in problems))
    save_setting(conn, channel, key, value)
    return result


def _explain(exc: Any) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    return "; ".join(parts)
