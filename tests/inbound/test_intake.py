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
