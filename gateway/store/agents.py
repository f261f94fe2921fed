"""Agents, teams and contact owners as routing reads and the commands change them.

Core statements on a Connection inside the caller's transaction. The snapshot
functions return routing's own frozen values, so the decision stays pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, func, insert, select, update

from gateway.routing.decide import Agent
from gateway.routing.hours import parse_working_hours
from gateway.store.models import (
    Contact,
    ContactIdentity,
    Team,
    TeamMember,
    Ticket,
    TicketStatus,
    User,
    UserStatus,
    utcnow,
)

users = cast(Table, User.__table__)
teams = cast(Table, Team.__table__)
members = cast(Table, TeamMember.__table__)
tickets = cast(Table, Ticket.__table__)
contacts = cast(Table, Contact.__table__)
identities = cast(Table, ContactIdentity.__table__)


class AgentProblem(Exception):
    """A command named an agent or contact it cannot act on; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ConfiguredAgent:
    """One ``[[agents]]`` entry, as plain values."""

    address: str
    first_name: str
    last_name: str
    seat: bool
    teams: tuple[str, ...]
    skills: tuple[str, ...]
    working_hours: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class UserSummary:
    """One line of ``gateway users list``."""

    address: str
    first_name: str
    last_name: str
    status: str
    seat: bool
    active: bool
    teams: tuple[str, ...]
    skills: tuple[str, ...]
    open_tickets: int
    source: str
    """Where the agent comes from: ``config`` or ``cli`` (``gateway users add``)."""


def sync_agents(conn: Connection, configured: Iterable[ConfiguredAgent]) -> None:
    """Make users, teams and memberships hold the configured agents.

    Status is the agents' own (set by command, API or mail) and is kept. Agents
    that came from the config and are no longer in it stay for history but are
    inactive and in no team, so routing never picks them; agents added with
    ``gateway users add`` are left as they are.
    """
    wanted = list(configured)
    existing = {
        row.address: (row.id, row.source)
        for row in conn.execute(select(users.c.address, users.c.id, users.c.source))
    }
    addresses = {a.address for a in wanted}
    gone = [
        user
        for address, (user, source) in existing.items()
        if source == "config" and address not in addresses
    ]
    if gone:
        conn.execute(update(users).where(users.c.id.in_(gone)).values(active=False))
        conn.execute(members.delete().where(members.c.user_id.in_(gone)))
    team_ids = {row.name: row.id for row in conn.execute(select(teams.c.name, teams.c.id))}
    for team in sorted({t for a in wanted for t in a.teams} - team_ids.keys()):
        team_ids[team] = conn.execute(
            insert(teams).values(name=team).returning(teams.c.id)
        ).scalar_one()
    for agent in wanted:
        values = {
            "first_name": agent.first_name,
            "last_name": agent.last_name,
            "seat": agent.seat,
            "active": True,
            "source": "config",
            "skills": list(agent.skills),
            "working_hours": agent.working_hours,
        }
        found = existing.get(agent.address)
        if found is None:
            user_id = conn.execute(
                insert(users)
                .values(
                    address=agent.address,
                    status=UserStatus.AVAILABLE.value,
                    created_at=utcnow(),
                    **values,
                )
                .returning(users.c.id)
            ).scalar_one()
        else:
            user_id = found[0]
            conn.execute(update(users).where(users.c.id == user_id).values(**values))
        # The config's teams are re-applied; memberships added by command are left alone.
        conn.execute(
            members.delete().where(members.c.user_id == user_id, members.c.source == "config")
        )
        cli_teams = {
            row.team_id
            for row in conn.execute(select(members.c.team_id).where(members.c.user_id == user_id))
        }
        rows = [
            {"team_id": team_ids[t], "user_id": user_id, "source": "config"}
            for t in sorted(set(agent.teams))
            if team_ids[t] not in cli_teams
        ]
        if rows:
            conn.execute(insert(members), rows)


def _open() -> Any:
    return and_(tickets.c.status != TicketStatus.CLOSED.value, tickets.c.merged_into.is_(None))


def _open_counts(conn: Connection) -> dict[int, int]:
    """User id → how many open tickets are assigned to them."""
    query = (
        select(tickets.c.assignee_id, func.count())
        .where(tickets.c.assignee_id.is_not(None), _open())
        .group_by(tickets.c.assignee_id)
    )
    return {int(user): int(n) for user, n in conn.execute(query)}


