"""The command line: ``gateway [--config FILE] COMMAND …`` (also ``python -m gateway``).

Commands that read the store open their own connection, so they work while
``gateway serve`` runs on the same config (SQLite in WAL mode, or PostgreSQL).
Exit codes: 0 success, 1 not found or failed, 2 bad usage or bad config.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from gateway import __version__
from gateway.config.load import CONFIG_ENV, find_config_path, load_settings
from gateway.config.schema import Settings
from gateway.errors import ConfigError, TransientError

Handler = Callable[[argparse.Namespace], int]


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def print_json(data: object, out: TextIO | None = None) -> None:
    """Write ``data`` as indented JSON."""
    stream = out or sys.stdout
    json.dump(data, stream, default=_json_default, ensure_ascii=False, indent=2)
    stream.write("\n")


def print_table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> None:
    """Write ``rows`` as aligned columns."""
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(find_config_path(args.config))


def _short(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


# -- commands -----------------------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate the config; print every problem with its key and line."""
    settings = _settings(args)
    from gateway.store.engine import make_sync_engine

    print(f"{find_config_path(args.config)}: OK")
    print(f"  data_dir   {settings.data_dir}")
    print(f"  store      {make_sync_engine(settings.store_url).url!r}")
    print(
        f"  smtp       {settings.smtp.listen}"
        + (f", lmtp {settings.smtp.lmtp_listen}" if settings.smtp.lmtp_listen else "")
    )
    for channel in settings.channels:
        print(f"  channel    {channel.name} ({channel.kind}) {channel.address or ''}".rstrip())
    relay = settings.outbound.smtp
    where = f"{relay.host}:{relay.port}" if relay else "none: mail waits in the outbox"
    print(f"  outbound   {where}")
    print(f"  agents     {', '.join(a.address for a in settings.agents) or 'none'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the daemon."""
    from gateway.daemon import serve
    from gateway.logs import configure_logging

    settings = _settings(args)
    configure_logging(settings.log.level, settings.log.format.value)
    return serve(settings, find_config_path(args.config))


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the pipeline worker (``serve`` starts it; ops rarely need to)."""
    from gateway.daemon import worker_main
    from gateway.logs import configure_logging

    settings = _settings(args)
    configure_logging(settings.log.level, settings.log.format.value)
    return worker_main(settings)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply migrations up to the newest schema."""
    from gateway.daemon import Paths, prepare_store
    from gateway.store.engine import make_sync_engine
    from gateway.store.migrate import current_revision

    settings = _settings(args)
    Paths(settings.data_dir).create()
    prepare_store(settings, migrate=True)
    engine = make_sync_engine(settings.store_url)
    print(f"store at revision {current_revision(engine)}")
    engine.dispose()
    return 0


def _connect(args: argparse.Namespace) -> Any:
    from gateway.store.engine import make_sync_engine

    settings = _settings(args)
    database = settings.data_dir / "gateway.db"
    if settings.store.url is None and not database.exists():
        print(
            f"no store at {database}: start `gateway serve` or run `gateway db upgrade` first",
            file=sys.stderr,
        )
        raise SystemExit(1)
    return make_sync_engine(settings.store_url, pool_size=1)


def cmd_tickets_list(args: argparse.Namespace) -> int:
    """List tickets, most recently updated first."""
    from gateway.store.tickets import list_tickets

    engine = _connect(args)
    with engine.connect() as conn:
        found = list_tickets(conn, status=args.status, limit=args.limit)
    engine.dispose()
    if args.json:
        print_json(found)
        return 0
    print_table(
        [
            (
                t.number,
                t.status,
                t.channel,
                t.contact,
                t.message_count,
                _short(t.updated_at),
                t.subject[:60],
            )
            for t in found
        ],
        ["NUMBER", "STATUS", "CHANNEL", "CONTACT", "MSGS", "UPDATED", "SUBJECT"],
    )
    return 0


def cmd_tickets_show(args: argparse.Namespace) -> int:
    """Show one ticket and its conversation."""
    from gateway.store.tickets import get_ticket

    engine = _connect(args)
    with engine.connect() as conn:
        found = get_ticket(conn, args.number)
    engine.dispose()
    if found is None:
        print(f"no ticket {args.number}", file=sys.stderr)
        return 1
    ticket, conversation = found
    if args.json:
        data = asdict(ticket)
        data["messages"] = [
            {
                "direction": m.direction,
                "from": m.from_address,
                "from_name": m.from_name,
                "message_id": m.message_id,
                "date": m.date or m.received_at,
                "received_at": m.received_at,
                "subject": m.subject,
                "delivered_to": m.delivered_to,
                "classification": m.classification,
                "forwarded_by": m.forwarded_by,
                "new_text": m.new_text,
                "text": m.text,
                "unread": m.unread,
            }
            for m in conversation
        ]
        print_json(data)
        return 0
    print(f"Ticket #{ticket.number}: {ticket.subject}")
    print(
        f"  status {ticket.status} · channel {ticket.channel}"
        f" · contact {ticket.contact_name} <{ticket.contact}>".replace(" <>", "")
    )
    print(f"  created {_short(ticket.created_at)} · updated {_short(ticket.updated_at)}")
    print(f"  {explain_assignment(ticket)}")
    extras = [f"pipeline {ticket.pipeline}", f"source {ticket.source}"]
    if ticket.priority:
        extras.append(f"priority {ticket.priority}")
    extras += [f"{k}={v}" for k, v in sorted(ticket.properties.items())]
    print(f"  {' · '.join(extras)}")
    for m in conversation:
        print()
        who = f"{m.from_name} <{m.from_address}>" if m.from_name else m.from_address
        print(f"--- {m.direction:4} {_short(m.date or m.received_at)}  {who}")
        print(f"    Message-ID: <{m.message_id}>")
        if m.forwarded_by:
            print(f"    forwarded by {m.forwarded_by}")
        if m.classification != "normal":
            print(f"    ({m.classification})")
        if m.unread:
            print("    (filed; the body is still being read)")
        for line in (m.new_text or m.text).strip().splitlines()[:40]:
            print(f"    {line}")
    return 0


def explain_assignment(ticket: Any) -> str:
    """One line: who has the ticket and why (routing's reason)."""
    reason = ticket.assignment_reason or "no routing decision recorded"
    if ticket.assignee:
        mailed = " (unavailable: gets it by mail)" if ticket.mail_assignee else ""
        return f"assigned to {ticket.assignee}{mailed}, because: {reason}"
    waiting = " (waiting for an available agent)" if ticket.assignment_pending else ""
    return f"unassigned{waiting}, because: {reason}"


def cmd_users_list(args: argparse.Namespace) -> int:
    """List agents with status, seat and open tickets."""
    from gateway.store.agents import list_users

    engine = _connect(args)
    with engine.connect() as conn:
        found = list_users(conn)
    engine.dispose()
    if args.json:
        print_json(found)
        return 0
    print_table(
        [
            (
                u.address,
                f"{u.first_name} {u.last_name}".strip(),
                u.status,
                "yes" if u.seat else "no",
                u.open_tickets,
                ",".join(u.teams),
                u.source,
            )
            for u in found
            if u.active
        ],
        ["ADDRESS", "NAME", "STATUS", "SEAT", "OPEN", "TEAMS", "SOURCE"],
    )
    return 0


def cmd_users_set_status(args: argparse.Namespace) -> int:
    """Set an agent available or away; waiting tickets go to them when they become available."""
    from gateway.assignment import assign_pending, plans_for
    from gateway.config.load import reply_secret
    from gateway.daemon import Paths
    from gateway.effects import Effects, effects_config, notify_assignments
    from gateway.store.agents import set_status
    from gateway.store.blobs import FileBlobStore
    from gateway.store.models import UserStatus

    settings = _settings(args)
    engine = _connect(args)
    blobs = FileBlobStore(Paths(settings.data_dir).blobs)
    fx = Effects(effects_config(settings, reply_secret(settings)), blobs)
    with engine.begin() as conn:
        if not set_status(conn, args.address, UserStatus(args.status)):
            print(
                f"no agent has the address {args.address}: add them under [[agents]]",
                file=sys.stderr,
            )
            return 1
        assigned = assign_pending(conn, plans_for(settings))
        notify_assignments(conn, fx, assigned)  # the outbox worker sends them
        blobs.sync()  # the payloads are durable before the rows that name them
    engine.dispose()
    print(f"{args.address.lower()} is {args.status}")
    for number, assignee in assigned:
        print(f"  ticket {number} assigned to {assignee}")
    return 0


def cmd_contacts_set_owner(args: argparse.Namespace) -> int:
    """Make an agent with a seat the owner of a contact (or clear it)."""
    from gateway.store.agents import AgentProblem, set_owner

    owner = None if args.clear else args.agent
    if owner is None and not args.clear:
        print("name the AGENT, or --clear", file=sys.stderr)
        return 2
    engine = _connect(args)
    try:
        with engine.begin() as conn:
            set_owner(conn, args.contact, owner)
    except AgentProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{args.contact.lower()} is owned by {owner.lower() if owner else 'nobody'}")
    return 0


def _channel_views(settings: Settings, conn: Any) -> list[dict[str, Any]]:
    from gateway.assignment import effective_rule, plans_for
    from gateway.store.channels import FIXED, overlay, stored_settings

    stored = stored_settings(conn) if conn is not None else {}
    settings = overlay(settings, stored)
    plans = plans_for(settings)
    views = []
    for channel in settings.channels:
        data = channel.model_dump(mode="json")
        data["set_by_command"] = sorted(k for k in stored.get(channel.name, {}) if k not in FIXED)
        if conn is not None:
            rule, source = effective_rule(conn, plans[channel.name])
            if source == "command":
                data["routing"] = _rule_json(rule)
            data["routing_source"] = source
        views.append(data)
    return views


def _rule_json(rule: Any) -> dict[str, Any]:
    from dataclasses import asdict as as_dict

    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in as_dict(rule).items()}


