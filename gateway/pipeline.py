"""The pipeline worker: queued raw mail → parsed → threaded → contact → ticket.

It runs in its own process (``gateway worker``, started by ``gateway serve``)
so the CPU-bound understanding uses the second core and never holds up the
SMTP event loop. It is synchronous on purpose: one process, one connection,
SQLAlchemy Core. A batch is claimed, then prepared outside any write
transaction (spool read, parse, understanding, blob files written and
fsynced), then written: threading, inserts and ``done`` in one transaction, each
message in its own savepoint, so a message that breaks the code is quarantined
with its reason and the rest of the batch still lands. On SQLite, whose single
write lock the intake's group commits need too, the writes are cut into
transactions of at most :data:`SQLITE_WRITE_SLICE` seconds.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from gateway import effects
from gateway.agent_status import StatusMailPolicy, apply_status_mail, policy_for
from gateway.assignment import (
    ChannelPlan,
    decision_values,
    effective_rules,
    log_decision,
    plans_for,
    route_new_ticket,
)
from gateway.config.load import reply_secret
from gateway.config.schema import Settings
from gateway.effects import Effects
from gateway.inbound.spool import SpoolCorrupt, SpoolReader, SpoolRef, list_segments
from gateway.mail.addresses import base_address
from gateway.mail.classify import DEFAULT_ACTIONS, KindAction, MailKind, OwnIdentity
from gateway.mail.forwards import ForwardPolicy
from gateway.mail.message import ParsedMail
from gateway.mail.parse import parse_message
from gateway.mail.understand import Context, Triage, Understanding, read, triage, understand
from gateway.routing.decide import RoutingRule
from gateway.store import queue, reading
from gateway.store import tickets as store
from gateway.store.blobs import FileBlobStore
from gateway.store.engine import is_sqlite, sync_wal
from gateway.store.models import Direction, TicketStatus, utcnow
from gateway.store.queue import QueuedItem
from gateway.threading.answers import may_be_status_mail
from gateway.threading.match import (
    KnownThreads,
    MatchedBy,
    ThreadDecision,
    ThreadInput,
    match_thread,
    subject_token,
)

log = structlog.get_logger("gateway.pipeline")

MISSING_ID_DOMAIN = "missing-message-id.invalid"
JANITOR_INTERVAL = 30.0
PREPARE_CHUNK = 64
"""Messages prepared (parsed, understood) before they are written: bounds the worker's memory."""
READ_BATCH = 64
"""Filed messages read in one go."""
READ_LAG = 5.0
"""Seconds a filed message may wait for its reading while mail keeps arriving."""
READ_LAG_DELTA = timedelta(seconds=READ_LAG)
READ_QUIET = 0.25
"""Seconds without new mail after which everything filed is read."""
OVERDUE_CHECK = 0.5
"""While mail keeps arriving, seconds between looks for messages filed over READ_LAG ago:
a look that finds none costs about a third of a millisecond, once a batch was too often."""
GATHER_BELOW = 16
GATHER_WAIT = 0.005
"""While mail streams in, batches under GATHER_BELOW messages wait this long to grow."""
SQLITE_WRITE_SLICE = 0.02
"""Seconds of pipeline writes per SQLite transaction: an intake commit waits at most about this."""


class Unprocessable(Exception):
    """This message cannot become a ticket as it is; it goes to quarantine."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one queued message."""

    message_pk: int | None
    ticket: int | None
    note: str
    unread: reading.NewUnread | None = None
    """The filed message still to be read (written with the batch's other rows)."""


@dataclass(frozen=True, slots=True)
class Landed:
    """What one write did to one queued message: an outcome, or why it was quarantined."""

    item: QueuedItem
    outcome: Outcome | None
    error: Exception | None


class _NeedsSavepoints(Exception):
    """A message failed while its batch was written without a savepoint per message."""


