"""The store on SQLite and on PostgreSQL: schema, queue, and the pipeline's writes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from gateway.config.schema import Settings
from gateway.inbound.spool import SpoolWriter
from gateway.pipeline import Pipeline
from gateway.store import queue
from gateway.store import tickets as store
from gateway.store.blobs import FileBlobStore
from gateway.store.engine import is_sqlite, make_sync_engine
from gateway.store.migrate import alembic_config, current_revision, upgrade
from gateway.store.models import Base, utcnow
from gateway.store.queue import NewInbound
from tests.conftest import PostgresCluster

NODE = "test-node"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    eng = make_sync_engine(store_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": tmp_path / "data",
            "node": NODE,
            "store": {"url": url},
            "reply": {"secret_file": tmp_path / "reply.key"},
            "channels": [
                {"name": "support", "kind": "team_email", "address": "support@acme.example"},
                {"name": "sales", "kind": "team_email", "address": "sales@acme.example"},
            ],
        }
    )


def raw_mail(
    mid: str, subject: str, *, sender: str = "ann@example.com", reply_to: str = ""
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ann <{sender}>"
    msg["To"] = "support@acme.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{mid}>"
    if reply_to:
        msg["In-Reply-To"] = f"<{reply_to}>"
    msg.set_content(f"body of {mid}\n")
    return msg.as_bytes()


def enqueue(
    url: str,
    spool: SpoolWriter,
    payloads: list[bytes],
    rcpt: str = "support@acme.example",
    mail_from: str | None = "ann@example.com",
) -> list[int]:
    refs = spool.append_batch(payloads)
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            return queue.enqueue(
                conn,
                [
                    NewInbound(
                        NODE,
                        "smtp",
                        r.sha256,
                        r.length,
                        r.segment,
                        r.offset,
                        None,
                        None,
                        mail_from,
                        (rcpt,),
                    )
                    for r in refs
                ],
            )
    finally:
        engine.dispose()


def test_migrations_reach_head_and_match_the_models(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(engine) == head
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
        )
    assert diff == []


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_sync_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()


def test_enqueue_claim_and_finish(engine: Engine, store_url: str, tmp_path: Path) -> None:
    spool = SpoolWriter(tmp_path / "spool")
    ids = enqueue(store_url, spool, [b"a", b"b", b"c"])
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    with engine.begin() as conn:
        claimed = queue.claim(conn, NODE, 2, skip_locked=not is_sqlite(engine.url))
        assert [c.id for c in claimed] == ids[:2]
        queue.mark_done(conn, ids[0], message_pk=None, ticket=None, note="test")
        queue.quarantine(conn, ids[1], "broken on purpose")
    with engine.connect() as conn:
        assert queue.counts(conn) == {"done": 1, "quarantined": 1, "queued": 1}
        assert queue.claim(conn, "other-node", 10, skip_locked=False) == []
        [row] = queue.list_rows(conn, "quarantined", 10)
        assert row.reason == "broken on purpose"
    with engine.begin() as conn:
        assert queue.requeue(conn, None) == 1
    with engine.connect() as conn:
        assert queue.counts(conn) == {"done": 1, "queued": 2}


def test_two_claimers_never_take_the_same_rows(postgres: PostgresCluster, tmp_path: Path) -> None:
    # SKIP LOCKED is how several instances share one PostgreSQL queue.
    store_url = postgres.new_database()
    engine = make_sync_engine(store_url)
    upgrade(engine)
    enqueue(store_url, SpoolWriter(tmp_path / "spool"), [bytes([i]) for i in range(20)])
    taken: list[list[int]] = []
    barrier = threading.Barrier(2)

    def claimer() -> None:
        with engine.begin() as conn:
            rows = queue.claim(conn, NODE, 10, skip_locked=True)
            barrier.wait(10)  # both hold their locks at the same time
            taken.append([r.id for r in rows])

    threads = [threading.Thread(target=claimer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(taken) == 2
    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == 20
    engine.dispose()
    engine.dispose()


def pipeline_on(
    engine: Engine, store_url: str, tmp_path: Path
) -> tuple[Settings, Path, SpoolWriter, Callable[[], Pipeline]]:
    """Settings, the data paths' spool folder, a spool writer and a maker of the pipeline."""
    from gateway.daemon import Paths, prepare_store

    cfg = settings_for(store_url, tmp_path)
    paths = Paths(cfg.data_dir)
    paths.create()
    prepare_store(cfg, migrate=False)

    def make() -> Pipeline:
        return Pipeline(
            engine, cfg, node=NODE, blobs=FileBlobStore(paths.blobs), spool_dir=paths.spool
        )

    return cfg, paths.spool, SpoolWriter(paths.spool), make