def cmd_channels_list(args: argparse.Namespace) -> int:
    """List channels with their identity and routing rule."""
    settings = _settings(args)
    engine = _connect(args)
    with engine.connect() as conn:
        views = _channel_views(settings, conn)
    engine.dispose()
    if args.json:
        print_json(views)
        return 0
    print_table(
        [
            (
                v["name"],
                v["kind"],
                v["address"] or v["identity"] or "",
                v["routing"]["assign"],
                v.get("routing_source", "config"),
            )
            for v in views
        ],
        ["NAME", "KIND", "IDENTITY", "ASSIGN", "RULE FROM"],
    )
    return 0


def cmd_channels_show(args: argparse.Namespace) -> int:
    """Show every setting of one channel, with the rule in force."""
    settings = _settings(args)
    engine = _connect(args)
    with engine.connect() as conn:
        views = [v for v in _channel_views(settings, conn) if v["name"] == args.name]
    engine.dispose()
    if not views:
        print(f"no channel is named {args.name!r}: see `gateway channels list`", file=sys.stderr)
        return 1
    if args.json:
        print_json(views[0])
        return 0
    for key, value in views[0].items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        print(f"{key:22} {value}")
    return 0


def cmd_channels_validate(args: argparse.Namespace) -> int:
    """Check every channel's settings against the config and the agents in the store."""
    from gateway.config.schema import RoutingSettings, check_rule_names_seated
    from gateway.store.agents import seats

    settings = _settings(args)  # the file's own checks: raises ConfigError
    engine = _connect(args)
    with engine.connect() as conn:
        seated, unseated, teams = seats(conn)
        views = _channel_views(settings, conn)
    engine.dispose()
    problems: list[str] = []
    team_addresses = settings.team_addresses
    for address in sorted((seated | unseated) & team_addresses.keys()):
        problems.append(
            f"{address} is the team address of channel {team_addresses[address]!r} and an"
            " agent's personal address: use a personal address for the agent"
        )
    for view in views:
        rule = RoutingSettings.model_validate(view["routing"])
        problems += check_rule_names_seated(view["name"], rule, seated, unseated, teams)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"{len(views)} channel(s) OK")
    return 0


