"""Pipeline-alone benchmark: the worker's CPU per message, without SMTP in the way.

Run from the repository root::

    .venv/bin/python -m bench.pipeline --n 2000 --runs 3
    .venv/bin/python -m bench.pipeline --n 2000 --profile /tmp/pipeline.prof

Each run makes a fresh SQLite store in a temporary folder, appends the corpus
(:mod:`bench.corpus`) to the spool and enqueues it the way the intake does,
then drains the queue in this process with the worker's own ``Pipeline``. It
prints, per message, the process CPU time (every thread), the main thread's
CPU time and the wall time: first of filing (until every queue row is done,
which is what ``bench.ingest`` waits for), then of reading (until every
message's body is understood and its effects are written).

This is a diagnostic for the worker's hot path; the figures that count are
``bench.ingest``'s, which run the whole daemon.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import text

from bench.corpus import SUPPORT, generate
from gateway.config.schema import Settings
from gateway.daemon import Paths, prepare_store
from gateway.inbound.spool import SpoolWriter
from gateway.logs import configure_logging
from gateway.pipeline import Pipeline
from gateway.store import queue
from gateway.store.blobs import FileBlobStore
from gateway.store.engine import make_sync_engine
from gateway.store.queue import NewInbound

NODE = "bench"
ENQUEUE_GROUP = 8
"""Messages per enqueue transaction, as K=8 sessions give the intake's group commit."""


def _settings(folder: Path, batch: int) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": folder / "var",
            "node": NODE,
            "pipeline": {"batch_size": batch},
            "channels": [{"name": "support", "kind": "team_email", "address": SUPPORT}],
        }
    )


def _clock() -> tuple[float, float, float]:
    return time.process_time(), time.thread_time(), time.perf_counter()


def one_run(n: int, seed: int, batch: int, profile: cProfile.Profile | None) -> dict[str, float]:
    """File and read ``n`` messages in a fresh store; figures per message in ms."""
    with tempfile.TemporaryDirectory(prefix="gw-pipeline-") as tmp:
        folder = Path(tmp)
        settings = _settings(folder, batch)
        paths = Paths(settings.data_dir)
        paths.create()
        cfg = prepare_store(settings, migrate=True)
        engine = make_sync_engine(cfg.store_url, pool_size=1, redoable=True)
        spool = SpoolWriter(paths.spool)
        mails = generate(n, seed=seed, tag=f"p{seed}")
        for start in range(0, n, ENQUEUE_GROUP):
            group = mails[start : start + ENQUEUE_GROUP]
            refs = spool.append_batch([m.data for m in group])
            with engine.begin() as conn:
                queue.enqueue(
                    conn,
                    [
                        NewInbound(
                            NODE,
                            "smtp",
                            r.sha256,
                            r.length,
                            r.segment,
                            r.offset,
                            peer="127.0.0.1:1",
                            helo="bench",
                            mail_from=m.mail_from,
                            rcpt_to=(SUPPORT,),
                        )
                        for m, r in zip(group, refs, strict=True)
                    ],
                )
        spool.close()
        blobs = FileBlobStore(paths.blobs)
        pipeline = Pipeline(engine, cfg, node=NODE, blobs=blobs, spool_dir=paths.spool)
        if profile is not None:
            profile.enable()
        cpu0, main0, wall0 = _clock()
        while pipeline.run_batch():
            pass
        cpu1, main1, wall1 = _clock()
        while pipeline.run_reading():
            pass
        cpu2, main2, wall2 = _clock()
        if profile is not None:
            profile.disable()
        with engine.connect() as conn:
            filed = conn.execute(text("SELECT count(*) FROM inbound WHERE state = 'done'")).scalar()
        blobs.close()
        engine.dispose()
    if filed != n:
        raise SystemExit(f"only {filed} of {n} messages were filed")
    per = 1000 / n
    return {
        "file_cpu": (cpu1 - cpu0) * per,
        "file_main": (main1 - main0) * per,
        "file_wall": (wall1 - wall0) * per,
        "read_cpu": (cpu2 - cpu1) * per,
        "read_main": (main2 - main1) * per,
        "read_wall": (wall2 - wall1) * per,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="messages per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--batch", type=int, default=100, help="messages a batch takes ([pipeline] batch_size)"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of every run here")
    args = parser.parse_args(argv)
    # As the daemon logs when not on a terminal: one JSON line per event (here to nowhere).
    configure_logging("info", "json", open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    profile = cProfile.Profile() if args.profile else None
    runs = [one_run(args.n, args.seed + i, args.batch, profile) for i in range(args.runs)]
    for i, r in enumerate(runs, 1):
        print(
            f"run {i}: file {r['file_cpu']:.3f} ms cpu/msg (main {r['file_main']:.3f}, "
            f"wall {r['file_wall']:.3f}) | read {r['read_cpu']:.3f} ms cpu/msg "
            f"(main {r['read_main']:.3f}, wall {r['read_wall']:.3f})"
        )
    keys = runs[0].keys()
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    print(
        f"median of {len(runs)} (N={args.n}): file {median['file_cpu']:.3f} ms cpu/msg, "
        f"read {median['read_cpu']:.3f} ms cpu/msg"
    )
    if profile is not None:
        profile.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
