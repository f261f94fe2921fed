"""From-names, signatures and acknowledgements: user-written templates, rendered in a sandbox.

Templates are jinja2 in an ``ImmutableSandboxedEnvironment`` and see plain strings
only (``agent.first_name``, ``channel.company``, …), so a template can never reach
Python internals: an attempt is a :class:`TemplateError` with a message, at
``check-config`` time and at render time, never a crash. Output is capped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import StrictUndefined, Undefined
from jinja2 import TemplateError as JinjaError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 20_000
"""Characters a rendered template may have."""
MAX_SOURCE = 20_000


class TemplateError(ValueError):
    """A template that does not compile, renders badly, or tries to leave the sandbox."""


@dataclass(frozen=True, slots=True)
class AgentFacts:
    """What templates may know of an agent."""

    first_name: str
    last_name: str
    address: str

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """What templates may know of a channel."""

    name: str
    address: str
    company: str


class _Lenient(Undefined):
    """Unknown tokens render as nothing in mail (an empty last name is common)."""


@lru_cache(maxsize=2)
def _environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        autoescape=html, undefined=_Lenient, keep_trailing_newline=False
    )


@lru_cache(maxsize=2)
def _strict_environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(autoescape=html, undefined=StrictUndefined)


def _context(
    agent: AgentFacts | None, channel: ChannelFacts, extra: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {
        "channel": {"name": channel.name, "address": channel.address, "company": channel.company}
    }
    if agent is not None:
        values["agent"] = {
            "first_name": agent.first_name,
            "last_name": agent.last_name,
            "full_name": agent.full_name,
            "address": agent.address,
        }
    for key, value in extra.items():
        values[key] = {str(k): str(v) for k, v in value.items()}
    return values


def render(
    source: str,
    channel: ChannelFacts,
    agent: AgentFacts | None = None,
    *,
    html: bool = False,
    extra: Mapping[str, Mapping[str, str]] | None = None,
    strict: bool = False,
) -> str:
    """Render a user template with plain data; raises TemplateError, never anything else.

    ``strict`` makes an unknown token an error (used when checking a config).
    """
    if len(source) > MAX_SOURCE:
        raise TemplateError(f"template longer than {MAX_SOURCE} characters")
    env = _strict_environment(html) if strict else _environment(html)
    try:
        template = env.from_string(source)
        out = template.render(_context(agent, channel, extra or {}))
    except SecurityError as exc:
        raise TemplateError(f"not allowed in a template: {exc}") from exc
    except JinjaError as exc:
        raise TemplateError(f"template error: {exc}") from exc
    except (ArithmeticError, TypeError, ValueError, AttributeError, LookupError) as exc:
        raise TemplateError(f"template failed: {type(exc).__name__}: {exc}") from exc
    except RecursionError as exc:
        raise TemplateError("template recursed too deeply") from exc
    if len(out) > MAX_OUTPUT:
        raise TemplateError(f"template renders to more than {MAX_OUTPUT} characters")
    return out


SAMPLE_AGENT = AgentFacts("Jane", "Doe", "jane@example.com")
SAMPLE_CONTEXT: Mapping[str, Mapping[str, str]] = {
    "ticket": {"number": "1234", "subject": "Printer on fire"},
    "contact": {"name": "Ann Example", "address": "ann@example.com"},
}


def check_template(source: str, channel: ChannelFacts, *, html: bool = False) -> None:
    """Render with sample data and strict tokens; raises TemplateError saying what is wrong."""
    render(source, channel, SAMPLE_AGENT, html=html, extra=SAMPLE_CONTEXT, strict=True)


def from_name(mode: str, template: str, channel: ChannelFacts, agent: AgentFacts | None) -> str:
    """The display name of an answer: ``company`` mode, or the agent-and-company template.

    Falls back to the company (or the channel name) when the template fails or is empty.
    """
    fallback = channel.company or channel.name
    if mode == "company" or agent is None:
        return fallback
    try:
        name = render(template, channel, agent)
    except TemplateError:
        return fallback
    name = " ".join(name.split())[:200]
    return name or fallback