def cmd_channels_set(args: argparse.Namespace) -> int:
    """Save one channel setting over the config file's, checked as the file would be."""
    from gateway.store.channels import SettingProblem, save_channel_setting

    value: Any = None
    if not args.unset:
        if args.value is None:
            print("give a VALUE, or --unset to go back to the config file's", file=sys.stderr)
            return 2
        try:
            value = json.loads(args.value)
        except ValueError:
            value = args.value  # plain text: a company name, a template
    settings = _settings(args)
    engine = _connect(args)
    try:
        with engine.begin() as conn:
            result = save_channel_setting(conn, settings, args.name, args.key, value)
    except SettingProblem as exc:
        print(f"error: channel {args.name}: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    channel = next(c for c in result.channels if c.name == args.name)
    shown = json.dumps(channel.model_dump(mode="json")[args.key], ensure_ascii=False)
    origin = "from the config file" if args.unset else "saved"
    print(f"channel {args.name}: {args.key} = {shown} ({origin})")
    print("it takes effect when the daemon reloads (SIGHUP: systemctl reload gateway)")
    return 0


def cmd_channels_set_routing(args: argparse.Namespace) -> int:
    """Save a channel's routing rule over the config file's (checked like the file)."""
    from gateway.assignment import save_rule

    if args.reset:
        wanted = None
    else:
        try:
            wanted = json.loads(args.rule or "")
        except ValueError as exc:
            print(f'RULE is not JSON ({exc}): write {{"assign": "nobody"}}', file=sys.stderr)
            return 2
        if not isinstance(wanted, dict):
            print('RULE is a JSON object, like {"assign": "nobody"}', file=sys.stderr)
            return 2
    _settings(args)
    engine = _connect(args)
    with engine.begin() as conn:
        problems = save_rule(conn, args.name, wanted)
    engine.dispose()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"channel {args.name}: routing " + ("from the config file" if args.reset else "saved"))
    return 0