def _chunks(items: Sequence[QueuedItem], size: int) -> Iterator[Sequence[QueuedItem]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _reason(exc: Exception) -> str:
    """The quarantine reason for ``exc``."""
    return str(exc) if isinstance(exc, Unprocessable) else f"{type(exc).__name__}: {exc}"


def _log_landed(landed: Sequence[Landed]) -> None:
    """Log what a write did, once it is committed."""
    for x in landed:
        item_log = log.bind(inbound_id=x.item.id)
        if x.outcome is not None:
            item_log.info("pipeline.done", ticket=x.outcome.ticket, how=x.outcome.note)
        elif isinstance(x.error, Unprocessable):
            item_log.warning("pipeline.quarantined", reason=str(x.error))
        else:
            item_log.error("pipeline.quarantined", reason=type(x.error).__name__, exc_info=x.error)


@dataclass(frozen=True, slots=True)
class Routing:
    """Plain facts from the config that the pipeline needs."""

    team_addresses: dict[str, str]
    """Team address → channel name."""
    channel_ids: dict[str, int]
    pipelines: dict[str, str]
    """Channel name → pipeline of new tickets."""
    default_channel: str
    token_prefix: str
    reopen_closed: bool
    contexts: dict[str, Context]
    """Channel name → what understanding needs (forwarded-sender policy, own identity)."""
    actions: Mapping[MailKind, KindAction]
    plans: Mapping[str, ChannelPlan] = field(default_factory=dict)
    """Channel name → defaults of new tickets and the routing rule."""
    status_mail: StatusMailPolicy | None = None
    """How ``#away`` / ``#available`` mails prove an agent (None: they are customer mail)."""
    effects: Effects | None = None
    """Reply keys, notifications, acknowledgements; None leaves them out."""

    def channel_for(self, addresses: Sequence[str]) -> str:
        """The channel of the first team address among ``addresses``."""
        for address in addresses:
            base = base_address(address)
            if base in self.team_addresses:
                return self.team_addresses[base]
        return self.default_channel


class Pipeline:
    """Turns queued messages into tickets, one batch per transaction."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        node: str,
        blobs: FileBlobStore,
        spool_dir: Path,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.node = node
        self.blobs = blobs
        self.spool_dir = spool_dir
        self.skip_locked = not is_sqlite(engine.url)
        self._routing: Routing | None = None
        self.spool = SpoolReader(spool_dir)

    def routing(self, conn: Connection) -> Routing:
        """The config's channels with their ids in this database."""
        if self._routing is None:
            cfg = self.settings
            secret = reply_secret(cfg)
            self._routing = Routing(
                team_addresses=cfg.team_addresses,
                channel_ids=store.channel_ids(conn),
                pipelines={c.name: c.pipeline for c in cfg.channels},
                default_channel=cfg.channels[0].name,
                token_prefix=cfg.threading.subject_token_prefix,
                reopen_closed=cfg.threading.reopen_closed,
                contexts=contexts_for(cfg),
                actions={
                    **DEFAULT_ACTIONS,
                    **{MailKind(k): KindAction(v) for k, v in cfg.mail.actions.items()},
                },
                plans=plans_for(cfg),
                status_mail=policy_for(cfg, secret),
                effects=Effects(effects.effects_config(cfg, secret), self.blobs),
            )
        return self._routing

    def run_batch(self) -> int:
        """Process one batch; returns how many messages it took from the queue."""
        if self.skip_locked:
            return self._run_locked_batch()
        # SQLite has one writer at a time, and the intake needs it for every 250: read the
        # batch without the write lock, do the CPU work outside, then write in short slices.
        with self.engine.connect() as reader:
            reader.execution_options(sqlite_begin="DEFERRED")  # this Connection object only
            with reader.begin():
                items = queue.claim(reader, self.node, self.settings.pipeline.batch_size)
                if not items:
                    return 0
                routing = self.routing(reader)
                filing = self._filing(reader, routing)
        with self.engine.connect() as conn:
            for ready in self._prepared(routing, items):
                done = 0
                while done < len(ready):
                    with conn.begin():
                        done, landed = self._write(
                            conn,
                            routing,
                            filing,
                            ready,
                            done,
                            deadline=time.monotonic() + SQLITE_WRITE_SLICE,
                        )
                    _log_landed(landed)
        return len(items)

    def _run_locked_batch(self) -> int:
        # PostgreSQL: the claimed rows stay locked (SKIP LOCKED) until the one commit that
        # writes their tickets; holding them while preparing costs other writers nothing.
        landed: list[Landed] = []
        with self.engine.connect() as conn, conn.begin():
            items = queue.claim(
                conn, self.node, self.settings.pipeline.batch_size, skip_locked=True
            )
            if not items:
                return 0
            routing = self.routing(conn)
            filing = self._filing(conn, routing)
            for ready in self._prepared(routing, items):
                landed.extend(self._write(conn, routing, filing, ready, 0, deadline=None)[1])
        _log_landed(landed)
        return len(items)

    def _filing(self, conn: Connection, routing: Routing) -> Filing:
        return Filing(self.blobs, effective_rules(conn, routing.plans))

    def _prepare(self, routing: Routing, items: Sequence[QueuedItem]) -> list[Prepared]:
        """Read, parse and triage every item; no transaction needed."""
        ready: list[Prepared] = []
        for item in items:
            raw: bytes | None = None
            try:
                raw = self._raw(item)
                mail = parse_message(raw)
                ready.append(
                    prepare_mail(routing, mail, raw=raw, raw_sha256=item.sha256, item=item)
                )
            except Exception as exc:  # noqa: BLE001 - quarantined in the write that follows
                if raw is not None:
                    self.blobs.put(raw)  # a quarantined message keeps its bytes
                ready.append(Broken(item, exc))
        return ready

    def _prepared(self, routing: Routing, items: Sequence[QueuedItem]) -> Iterator[list[Prepared]]:
        """``items`` prepared in chunks, each given once its blobs are durable.

        The blobs of one chunk are synced in the background while the next one
        is prepared, so the worker does not wait for the disk.
        """
        waiting: tuple[list[Prepared], Future[None]] | None = None
        for chunk in _chunks(items, PREPARE_CHUNK):
            ready = self._prepare(routing, chunk)
            durable = self.blobs.flush()
            if waiting is not None:
                waiting[1].result()
                yield waiting[0]
            waiting = (ready, durable)
        if waiting is not None:
            waiting[1].result()
            yield waiting[0]

    def _write(
        self,
        conn: Connection,
        routing: Routing,
        filing: Filing,
        ready: Sequence[Prepared],
        start: int,
        *,
        deadline: float | None,
    ) -> tuple[int, list[Landed]]:
        """Write ``ready[start:]`` in this transaction until ``deadline``.

        Returns where it ended and what became of each message, for the log
        once the transaction commits. The messages are first written without a
        savepoint each (two statements a message); if one of them fails, that
        attempt is rolled back and they are written again, each in its own
        savepoint, so that only the failing one is quarantined.
        """
        still_queued = None
        if deadline is not None:
            still_queued = queue.still_queued(conn, [entry.item.id for entry in ready[start:]])
        attempt = conn.begin_nested()
        try:
            end, landed = self._apply(conn, routing, filing, ready, start, still_queued, deadline)
        except _NeedsSavepoints:
            attempt.rollback()
            if deadline is not None:
                deadline = time.monotonic() + SQLITE_WRITE_SLICE
            end, landed = self._apply(
                conn, routing, filing, ready, start, still_queued, deadline, careful=True
            )
        else:
            attempt.commit()
        # Whatever apply_mail stored while writing must be durable before the commit.
        self.blobs.sync()
        return end, landed

    def _apply(
        self,
        conn: Connection,
        routing: Routing,
        filing: Filing,
        ready: Sequence[Prepared],
        start: int,
        still_queued: set[int] | None,
        deadline: float | None,
        *,
        careful: bool = False,
    ) -> tuple[int, list[Landed]]:
        landed: list[Landed] = []
        end = start
        while end < len(ready):
            entry = ready[end]
            end += 1
            if still_queued is None or entry.item.id in still_queued:
                landed.append(self._one(conn, routing, filing, entry, careful=careful))
            if deadline is not None and time.monotonic() >= deadline:
                break
        done = [(x.item, x.outcome) for x in landed if x.outcome is not None]
        queue.mark_many_done(
            conn, [queue.Done(item.id, o.message_pk, o.ticket, o.note) for item, o in done]
        )
        reading.add_many(conn, [o.unread for _, o in done if o.unread], node=self.node)
        return end, landed

    def _one(
        self, conn: Connection, routing: Routing, filing: Filing, entry: Prepared, *, careful: bool
    ) -> Landed:
        item = entry.item
        if isinstance(entry, Broken):
            queue.quarantine(conn, item.id, _reason(entry.error))
            return Landed(item, None, entry.error)
        savepoint = conn.begin_nested() if careful else None
        try:
            outcome = apply_mail(conn, routing, entry, filing)
        except OperationalError:
            if savepoint is not None:
                savepoint.rollback()
            raise  # the database itself is in trouble: the whole batch waits
        except Exception as exc:  # the one per-item catch: quarantine, never lose
            if savepoint is None:
                raise _NeedsSavepoints from exc
            savepoint.rollback()
            self.blobs.put(entry.raw)  # a quarantined message keeps its bytes
            queue.quarantine(conn, item.id, _reason(exc))
            return Landed(item, None, exc)
        if savepoint is not None:
            savepoint.commit()
        return Landed(item, outcome, None)

    def _raw(self, item: QueuedItem) -> bytes:
        return self._raw_bytes(item.segment, item.offset, item.size, item.sha256)

    def _raw_bytes(self, segment: str | None, offset: int | None, size: int, sha256: str) -> bytes:
        """A message's raw bytes: from the spool while it holds them, else from the blobs."""
        if segment is not None and offset is not None:
            try:
                return self.spool.read(SpoolRef(segment, offset, size, sha256))
            except SpoolCorrupt as exc:
                if not self.blobs.exists(sha256):
                    raise Unprocessable(f"spool record unreadable: {exc}") from exc
        try:
            return self.blobs.get(sha256)
        except KeyError as exc:
            raise Unprocessable(f"raw bytes missing from spool and blob store: {exc}") from exc

    # -- reading ----------------------------------------------------------------------

    def run_reading(self, limit: int = READ_BATCH, *, filed_before: datetime | None = None) -> int:
        """Read the bodies of up to ``limit`` filed messages (only those filed before
        ``filed_before``, when given); returns how many it took.

        Each one is parsed again and understood in full, its raw bytes and
        attachments are put in the blob store and synced, then its body is
        stored and what it sets off (notifications, the acknowledgement) is
        written, each message in a savepoint of its own.
        """
        if self.skip_locked:
            with self.engine.connect() as conn, conn.begin():
                items = reading.claim(
                    conn, self.node, limit, skip_locked=True, filed_before=filed_before
                )
                if not items:
                    return 0
                routing = self.routing(conn)
                ready = self._read_bodies(routing, items)
                self.blobs.sync()
                self._store_readings(conn, routing, ready, None)
            return len(items)
        with self.engine.connect() as reader:
            reader.execution_options(sqlite_begin="DEFERRED")
            with reader.begin():
                items = reading.claim(reader, self.node, limit, filed_before=filed_before)
                routing = self.routing(reader)
        if not items:
            return 0
        ready = self._read_bodies(routing, items)
        self.blobs.sync()
        with self.engine.connect() as conn:
            done = 0
            while done < len(ready):
                with conn.begin():
                    done = (
                        self._store_readings(
                            conn, routing, ready[done:], time.monotonic() + SQLITE_WRITE_SLICE
                        )
                        + done
                    )
        return len(items)

    def _read_bodies(
        self, routing: Routing, items: Sequence[reading.UnreadItem]
    ) -> list[tuple[reading.UnreadItem, Understanding | None, reading.Body | Exception]]:
        ready: list[tuple[reading.UnreadItem, Understanding | None, reading.Body | Exception]] = []
        for item in items:
            try:
                if item.sha256 is None:
                    raise Unprocessable("the message names no raw bytes")
                raw = self._raw_bytes(item.segment, item.offset, item.size, item.sha256)
                self.blobs.put(raw)
                seen, body = read_message(routing, item, raw, self.blobs)
                ready.append((item, seen, body))
            except Exception as exc:  # noqa: BLE001 - counted as a failed reading
                ready.append((item, None, exc))
        return ready

    def _store_readings(
        self,
        conn: Connection,
        routing: Routing,
        ready: Sequence[tuple[reading.UnreadItem, Understanding | None, reading.Body | Exception]],
        deadline: float | None,
    ) -> int:
        """Store readings in this transaction until ``deadline``; returns how many it took."""
        unread = reading.still_unread(conn, [item.message_pk for item, _, _ in ready])
        taken = 0
        for item, seen, body in ready:
            taken += 1
            if item.message_pk in unread:
                self._store_reading(conn, routing, item, seen, body)
            if deadline is not None and time.monotonic() >= deadline:
                break
        return taken

    def _store_reading(
        self,
        conn: Connection,
        routing: Routing,
        item: reading.UnreadItem,
        seen: Understanding | None,
        body: reading.Body | Exception,
    ) -> None:
        item_log = log.bind(inbound_id=item.inbound_id, ticket=item.ticket)
        if isinstance(body, Exception):
            item_log.error("pipeline.read_failed", reason=_reason(body), attempt=item.attempts + 1)
            reading.failed(conn, item.message_pk, item.attempts + 1, _reason(body))
            return
        assert seen is not None
        savepoint = conn.begin_nested()
        try:
            reading.store_body(conn, item.message_pk, body)
            if routing.effects is not None:
                effects.after_customer_message(
                    conn,
                    routing.effects,
                    ticket=item.ticket,
                    seen=seen,
                    message_id=item.message_id,
                    new_ticket=item.opened_ticket,
                    envelope_from=item.mail_from,
                )
        except OperationalError:
            savepoint.rollback()
            raise
        except Exception as exc:  # noqa: BLE001 - the one per-item catch: counted, logged
            savepoint.rollback()
            item_log.error("pipeline.read_failed", reason=_reason(exc), exc_info=exc)
            reading.failed(conn, item.message_pk, item.attempts + 1, _reason(exc))
            return
        savepoint.commit()
        item_log.debug("pipeline.read")

    def clean_spool(self) -> int:
        """Delete segments that no queued or unread message needs any more; returns how many."""
        segments = list_segments(self.spool_dir)
        if len(segments) < 2:
            return 0
        with self.engine.connect() as conn:
            in_use = queue.segments_in_use(conn, self.node) | reading.segments_in_use(
                conn, self.node
            )
        # The newest segment may still be written to; older ones are complete.
        unused = [name for _, name in segments[:-1] if name not in in_use]
        if not unused:
            return 0
        # What says they are done may be in commits that skipped their fsync (the
        # intake's, the worker's); once a segment is gone, only the database remembers.
        sync_wal(self.engine)
        for name in unused:
            self.spool.forget(name)
            (self.spool_dir / name).unlink(missing_ok=True)
        removed = len(unused)
        if removed:
            log.info("spool.cleaned", segments=removed)
        return removed


def contexts_for(settings: Settings) -> dict[str, Context]:
    """The understanding context of every channel."""
    domain = settings.message_id_domain
    own = OwnIdentity(
        message_id_domains=frozenset({domain}),
        loop_values=frozenset({domain}),
        own_list_ids=frozenset(i.lower() for i in settings.mail.own_list_ids),
    )
    teams = frozenset(settings.team_addresses)
    return {
        c.name: Context(own=own, team_addresses=teams, policy=ForwardPolicy(c.forwarded_sender))
        for c in settings.channels
    }


@dataclass(slots=True)
class PreparedMail:
    """A queued message made ready outside any transaction: parsed and triaged."""

    item: QueuedItem
    raw: bytes
    mail: ParsedMail
    raw_sha256: str
    message_id: str
    """Its Message-ID, or one made from its digest when it has none."""
    delivered: tuple[str, ...]
    """Team addresses that received it."""
    channel: str
    triaged: Triage | None
    failure: Exception | None
    """Why triage broke, if it did: raised only if the message is not a duplicate."""
    context: Context = field(default_factory=Context)
    _seen: Understanding | None = None

    def understanding(self) -> Understanding:
        """The whole understanding, body read: only the paths that act on the body need it."""
        if self._seen is None:
            assert self.triaged is not None
            self._seen = read(self.triaged, self.context)
        return self._seen


@dataclass(frozen=True, slots=True)
class Broken:
    """A queued message that could not even be prepared; it goes to quarantine."""

    item: QueuedItem
    error: Exception


Prepared = PreparedMail | Broken


def prepare_mail(
    routing: Routing, mail: ParsedMail, *, raw: bytes, raw_sha256: str, item: QueuedItem
) -> PreparedMail:
    """Everything about ``mail`` that needs no store and decides where it goes: its triage."""
    message_id = mail.message_id or f"{raw_sha256[:40]}@{MISSING_ID_DOMAIN}"
    delivered = tuple(
        sorted({base_address(a) for a in item.rcpt_to if base_address(a) in routing.team_addresses})
    )
    if not delivered:
        team_rcpts = {a.normalized for a in (*mail.to, *mail.cc)}
        delivered = tuple(sorted(team_rcpts & routing.team_addresses.keys()))
    channel = routing.channel_for(delivered)
    context = routing.contexts[channel]
    try:
        triaged: Triage | None = triage(mail, context)
        failure = None
    except Exception as exc:  # noqa: BLE001 - apply_mail raises it unless the mail is a duplicate
        triaged, failure = None, exc
    return PreparedMail(
        item, raw, mail, raw_sha256, message_id, delivered, channel, triaged, failure, context
    )


@dataclass(frozen=True, slots=True)
class Filing:
    """What the writes of one batch share."""

    blobs: FileBlobStore
    """Where the raw bytes of mail that is not read later go."""
    rules: Mapping[str, RoutingRule]
    """Channel name → the routing rule in force, read once for the batch."""


def apply_mail(
    conn: Connection, routing: Routing, prepared: PreparedMail, filing: Filing
) -> Outcome:
    """Thread the prepared mail into the store inside the caller's transaction.

    A customer's message is filed on its triage: it and its ticket are
    stored, and an ``unread`` row says that its body is still to be read
    (:meth:`Pipeline.run_reading`); its raw bytes stay in the spool until
    then. Everything else that is kept (an agent's mail, a status mail,
    dropped or unticketed auto mail) has its raw bytes put in the blob store, which
    the caller syncs before it commits. Raises Unprocessable for mail that must
    wait for a person (quarantine).
    """
    mail, item, raw_sha256 = prepared.mail, prepared.item, prepared.raw_sha256
    message_id, delivered, channel = prepared.message_id, prepared.delivered, prepared.channel

    seen = prepared.triaged
    answers = mail.in_reply_to
    bounced = seen.classification.bounce if seen is not None else None
    if bounced is not None and bounced.original_message_id:
        answers = (bounced.original_message_id, *answers)  # a bounce belongs with its mail
    token = subject_token(mail.subject, routing.token_prefix)
    lookup = store.look_up(conn, message_id, (*answers, *mail.thread_keys), token)
    if (stored := lookup.stored) is not None:
        store.add_delivery(conn, stored, delivered)
        return Outcome(stored.pk, stored.ticket, "duplicate")

    if prepared.failure is not None:
        raise prepared.failure
    assert seen is not None
    found = effects.find_key(routing.effects, mail, item.rcpt_to) if routing.effects else None
    status_mail = may_be_status_mail(mail.subject, mail.text, mail.html)
    if (
        routing.effects
        and found
        and effects.for_agent_path(
            conn, found, mail, prepared.understanding() if status_mail else None
        )
    ):
        filing.blobs.put(prepared.raw)
        done = effects.apply_agent_mail(
            conn,
            routing.effects,
            found=found,
            seen=prepared.understanding(),
            envelope_from=item.mail_from,
            inbound_id=item.id,
        )
        return Outcome(done.message_pk, done.ticket, done.note)
    kind = seen.classification.kind
    action = routing.actions.get(kind, KindAction.TICKET)
    if action is KindAction.DROP:
        filing.blobs.put(prepared.raw)
        return Outcome(None, None, f"dropped {kind}: {seen.classification.reason}")
    if action is KindAction.QUARANTINE:
        raise Unprocessable(f"{kind}: {seen.classification.reason}")
    if kind is MailKind.NORMAL and routing.status_mail is not None and status_mail:
        full = prepared.understanding()
        status_note = apply_status_mail(
            conn,
            routing.status_mail,
            routing.plans,
            mail,
            full.reply.new_text or full.text,
            item.rcpt_to,
            routing.team_addresses,
            fx=routing.effects,
        )
        if status_note is not None:
            filing.blobs.put(prepared.raw)
            return Outcome(None, None, status_note)

    author = seen.authorship.author or mail.from_ or (mail.reply_to[0] if mail.reply_to else None)
    contact = seen.contact or author
    sender = contact.normalized if contact else (item.mail_from or "").strip().lower()
    if not sender or "@" not in sender:
        raise Unprocessable("no sender: the message has no From address and no envelope sender")
    sender_name = contact.name if contact else ""
    other = seen.authorship.forwarded_by
    if other is not None and contact is not None and other.normalized == contact.normalized:
        other = seen.authorship.author  # the forwarder's contact got it: record the author

    if bounced is not None and bounced.original_message_id and routing.effects is not None:
        effects.note_bounce(conn, routing.effects, bounced.original_message_id)
    known = lookup.known
    decision = match_thread(
        ThreadInput(message_id, answers, mail.references, mail.subject, sender),
        known,
        reopen_closed=routing.reopen_closed and kind is MailKind.NORMAL,
    )
    if (keyed := effects.keyed_ticket(conn, found)) is not None and decision.ticket != keyed:
        # The customer's reply key names the ticket: no guessing.
        decision = ThreadDecision(
            keyed,
            MatchedBy.REPLY_KEY,
            "reply key",
            tuple(t for t in decision.merge if t != keyed),
            routing.reopen_closed
            and kind is MailKind.NORMAL
            and store.ticket_status(conn, keyed) == TicketStatus.CLOSED.value,
        )
    if decision.ticket is None and action is KindAction.ATTACH:
        # Auto mail never opens a ticket; its raw bytes stay in the blob store.
        filing.blobs.put(prepared.raw)
        return Outcome(None, None, f"{kind} without a ticket: {seen.classification.reason}")

    at = utcnow()
    ticket = _place(conn, routing, filing, channel, decision, mail, sender, sender_name, at)
    writer = author or contact
    pk = store.add_message(
        conn,
        ticket,
        store.NewMessage(
            inbound_id=item.id,
            direction=Direction.IN.value,
            message_id=message_id,
            in_reply_to=mail.in_reply_to[0] if mail.in_reply_to else None,
            references=mail.references,
            from_address=writer.normalized if writer else sender,
            from_name=writer.name if writer else sender_name,
            to=tuple(a.normalized for a in mail.to),
            cc=tuple(a.normalized for a in mail.cc),
            delivered_to=delivered,
            subject=mail.subject,
            date=mail.date,
            text="",
            html=None,
            raw_sha256=raw_sha256,
            size=mail.size,
            classification=kind.value,
            repairs=mail.repairs,
            classification_reason=seen.classification.reason[:2000],
            new_text=None,
            forwarded_by=other.normalized if other else None,
            forward_kind=seen.authorship.kind.value,
        ),
    )
    if decision.merge:
        store.merge_into(conn, ticket, decision.merge)
    if decision.ticket is not None or decision.merge:  # a new ticket has its times already
        status = _next_status(conn, decision, known, ticket) if kind is MailKind.NORMAL else None
        store.touch_ticket(conn, ticket, at=at, status=status)
    return Outcome(
        pk,
        ticket,
        decision.matched_by.value,
        reading.NewUnread(pk, item.id, opened_ticket=decision.ticket is None),
    )


def read_message(
    routing: Routing, item: reading.UnreadItem, raw: bytes, blobs: FileBlobStore
) -> tuple[Understanding, reading.Body]:
    """Read a filed message's body from its raw bytes: the text, the new text, safe HTML, and
    the attachments, put in ``blobs`` (which the caller syncs before it commits)."""
    mail = parse_message(raw)
    seen = understand(mail, routing.contexts.get(item.channel))
    files = tuple(
        store.NewAttachment(
            sha256=blobs.put(att.data),
            filename=att.filename,
            content_type=att.content_type,
            size=att.size,
            content_id=att.content_id,
            inline=att.inline,
        )
        for att in mail.attachments
    )
    body = reading.Body(
        text=seen.text,
        html=seen.html.html if seen.html else None,
        new_text=seen.reply.new_text,
        files=files,
    )
    return seen, body


def _place(
    conn: Connection,
    routing: Routing,
    filing: Filing,
    channel: str,
    decision: ThreadDecision,
    mail: ParsedMail,
    sender: str,
    sender_name: str,
    at: datetime,
) -> int:
    if decision.ticket is not None:
        if decision.matched_by is MatchedBy.EARLIER_REPLY and mail.subject:
            # The parent arrived last; its subject is the conversation's real one.
            store.set_subject(conn, decision.ticket, mail.subject[:1000])
        return decision.ticket
    contact = store.contact_for(conn, sender, sender_name)
    plan = routing.plans.get(channel)
    channel_id = routing.channel_ids[channel]
    routed = None
    if plan is not None:
        routed = route_new_ticket(
            conn,
            plan,
            filing.rules.get(channel),
            channel_id=channel_id,
            contact_id=contact,
            properties=plan.properties,
            now=at,
        )
    ticket = store.create_ticket(
        conn,
        channel_id=channel_id,
        contact_id=contact,
        subject=(mail.subject or "(no subject)")[:1000],
        pipeline=routing.pipelines.get(channel, "support"),
        status=plan.status if plan else TicketStatus.NEW.value,
        priority=plan.priority if plan else None,
        properties=dict(plan.properties) if plan else None,
        last_message_at=at,
        assignment=decision_values(conn, routed) if routed else None,
    )
    if plan is not None and routed is not None:
        log_decision(ticket, plan, routed)
    return ticket


def _next_status(
    conn: Connection, decision: ThreadDecision, known: KnownThreads, ticket: int
) -> str | None:
    if decision.ticket is None:
        return None
    facts = known.tickets.get(ticket)  # read in this transaction; nothing here changed it
    current = facts.status if facts is not None else store.ticket_status(conn, ticket)
    if decision.reopen or current == TicketStatus.WAITING.value:
        return TicketStatus.OPEN.value
    return None


def run_worker(
    pipeline: Pipeline,
    *,
    wake_fd: int | None,
    should_stop: Callable[[], bool],
    poll_interval: float,
) -> None:
    """Loop until ``should_stop()``: take batches while there are any, else wait.

    Filing comes first: while mail keeps arriving, only messages filed more
    than :data:`READ_LAG` seconds ago are read (looked for every
    :data:`OVERDUE_CHECK` seconds); once the queue has been empty for
    :data:`READ_QUIET` seconds, every filed message is.

    ``wake_fd`` is a pipe the daemon writes a byte to after each commit; its
    end-of-file means the daemon is gone, and the worker stops.
    """
    backoff = 0.5
    next_clean = 0.0
    next_overdue = 0.0
    quiet_at = 0.0
    streaming = False
    while not should_stop():
        try:
            filed = pipeline.run_batch()
            now = time.monotonic()
            if filed:
                # Small batches one after the other: mail trickles in group by group, and
                # a batch costs about as much as several messages; let the next one grow.
                streaming = filed < GATHER_BELOW and now < quiet_at
                quiet_at = now + READ_QUIET
            read = 0
            if now >= quiet_at:
                read = pipeline.run_reading()
            elif now >= next_overdue:
                read = pipeline.run_reading(filed_before=utcnow() - READ_LAG_DELTA)
                # A backlog of overdue messages is read batch by batch between the filing.
                next_overdue = now if read else now + OVERDUE_CHECK
            taken = filed + read
            backoff = 0.5
        except (OperationalError, DBAPIError) as exc:
            log.warning("pipeline.store_unavailable", error=str(exc.orig), retry_in=backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        now = time.monotonic()
        if now >= next_clean:
            next_clean = now + JANITOR_INTERVAL
            try:
                pipeline.clean_spool()
            except (OperationalError, OSError) as exc:
                log.warning("spool.clean_failed", error=str(exc))
        if taken:
            continue
        wait = poll_interval if now >= quiet_at else min(poll_interval, quiet_at - now)
        if wake_fd is None:
            time.sleep(wait)
            continue
        ready, _, _ = select.select([wake_fd], [], [], wait)
        if ready:
            data = os.read(wake_fd, 65536)
            if not data:
                log.info("pipeline.parent_gone")
                return
            if streaming:
                time.sleep(GATHER_WAIT)
