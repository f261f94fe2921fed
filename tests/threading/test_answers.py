"""Agent or customer, decided without I/O: keys, senders, commands, echoes of notifications."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.threading.answers import (
    AgentFacts,
    Commands,
    FoundKey,
    Refusal,
    authentication_passes,
    find_reply_key,
    is_status_mail,
    judge_agent_answer,
    may_be_status_mail,
    parse_commands,
    strip_agent_signature,
    strip_echo,
)
from gateway.threading.reply_keys import ReplyKey, Role, reply_address, sign_reply_key

SECRET = b"0123456789abcdef0123456789abcdef"
TODAY = date(2026, 11, 2)
TEAM = "support@acme.example"
JANE = AgentFacts(7, "jane@acme.example", active=True)
DOMAIN = "gateway.acme.example"


def key(
    role: Role = Role.AGENT, ticket: int = 12, holder: int = 7, issued: date = TODAY
) -> FoundKey:
    return FoundKey(TEAM, ReplyKey(role, ticket, holder, issued))


def judge(found: FoundKey, agent: AgentFacts | None = JANE, **kw: object) -> Refusal | None:
    args: dict[str, object] = {
        "header_from": "jane@acme.example",
        "envelope_from": "jane@acme.example",
        "answers": (f"notify.12.abc@{DOMAIN}",),
        "id_domain": DOMAIN,
        "today": TODAY,
        "max_age_days": 365,
        "authenticated": None,
    }
    args.update(kw)
    return judge_agent_answer(found, agent, **args)  # type: ignore[arg-type]


def test_find_reply_key_in_envelope_or_headers() -> None:
    tag = sign_reply_key(SECRET, ReplyKey(Role.AGENT, 12, 7, TODAY))
    found = find_reply_key(SECRET, ["other@x.example", reply_address(TEAM, tag)], [TEAM])
    assert found == key()
    assert find_reply_key(SECRET, ["support+orders@acme.example"], [TEAM]) is None
    assert find_reply_key(SECRET, [reply_address("sales@acme.example", tag)], [TEAM]) is None
    forged = sign_reply_key(b"x" * 32, ReplyKey(Role.AGENT, 12, 7, TODAY))
    assert find_reply_key(SECRET, [reply_address(TEAM, forged)], [TEAM]) == FoundKey(TEAM, None)


def test_the_holder_from_their_address_is_an_agent() -> None:
    assert judge(key()) is None


@pytest.mark.parametrize(
    ("found", "agent", "kw", "refusal"),
    [
        (FoundKey(TEAM, None), JANE, {}, Refusal.FORGED),
        (key(Role.CUSTOMER), JANE, {}, Refusal.CUSTOMER_KEY),
        (key(), None, {}, Refusal.UNKNOWN_AGENT),
        (key(), AgentFacts(7, "jane@acme.example", active=False), {}, Refusal.UNKNOWN_AGENT),
        (key(holder=8), JANE, {}, Refusal.UNKNOWN_AGENT),
        (key(issued=date(2025, 1, 1)), JANE, {}, Refusal.EXPIRED),
        (key(), JANE, {"header_from": "mallory@evil.example"}, Refusal.WRONG_SENDER),
        (key(), JANE, {"envelope_from": "mallory@evil.example"}, Refusal.WRONG_SENDER),
        (key(), JANE, {"header_from": None}, Refusal.WRONG_SENDER),
        (key(), JANE, {"answers": (f"notify.13.abc@{DOMAIN}",)}, Refusal.WRONG_TICKET),
        (key(), JANE, {"authenticated": False}, Refusal.UNAUTHENTICATED),
    ],
)
def test_refusals(
    found: FoundKey, agent: AgentFacts | None, kw: dict[str, object], refusal: Refusal
) -> None:
    assert judge(found, agent, **kw) is refusal


def test_null_envelope_sender_leaves_the_header_check() -> None:
    assert judge(key(), envelope_from="") is None


def test_authentication_results_of_the_trusted_mta_only() -> None:
    good = "mx.acme.example; dkim=pass header.d=acme.example; spf=fail smtp.mailfrom=acme.example"
    other = "evil.example; dkim=pass header.d=acme.example"
    assert authentication_passes([good], "mx.acme.example", "acme.example")
    assert not authentication_passes([other], "mx.acme.example", "acme.example")
    assert not authentication_passes(
        ["mx.acme.example; dkim=pass header.d=evil.example"], "mx.acme.example", "acme.example"
    )
    assert not authentication_passes(
        ["mx.acme.example; dkim=fail"], "mx.acme.example", "acme.example"
    )


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        ("#note\nShe called.", Commands(note=True, text="She called.")),
        ("#close", Commands(close=True, text="")),
        ("  #close\n\nDone, thanks!", Commands(close=True, text="Done, thanks!")),
        ("#assign Bob@Acme.example\n", Commands(assign="bob@acme.example", text="")),
        ("#note #close\nx", Commands(note=True, close=True, text="x")),
        ("#assign\nx", Commands(unknown=("#assign without an address",), text="x")),
        ("#1 priority: the printer\n", Commands(text="#1 priority: the printer\n")),
        ("Hello\n#close", Commands(text="Hello\n#close")),
    ],
)
def test_parse_commands(text: str, commands: Commands) -> None:
    assert parse_commands(text) == commands


def test_strip_echo_any_quoting() -> None:
    sent = "Hello support,\nthe printer is on fire.\n\n---- ticket [#1]\nCustomer: Ann\n"
    for prefix in ("\t", "> ", ">> ", "  "):
        quoted = "\n".join(prefix + line for line in sent.splitlines())
        text = f"Ann via Acme <support+rx@acme.example> wrote:\n\n{quoted}\nSwitch it off.\n"
        assert strip_echo(text, sent) == "Switch it off."


def test_strip_echo_keeps_what_the_agent_typed() -> None:
    sent = "Thanks\nthe printer is on fire.\n"
    assert strip_echo("Thanks\nI will come by.\n", sent) == "Thanks\nI will come by."


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Hi Ann.\n\nJane Doe\nAcme | Support\n+1 555 0100", "Hi Ann."),
        ("Hi Ann.\n\n  jane  DOE ", "Hi Ann."),
        ("Hi Ann.\n\nBest regards,\nJane Doe", "Hi Ann.\n\nBest regards,\nJane Doe"),
        ("Jane Doe\nAcme", "Jane Doe\nAcme"),  # nothing else: not a signature
        ("Hi.\n\nJane Doe\n" + "line\n" * 10, "Hi.\n\nJane Doe\n" + "line\n" * 10),
    ],
)
def test_strip_agent_signature(text: str, kept: str) -> None:
    assert strip_agent_signature(text, "Jane Doe") == kept


def test_status_mails_are_not_answers() -> None:
    assert is_status_mail("Re: [#1] Printer", "#away\nback Monday")
    assert is_status_mail("#available", "")
    assert not is_status_mail("Re: [#1] Printer", "#close\nDone")
    assert not is_status_mail("Re: away", "I was away, sorry")


@pytest.mark.parametrize(
    ("subject", "text", "html", "maybe"),
    [
        ("#away", "", None, True),
        ("Re: Printer", "#Available\nback Monday", None, True),
        ("Out", "", "<p><b>#</b>away</p>", True),  # tags between the words
        ("Out", "", "<p>&#35;away until Monday</p>", True),  # '#' as a character reference
        ("Out", "", "<p>&num;AWAY</p>", True),
        ("Order #1234", "Is it available?", "<p>Order #1234 is away</p>", False),
        ("Help", "Printer is jammed", None, False),
    ],
)
def test_may_be_status_mail_never_misses_one(
    subject: str, text: str, html: str | None, maybe: bool
) -> None:
    assert may_be_status_mail(subject, text, html) is maybe