def cmd_inbound_list(args: argparse.Namespace) -> int:
    """List the inbound queue, newest first."""
    from gateway.store.queue import list_rows

    engine = _connect(args)
    with engine.connect() as conn:
        rows = list_rows(conn, args.state, args.limit)
    engine.dispose()
    if args.json:
        print_json(rows)
        return 0
    print_table(
        [
            (
                r.id,
                f"{r.state}, unread" if r.unread else r.state,
                _short(r.received_at),
                r.mail_from,
                ",".join(r.rcpt_to),
                r.size,
                r.ticket_number,
                (r.reason or "")[:60],
            )
            for r in rows
        ],
        ["ID", "STATE", "RECEIVED", "FROM", "TO", "SIZE", "TICKET", "REASON"],
    )
    return 0


def _retry(args: argparse.Namespace, requeue: Callable[[Any, Any], int], done: str) -> int:
    """Shared by ``inbound retry`` and ``outbox retry``: requeue IDs or ``--all``."""
    if not args.all and not args.ids:
        print("name the IDs to retry, or --all", file=sys.stderr)
        return 2
    engine = _connect(args)
    with engine.begin() as conn:
        count = requeue(conn, None if args.all else args.ids)
    engine.dispose()
    print(done.format(count))
    return 0 if count or args.all else 1


def cmd_inbound_retry(args: argparse.Namespace) -> int:
    """Put quarantined messages back in the queue."""
    from gateway.store.queue import requeue

    return _retry(args, requeue, "requeued {} message(s)")


def cmd_outbox_list(args: argparse.Namespace) -> int:
    """List outgoing mail, newest first."""
    from gateway.store.outbox import list_rows

    engine = _connect(args)
    with engine.connect() as conn:
        rows = list_rows(conn, args.state, args.limit)
    engine.dispose()
    if args.json:
        print_json(rows)
        return 0
    print_table(
        [
            (
                r.id,
                r.state,
                r.kind,
                r.ticket_id,
                ",".join(r.rcpt_to),
                r.attempts,
                _short(r.sent_at or r.next_attempt_at or r.created_at),
                (r.last_error or "")[:60],
            )
            for r in rows
        ],
        ["ID", "STATE", "KIND", "TICKET", "TO", "TRIES", "WHEN", "ERROR"],
    )
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    """Send failed outgoing mail again (same bytes, same Message-ID)."""
    from gateway.store.outbox import requeue

    return _retry(args, requeue, "queued {} mail(s) again")


