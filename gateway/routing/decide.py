"""Who gets a new ticket: a pure decision over the channel's rule and a snapshot of the agents.

The rule, in the order it is applied:

1. ``nobody``: the ticket stays unassigned.
2. ``contact_owner``: the contact's owner gets it, available or not; when the
   owner is away or outside working hours the ticket is still theirs and the
   decision says the owner must be mailed. A contact without an owner falls
   through to the rule's users and teams (if any), else nobody.
3. ``users_and_teams``: the named users and the members of the named teams,
   only those with a seat (a team is never an assignee), only the available
   ones unless ``only_available`` is off; ticket properties that are skills
   (``language``, ``product``, …) narrow them, falling back as configured;
   among those left the spread is fair: round robin or fewest open tickets.
   When none is available the ticket waits (``pending``) and is assigned when
   someone becomes available, or stays unassigned, by the channel's choice.

Every decision carries a one-line ``reason`` a person can read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from gateway.routing.hours import WorkingHours, is_working


class AssignMode(StrEnum):
    """What a channel's rule assigns new tickets to."""

    NOBODY = "nobody"
    USERS_AND_TEAMS = "users_and_teams"
    CONTACT_OWNER = "contact_owner"


class Spread(StrEnum):
    """How tickets are shared among several eligible agents."""

    ROUND_ROBIN = "round_robin"
    """The agent whose last ticket from this channel is oldest."""
    FEWEST_OPEN = "fewest_open"
    """The agent with the fewest open tickets."""


class WhenNoneAvailable(StrEnum):
    """What happens to a ticket when no eligible agent is available."""

    WAIT = "wait"
    """Unassigned for now; assigned when an eligible agent becomes available."""
    UNASSIGNED = "unassigned"
    """Stays unassigned (the channel's notify list sees it)."""


class SkillFallback(StrEnum):
    """What happens when no eligible agent has the skills a ticket asks for."""

    ANY = "any"
    """Ignore the skills: any eligible agent."""
    WAIT = "wait"
    """Wait for an agent with the skills."""
    UNASSIGNED = "unassigned"
    """Leave it unassigned."""


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """A channel's routing rule, as configured."""

    assign: AssignMode = AssignMode.NOBODY
    users: tuple[str, ...] = ()
    """Agent addresses, lower-cased."""
    teams: tuple[str, ...] = ()
    """Team names; their seated members are eligible."""
    only_available: bool = True
    spread: Spread = Spread.ROUND_ROBIN
    when_none_available: WhenNoneAvailable = WhenNoneAvailable.WAIT
    skill_properties: tuple[str, ...] = ("language", "product")
    """Ticket properties whose values are skills an agent must have."""
    skill_fallback: SkillFallback = SkillFallback.ANY


@dataclass(frozen=True, slots=True)
class Agent:
    """What routing knows of one agent."""

    address: str
    seat: bool = True
    active: bool = True
    away: bool = False
    """The status the agent set (command, API or an ``#away`` mail)."""
    teams: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()
    """Lower-cased."""
    working_hours: WorkingHours | None = None
    """None: any time."""
    open_tickets: int = 0
    last_assigned: int = 0
    """Number of the newest ticket from this channel assigned to the agent (0: none yet)."""