def roster(conn: Connection, channel_id: int) -> tuple[Agent, ...]:
    """Every agent as routing sees them, with open tickets and their last one from the channel."""
    open_counts = _open_counts(conn)
    last: dict[int, int] = dict(
        conn.execute(
            select(tickets.c.assignee_id, func.max(tickets.c.id))
            .where(tickets.c.assignee_id.is_not(None), tickets.c.channel_id == channel_id)
            .group_by(tickets.c.assignee_id)
        ).all()
    )
    team_names: dict[int, set[str]] = {}
    for row in conn.execute(
        select(members.c.user_id, teams.c.name).join(teams, teams.c.id == members.c.team_id)
    ):
        team_names.setdefault(row.user_id, set()).add(row.name)
    return tuple(
        Agent(
            address=row.address,
            seat=bool(row.seat),
            active=bool(row.active),
            away=row.status == UserStatus.AWAY.value,
            teams=frozenset(team_names.get(row.id, ())),
            skills=frozenset(row.skills or ()),
            working_hours=parse_working_hours(row.working_hours) if row.working_hours else None,
            open_tickets=int(open_counts.get(row.id, 0)),
            last_assigned=int(last.get(row.id, 0)),
        )
        for row in conn.execute(select(users).order_by(users.c.address))
    )


def user_id(conn: Connection, address: str) -> int | None:
    """The id of the user at ``address`` (any case), or None."""
    found = conn.execute(
        select(users.c.id).where(users.c.address == address.strip().lower())
    ).scalar_one_or_none()
    return None if found is None else int(found)


def user_address(conn: Connection, user: int | None) -> str | None:
    """The address of user ``user``, or None."""
    if user is None:
        return None
    found = conn.execute(select(users.c.address).where(users.c.id == user)).scalar_one_or_none()
    return None if found is None else str(found)


def set_status(conn: Connection, address: str, status: UserStatus) -> bool:
    """Set an agent's status; False when ``address`` is no agent."""
    done = conn.execute(
        update(users)
        .where(users.c.address == address.strip().lower())
        .values(status=status.value, status_changed_at=utcnow())
    )
    return bool(done.rowcount)


def list_users(conn: Connection) -> list[UserSummary]:
    """Every agent with their open-ticket count, by address."""
    counts = _open_counts(conn)
    team_names: dict[int, list[str]] = {}
    for row in conn.execute(
        select(members.c.user_id, teams.c.name)
        .join(teams, teams.c.id == members.c.team_id)
        .order_by(teams.c.name)
    ):
        team_names.setdefault(row.user_id, []).append(row.name)
    return [
        UserSummary(
            address=row.address,
            first_name=row.first_name,
            last_name=row.last_name,
            status=row.status,
            seat=bool(row.seat),
            active=bool(row.active),
            teams=tuple(team_names.get(row.id, ())),
            skills=tuple(row.skills or ()),
            open_tickets=int(counts.get(row.id, 0)),
            source=row.source,
        )
        for row in conn.execute(select(users).order_by(users.c.address))
    ]


def contact_id(conn: Connection, address: str) -> int | None:
    """The contact reached at mail ``address``, or None."""
    found = conn.execute(
        select(identities.c.contact_id).where(
            identities.c.kind == "email", identities.c.value == address.strip().lower()
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)


def set_owner(conn: Connection, contact_address: str, agent_address: str | None) -> None:
    """Make an agent (with a seat) the owner of a contact, or clear it with None.

    Raises AgentProblem saying what to change.
    """
    contact = contact_id(conn, contact_address)
    if contact is None:
        raise AgentProblem(
            f"no contact has the address {contact_address}: check it with `gateway tickets list`"
        )
    owner = None
    if agent_address is not None:
        row = conn.execute(
            select(users.c.id, users.c.seat, users.c.active).where(
                users.c.address == agent_address.strip().lower()
            )
        ).first()
        if row is None or not row.active:
            raise AgentProblem(f"{agent_address} is not an agent: add them under [[agents]] first")
        if not row.seat:
            raise AgentProblem(
                f"{agent_address} has no seat: give them seat = true, or choose an agent with one"
            )
        owner = int(row.id)
    conn.execute(update(contacts).where(contacts.c.id == contact).values(owner_id=owner))


def contact_owner(conn: Connection, contact: int) -> str | None:
    """The address of the owner of ``contact``, or None."""
    owner = conn.execute(
        select(contacts.c.owner_id).where(contacts.c.id == contact)
    ).scalar_one_or_none()
    return user_address(conn, owner)


def contact_owner_by_address(conn: Connection, address: str) -> str | None:
    """The address of the owner of the contact at ``address``, or None."""
    contact = contact_id(conn, address)
    return None if contact is None else contact_owner(conn, contact)


def seats(conn: Connection) -> tuple[set[str], set[str], set[str]]:
    """(seated agents, agents without a seat, team names) as stored now."""
    seated: set[str] = set()
    unseated: set[str] = set()
    for row in conn.execute(select(users.c.address, users.c.seat).where(users.c.active)):
        (seated if row.seat else unseated).add(row.address)
    names = {str(n) for n in conn.execute(select(teams.c.name)).scalars()}
    return seated, unseated, names