def cmd_users_add(args: argparse.Namespace) -> int:
    """Add (or update and reactivate) an agent."""
    from gateway.config.schema import AgentSettings
    from gateway.store.directory import AgentEntry, upsert_agent

    settings = _settings(args)
    try:
        agent = AgentSettings(
            first_name=args.first_name,
            last_name=args.last_name,
            address=args.address,
            seat=not args.no_seat,
            teams=args.team,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if agent.address in settings.team_addresses:
        print(f"error: {agent.address} is a team address, not a personal one", file=sys.stderr)
        return 2
    engine = _connect(args)
    with engine.begin() as conn:
        user_id = upsert_agent(
            conn,
            AgentEntry(
                agent.address, agent.first_name, agent.last_name, agent.seat, tuple(agent.teams)
            ),
        )
    engine.dispose()
    print(f"agent {agent.address} (id {user_id})")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    """Deactivate an agent: no more notifications, their reply keys are refused."""
    from gateway.store.directory import remove_user

    engine = _connect(args)
    with engine.begin() as conn:
        done = remove_user(conn, args.address)
    engine.dispose()
    if not done:
        print(f"no agent {args.address}", file=sys.stderr)
        return 1
    print(f"agent {args.address} deactivated")
    return 0


def cmd_teams_list(args: argparse.Namespace) -> int:
    """List teams and their members."""
    from gateway.store.directory import list_teams

    engine = _connect(args)
    with engine.connect() as conn:
        found = list_teams(conn)
    engine.dispose()
    if args.json:
        print_json(found)
        return 0
    print_table([(name, ",".join(members)) for name, members in found.items()], ["TEAM", "MEMBERS"])
    return 0


def _membership(args: argparse.Namespace, *, join: bool) -> int:
    from gateway.store.directory import add_member, remove_member

    change = add_member if join else remove_member
    engine = _connect(args)
    with engine.begin() as conn:
        done = change(conn, args.team, args.address)
    engine.dispose()
    if not done:
        problem = "no agent {1}: add them with `gateway users add`" if join else "{1} is not in {0}"
        print(problem.format(args.team, args.address), file=sys.stderr)
        return 1
    print(f"{args.address} {'joined' if join else 'left'} team {args.team}")
    return 0


def cmd_teams_add(args: argparse.Namespace) -> int:
    """Put an agent in a team (the team is created if new)."""
    return _membership(args, join=True)


def cmd_teams_remove(args: argparse.Namespace) -> int:
    """Take an agent out of a team."""
    return _membership(args, join=False)


def cmd_inspect(args: argparse.Namespace) -> int:
    """Run the pure pipeline on one message without storing it."""
    from gateway.mail.inspect import inspect_message

    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    report = inspect_message(raw)
    if args.json:
        print_json(report)
        return 0
    for key, value in report.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False, default=_json_default)
        print(f"{key:18} {value}")
    return 0


