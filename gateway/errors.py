"""The gateway's error tree.

::

    GatewayError
    ├── ConfigError          the configuration is wrong; says which key, where and why
    ├── TransientError       retry later: SMTP 4xx, timeouts, HTTP 429/5xx, database away
    └── PermanentError       will not get better by retrying: SMTP 5xx, a revoked token

Edges translate library exceptions into these (``raise ... from exc``). The pure
core never raises them for bad input: parsing returns a value with its repairs.
"""

from __future__ import annotations

from dataclasses import dataclass


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a configuration file."""

    key: str
    """Dotted path of the key, e.g. ``channels[0].address``."""
    message: str
    """Why it is wrong, in words an ops person can act on."""
    line: int | None = None
    """1-based line in the file, when it could be found."""

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.key}: {self.message}"


class ConfigError(GatewayError):
    """The configuration cannot be used; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class TransientError(GatewayError):
    """Something outside failed for now; the same work should be retried later."""


class PermanentError(GatewayError):
    """Something outside refused for good; retrying will not help."""
