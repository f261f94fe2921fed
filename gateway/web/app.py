"""The HTTP app: tickets API under ``/api/v1``, ``/healthz``, ``/metrics``, ``/openapi.json``.

Starlette, served by uvicorn inside the daemon's event loop. Handlers parse
the request with pydantic, run the store work (synchronous Core, shared with
the pipeline and the CLI) through ``AsyncConnection.run_sync`` in one
transaction, and answer JSON. Every 4xx is ``{"error", "field", "detail"}``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.assignment import ChannelPlan, assign_pending
from gateway.desk import (
    DeskProblem,
    NewTicket,
    add_note,
    answer_ticket,
    change_ticket,
    open_ticket,
)
from gateway.effects import Effects, EffectsConfig, notify_assignments
from gateway.store import agents as agent_store
from gateway.store import tickets as store
from gateway.store.blobs import BlobStore
from gateway.store.models import Inbound, Outbox, UserStatus
from gateway.store.staged import write_with_blobs
from gateway.web.auth import BearerAuth
from gateway.web.openapi import openapi_spec

log = structlog.get_logger("gateway.web")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

HEALTH_TIMEOUT = 2.0
"""Seconds the store gets to answer a health ping."""


@dataclass(frozen=True, slots=True)
class WebContext:
    """What the handlers need, built by the daemon from the config (replaced on reload)."""

    engine: AsyncEngine
    plans: Mapping[str, ChannelPlan]
    effects: EffectsConfig
    """How answers and notifications are made (channels, reply-key secret, Message-ID domain)."""
    default_channel: str
    message_id_domain: str
    blobs: BlobStore
    max_body_bytes: int


class ApiError(Exception):
    """A request the API refuses; becomes ``{"error", "field", "detail"}``."""

    def __init__(self, status: int, error: str, field: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.field = field
        self.detail = detail


# -- request bodies -------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _address(value: str) -> str:
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or "." not in domain or any(c in value for c in ' <>"'):
        raise ValueError(f"{value!r} is not a mail address like ann@example.com")
    return value.strip().lower()


Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "waiting", "closed"]


class ContactIn(_Body):
    email: str
    name: str = Field(default="", max_length=255)

    _email = field_validator("email")(classmethod(lambda cls, v: _address(v)))


class TicketIn(_Body):
    channel: str | None = None
    subject: str = Field(min_length=1, max_length=1000)
    contact: ContactIn
    text: str = Field(min_length=1, max_length=1_000_000)
    properties: dict[str, str] = {}
    priority: Priority | None = None


class TicketChange(_Body):
    status: Status | None = None
    priority: Priority | None = None
    assignee: str | None = None
    properties: dict[str, str | None] = {}


class ReplyIn(_Body):
    text: str = Field(min_length=1, max_length=1_000_000)
    agent: str | None = None


class NoteIn(_Body):
    text: str = Field(min_length=1, max_length=1_000_000)
    author: str | None = Field(default=None, max_length=320)


class ContactChange(_Body):
    owner: str | None


class UserChange(_Body):
    status: Literal["available", "away"]


class TicketQuery(_Body):
    status: Status | None = None
    assignee: str | None = None
    channel: str | None = None
    contact: str | None = None
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _invalid(exc: ValidationError) -> ApiError:
    errors = [
        {"field": _field(e["loc"]), "detail": str(e["msg"]).removeprefix("Value error, ")}
        for e in exc.errors()
    ]
    error = ApiError(422, "invalid", errors[0]["field"], errors[0]["detail"])
    error.errors = errors  # type: ignore[attr-defined]  # carried to the JSON answer
    return error


async def _parse(request: Request, model: type[M]) -> M:
    ctx: WebContext = request.app.state.ctx
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > ctx.max_body_bytes:
        raise ApiError(413, "too_large", "body", f"the body is over {ctx.max_body_bytes} bytes")
    raw = await request.body()
    if len(raw) > ctx.max_body_bytes:
        raise ApiError(413, "too_large", "body", f"the body is over {ctx.max_body_bytes} bytes")
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise ApiError(400, "bad_json", "body", f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "body", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


async def _in_transaction(request: Request, work: Callable[[Connection], T]) -> T:
    ctx: WebContext = request.app.state.ctx
    async with ctx.engine.begin() as conn:
        return await conn.run_sync(work)


async def _with_effects(request: Request, work: Callable[[Connection, Effects], T]) -> T:
    """Run ``work`` in one transaction with the effects; the mail it queued is durable first."""
    ctx: WebContext = request.app.state.ctx
    return await write_with_blobs(
        ctx.engine, ctx.blobs, lambda conn, blobs: work(conn, Effects(ctx.effects, blobs))
    )


def _number(request: Request) -> int:
    raw = request.path_params["number"]
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(422, "invalid", "number", f"{raw!r} is not a ticket number")
    return int(raw)


# -- JSON shapes ----------------------------------------------------------------------------


def ticket_json(ticket: store.TicketSummary) -> dict[str, Any]:
    """A ticket as the API shows it."""
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "channel": ticket.channel,
        "contact": {
            "email": ticket.contact,
            "name": ticket.contact_name,
            "owner": ticket.contact_owner,
        },
        "assignee": ticket.assignee,
        "assignment_reason": ticket.assignment_reason,
        "assignment_pending": ticket.assignment_pending,
        "mail_assignee": ticket.mail_assignee,
        "pipeline": ticket.pipeline,
        "priority": ticket.priority,
        "properties": ticket.properties,
        "source": ticket.source,
        "message_count": ticket.message_count,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "last_message_at": ticket.last_message_at.isoformat() if ticket.last_message_at else None,
    }


def _full_ticket(conn: Connection, number: int) -> dict[str, Any]:
    found = store.get_ticket(conn, number)
    if found is None:
        raise ApiError(404, "not_found", "number", f"no ticket {number}")
    ticket, conversation = found
    data = ticket_json(ticket)
    data["messages"] = [
        {
            "direction": m.direction,
            "from": m.from_address,
            "from_name": m.from_name,
            "message_id": m.message_id,
            "date": (m.date or m.received_at).isoformat(),
            "subject": m.subject,
            "text": m.text,
            "unread": m.unread,
        }
        for m in conversation
    ]
    return data


def _user_json(user: agent_store.UserSummary) -> dict[str, Any]:
    return {
        "address": user.address,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "status": user.status,
        "seat": user.seat,
        "active": user.active,
        "teams": list(user.teams),
        "skills": list(user.skills),
        "open_tickets": user.open_tickets,
    }


# -- handlers -------------------------------------------------------------------------------


async def create_ticket(request: Request) -> Response:
    """``POST /api/v1/tickets``."""
    ctx: WebContext = request.app.state.ctx
    body = await _parse(request, TicketIn)
    channel = body.channel or ctx.default_channel
    plan = ctx.plans.get(channel)
    if plan is None:
        raise ApiError(
            422,
            "invalid",
            "channel",
            f"no channel is named {channel!r}: one of {sorted(ctx.plans)}",
        )
    new = NewTicket(
        channel=channel,
        subject=body.subject,
        contact_email=body.contact.email,
        contact_name=body.contact.name,
        text=body.text,
        properties=body.properties,
        priority=body.priority,
    )

    def work(conn: Connection, fx: Effects) -> dict[str, Any]:
        channel_id = store.channel_ids(conn)[channel]
        number, _ = open_ticket(
            conn, new, plan, channel_id, message_id_domain=ctx.message_id_domain, fx=fx
        )
        return _full_ticket(conn, number)

    data = await _with_effects(request, work)
    log.info(
        "api.ticket_created", ticket=data["number"], channel=channel, assignee=data["assignee"]
    )
    return JSONResponse(data, 201, headers={"Location": f"/api/v1/tickets/{data['number']}"})


async def list_tickets(request: Request) -> Response:
    """``GET /api/v1/tickets``."""
    try:
        query = TicketQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise _invalid(exc) from exc

    def work(conn: Connection) -> list[dict[str, Any]]:
        found = store.list_tickets(
            conn,
            status=query.status,
            limit=query.limit,
            offset=query.offset,
            assignee=query.assignee,
            channel=query.channel,
            contact=query.contact,
        )
        return [ticket_json(t) for t in found]

    return JSONResponse({"tickets": await _in_transaction(request, work)})


async def get_ticket(request: Request) -> Response:
    """``GET /api/v1/tickets/{number}``."""
    number = _number(request)
    return JSONResponse(await _in_transaction(request, lambda c: _full_ticket(c, number)))


async def patch_ticket(request: Request) -> Response:
    """``PATCH /api/v1/tickets/{number}``."""
    number = _number(request)
    body = await _parse(request, TicketChange)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if changes.get("status", "") is None:
        raise ApiError(422, "invalid", "status", "status cannot be null")

    def work(conn: Connection, fx: Effects) -> dict[str, Any]:
        change_ticket(conn, number, changes, fx)
        return _full_ticket(conn, number)

    return JSONResponse(await _with_effects(request, work))


async def post_reply(request: Request) -> Response:
    """``POST /api/v1/tickets/{number}/replies``: sent like an agent's answer by mail."""
    number = _number(request)
    body = await _parse(request, ReplyIn)
    seed = f"api:{secrets.token_hex(16)}"
    ticket, message_id = await _with_effects(
        request, lambda conn, fx: answer_ticket(conn, fx, number, body.text, body.agent, seed=seed)
    )
    log.info("api.reply_queued", ticket=ticket)
    data = {"ticket": ticket, "message_id": message_id, "direction": "out"}
    return JSONResponse(data, 201)