# -- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(
        prog="gateway", description="Helpdesk Gateway: mail in, tickets and answers out."
    )
    parser.add_argument("--config", "-c", help=f"config file (default: ${CONFIG_ENV})")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, func: Handler, help_text: str, parent: Any = commands
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=help_text
        )
        sub.set_defaults(func=func)
        return sub

    add("serve", cmd_serve, "run the daemon (SMTP/LMTP intake and the pipeline worker)")
    add("worker", cmd_worker, "run only the pipeline worker (serve starts it)")
    add("check-config", cmd_check_config, "validate the config file and say what is wrong")

    db = commands.add_parser("db", help="the store's schema").add_subparsers(
        dest="db_command", required=True, metavar="SUBCOMMAND"
    )
    add("upgrade", cmd_db_upgrade, "apply migrations", db)

    tickets = commands.add_parser("tickets", help="look at tickets").add_subparsers(
        dest="tickets_command", required=True, metavar="SUBCOMMAND"
    )
    listing = add("list", cmd_tickets_list, "list tickets", tickets)
    listing.add_argument("--status", choices=["new", "open", "waiting", "closed"])
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    show = add("show", cmd_tickets_show, "show a ticket and its conversation", tickets)
    show.add_argument("number", type=int)
    show.add_argument("--json", action="store_true")

    inbound = commands.add_parser("inbound", help="the inbound queue").add_subparsers(
        dest="inbound_command", required=True, metavar="SUBCOMMAND"
    )
    ilist = add("list", cmd_inbound_list, "list queued, done and quarantined messages", inbound)
    ilist.add_argument("--state", choices=["queued", "done", "quarantined"])
    ilist.add_argument("--limit", type=int, default=100)
    ilist.add_argument("--json", action="store_true")
    retry = add("retry", cmd_inbound_retry, "requeue quarantined messages", inbound)
    retry.add_argument("ids", nargs="*", type=int, metavar="ID")
    retry.add_argument("--all", action="store_true", help="every quarantined message")

    out = commands.add_parser("outbox", help="outgoing mail").add_subparsers(
        dest="outbox_command", required=True, metavar="SUBCOMMAND"
    )
    olist = add("list", cmd_outbox_list, "list pending, sent and failed mail", out)
    olist.add_argument("--state", choices=["pending", "sent", "failed"])
    olist.add_argument("--limit", type=int, default=100)
    olist.add_argument("--json", action="store_true")
    oretry = add("retry", cmd_outbox_retry, "send failed mail again", out)
    oretry.add_argument("ids", nargs="*", type=int, metavar="ID")
    oretry.add_argument("--all", action="store_true", help="every failed mail")

    users = commands.add_parser("users", help="agents").add_subparsers(
        dest="users_command", required=True, metavar="SUBCOMMAND"
    )
    ulist = add("list", cmd_users_list, "list agents: status, seat, open tickets", users)
    ulist.add_argument("--json", action="store_true")
    status = add("set-status", cmd_users_set_status, "set an agent available or away", users)
    status.add_argument("address", metavar="ADDRESS")
    status.add_argument("status", choices=["available", "away"])

    uadd = add("add", cmd_users_add, "add or update an agent", users)
    uadd.add_argument("address", help="the agent's personal address")
    uadd.add_argument("--first-name", required=True)
    uadd.add_argument("--last-name", default="")
    uadd.add_argument("--no-seat", action="store_true", help="the agent gets no tickets")
    uadd.add_argument("--team", action="append", default=[], help="a team (repeatable)")
    uremove = add("remove", cmd_users_remove, "deactivate an agent (history is kept)", users)
    uremove.add_argument("address")

    contacts = commands.add_parser("contacts", help="contacts").add_subparsers(
        dest="contacts_command", required=True, metavar="SUBCOMMAND"
    )
    owner = add("set-owner", cmd_contacts_set_owner, "make an agent a contact's owner", contacts)
    owner.add_argument("contact", metavar="CONTACT_ADDRESS")
    owner.add_argument("agent", metavar="AGENT_ADDRESS", nargs="?")
    owner.add_argument("--clear", action="store_true", help="the contact has no owner")

    channels = commands.add_parser("channels", help="channel settings").add_subparsers(
        dest="channels_command", required=True, metavar="SUBCOMMAND"
    )
    clist = add("list", cmd_channels_list, "list channels and their routing", channels)
    clist.add_argument("--json", action="store_true")
    cshow = add("show", cmd_channels_show, "show one channel's settings", channels)
    cshow.add_argument("name", metavar="NAME")
    cshow.add_argument("--json", action="store_true")
    add("validate", cmd_channels_validate, "check channel settings against the agents", channels)
    cset = add("set", cmd_channels_set, "save a channel setting over the config's", channels)
    cset.add_argument("name", metavar="NAME")
    cset.add_argument("key", metavar="KEY", help="a [[channels]] key, e.g. company, from_name")
    cset.add_argument("value", metavar="VALUE", nargs="?", help="JSON, or plain text")
    cset.add_argument("--unset", action="store_true", help="back to the config file's value")
    croute = add(
        "set-routing", cmd_channels_set_routing, "save a routing rule over the config's", channels
    )
    croute.add_argument("name", metavar="NAME")
    croute.add_argument(
        "rule", metavar="RULE", nargs="?", help='JSON like {"assign": "users_and_teams", …}'
    )
    croute.add_argument("--reset", action="store_true", help="back to the config file's rule")

    teams = commands.add_parser("teams", help="teams of agents").add_subparsers(
        dest="teams_command", required=True, metavar="SUBCOMMAND"
    )
    tlist = add("list", cmd_teams_list, "list teams and members", teams)
    tlist.add_argument("--json", action="store_true")
    tadd = add("add-member", cmd_teams_add, "put an agent in a team", teams)
    tadd.add_argument("team")
    tadd.add_argument("address")
    tremove = add("remove-member", cmd_teams_remove, "take an agent out of a team", teams)
    tremove.add_argument("team")
    tremove.add_argument("address")

    inspect = add("inspect", cmd_inspect, "understand one message without storing it")
    inspect.add_argument("file", metavar="FILE", help="an .eml file, or - for standard input")
    inspect.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gateway`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(f"configuration error in {exc}", file=sys.stderr)
        return 2
    except TransientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"error: {exc.filename}: no such file", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return result
