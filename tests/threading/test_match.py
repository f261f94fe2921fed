"""Threading decisions, table-driven, with no store."""

from __future__ import annotations

import pytest

from gateway.threading.match import (
    KnownThreads,
    MatchedBy,
    ThreadInput,
    TicketFacts,
    format_token,
    match_thread,
    subject_token,
)

OPEN = TicketFacts(7, "open", frozenset({"ann@example.com"}))
CLOSED = TicketFacts(8, "closed", frozenset({"ann@example.com"}))


def mail(
    irt: tuple[str, ...] = (),
    refs: tuple[str, ...] = (),
    subject: str = "Hi",
    sender: str = "ann@example.com",
) -> ThreadInput:
    return ThreadInput("new@x", irt, refs, subject, sender)


@pytest.mark.parametrize(
    ("message", "known", "ticket", "by"),
    [
        (mail(), KnownThreads(), None, MatchedBy.NEW),
        (mail(irt=("a@x",)), KnownThreads({"a@x": 7}, tickets={7: OPEN}), 7, MatchedBy.IN_REPLY_TO),
        # In-Reply-To wins over References.
        (
            mail(irt=("a@x",), refs=("b@x",)),
            KnownThreads({"a@x": 7, "b@x": 9}),
            7,
            MatchedBy.IN_REPLY_TO,
        ),
        # References are tried newest first.
        (
            mail(refs=("old@x", "mid@x", "gone@x")),
            KnownThreads({"old@x": 1, "mid@x": 2}),
            2,
            MatchedBy.REFERENCES,
        ),
        (
            mail(irt=("unknown@x",), refs=("a@x",)),
            KnownThreads({"a@x": 7}),
            7,
            MatchedBy.REFERENCES,
        ),
        (
            mail(subject="Re: Hi [#7]"),
            KnownThreads(token_ticket=OPEN, tickets={7: OPEN}),
            7,
            MatchedBy.SUBJECT_TOKEN,
        ),
        # A stranger with a token makes a new ticket: tokens are guessable.
        (
            mail(subject="[#7]", sender="eve@x"),
            KnownThreads(token_ticket=OPEN),
            None,
            MatchedBy.NEW,
        ),
        # A reply that arrived earlier holds the ticket this parent belongs to.
        (mail(), KnownThreads(answered_by=frozenset({12, 11})), 11, MatchedBy.EARLIER_REPLY),
    ],
)
def test_match(
    message: ThreadInput, known: KnownThreads, ticket: int | None, by: MatchedBy
) -> None:
    decision = match_thread(message, known)
    assert decision.ticket == ticket
    assert decision.matched_by is by


def test_earlier_replies_in_other_tickets_are_merged() -> None:
    known = KnownThreads({"a@x": 7}, answered_by=frozenset({7, 12, 13}))
    decision = match_thread(mail(irt=("a@x",)), known)
    assert decision.ticket == 7
    assert decision.merge == (12, 13)


def test_closed_ticket_is_reopened_unless_configured_not_to() -> None:
    known = KnownThreads({"a@x": 8}, tickets={8: CLOSED})
    assert match_thread(mail(irt=("a@x",)), known).reopen is True
    assert match_thread(mail(irt=("a@x",)), known, reopen_closed=False).reopen is False
    assert (
        match_thread(mail(irt=("a@x",)), KnownThreads({"a@x": 7}, tickets={7: OPEN})).reopen
        is False
    )


@pytest.mark.parametrize(
    ("subject", "prefix", "number"),
    [
        ("Re: Printer [#1234]", "#", 1234),
        ("[# 12 ] spaced", "#", 12),
        ("AW: [#5] then [#6]", "#", 6),
        ("No token here #5", "#", None),
        ("[Ticket#77] custom", "Ticket#", 77),
        ("[#abc]", "#", None),
    ],
)
def test_subject_token(subject: str, prefix: str, number: int | None) -> None:
    assert subject_token(subject, prefix) == number


def test_format_token_round_trips() -> None:
    assert subject_token(f"Re: x {format_token(42, 'HD-')}", "HD-") == 42
