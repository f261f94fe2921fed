"""Assigning tickets: load a snapshot, decide with :mod:`gateway.routing`, write the result.

Used by the pipeline worker for new mail tickets, by the HTTP app for API
tickets, and by whatever makes an agent available (``users set-status``, the
API, an ``#available`` mail, the start of working hours) to hand out tickets
that were waiting. Synchronous Core on a Connection in the caller's
transaction; the HTTP app runs it through ``AsyncConnection.run_sync``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

import structlog
from pydantic import ValidationError
from sqlalchemy import Connection, Table, bindparam, select, update

from gateway.config.schema import RoutingSettings, Settings, check_rule_names_seated
from gateway.routing.decide import (
    AssignMode,
    Decision,
    RoutingInput,
    RoutingRule,
    SkillFallback,
    Spread,
    WhenNoneAvailable,
    route,
)
from gateway.store import agents as roster_store
from gateway.store.channels import ROUTING_OVERRIDE, save_setting, stored_settings
from gateway.store.models import Ticket, TicketStatus, utcnow
from gateway.store.tickets import channels as channel_table

log = structlog.get_logger("gateway.assignment")
tickets = cast(Table, Ticket.__table__)


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """What a channel does with a new ticket: defaults and the routing rule from the config."""

    name: str
    rule: RoutingRule
    pipeline: str = "support"
    status: str = TicketStatus.NEW.value
    priority: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)


def rule_from(settings: RoutingSettings) -> RoutingRule:
    """The pure rule for a config ``routing`` table."""
    return RoutingRule(
        assign=AssignMode(settings.assign),
        users=tuple(settings.users),
        teams=tuple(settings.teams),
        only_available=settings.only_available,
        spread=Spread(settings.spread),
        when_none_available=WhenNoneAvailable(settings.when_none_available),
        skill_properties=tuple(p.lower() for p in settings.skill_properties),
        skill_fallback=SkillFallback(settings.skill_fallback),
    )


def plans_for(settings: Settings) -> dict[str, ChannelPlan]:
    """Channel name → its plan, in config order."""
    return {
        c.name: ChannelPlan(
            name=c.name,
            rule=rule_from(c.routing),
            pipeline=c.pipeline,
            status=c.status,
            priority=c.priority,
            properties=dict(c.properties),
        )
        for c in settings.channels
    }


def configured_agents(settings: Settings) -> list[roster_store.ConfiguredAgent]:
    """The ``[[agents]]`` of the config as plain values."""
    return [
        roster_store.ConfiguredAgent(
            address=a.address,
            first_name=a.first_name,
            last_name=a.last_name,
            seat=a.seat,
            teams=tuple(a.teams),
            skills=tuple(a.skills),
            working_hours=dict(a.working_hours) if a.working_hours else None,
        )
        for a in settings.agents
    ]


def effective_rule(
    conn: Connection, plan: ChannelPlan, stored: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[RoutingRule, str]:
    """The rule in force for a channel and where it comes from (``config`` or ``command``).

    ``stored`` is :func:`stored_settings`, when the caller has read it already.
    """
    saved = (
        (stored_settings(conn) if stored is None else stored)
        .get(plan.name, {})
        .get(ROUTING_OVERRIDE)
    )
    if not saved:
        return plan.rule, "config"
    try:
        return rule_from(RoutingSettings.model_validate(saved)), "command"
    except ValidationError:
        log.warning("routing.override_invalid", channel=plan.name)
        return plan.rule, "config"


def save_rule(conn: Connection, channel: str, wanted: Mapping[str, Any] | None) -> list[str]:
    """Save a routing rule for ``channel`` over the config's (None: back to the config's).

    Returns what is wrong (and saves nothing) when the rule names an agent
    without a seat, someone who is no agent, or a team nobody is in.
    """
    if wanted is None:
        return [] if save_setting(conn, channel, ROUTING_OVERRIDE, None) else [f"no {channel}"]
    try:
        rule = RoutingSettings.model_validate(dict(wanted))
    except ValidationError as exc:
        return [
            f"routing.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}".replace("routing.: ", "")
            for e in exc.errors()
        ]
    seated, unseated, team_names = roster_store.seats(conn)
    problems = check_rule_names_seated(channel, rule, seated, unseated, team_names)
    if problems:
        return problems
    if not save_setting(conn, channel, ROUTING_OVERRIDE, rule.model_dump()):
        return [f"no channel is named {channel!r}: see `gateway channels list`"]
    return []


def effective_rules(conn: Connection, plans: Mapping[str, ChannelPlan]) -> dict[str, RoutingRule]:
    """Channel name → the rule in force, read once (for a batch of new tickets)."""
    stored = stored_settings(conn)
    return {name: effective_rule(conn, plan, stored)[0] for name, plan in plans.items()}


def assign_new_ticket(
    conn: Connection,
    ticket: int,
    plan: ChannelPlan,
    now: datetime | None = None,
    *,
    rule: RoutingRule | None = None,
) -> Decision:
    """Route a just-created ticket and record who got it and why.

    ``rule`` is the channel's rule in force when the caller has it already.
    """
    if rule is None:
        rule, _source = effective_rule(conn, plan)
    decision = decide(conn, ticket, rule, now or utcnow())
    write_decision(conn, ticket, decision)
    log_decision(ticket, plan, decision)
    return decision


def route_new_ticket(
    conn: Connection,
    plan: ChannelPlan,
    rule: RoutingRule | None,
    *,
    channel_id: int,
    contact_id: int,
    properties: Mapping[str, str] | None,
    now: datetime,
) -> Decision:
    """The routing decision for a ticket about to be created (reads, never writes).

    The pipeline stores the ticket with :func:`decision_values` in one insert,
    then calls :func:`log_decision`.
    """
    if rule is None:
        rule, _source = effective_rule(conn, plan)
    return _decide(conn, rule, now, channel_id, contact_id, properties or {})


def decide(conn: Connection, ticket: int, rule: RoutingRule, now: datetime) -> Decision:
    """The routing decision for ``ticket`` under ``rule`` at ``now`` (reads, never writes)."""
    if rule.assign is AssignMode.NOBODY:
        return _decide(conn, rule, now, 0, 0, {})  # looks nothing up: no need for the row
    row = conn.execute(
        select(tickets.c.channel_id, tickets.c.contact_id, tickets.c.properties).where(
            tickets.c.id == ticket
        )
    ).one()
    return _decide(conn, rule, now, row.channel_id, row.contact_id, row.properties or {})


def _decide(
    conn: Connection,
    rule: RoutingRule,
    now: datetime,
    channel_id: int,
    contact_id: int,
    properties: Mapping[str, Any],
) -> Decision:
    if rule.assign is AssignMode.NOBODY:
        # Nothing to look up: keeps the pipeline's hot path as cheap as before routing.
        return route(RoutingInput(rule=rule, agents=(), now=now))
    return route(
        RoutingInput(
            rule=rule,
            agents=roster_store.roster(conn, channel_id),
            now=now,
            contact_owner=roster_store.contact_owner(conn, contact_id),
            properties={str(k): str(v) for k, v in properties.items()},
        )
    )


def decision_values(conn: Connection, decision: Decision) -> dict[str, Any]:
    """The ticket columns that record ``decision``."""
    return {
        "assignee_id": roster_store.user_id(conn, decision.assignee) if decision.assignee else None,
        "assignment_reason": decision.reason,
        "assignment_pending": decision.pending,
        "mail_assignee": decision.mail_assignee,
    }


def log_decision(ticket: int, plan: ChannelPlan, decision: Decision) -> None:
    """Say who got a new ticket and why."""
    log.info(
        "routing.decided",
        ticket=ticket,
        channel=plan.name,
        assignee=decision.assignee,
        pending=decision.pending,
        reason=decision.reason,
    )


def write_decision(
    conn: Connection, ticket: int, decision: Decision, *, only_if_pending: bool = False
) -> bool:
    """Record ``decision`` on ``ticket``; with ``only_if_pending``, only if it still waits.

    Returns whether the row changed (another instance may have assigned it first).
    """
    done = conn.execute(
        _WRITE_DECISION_IF_PENDING if only_if_pending else _WRITE_DECISION,
        {"ticket": ticket, **decision_values(conn, decision), "updated_at": utcnow()},
    )
    return bool(done.rowcount)


_WRITE_DECISION = update(tickets).where(tickets.c.id == bindparam("ticket"))
_WRITE_DECISION_IF_PENDING = _WRITE_DECISION.where(tickets.c.assignment_pending.is_(True))


def assign_pending(
    conn: Connection, plans: Mapping[str, ChannelPlan], now: datetime | None = None
) -> list[tuple[int, str]]:
    """Assign the tickets that wait for an available agent, oldest first.

    Returns (ticket, assignee) for each one assigned now.
    """
    now = now or utcnow()
    waiting = conn.execute(
        select(tickets.c.id, channel_table.c.name)
        .join(channel_table, channel_table.c.id == tickets.c.channel_id)
        .where(
            tickets.c.assignment_pending.is_(True),
            tickets.c.status != TicketStatus.CLOSED.value,
            tickets.c.merged_into.is_(None),
        )
        .order_by(tickets.c.id)
    ).all()
    done: list[tuple[int, str]] = []
    for number, channel in waiting:
        plan = plans.get(channel)
        if plan is None:
            continue
        rule, _source = effective_rule(conn, plan)
        decision = decide(conn, number, rule, now)
        if (assignee := decision.assignee) is None:
            continue
        decision = replace(decision, reason=f"waited for an available agent; {decision.reason}")
        if write_decision(conn, number, decision, only_if_pending=True):
            log.info("routing.assigned_pending", ticket=number, assignee=assignee)
            done.append((int(number), assignee))
    return done
