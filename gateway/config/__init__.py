"""Configuration: the schema and its loader (TOML file, environment overrides)."""

from gateway.config.load import load_settings
from gateway.config.schema import ChannelKind, ChannelSettings, Settings

__all__ = ["ChannelKind", "ChannelSettings", "Settings", "load_settings"]