@dataclass(frozen=True, slots=True)
class RoutingInput:
    """Everything one decision looks at."""

    rule: RoutingRule
    agents: tuple[Agent, ...]
    now: datetime
    """Aware."""
    contact_owner: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a new ticket goes and why."""

    assignee: str | None
    reason: str
    pending: bool = False
    """Unassigned only until an eligible agent becomes available."""
    mail_assignee: bool = False
    """The assignee is not available now and must get the ticket by mail (contact owner)."""


def availability(agent: Agent, now: datetime) -> str | None:
    """Why ``agent`` cannot take a ticket now, or None when they can."""
    if not agent.active:
        return "removed"
    if agent.away:
        return "away"
    if agent.working_hours is not None and not is_working(agent.working_hours, now):
        return f"outside working hours {agent.working_hours.describe()}"
    return None


def route(given: RoutingInput) -> Decision:
    """The decision for one new ticket."""
    rule = given.rule
    if rule.assign is AssignMode.NOBODY:
        return Decision(None, "channel rule assigns nobody")
    if rule.assign is AssignMode.CONTACT_OWNER:
        owned = _owner(given)
        if owned is not None:
            return owned
        if not rule.users and not rule.teams:
            return Decision(None, "contact has no owner and the rule names no users or teams")
        prefix = "contact has no owner; "
    else:
        prefix = ""
    decision = _users_and_teams(given)
    return Decision(
        decision.assignee, prefix + decision.reason, decision.pending, decision.mail_assignee
    )


def _owner(given: RoutingInput) -> Decision | None:
    owner = given.contact_owner
    if owner is None:
        return None
    agent = next((a for a in given.agents if a.address == owner), None)
    if agent is None or not agent.active:
        return None  # an owner who left is no owner
    if not agent.seat:
        return None
    why_not = availability(agent, given.now)
    if why_not is None:
        return Decision(owner, f"contact owner {owner}")
    return Decision(
        owner,
        f"contact owner {owner}, who is {why_not}: still theirs, and mailed",
        mail_assignee=True,
    )


def eligible(rule: RoutingRule, agents: tuple[Agent, ...]) -> list[Agent]:
    """The agents a rule names directly or through a team, with a seat, in address order."""
    named = set(rule.users)
    teams = set(rule.teams)
    return sorted(
        (a for a in agents if a.active and a.seat and (a.address in named or a.teams & teams)),
        key=lambda a: a.address,
    )


def _users_and_teams(given: RoutingInput) -> Decision:
    rule = given.rule
    pool = eligible(rule, given.agents)
    if not pool:
        return Decision(None, "rule names no active agent with a seat")
    notes: list[str] = []
    total = len(pool)
    if rule.only_available:
        pool = [a for a in pool if availability(a, given.now) is None]
        if not pool:
            return _none_available(rule, "no eligible agent is available")
    wanted = _wanted_skills(rule, given.properties)
    if wanted:
        skilled = [a for a in pool if wanted <= a.skills]
        needs = "+".join(sorted(wanted))
        if skilled:
            pool = skilled
            notes.append(f"has skills {needs}")
        elif rule.skill_fallback is SkillFallback.ANY:
            notes.append(f"nobody has skills {needs}, so any eligible agent")
        elif rule.skill_fallback is SkillFallback.WAIT:
            return Decision(None, f"waiting for an agent with skills {needs}", pending=True)
        else:
            return Decision(None, f"no eligible agent has skills {needs}")
    chosen, how = _spread(rule.spread, pool)
    among = (
        f"{len(pool)} available of {total} eligible"
        if rule.only_available
        else f"{total} eligible, available or not"
    )
    reason = ", ".join([f"{rule.assign.value}: {how} among {among}", *notes])
    return Decision(chosen.address, reason)


def _none_available(rule: RoutingRule, why: str) -> Decision:
    if rule.when_none_available is WhenNoneAvailable.WAIT:
        return Decision(None, f"{why}: assigned when one becomes available", pending=True)
    return Decision(None, f"{why}: left unassigned")


def _wanted_skills(rule: RoutingRule, properties: Mapping[str, str]) -> frozenset[str]:
    return frozenset(
        str(properties[name]).strip().lower()
        for name in rule.skill_properties
        if properties.get(name) not in (None, "")
    )


def _spread(spread: Spread, pool: list[Agent]) -> tuple[Agent, str]:
    if spread is Spread.FEWEST_OPEN:
        chosen = min(pool, key=lambda a: (a.open_tickets, a.last_assigned, a.address))
        return chosen, f"fewest open tickets ({chosen.open_tickets})"
    chosen = min(pool, key=lambda a: (a.last_assigned, a.address))
    return chosen, "round robin"
