"""The agent directory: agents (users) and teams, as effects look them up and commands edit them.

The config is re-asserted on every start: each ``[[agents]]`` entry becomes an
active user with its names, seat and teams, and a config agent no longer in the
config becomes inactive. Agents added with ``gateway users add`` (source
``cli``) are left alone by that; ``gateway users remove`` deactivates anyone. A
user is never deleted, so the history of who answered stays; an inactive user's
reply keys are refused and no notification goes to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, select, update

from gateway.store.models import Team, TeamMember, User, utcnow

users = cast(Table, User.__table__)
teams = cast(Table, Team.__table__)
members = cast(Table, TeamMember.__table__)


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent as the rest of the gateway sees one."""

    id: int
    address: str
    first_name: str
    last_name: str
    seat: bool
    status: str
    active: bool
    teams: tuple[str, ...] = ()
    source: str = "config"
    """``config`` or ``cli``: where the agent was added."""


@dataclass(frozen=True, slots=True)
class AgentEntry:
    """An agent to create or update (from the config or the CLI)."""

    address: str
    first_name: str
    last_name: str = ""
    seat: bool = True
    teams: tuple[str, ...] = ()


def _agent(row: object, team_names: Sequence[str] = ()) -> Agent:
    r = cast(User, row)
    return Agent(
        r.id,
        r.address,
        r.first_name,
        r.last_name,
        r.seat,
        r.status,
        r.active,
        tuple(team_names),
        r.source,
    )


def upsert_agent(conn: Connection, entry: AgentEntry, *, source: str = "cli") -> int:
    """Create or update the user at ``entry.address`` (made active); returns its id."""
    address = entry.address.strip().lower()
    values = {
        "first_name": entry.first_name,
        "last_name": entry.last_name,
        "seat": entry.seat,
        "active": True,
        "source": source,
    }
    found = conn.execute(select(users.c.id).where(users.c.address == address)).scalar()
    if found is None:
        user_id = int(
            conn.execute(
                insert(users)
                .values(address=address, created_at=utcnow(), **values)
                .returning(users.c.id)
            ).scalar_one()
        )
    else:
        user_id = int(found)
        conn.execute(update(users).where(users.c.id == user_id).values(values))
    for team in entry.teams:
        add_member(conn, team, address)
    return user_id


def team_id(conn: Connection, name: str, *, create: bool) -> int | None:
    """The id of team ``name``, created when ``create`` and missing."""
    found = conn.execute(select(teams.c.id).where(teams.c.name == name)).scalar()
    if found is not None or not create:
        return None if found is None else int(found)
    return int(conn.execute(insert(teams).values(name=name).returning(teams.c.id)).scalar_one())


def add_member(conn: Connection, team: str, address: str) -> bool:
    """Put the agent at ``address`` in ``team`` (created if new); False if no such agent."""
    user = conn.execute(select(users.c.id).where(users.c.address == address.lower())).scalar()
    if user is None:
        return False
    tid = team_id(conn, team, create=True)
    exists = conn.execute(
        select(members.c.user_id).where(members.c.team_id == tid, members.c.user_id == user)
    ).first()
    if exists is None:
        conn.execute(insert(members).values(team_id=tid, user_id=user, source="cli"))
    return True


def remove_member(conn: Connection, team: str, address: str) -> bool:
    """Take the agent at ``address`` out of ``team``; False if they were not in it."""
    tid = team_id(conn, team, create=False)
    user = conn.execute(select(users.c.id).where(users.c.address == address.lower())).scalar()
    if tid is None or user is None:
        return False
    done = conn.execute(delete(members).where(members.c.team_id == tid, members.c.user_id == user))
    return bool(done.rowcount)


def remove_user(conn: Connection, address: str) -> bool:
    """Deactivate the agent at ``address`` (kept for history); False if unknown."""
    done = conn.execute(
        update(users).where(users.c.address == address.strip().lower()).values(active=False)
    )
    return bool(done.rowcount)


def _team_names(conn: Connection, user_ids: Sequence[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if not user_ids:
        return names
    query = (
        select(members.c.user_id, teams.c.name)
        .join(teams, teams.c.id == members.c.team_id)
        .where(members.c.user_id.in_(list(user_ids)))
        .order_by(teams.c.name)
    )
    for row in conn.execute(query):
        names.setdefault(row.user_id, []).append(row.name)
    return names


def get_agent(
    conn: Connection, *, user_id: int | None = None, address: str | None = None
) -> Agent | None:
    """The agent with this id or address, active or not."""
    query = select(users)
    if user_id is not None:
        query = query.where(users.c.id == user_id)
    elif address is not None:
        query = query.where(users.c.address == address.strip().lower())
    else:
        return None
    row = conn.execute(query).first()
    if row is None:
        return None
    return _agent(row, _team_names(conn, [row.id]).get(row.id, ()))


def agents_at(conn: Connection, addresses: Iterable[str]) -> list[Agent]:
    """The active agents at ``addresses``, in that order."""
    wanted = [a.strip().lower() for a in addresses]
    if not wanted:
        return []
    rows = {
        row.address: _agent(row)
        for row in conn.execute(
            select(users).where(users.c.address.in_(wanted), users.c.active.is_(True))
        )
    }
    return [rows[a] for a in wanted if a in rows]


def notify_targets(conn: Connection, entries: Iterable[str]) -> list[Agent]:
    """The active agents named by ``entries``: addresses, and team names for their members."""
    found: dict[str, Agent] = {}
    for entry in entries:
        if "@" in entry:
            names = [entry]
        else:
            query = (
                select(users.c.address)
                .join(members, members.c.user_id == users.c.id)
                .join(teams, teams.c.id == members.c.team_id)
                .where(teams.c.name == entry)
                .order_by(users.c.address)
            )
            names = list(conn.execute(query).scalars())
        for agent in agents_at(conn, names):
            found.setdefault(agent.address, agent)
    return list(found.values())


def list_agents(conn: Connection) -> list[Agent]:
    """Every user, by address, with their teams."""
    rows = list(conn.execute(select(users).order_by(users.c.address)))
    names = _team_names(conn, [r.id for r in rows])
    return [_agent(r, names.get(r.id, ())) for r in rows]


def list_teams(conn: Connection) -> dict[str, list[str]]:
    """Team name → the addresses of its members."""
    found: dict[str, list[str]] = {
        name: [] for (name,) in conn.execute(select(teams.c.name).order_by(teams.c.name))
    }
    query = (
        select(teams.c.name, users.c.address)
        .join(members, members.c.team_id == teams.c.id)
        .join(users, users.c.id == members.c.user_id)
        .order_by(teams.c.name, users.c.address)
    )
    for row in conn.execute(query):
        found[row.name].append(row.address)
    return found
