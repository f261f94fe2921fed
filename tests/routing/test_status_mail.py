"""#away / #available mails: the command, and what proves the sender is the agent."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.mail.authresults import passes_for, trusted_results
from gateway.routing.status_mail import StatusCommand, prove_agent, status_command
from gateway.threading.reply_keys import ReplyKey, Role, sign_reply_key

SECRET = b"0123456789abcdef0123456789abcdef"
TODAY = date(2026, 12, 2)
AGENTS = {7: "jane@acme.example", 8: "bob@acme.example"}


@pytest.mark.parametrize(
    ("subject", "text", "expected"),
    [
        ("#away", "", StatusCommand.AWAY),
        ("Re: #Available", "", StatusCommand.AVAILABLE),
        ("anything", "\n  #away  \nback Monday", StatusCommand.AWAY),
        ("anything", "I am #away today", None),
        ("#awayish", "", None),
        ("", "", None),
    ],
)
def test_status_command(subject: str, text: str, expected: StatusCommand | None) -> None:
    assert status_command(subject, text) == expected


def key(
    holder: int, *, role: Role = Role.AGENT, issued: date = TODAY, secret: bytes = SECRET
) -> str:
    return sign_reply_key(secret, ReplyKey(role, ticket=42, holder=holder, issued=issued))


TRUSTED = "mx.acme.example"


@pytest.mark.parametrize(
    ("sender", "tags", "headers", "proven"),
    [
        ("jane@acme.example", [key(7)], [], True),
        ("Jane@Acme.example", ["x", key(7)], [], True),
        # From alone never proves anything.
        ("jane@acme.example", [], [], False),
        ("jane@acme.example", ["vip"], [], False),
        # Bob's key does not make a mail from Jane's address hers, nor the other way.
        ("jane@acme.example", [key(8)], [], False),
        # A customer's key is never an agent's.
        ("jane@acme.example", [key(7, role=Role.CUSTOMER)], [], False),
        # Forged or expired keys.
        ("jane@acme.example", [key(7, secret=b"another secret")], [], False),
        ("jane@acme.example", [key(7, issued=date(2025, 1, 1))], [], False),
        # Not an agent at all, whatever it carries.
        ("eve@example.com", [key(7)], [], False),
        # Trusted Authentication-Results.
        ("jane@acme.example", [], [f"{TRUSTED}; dkim=pass header.d=acme.example"], True),
        (
            "jane@acme.example",
            [],
            [f"{TRUSTED} 1; spf=pass (sender ok) smtp.mailfrom=jane@acme.example; dkim=none"],
            True,
        ),
        ("jane@acme.example", [], [f"{TRUSTED}; dkim=fail header.d=acme.example"], False),
        ("jane@acme.example", [], [f"{TRUSTED}; dkim=pass header.d=evil.example"], False),
        # Written by some other server (or the sender): not trusted.
        ("jane@acme.example", [], ["mx.evil.example; dkim=pass header.d=acme.example"], False),
    ],
)
def test_prove_agent(sender: str, tags: list[str], headers: list[str], proven: bool) -> None:
    proof = prove_agent(
        sender=sender,
        agents=AGENTS,
        tags=tags,
        secret=SECRET,
        max_age_days=365,
        today=TODAY,
        auth_headers=headers,
        trusted_authserv_id=TRUSTED,
    )
    assert (proof.agent is not None) is proven, proof.how
    assert proof.how


def test_authentication_results_parsing() -> None:
    found = trusted_results(
        [
            'MX.acme.example;\r\n dkim=pass (2048-bit key) header.d="acme.example" header.s=s1;'
            " spf=softfail smtp.mailfrom=x@acme.example; dmarc=pass header.from=acme.example",
            "other.example; dkim=pass header.d=acme.example",
        ],
        TRUSTED,
    )
    assert [(r.method, r.result) for r in found] == [
        ("dkim", "pass"),
        ("spf", "softfail"),
        ("dmarc", "pass"),
    ]
    assert passes_for(found, "jane@acme.example") == "dkim=pass header.d=acme.example"
    assert passes_for(found, "jane@other.example") is None
    assert trusted_results(["garbage without structure"], TRUSTED) == []
