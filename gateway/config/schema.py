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
    """How long a group commit waits for more sessions to join, in milliseconds (only after a
    group of more than one message: a lone sender is not kept waiting)."""
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
    teams: list[str] = []

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _check_address(value)


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


class ChannelSettings(_Section):
    """One ``[[channels]]`` entry."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: ChannelKind
    address: str | None = None
    """The team address (``team_email``): mail to it, or to its ``+tag`` forms, is accepted."""
    pipeline: str = "support"
    """Pipeline of new tickets."""
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
    """Agent addresses told of new tickets and customer messages while none is assigned."""
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
        return [_check_address(a) for a in value]

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "+" in value.partition("@")[0]:
            raise ValueError("a team address cannot itself carry a +tag")
        return _check_address(value)

    @model_validator(mode="after")
    def _needs_address(self) -> ChannelSettings:
        if self.kind is ChannelKind.TEAM_EMAIL and not self.address:
            raise ValueError("a team_email channel needs an address")
        return self


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
            if channel.address:
                if channel.address in addresses:
                    raise ValueError(
                        f"{channel.address} is connected to channels {addresses[channel.address]!r}"
                        f" and {channel.name!r}: an address belongs to one channel only"
                    )
                addresses[channel.address] = channel.name
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
        for channel in self.channels:
            for address in channel.notify:
                if address not in agents:
                    raise ValueError(
                        f"channel {channel.name!r} notifies {address}, who is not an agent:"
                        " add them under [[agents]]"
                    )
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
