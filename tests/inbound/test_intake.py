"""The group commit: who waits for whom before the spool fsync and the queue commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine

from gateway.inbound.intake import Accepted, Intake
from gateway.inbound.spool import SpoolWriter
from gateway.store.engine import make_sync_engine
from gateway.store.migrate import upgrade

T = TypeVar("T")
LONG_WAIT = 30.0
"""A batch wait no test may sit out: a test that waited for it would time out first."""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_sync_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def _accepted(n: int) -> Accepted:
    body = f"Subject: {n}\r\nMessage-ID: <{n}@example.com>\r\n\r\nbody\r\n".encode()
    return Accepted(body, "smtp", "127.0.0.1:1", "client", "ann@example.com", ("s@acme.example",))


def _intake(engine: Engine, tmp_path: Path, groups: list[int], *, receiving: int) -> Intake:
    """An intake that waits long for company, with ``receiving`` sessions in DATA."""
    return Intake(
        SpoolWriter(tmp_path / "spool"),
        engine,
        node="n",
        batch_wait=LONG_WAIT,
        on_commit=groups.append,
        arriving=lambda: receiving,
    )


async def _run(intake: Intake, coro: Awaitable[T]) -> T:
    task = asyncio.create_task(intake.run())
    try:
        return await asyncio.wait_for(coro, 10)
    finally:
        task.cancel()


def test_a_group_does_not_wait_when_nobody_else_is_receiving(
    engine: Engine, tmp_path: Path
) -> None:
    groups: list[int] = []
    intake = _intake(engine, tmp_path, groups, receiving=1)

    async def main() -> int:
        return await _run(intake, intake.submit(_accepted(1)))

    assert asyncio.run(main()) == 1
    assert groups == [1]


def test_a_group_waits_for_a_session_still_receiving(engine: Engine, tmp_path: Path) -> None:
    groups: list[int] = []
    # Two sessions in DATA: the second one's message is on its way.
    intake = _intake(engine, tmp_path, groups, receiving=2)

    async def main() -> list[int]:
        first = asyncio.ensure_future(intake.submit(_accepted(1)))

        async def later() -> int:
            await asyncio.sleep(0.2)
            return await intake.submit(_accepted(2))

        both = asyncio.gather(first, later())
        return await _run(intake, both)

    assert sorted(asyncio.run(main())) == [1, 2]
    assert groups == [2]  # one group, one fsync, one commit for both


def test_replay_queues_spooled_messages_whose_rows_were_lost(
    engine: Engine, tmp_path: Path
) -> None:
    from sqlalchemy import text

    from gateway.inbound.intake import envelope_bytes, replay_spool

    spool_dir = tmp_path / "spool"
    intake = _intake(engine, tmp_path, [], receiving=1)
    committed = intake._write_blocking([_accepted(1), _accepted(2)])
    # Power lost after the spool's fdatasync, before SQLite wrote the queue commit out:
    lost = [_accepted(3), _accepted(4)]
    refs = intake.spool.append_batch([m.data for m in lost], [envelope_bytes(m) for m in lost])
    intake.spool.close()

    assert replay_spool(spool_dir, engine, node="n") == 2
    assert replay_spool(spool_dir, engine, node="n") == 0  # replayed once only
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                'SELECT id, segment, "offset", sha256, mail_from, rcpt_to, source, peer, helo'
                " FROM inbound ORDER BY id"
            )
        ).all()
    assert [r.id for r in rows[:2]] == committed
    replayed = rows[2:]
    assert [(r.segment, r.offset, r.sha256) for r in replayed] == [
        (ref.segment, ref.offset, ref.sha256) for ref in refs
    ]
    assert {(r.mail_from, r.rcpt_to, r.source, r.peer, r.helo) for r in replayed} == {
        ("ann@example.com", '["s@acme.example"]', "smtp", "127.0.0.1:1", "client")
    }
    # Rows of another node do not count.
    assert replay_spool(spool_dir, engine, node="other") == 4


def test_a_refused_group_is_cut_from_the_spool(engine: Engine, tmp_path: Path) -> None:
    from gateway.errors import TransientError
    from gateway.inbound.intake import replay_spool
    from gateway.inbound.spool import iter_records, list_segments

    spool_dir = tmp_path / "spool"
    kept = _intake(engine, tmp_path, [], receiving=1)
    kept._write_blocking([_accepted(1)])
    kept.spool.close()
    broken = make_sync_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'gateway.db'}")
    refused = Intake(SpoolWriter(spool_dir), broken, node="n")
    with pytest.raises(TransientError, match="queue commit failed"):
        refused._write_blocking([_accepted(2), _accepted(3)])
    refused.spool.close()
    records = [r for _, name in list_segments(spool_dir) for r in iter_records(spool_dir / name)]
    assert [r.payload for r in records] == [_accepted(1).data]
    assert replay_spool(spool_dir, engine, node="n") == 0
