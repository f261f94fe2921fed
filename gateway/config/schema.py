"""The configuration schema: one pydantic model per TOML section.

The file is TOML; every key can be overridden from the environment as
``GATEWAY__<SECTION>__<KEY>`` (``GATEWAY__SMTP__LISTEN=127.0.0.1:2600``,
``GATEWAY__DATA_DIR=/srv/gw``). Relative paths are relative to the folder of
the config file. The core never sees these models: the daemon hands it plain
values.
"""

from __future__ import annotations

import re
import socket
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.routing.hours import parse_working_hours

_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def _check_address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.match(value):
        raise ValueError(f"{value!r} is not a mail address like support@example.com")
    return value.lower()


def _split_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT (for example 127.0.0.1:2525)")
    return host.strip("[]") or "127.0.0.1", int(port)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmtpSettings(_Section):
    """``[smtp]``: the intake listener."""

    listen: str = "127.0.0.1:2525"
    """SMTP listener, ``HOST:PORT``; port 0 picks a free one (tests)."""
    lmtp_listen: str | None = None
    """Optional LMTP listener (per-recipient replies) for a Postfix/Dovecot ``lmtp:`` transport."""
    hostname: str | None = None
    """Name in the greeting and ``Received`` lines; defaults to the machine's FQDN."""
    max_message_size: int = Field(default=26_214_400, gt=0)
    """Largest message accepted, in bytes (answer ``552 5.3.4`` above it)."""
    tls_cert_file: Path | None = None
    """PEM certificate: enables STARTTLS."""
    tls_key_file: Path | None = None
    require_tls: bool = False
    """Refuse MAIL before STARTTLS."""
    auth_file: Path | None = None
    """``user:password`` lines; enables AUTH PLAIN/LOGIN (over TLS unless ``auth_plaintext``)."""
    auth_plaintext: bool = False
    """Allow AUTH without TLS (only for a loopback hop from a local MTA)."""
    require_auth: bool = False
    """Refuse mail from clients that did not AUTH."""
    batch_max: int = Field(default=256, gt=0)
    """Most messages one group commit holds."""
    batch_wait_ms: float = Field(default=2.0, ge=0)
    """How long a group commit may wait for more messages, in milliseconds: only while another
    session is still receiving one that could join (a lone sender is not kept waiting)."""
    timeout: float = Field(default=300.0, gt=0)
    """Seconds of client silence before the session is dropped."""

    @field_validator("listen", "lmtp_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            _split_host_port(value)
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> SmtpSettings:
        if self.require_auth and self.auth_file is None:
            raise ValueError("require_auth needs auth_file")
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together: set both or neither")
        if self.require_tls and self.tls_cert_file is None:
            raise ValueError("require_tls needs tls_cert_file and tls_key_file")
        return self

    @property
    def listen_address(self) -> tuple[str, int]:
        """``listen`` as (host, port)."""
        return _split_host_port(self.listen)

    @property
    def lmtp_address(self) -> tuple[str, int] | None:
        """``lmtp_listen`` as (host, port), or ``None``."""
        return _split_host_port(self.lmtp_listen) if self.lmtp_listen else None


class StoreSettings(_Section):
    """``[store]``: where tickets live."""

    url: SecretStr | None = None
    """SQLAlchemy URL; default ``sqlite:///<data_dir>/gateway.db``. PostgreSQL:
    ``postgresql+asyncpg://user:pw@host/db`` or ``postgresql+psycopg://…``."""
    migrate_on_start: bool = True
    """Apply alembic migrations when ``serve`` starts."""
    pool_size: int = Field(default=5, gt=0)


class ThreadingSettings(_Section):
    """``[threading]``: how replies find their ticket."""

    subject_token_prefix: str = Field(default="#", min_length=1, max_length=8)
    """The ticket token in subjects is ``[<prefix><number>]``, e.g. ``[#1234]``."""
    reopen_closed: bool = True
    """A reply to a closed ticket reopens it."""


class PipelineSettings(_Section):
    """``[pipeline]``: the worker process that turns queued mail into tickets."""

    batch_size: int = Field(default=200, gt=0)
    poll_interval: float = Field(default=1.0, gt=0)
    """Seconds between looks at the queue when nothing woke the worker."""


MailKindName = Literal["normal", "auto_reply", "bounce", "list", "loop", "spam"]
KindActionName = Literal["ticket", "attach", "drop", "quarantine"]


class MailSettings(_Section):
    """``[mail]``: how mail is understood."""

    message_id_domain: str | None = None
    """Domain of the Message-IDs the gateway writes; mail carrying one is our own coming back.
    Default: ``gateway.<domain of the first channel address>``."""
    own_list_ids: list[str] = []
    """List-Ids (or addresses) of the groups that feed the gateway, e.g. a Google Group:
    their list headers do not make customer mail "list" mail."""
    actions: dict[MailKindName, KindActionName] = {}
    """What to do with each kind, over the defaults: normal=ticket, auto_reply=attach,
    bounce=attach, list=ticket, loop=drop, spam=quarantine."""


class ReplySettings(_Section):
    """``[reply]``: signed reply addresses."""

    secret_file: Path = Path("reply.key")
    """HMAC secret of reply keys; created (0600) on first start if missing."""
    key_max_age_days: int = Field(default=365, gt=0)
    """An agent's reply key older than this is refused (and the agent told)."""
    require_authentication: bool = False
    """Agent answers count only when the trusted MTA's Authentication-Results say dkim or
    spf pass for the agent's domain."""
    trusted_authserv_id: str | None = None
    """The authserv-id of the MTA whose Authentication-Results are trusted."""


class OutboundSmtpSettings(_Section):
    """``[outbound.smtp]``: the relay every outgoing mail goes through."""

    host: str = "127.0.0.1"
    port: int = Field(default=25, gt=0, le=65535)
    starttls: bool = False
    tls: bool = False
    """Implicit TLS (port 465) instead of STARTTLS."""
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    """PEM file of the CAs that may sign the relay's certificate (default: the system's)."""
    timeout: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _auth_pair(self) -> OutboundSmtpSettings:
        if (self.username is None) != (self.password_file is None):
            raise ValueError("username and password_file go together")
        if self.tls and self.starttls:
            raise ValueError("choose tls (implicit) or starttls, not both")
        return self


class OutboundSettings(_Section):
    """``[outbound]``: the outbox worker."""

    smtp: OutboundSmtpSettings | None = None
    """Without a relay, outgoing mail waits in the outbox."""
    max_attempts: int = Field(default=10, gt=0)
    """Temporary failures before a mail is marked failed and its agent told."""
    retry_base_seconds: float = Field(default=30.0, gt=0)
    """First retry delay; each further one doubles, up to an hour."""
    poll_interval: float = Field(default=2.0, gt=0)


class AgentSettings(_Section):
    """One ``[[agents]]`` entry: an agent who answers from their own mail client."""

    first_name: str = Field(min_length=1)
    last_name: str = ""
    address: str
    """The agent's personal address; answers must come from it."""
    seat: bool = True
    """Only agents with a seat are assigned tickets or named in routing rules."""
    teams: list[str] = []
    skills: list[str] = []
    """Skills a ticket's properties can ask for (values of ``language``, ``product``…):
    ``en``, ``billing``."""
    working_hours: dict[str, str] | None = None
    """``{ tz = "Europe/Amsterdam", mon-fri = "09:00-17:00" }``; outside them the agent is
    not available. None: any time."""

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _check_address(value)

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: list[str]) -> list[str]:
        return sorted({s.strip().lower() for s in value if s.strip()})

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            parse_working_hours(value)
        return value