async def post_note(request: Request) -> Response:
    """``POST /api/v1/tickets/{number}/notes``."""
    ctx: WebContext = request.app.state.ctx
    number = _number(request)
    body = await _parse(request, NoteIn)

    def work(conn: Connection) -> dict[str, Any]:
        add_note(conn, number, body.text, body.author or "api", ctx.message_id_domain)
        found = store.get_ticket(conn, number)
        assert found is not None  # add_note raised otherwise
        note = [m for m in found[1] if m.direction == "note"][-1]
        return {"ticket": found[0].number, "message_id": note.message_id, "direction": "note"}

    return JSONResponse(await _in_transaction(request, work), 201)


async def patch_contact(request: Request) -> Response:
    """``PATCH /api/v1/contacts/{address}``."""
    address = request.path_params["address"].strip().lower()
    body = await _parse(request, ContactChange)

    def work(conn: Connection) -> dict[str, Any]:
        contact = agent_store.contact_id(conn, address)
        if contact is None:
            raise ApiError(404, "not_found", "address", f"no contact has the address {address}")
        try:
            agent_store.set_owner(conn, address, body.owner)
        except agent_store.AgentProblem as exc:
            raise ApiError(422, "invalid", "owner", str(exc)) from exc
        name = conn.execute(
            select(store.contacts.c.name).where(store.contacts.c.id == contact)
        ).scalar_one()
        return {
            "email": address,
            "name": name,
            "owner": agent_store.contact_owner(conn, contact),
        }

    return JSONResponse(await _in_transaction(request, work))


