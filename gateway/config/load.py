"""Load the configuration file, apply environment overrides, and say exactly what is wrong.

Errors name the key, the line in the file and the reason, so ``gateway
check-config`` can be fixed without reading the source.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from gateway.config.schema import Settings
from gateway.errors import ConfigError, ConfigProblem

CONFIG_ENV = "GATEWAY_CONFIG"

_TABLE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+(?:\s*\.\s*[A-Za-z0-9_\-\"']+)*)\s*=")


class _FileSettings(Settings):
    """Settings whose file values rank below the environment."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file: ops override one key without editing it.
        return env_settings, init_settings


def find_config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The config file: ``--config``, else ``$GATEWAY_CONFIG``; raises ConfigError if neither."""
    chosen = explicit or os.environ.get(CONFIG_ENV)
    if not chosen:
        raise ConfigError(
            "configuration",
            [ConfigProblem("--config", f"no config file: pass --config FILE or set {CONFIG_ENV}")],
        )
    return Path(chosen).expanduser().resolve()


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read ``path``, apply ``GATEWAY__…`` overrides and validate.

    Relative paths in the file are made absolute against the file's folder.
    Raises :class:`ConfigError` listing every problem, each with key and line.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), [ConfigProblem("(file)", exc.strerror or str(exc))]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(str(file), [ConfigProblem("(file)", f"not UTF-8: {exc}")]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError(str(file), [ConfigProblem("(syntax)", str(exc), line)]) from exc

    try:
        settings = _FileSettings(**data)
    except ValidationError as exc:
        lines = _key_lines(text)
        problems = [_problem(err, lines, os.environ) for err in exc.errors()]
        raise ConfigError(str(file), problems) from exc
    resolved = _resolve_paths(Settings.model_validate(settings.model_dump()), file.parent)
    if problems := check_templates(resolved, text):
        raise ConfigError(str(file), problems)
    return resolved


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    def absolute(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else (base / p)).resolve()

    smtp = settings.smtp.model_copy(
        update={
            "tls_cert_file": absolute(settings.smtp.tls_cert_file),
            "tls_key_file": absolute(settings.smtp.tls_key_file),
            "auth_file": absolute(settings.smtp.auth_file),
        }
    )
    reply = settings.reply.model_copy(update={"secret_file": absolute(settings.reply.secret_file)})
    outbound = settings.outbound
    if outbound.smtp is not None:
        relay = outbound.smtp.model_copy(
            update={
                "password_file": absolute(outbound.smtp.password_file),
                "ca_file": absolute(outbound.smtp.ca_file),
            }
        )
        outbound = outbound.model_copy(update={"smtp": relay})
    update: dict[str, Any] = {
        "data_dir": absolute(settings.data_dir),
        "smtp": smtp,
        "reply": reply,
        "outbound": outbound,
    }
    if settings.api is not None:
        update["api"] = settings.api.model_copy(
            update={"token_file": absolute(settings.api.token_file)}
        )
    return settings.model_copy(update=update)


def check_templates(settings: Settings, text: str = "") -> list[ConfigProblem]:
    """Every channel template that does not compile, render, or tries to leave the sandbox."""
    from gateway.signatures.render import ChannelFacts, TemplateError, check_template

    lines = _key_lines(text)
    problems: list[ConfigProblem] = []
    for index, channel in enumerate(settings.channels):
        facts = ChannelFacts(channel.name, channel.address or "", channel.company)
        for key in (
            "from_name_template",
            "signature_text",
            "signature_html",
            "ack_subject",
            "ack_text",
        ):
            try:
                check_template(getattr(channel, key), facts, html=key == "signature_html")
            except TemplateError as exc:
                loc: tuple[str | int, ...] = ("channels", index, key)
                problems.append(ConfigProblem(_dotted(loc), str(exc), lines.get(loc)))
    return problems


def reply_secret(settings: Settings) -> bytes:
    """The HMAC secret of reply keys, created (0600, 32 random bytes) when missing."""
    path = settings.reply.secret_file
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
    secret = path.read_bytes().strip()
    if len(secret) < 16:
        raise ConfigError(
            str(path), [ConfigProblem("reply.secret_file", "the secret is shorter than 16 bytes")]
        )
    return secret


def _problem(
    err: Any, lines: dict[tuple[str | int, ...], int], env: Mapping[str, str]
) -> ConfigProblem:
    loc: tuple[str | int, ...] = tuple(err.get("loc", ()))
    key = _dotted(loc) or "(top level)"
    message = str(err.get("msg", "invalid"))
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        message = "unknown key (check its spelling and section)"
    elif err.get("type") == "missing":
        message = "required key is missing"
    line = None
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            line = lines[loc[:end]]
            break
    env_name = "GATEWAY__" + "__".join(str(part).upper() for part in loc)
    if env_name in env:
        message += f" (set by environment variable {env_name})"
        line = None
    return ConfigProblem(key, message, line)


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each key path of a TOML document to the line it is written on.

    Good enough for error messages: tables, arrays of tables and dotted keys.
    """
    where: dict[tuple[str | int, ...], int] = {}
    counts: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if match := _TABLE.match(line):
            names = tuple(part.strip().strip("\"'") for part in match.group(2).split("."))
            if match.group(1) == "[[":
                index = counts.get(names, 0)
                counts[names] = index + 1
                table = (*names, index)
            else:
                table = names
            where.setdefault(table, number)
            continue
        if match := _KEY.match(line):
            names = tuple(part.strip().strip("\"'") for part in match.group(1).split("."))
            where.setdefault((*table, *names), number)
    return where


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