class LogFormat(StrEnum):
    """How log lines look."""

    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class LogSettings(_Section):
    """``[log]``."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: LogFormat = LogFormat.AUTO
    """``auto``: readable on a terminal, one JSON object a line otherwise."""


class ChannelKind(StrEnum):
    """What a channel connects."""

    TEAM_EMAIL = "team_email"
    CHAT = "chat"
    MESSENGER = "messenger"
    WHATSAPP = "whatsapp"
    FORM = "form"
    CALLING = "calling"


class RoutingSettings(_Section):
    """A channel's ``routing`` rule: who gets its new tickets."""

    assign: Literal["nobody", "users_and_teams", "contact_owner"] = "nobody"
    """``nobody``; ``users_and_teams`` (the ``users`` and the seated members of ``teams``);
    ``contact_owner`` (the contact's owner, available or not; without an owner, the
    ``users`` and ``teams`` if any)."""
    users: list[str] = []
    """Agent addresses; each must be an agent with a seat."""
    teams: list[str] = []
    """Team names; their seated members are eligible, never the team as a whole."""
    only_available: bool = True
    """Only agents available now (status and working hours)."""
    spread: Literal["round_robin", "fewest_open"] = "round_robin"
    """Among several eligible agents: in turn, or the one with the fewest open tickets."""
    when_none_available: Literal["wait", "unassigned"] = "wait"
    """``wait``: assigned as soon as an eligible agent becomes available;
    ``unassigned``: stays so."""
    skill_properties: list[str] = ["language", "product"]
    """Ticket properties whose values are skills the assignee must have."""
    skill_fallback: Literal["any", "wait", "unassigned"] = "any"
    """When no eligible agent has the skills: ``any`` eligible agent, ``wait`` for one who has
    them, or leave the ticket ``unassigned``."""

    @field_validator("users")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        return [_check_address(a) for a in value]

    @model_validator(mode="after")
    def _names_someone(self) -> RoutingSettings:
        if self.assign == "users_and_teams" and not self.users and not self.teams:
            raise ValueError('assign = "users_and_teams" needs users or teams: name at least one')
        return self