async def list_users(request: Request) -> Response:
    """``GET /api/v1/users``."""
    users = await _in_transaction(request, agent_store.list_users)
    return JSONResponse({"users": [_user_json(u) for u in users]})


async def patch_user(request: Request) -> Response:
    """``PATCH /api/v1/users/{address}``: available or away; waiting tickets follow."""
    ctx: WebContext = request.app.state.ctx
    address = request.path_params["address"].strip().lower()
    body = await _parse(request, UserChange)

    def work(conn: Connection, fx: Effects) -> dict[str, Any]:
        if not agent_store.set_status(conn, address, UserStatus(body.status)):
            raise ApiError(404, "not_found", "address", f"no agent has the address {address}")
        notify_assignments(conn, fx, assign_pending(conn, ctx.plans))
        [user] = [u for u in agent_store.list_users(conn) if u.address == address]
        return _user_json(user)

    return JSONResponse(await _with_effects(request, work))


async def healthz(request: Request) -> Response:
    """Pings the store; ``503`` when it does not answer in time."""
    ctx: WebContext = request.app.state.ctx
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), ctx.engine.connect() as conn:
            await conn.execute(select(1))
        checks["store"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is an unhealthy store, reported
        checks["store"] = f"failing: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "failing", "checks": checks}, 200 if healthy else 503
    )


async def openapi(_request: Request) -> Response:
    """The OpenAPI description."""
    return JSONResponse(openapi_spec())


# -- metrics --------------------------------------------------------------------------------


@dataclass(slots=True)
class RequestStats:
    """Answered requests by (method, route, status), and seconds spent by (method, route)."""

    counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)