def test_pipeline_threads_stores_and_dedupes(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    _, spool_dir, spool, make_pipeline = pipeline_on(engine, store_url, tmp_path)
    enqueue(
        store_url,
        spool,
        [raw_mail("a1@x", "First"), raw_mail("a2@x", "Re: First", reply_to="a1@x")],
    )
    enqueue(store_url, spool, [raw_mail("a1@x", "First")], rcpt="sales+vip@acme.example")
    enqueue(store_url, spool, [b"Subject: no sender at all\r\n\r\nhello\r\n"], mail_from=None)
    pipeline = make_pipeline()
    assert pipeline.run_batch() == 4
    assert pipeline.run_batch() == 0
    with engine.connect() as conn:
        [ticket] = store.list_tickets(conn)
        assert ticket.message_count == 2
        assert ticket.subject == "First"
        assert ticket.contact == "ann@example.com"
        _, conversation = store.get_ticket(conn, ticket.number) or (None, [])
        assert conversation[0].delivered_to == ("sales@acme.example", "support@acme.example")
        states = {r.state: r for r in queue.list_rows(conn, None, 10)}
        assert states["quarantined"].reason is not None
        assert "no sender" in states["quarantined"].reason
    spool.close()
    SpoolWriter(spool_dir).append_batch([b"newer segment"])
    # Filed but not read: the raw bytes are only in the spool, which stays.
    assert pipeline.clean_spool() == 0
    with engine.connect() as conn:
        _, conversation = store.get_ticket(conn, ticket.number) or (None, [])
        assert [m.unread for m in conversation] == [True, True]
        assert [m.text for m in conversation] == ["", ""]
    assert pipeline.run_reading() == 2
    assert pipeline.run_reading() == 0
    with engine.connect() as conn:
        _, conversation = store.get_ticket(conn, ticket.number) or (None, [])
        assert [m.unread for m in conversation] == [False, False]
        assert [m.text for m in conversation] == ["body of a1@x\n", "body of a2@x\n"]
    # Read: the raw bytes are in the blob store now, so the spool can go.
    assert pipeline.clean_spool() >= 1


def test_pipeline_threads_out_of_order_merges_and_follows_tokens(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    # Each batch is one message, so every look-up sees what the ones before stored.
    _, _, spool, make_pipeline = pipeline_on(engine, store_url, tmp_path)
    pipeline = make_pipeline()

    def file(*payloads: bytes) -> None:
        for payload in payloads:
            enqueue(store_url, spool, [payload])
            assert pipeline.run_batch() == 1

    file(
        raw_mail("c1@x", "Printer"),
        raw_mail("c3@x", "Re: Printer", reply_to="c2@x"),  # its parent is still on its way
    )
    with engine.connect() as conn:
        assert len(store.list_tickets(conn)) == 2
    file(raw_mail("c2@x", "Re: Printer", reply_to="c1@x"))  # joins c1's and takes c3's along
    file(raw_mail("c4@x", "Re: Printer", reply_to="c3@x"))  # answers a merged-in message
    file(raw_mail("c0@x", "Printer (first try)"))  # answered by nothing yet: a new ticket
    with engine.connect() as conn:
        live = store.list_tickets(conn)
    assert sorted(t.message_count for t in live) == [1, 4]
    printer = next(t for t in live if t.message_count == 4)
    file(
        raw_mail("c5@x", f"Still broken [#{printer.number}]"),  # a participant's token
        raw_mail("c6@x", f"About [#{printer.number}]", sender="eve@elsewhere.example"),
        raw_mail("c1@x", "Printer"),  # a duplicate
    )
    with engine.connect() as conn:
        _, conversation = store.get_ticket(conn, printer.number) or (None, [])
        ids = [m.message_id for m in conversation]
        assert sorted(ids) == ["c1@x", "c2@x", "c3@x", "c4@x", "c5@x"]
        assert len(store.list_tickets(conn)) == 3  # eve's token named no ticket of hers
        states = [r.state for r in queue.list_rows(conn, None, 20)]
        assert states == ["done"] * 8


def test_reading_waits_for_its_turn_and_retries_a_failure(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    from gateway.inbound.spool import HEADER_SIZE

    _, spool_dir, spool, make_pipeline = pipeline_on(engine, store_url, tmp_path)
    first, second = enqueue(
        store_url, spool, [raw_mail("r1@x", "First"), raw_mail("r2@x", "Second")]
    )
    pipeline = make_pipeline()
    assert pipeline.run_batch() == 2
    # While mail keeps coming, only what was filed long enough ago is read.
    assert pipeline.run_reading(filed_before=utcnow() - timedelta(seconds=5)) == 0
    # The second message's spooled bytes go bad before it is read (and no blob has them).
    with engine.connect() as conn:
        segment, offset = conn.execute(
            text('SELECT segment, "offset" FROM inbound WHERE id = :i'), {"i": second}
        ).one()
    with (spool_dir / segment).open("r+b") as fh:
        fh.seek(offset + HEADER_SIZE)
        fh.write(b"XXXX")
    assert pipeline.run_reading() == 2
    with engine.connect() as conn:
        rows = {r.id: r for r in queue.list_rows(conn, None, 10)}
        attempts, retry_at = conn.execute(
            text("SELECT attempts, next_attempt_at FROM unread")
        ).one()
    assert not rows[first].unread
    assert rows[second].unread
    assert "spool record unreadable" in (rows[second].reason or "")
    assert attempts == 1
    assert retry_at is not None
    # It waits for its next attempt, and its spool segment stays for it.
    assert pipeline.run_reading() == 0
    spool.close()
    SpoolWriter(spool_dir).append_batch([b"newer segment"])
    assert pipeline.clean_spool() == 0


def test_contact_keeps_first_name_unless_empty(engine: Engine) -> None:
    with engine.begin() as conn:
        first = store.contact_for(conn, "Ann@Example.com", "")
        assert store.contact_for(conn, "ann@example.com", "Ann Berg") == first
        assert store.contact_for(conn, "ANN@example.com", "Someone Else") == first
        name = conn.execute(text("SELECT name FROM contacts WHERE id = :i"), {"i": first}).scalar()
    assert name == "Ann Berg"


def test_outbox_and_agents(engine: Engine) -> None:
    from datetime import timedelta

    from gateway.store import directory as agents
    from gateway.store import outbox
    from gateway.store.models import utcnow

    with engine.begin() as conn:
        agents.upsert_agent(
            conn, agents.AgentEntry("Jane@Acme.example", "Jane", "Doe", teams=("tier1",))
        )
        agents.upsert_agent(conn, agents.AgentEntry("bob@acme.example", "Bob"))
        assert agents.add_member(conn, "tier1", "bob@acme.example")
        assert not agents.add_member(conn, "tier1", "nobody@acme.example")
        assert agents.remove_user(conn, "bob@acme.example")
        new = outbox.NewOutgoing(
            NODE, "answer", 1, "a.1@gw.example", "support@acme.example", ("ann@x.example",), "ab"
        )
        row_id = outbox.enqueue(conn, new)
        assert outbox.enqueue(conn, new) is None  # a redo queues nothing twice
    with engine.begin() as conn:
        assert agents.list_teams(conn) == {"tier1": ["bob@acme.example", "jane@acme.example"]}
        assert [
            a.address for a in agents.agents_at(conn, ["bob@acme.example", "jane@acme.example"])
        ] == ["jane@acme.example"]
        [due] = outbox.due(conn, NODE, 10)
        assert due.id == row_id
        assert outbox.due(conn, "other-node", 10) == []
        outbox.retry_later(conn, row_id, "451 later", utcnow() + timedelta(hours=1))
        assert outbox.due(conn, NODE, 10) == []
        assert outbox.mark_failed(conn, row_id, "550 no")
        assert not outbox.mark_failed(conn, row_id, "bounced")
        assert (
            outbox.count_recent(conn, "ann@x.example", "answer", utcnow() - timedelta(hours=1)) == 1
        )
        assert outbox.requeue(conn, [row_id]) == 1
        [row] = outbox.list_rows(conn, "pending", 10)
        assert row.attempts == 0
        outbox.mark_sent(conn, row_id)
        assert outbox.list_rows(conn, "sent", 10)[0].sent_at is not None


def test_blob_store_rewrites_a_blob_a_crash_cut_short(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path / "blobs")
    sha = blobs.put(b"raw message bytes")
    blobs.sync()
    blobs.path(sha).write_bytes(b"raw")  # as if the machine died before the data reached disk
    assert blobs.put(b"raw message bytes") == sha
    blobs.sync()
    assert blobs.get(sha) == b"raw message bytes"
    blobs.close()


def test_blob_store_syncs_the_same_blob_put_from_many_threads(tmp_path: Path) -> None:
    # The daemon puts and syncs from to_thread calls; the worker puts a logo in two chunks.
    blobs = FileBlobStore(tmp_path / "blobs")
    payloads = [bytes([n % 3]) * 50_000 for n in range(24)]

    def put_and_sync(data: bytes) -> str:
        sha = blobs.put(data)
        blobs.sync()
        assert blobs.get(sha) == data  # durable and whole once sync returns
        return sha

    with ThreadPoolExecutor(8) as pool:
        digests = set(pool.map(put_and_sync, payloads))
    assert len(digests) == 3
    assert not [p for p in (tmp_path / "blobs").rglob(".*.tmp")]
    blobs.close()