TICKET_STATUSES = ("new", "open", "waiting", "closed")


def check_rule_names_seated(
    channel: str, rule: RoutingSettings, seated: set[str], unseated: set[str], teams: set[str]
) -> list[str]:
    """What is wrong with ``rule`` given the agents: empty when nothing is.

    Shared by the config file's validation and the commands that change a rule.
    """
    problems = []
    for address in rule.users:
        if address in unseated:
            problems.append(
                f"channel {channel!r} routing names {address}, who has no seat:"
                " give them seat = true or remove them from routing.users"
            )
        elif address not in seated:
            problems.append(
                f"channel {channel!r} routing names {address}, who is not an agent:"
                " add them under [[agents]] or remove them from routing.users"
            )
    for team in rule.teams:
        if team not in teams:
            problems.append(
                f"channel {channel!r} routing names team {team!r}, which no agent is in:"
                " add it to an agent's teams or remove it from routing.teams"
            )
    return problems


class ChannelSettings(_Section):
    """One ``[[channels]]`` entry."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: ChannelKind
    address: str | None = None
    """The team address (``team_email``): mail to it, or to its ``+tag`` forms, is accepted."""
    identity: str | None = None
    """The channel's identity on other kinds: a page id (messenger), a phone number
    (whatsapp, calling). One identity belongs to one channel only."""
    pipeline: str = "support"
    """Pipeline of new tickets."""
    status: Literal["new", "open", "waiting"] = "new"
    """Status of new tickets."""
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    """Priority of new tickets (none by default)."""
    properties: dict[str, str] = {}
    """Custom properties of new tickets, e.g. ``{ product = "printers" }``; a mail or API
    ticket's own properties win."""
    routing: RoutingSettings = RoutingSettings()
    forwarded_sender: Literal["original", "forwarder"] = "original"
    """Whose contact gets a ticket for hand-forwarded mail: the original author or the forwarder."""
    company: str = ""
    """The company name customers see (``channel.company`` in templates)."""
    from_name: Literal["agent_and_company", "company"] = "agent_and_company"
    """From-name of answers: ``Jane from Acme`` (by ``from_name_template``) or ``Acme``."""
    from_name_template: str = "{{ agent.first_name }} from {{ channel.company }}"
    """Wording of the agent-and-company from-name (sandboxed jinja2)."""
    signature_text: str = ""
    """Plain-text signature of answers (sandboxed jinja2; tokens: agent.full_name,
    agent.first_name, agent.last_name, channel.company, channel.address, channel.name)."""
    signature_html: str = ""
    """HTML signature of answers (same tokens, autoescaped)."""
    notify: list[str] = []
    """Agent addresses and team names told of new tickets and customer messages while none
    is assigned."""
    subject_token: bool = True
    """Put the ticket token (``[#1234]``) in the subjects customers see."""
    acknowledge: bool = False
    """Answer a customer's new ticket with ``ack_text`` (never auto mail, lists or loops)."""
    ack_subject: str = "Re: {{ ticket.subject }}"
    ack_text: str = (
        "Hello {{ contact.name or contact.address }},\n\n"
        "we have your message and will answer soon. Your ticket number is {{ ticket.number }}.\n\n"
        "{{ channel.company }}"
    )
    ack_per_hour: int = Field(default=3, ge=0)
    """Most acknowledgements one address gets in an hour."""

    @field_validator("notify")
    @classmethod
    def _notify(cls, value: list[str]) -> list[str]:
        out = []
        for entry in value:
            if "@" in entry:
                out.append(_check_address(entry))
            elif re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", entry.strip()):
                out.append(entry.strip())
            else:
                raise ValueError(f"{entry!r} is neither an agent's address nor a team name")
        return out

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "+" in value.partition("@")[0]:
            raise ValueError("a team address cannot itself carry a +tag")
        return _check_address(value)

    @field_validator("identity")
    @classmethod
    def _identity(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = re.sub(r"[\s().-]", "", value)
        if not cleaned:
            raise ValueError("identity is empty: write the page id or the phone number")
        return cleaned.lower()

    @model_validator(mode="after")
    def _needs_address(self) -> ChannelSettings:
        if self.kind is ChannelKind.TEAM_EMAIL and not self.address:
            raise ValueError("a team_email channel needs an address")
        if self.kind is ChannelKind.TEAM_EMAIL and self.identity:
            raise ValueError("a team_email channel is identified by its address: drop identity")
        return self

    @property
    def channel_identity(self) -> str | None:
        """The address, page id or phone number that connects this channel."""
        return self.address or self.identity


class ApiSettings(_Section):
    """``[api]``: the HTTP app (tickets API, health, metrics)."""

    listen: str = "127.0.0.1:8025"
    """``HOST:PORT`` of the HTTP app; port 0 picks a free one (tests)."""
    token_file: Path
    """One token a line (``#`` comments allowed); clients send ``Authorization: Bearer <token>``.
    Re-read on SIGHUP."""
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    """Largest request body accepted (``413`` above it)."""

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        _split_host_port(value)
        return value

    @property
    def listen_address(self) -> tuple[str, int]:
        """``listen`` as (host, port)."""
        return _split_host_port(self.listen)


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY__",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("var")
    """Spool, blobs and the SQLite database live here."""
    node: str = Field(default_factory=socket.gethostname, min_length=1, max_length=128)
    """This instance's name; queued messages belong to the node whose spool holds them."""
    smtp: SmtpSettings = SmtpSettings()
    store: StoreSettings = StoreSettings()
    threading: ThreadingSettings = ThreadingSettings()
    pipeline: PipelineSettings = PipelineSettings()
    log: LogSettings = LogSettings()
    mail: MailSettings = MailSettings()
    reply: ReplySettings = ReplySettings()
    outbound: OutboundSettings = OutboundSettings()
    api: ApiSettings | None = None
    """Without ``[api]`` no HTTP app runs."""
    agents: list[AgentSettings] = []
    channels: Annotated[list[ChannelSettings], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_channels(self) -> Settings:
        names: set[str] = set()
        addresses: dict[str, str] = {}
        for channel in self.channels:
            if channel.name in names:
                raise ValueError(f"two channels are named {channel.name!r}: names must be unique")
            names.add(channel.name)
            if identity := channel.channel_identity:
                if identity in addresses:
                    raise ValueError(
                        f"{identity} is connected to channels {addresses[identity]!r}"
                        f" and {channel.name!r}: an address, page id or phone number belongs to"
                        " one channel only"
                    )
                addresses[identity] = channel.name
        agents: set[str] = set()
        for agent in self.agents:
            if agent.address in agents:
                raise ValueError(f"two agents have the address {agent.address}")
            agents.add(agent.address)
            if agent.address in addresses:
                raise ValueError(
                    f"{agent.address} is the team address of channel {addresses[agent.address]!r}"
                    " and an agent's personal address: use a personal address for the agent"
                )
        seated = {a.address for a in self.agents if a.seat}
        teams = {t for a in self.agents for t in a.teams}
        problems: list[str] = []
        for channel in self.channels:
            for address in channel.notify:
                if "@" in address and address not in agents:
                    raise ValueError(
                        f"channel {channel.name!r} notifies {address}, who is not an agent:"
                        " add them under [[agents]]"
                    )
            problems += check_rule_names_seated(
                channel.name, channel.routing, seated, agents - seated, teams
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def store_url(self) -> str:
        """The configured store URL, or SQLite under ``data_dir``."""
        if self.store.url is not None:
            return self.store.url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'gateway.db'}"

    @property
    def message_id_domain(self) -> str:
        """The domain of the gateway's own Message-IDs."""
        if self.mail.message_id_domain:
            return self.mail.message_id_domain.lower()
        for channel in self.channels:
            if channel.address:
                return "gateway." + channel.address.rpartition("@")[2]
        return f"gateway.{self.node}.invalid"

    @property
    def team_addresses(self) -> dict[str, str]:
        """Team address → channel name."""
        return {c.address: c.name for c in self.channels if c.address}