class RequestCounter:
    """Counts answered requests into ``stats`` (a plain ASGI class around the next app)."""

    def __init__(self, app: ASGIApp, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            route = _route_of(scope)
            key = (scope["method"], route, status)
            self.stats.counts[key] = self.stats.counts.get(key, 0) + 1
            timing = (scope["method"], route)
            spent = time.perf_counter() - started
            self.stats.seconds[timing] = self.stats.seconds.get(timing, 0.0) + spent


def _route_of(scope: Scope) -> str:
    path = str(scope["path"])
    for route in ROUTES:
        if route.path_regex.match(path):
            return route.path
    return "other"


def _store_gauges(conn: Connection) -> dict[str, list[tuple[dict[str, str], int]]]:
    tickets = store.tickets
    inbound, outbox = cast(Table, Inbound.__table__), cast(Table, Outbox.__table__)
    live = tickets.c.merged_into.is_(None)
    by_status = conn.execute(
        select(tickets.c.status, func.count()).where(live).group_by(tickets.c.status)
    ).all()
    waiting = conn.execute(
        select(func.count()).select_from(tickets).where(live, tickets.c.assignment_pending)
    ).scalar_one()
    queue = conn.execute(select(inbound.c.state, func.count()).group_by(inbound.c.state)).all()
    out = conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state)).all()
    return {
        "gateway_tickets": [({"status": s}, n) for s, n in by_status],
        "gateway_tickets_waiting_for_agent": [({}, int(waiting))],
        "gateway_inbound_messages": [({"state": s}, n) for s, n in queue],
        "gateway_outbox_messages": [({"state": s}, n) for s, n in out],
    }


HELP = {
    "gateway_tickets": "Tickets by status (merged-away ones left out).",
    "gateway_tickets_waiting_for_agent": "Unassigned tickets waiting for an available agent.",
    "gateway_inbound_messages": "Inbound queue rows by state.",
    "gateway_outbox_messages": "Outbox rows by state.",
}


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in sorted(labels.items())
    )
    return "{" + inner + "}"


async def metrics(request: Request) -> Response:
    """Prometheus text: store gauges and request counters."""
    stats: RequestStats = request.app.state.stats
    lines: list[str] = []
    try:
        gauges = await _in_transaction(request, _store_gauges)
    except Exception as exc:  # noqa: BLE001 - metrics still answer when the store is down
        log.warning("metrics.store_failed", error=type(exc).__name__)
        gauges = {}
    for name, samples in gauges.items():
        lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} gauge"]
        lines += [f"{name}{_labels(labels)} {value}" for labels, value in samples]
    lines += [
        "# HELP gateway_http_requests_total HTTP requests answered.",
        "# TYPE gateway_http_requests_total counter",
    ]
    for (method, route, status), count in sorted(stats.counts.items()):
        labels = {"method": method, "route": route, "status": str(status)}
        lines.append(f"gateway_http_requests_total{_labels(labels)} {count}")
    lines += [
        "# HELP gateway_http_request_seconds_total Time spent answering, by route.",
        "# TYPE gateway_http_request_seconds_total counter",
    ]
    for (method, route), seconds in sorted(stats.seconds.items()):
        labels = {"method": method, "route": route}
        lines.append(f"gateway_http_request_seconds_total{_labels(labels)} {seconds:.6f}")
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


# -- errors and assembly --------------------------------------------------------------------


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body: dict[str, Any] = {"error": exc.error, "field": exc.field, "detail": exc.detail}
    if errors := getattr(exc, "errors", None):
        body["errors"] = errors
    return JSONResponse(body, exc.status)


async def _desk_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DeskProblem)
    error = "not_found" if exc.status == 404 else "invalid"
    return JSONResponse({"error": error, "field": exc.field, "detail": exc.message}, exc.status)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        {"error": error, "field": "path", "detail": str(exc.detail)},
        exc.status_code,
        headers=exc.headers,
    )


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/api/v1/tickets", create_ticket, methods=["POST"]),
    Route("/api/v1/tickets", list_tickets, methods=["GET"]),
    Route("/api/v1/tickets/{number}", get_ticket, methods=["GET"]),
    Route("/api/v1/tickets/{number}", patch_ticket, methods=["PATCH"]),
    Route("/api/v1/tickets/{number}/replies", post_reply, methods=["POST"]),
    Route("/api/v1/tickets/{number}/notes", post_note, methods=["POST"]),
    Route("/api/v1/contacts/{address}", patch_contact, methods=["PATCH"]),
    Route("/api/v1/users", list_users, methods=["GET"]),
    Route("/api/v1/users/{address}", patch_user, methods=["PATCH"]),
]


def build_app(ctx: WebContext, tokens: Callable[[], frozenset[str]]) -> Starlette:
    """The app; ``app.state.ctx`` may be replaced (SIGHUP) and ``tokens`` is asked per request."""
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        ApiError: _api_error,
        DeskProblem: _desk_problem,
        HTTPException: _http_error,
    }
    stats = RequestStats()
    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(RequestCounter, stats=stats),
            Middleware(BearerAuth, tokens=tokens),
        ],
        exception_handlers=handlers,
    )
    app.state.ctx = ctx
    app.state.stats = stats
    return app
