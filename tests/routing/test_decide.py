"""Routing decisions, table-driven: every rule, availability, seats, owners, skills, spread."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gateway.routing.decide import (
    Agent,
    AssignMode,
    Decision,
    RoutingInput,
    RoutingRule,
    SkillFallback,
    Spread,
    WhenNoneAvailable,
    route,
)
from gateway.routing.hours import parse_working_hours

NOW = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)  # a Wednesday, 11:00 in Amsterdam

JANE = Agent("jane@acme.example", teams=frozenset({"tier1"}), skills=frozenset({"en", "billing"}))
BOB = Agent("bob@acme.example", teams=frozenset({"tier1"}), skills=frozenset({"en", "de"}))
ALI = Agent("ali@acme.example", teams=frozenset({"tier2"}), skills=frozenset({"fr"}))
NOSEAT = Agent("viewer@acme.example", seat=False, teams=frozenset({"tier1"}))
GONE = Agent("gone@acme.example", active=False, teams=frozenset({"tier1"}))
TEAM = (JANE, BOB, ALI, NOSEAT, GONE)

USERS = AssignMode.USERS_AND_TEAMS
OWNER = AssignMode.CONTACT_OWNER


def away(agent: Agent) -> Agent:
    return replace(agent, away=True)


CASES: list[tuple[str, RoutingRule, tuple[Agent, ...], str | None, dict[str, str], Decision]] = [
    # (id, rule, agents, contact owner, properties, expected decision: assignee, pending, mailed)
    ("nobody", RoutingRule(), TEAM, None, {}, Decision(None, "", False)),
    (
        "nobody even with an owner",
        RoutingRule(AssignMode.NOBODY, users=("jane@acme.example",)),
        TEAM,
        "jane@acme.example",
        {},
        Decision(None, ""),
    ),
    (
        "one named user",
        RoutingRule(USERS, users=("ali@acme.example",)),
        TEAM,
        None,
        {},
        Decision("ali@acme.example", ""),
    ),
    (
        "team: first of its seated members",
        RoutingRule(USERS, teams=("tier1",)),
        TEAM,
        None,
        {},
        Decision("bob@acme.example", ""),
    ),
    (
        "no seat is never eligible, even when named",
        RoutingRule(USERS, users=("viewer@acme.example",)),
        TEAM,
        None,
        {},
        Decision(None, ""),
    ),
    (
        "removed agent is never eligible",
        RoutingRule(USERS, users=("gone@acme.example",)),
        TEAM,
        None,
        {},
        Decision(None, ""),
    ),
    (
        "away agent skipped",
        RoutingRule(USERS, teams=("tier1",)),
        (JANE, away(BOB)),
        None,
        {},
        Decision("jane@acme.example", ""),
    ),
    (
        "all away: waits by default",
        RoutingRule(USERS, teams=("tier1",)),
        (away(JANE), away(BOB)),
        None,
        {},
        Decision(None, "", pending=True),
    ),
    (
        "all away: stays unassigned when the channel says so",
        RoutingRule(USERS, teams=("tier1",), when_none_available=WhenNoneAvailable.UNASSIGNED),
        (away(JANE), away(BOB)),
        None,
        {},
        Decision(None, ""),
    ),
    (
        "availability switched off: away agents still get tickets",
        RoutingRule(USERS, teams=("tier1",), only_available=False),
        (away(JANE), away(BOB)),
        None,
        {},
        Decision("bob@acme.example", ""),
    ),
    (
        "contact owner available",
        RoutingRule(OWNER),
        TEAM,
        "ali@acme.example",
        {},
        Decision("ali@acme.example", ""),
    ),
    (
        "contact owner away: still theirs, mailed",
        RoutingRule(OWNER),
        (away(ALI), JANE),
        "ali@acme.example",
        {},
        Decision("ali@acme.example", "", mail_assignee=True),
    ),
    (
        "contact without owner falls back to the rule's users",
        RoutingRule(OWNER, users=("jane@acme.example",)),
        TEAM,
        None,
        {},
        Decision("jane@acme.example", ""),
    ),
    (
        "contact without owner and no fallback: nobody",
        RoutingRule(OWNER),
        TEAM,
        None,
        {},
        Decision(None, ""),
    ),
    (
        "owner without a seat is no owner",
        RoutingRule(OWNER, teams=("tier2",)),
        TEAM,
        "viewer@acme.example",
        {},
        Decision("ali@acme.example", ""),
    ),
    (
        "skill narrows the pool",
        RoutingRule(USERS, teams=("tier1",)),
        TEAM,
        None,
        {"language": "DE"},
        Decision("bob@acme.example", ""),
    ),
    (
        "two skills: both needed",
        RoutingRule(USERS, teams=("tier1",)),
        TEAM,
        None,
        {"language": "en", "product": "billing"},
        Decision("jane@acme.example", ""),
    ),
    (
        "skilled agent away: fallback any",
        RoutingRule(USERS, teams=("tier1",)),
        (JANE, away(BOB)),
        None,
        {"language": "de"},
        Decision("jane@acme.example", ""),
    ),
    (
        "nobody skilled: fallback wait",
        RoutingRule(USERS, teams=("tier1",), skill_fallback=SkillFallback.WAIT),
        TEAM,
        None,
        {"language": "ja"},
        Decision(None, "", pending=True),
    ),
    (
        "nobody skilled: fallback unassigned",
        RoutingRule(USERS, teams=("tier1",), skill_fallback=SkillFallback.UNASSIGNED),
        TEAM,
        None,
        {"language": "ja"},
        Decision(None, ""),
    ),
    (
        "properties that are not skills are ignored",
        RoutingRule(USERS, teams=("tier1",)),
        TEAM,
        None,
        {"color": "de"},
        Decision("bob@acme.example", ""),
    ),
    (
        "skill properties are configurable",
        RoutingRule(USERS, teams=("tier1", "tier2"), skill_properties=("region",)),
        TEAM,
        None,
        {"region": "fr", "language": "de"},
        Decision("ali@acme.example", ""),
    ),
    (
        "outside working hours counts as unavailable",
        RoutingRule(USERS, teams=("tier1",)),
        (
            replace(
                BOB,
                working_hours=parse_working_hours({"tz": "Asia/Tokyo", "mon-fri": "09:00-17:00"}),
            ),
            JANE,
        ),
        None,
        {},
        Decision("jane@acme.example", ""),
    ),
]


@pytest.mark.parametrize(
    ("rule", "agents", "owner", "properties", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_route(
    rule: RoutingRule,
    agents: tuple[Agent, ...],
    owner: str | None,
    properties: dict[str, str],
    expected: Decision,
) -> None:
    got = route(RoutingInput(rule, agents, NOW, owner, properties))
    assert (got.assignee, got.pending, got.mail_assignee) == (
        expected.assignee,
        expected.pending,
        expected.mail_assignee,
    )
    assert got.reason  # every decision says why


@pytest.mark.parametrize(
    ("rule", "agents", "owner", "properties", "words"),
    [
        (RoutingRule(), TEAM, None, {}, "assigns nobody"),
        (RoutingRule(OWNER), (away(ALI),), "ali@acme.example", {}, "who is away"),
        (RoutingRule(USERS, teams=("tier1",)), (away(JANE),), None, {}, "no eligible agent is"),
        (RoutingRule(USERS, teams=("tier1",)), TEAM, None, {"language": "de"}, "skills de"),
        (RoutingRule(USERS, teams=("tier1",)), TEAM, None, {}, "round robin among 2 available"),
        (RoutingRule(OWNER, users=("jane@acme.example",)), TEAM, None, {}, "contact has no owner"),
        (
            RoutingRule(USERS, users=("bob@acme.example",)),
            (
                replace(
                    BOB,
                    working_hours=parse_working_hours({"tz": "Asia/Tokyo", "sat": "09:00-10:00"}),
                ),
            ),
            None,
            {},
            "no eligible agent is available",
        ),
    ],
)
def test_reasons_say_why(
    rule: RoutingRule,
    agents: tuple[Agent, ...],
    owner: str | None,
    properties: dict[str, str],
    words: str,
) -> None:
    assert words in route(RoutingInput(rule, agents, NOW, owner, properties)).reason


def simulate(rule: RoutingRule, agents: tuple[Agent, ...], tickets: int) -> Counter[str]:
    """Route ``tickets`` new tickets in a row, updating the snapshot as the store would."""
    by_address = {a.address: a for a in agents}
    got: Counter[str] = Counter()
    for number in range(1, tickets + 1):
        decision = route(RoutingInput(rule, tuple(by_address.values()), NOW))
        assert decision.assignee is not None
        agent = by_address[decision.assignee]
        by_address[agent.address] = replace(
            agent, open_tickets=agent.open_tickets + 1, last_assigned=number
        )
        got[decision.assignee] += 1
    return got


def test_round_robin_is_fair_over_many_tickets() -> None:
    rule = RoutingRule(USERS, teams=("tier1", "tier2"))
    got = simulate(rule, (JANE, BOB, ALI, NOSEAT), 300)
    assert got == {"jane@acme.example": 100, "bob@acme.example": 100, "ali@acme.example": 100}


def test_round_robin_cycles_in_order() -> None:
    rule = RoutingRule(USERS, teams=("tier1", "tier2"))
    order = []
    agents = {a.address: a for a in (JANE, BOB, ALI)}
    for number in range(1, 7):
        chosen = route(RoutingInput(rule, tuple(agents.values()), NOW)).assignee
        assert chosen is not None
        order.append(chosen.partition("@")[0])
        agents[chosen] = replace(agents[chosen], last_assigned=number)
    assert order == ["ali", "bob", "jane", "ali", "bob", "jane"]


def test_fewest_open_evens_out_an_uneven_start() -> None:
    rule = RoutingRule(USERS, teams=("tier1", "tier2"), spread=Spread.FEWEST_OPEN)
    start = (replace(JANE, open_tickets=30), replace(BOB, open_tickets=5), ALI)
    got = simulate(rule, start, 70)
    # 30 + 5 + 0 open and 70 new: everyone ends with 35.
    assert got == {"jane@acme.example": 5, "bob@acme.example": 30, "ali@acme.example": 35}


def test_spread_skips_an_agent_who_goes_away() -> None:
    rule = RoutingRule(USERS, teams=("tier1", "tier2"))
    got = simulate(rule, (JANE, away(BOB), ALI), 100)
    assert got == {"jane@acme.example": 50, "ali@acme.example": 50}
