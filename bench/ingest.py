"""Ingest benchmark: messages per second into tickets, against a bare aiosmtpd that only counts.

Run from the repository root::

    .venv/bin/python -m bench.ingest --n 2000 --k 8 --runs 5
    .venv/bin/python -m bench.ingest --store postgresql --runs 5
    .venv/bin/python -m bench.ingest --prefill 100000 --runs 5

Each run sends the same N messages (see :mod:`bench.corpus`) with the same
client (aiosmtplib, K connections, each sending its share on one session) first
to a bare aiosmtpd in its own process whose handler only counts, then to
``gateway serve`` on a fresh store. The gateway's time runs from the first
connect until the last of the N inbound rows is no longer ``queued``, i.e. its
ticket row is committed; the bare server's until the last ``250``. Peak RSS is
VmHWM of the daemon plus VmHWM of its pipeline worker.

Everything listens on 127.0.0.1 port 0, every wait has a timeout, and every
process the benchmark starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiosmtplib
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from bench.corpus import SUPPORT, CorpusGenerator, Mail, describe, generate

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 90.0
SEND_TIMEOUT = 60.0
"""Seconds one SMTP command may take before the client gives up."""
POLL_INTERVAL = 0.02
PREFILL_K = 8
"""Connections that fill the store for ``--prefill``, whatever K is measured."""


class BenchError(Exception):
    """The benchmark could not run (a server did not start, a wait timed out)."""


# -- processes --------------------------------------------------------------------------


def peak_rss_mb(pid: int, key: str = "VmHWM") -> float:
    """VmHWM (peak resident set; or another /proc status ``key``) of ``pid`` in MB, 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds ``pid`` has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_process(proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    """SIGTERM, wait, then SIGKILL."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class BareServer:
    """A bare aiosmtpd in a child process whose handler only counts."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.ingest", "bare-server"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = _readline_with_timeout(self.proc, READY_TIMEOUT)
        if not line.startswith("PORT "):
            stop_process(self.proc)
            raise BenchError(f"bare server said {line!r}")
        self.port = int(line.split()[1])

    def stop(self) -> int:
        """Stop it; returns how many messages it counted."""
        rss = peak_rss_mb(self.proc.pid)
        self.rss_mb = rss
        self.cpu_s = cpu_seconds(self.proc.pid)
        stop_process(self.proc)
        assert self.proc.stdout is not None
        rest = self.proc.stdout.read()
        self.proc.stdout.close()
        for line in rest.splitlines():
            if line.startswith("COUNT "):
                return int(line.split()[1])
        return -1


def _readline_with_timeout(proc: subprocess.Popen[str], timeout: float) -> str:
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            stop_process(proc)
            raise BenchError(f"no answer from {proc.args!r} within {timeout}s")
    return proc.stdout.readline().strip()


def serve_bare() -> int:
    """``bench.ingest bare-server``: aiosmtpd with a counting handler on 127.0.0.1:0."""
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class Counter:
        count = 0

        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            self.count += 1
            return "250 2.0.0 OK"

    async def main() -> None:
        handler = Counter()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="bare.bench", loop=loop), host="127.0.0.1", port=0
        )
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await stop.wait()
        server.close()
        print(f"COUNT {handler.count}", flush=True)

    asyncio.run(main())
    return 0


@dataclass
class Gateway:
    """A ``gateway serve`` child process logging JSON to a file."""

    folder: Path
    store_url: str
    gateway_path: Path | None
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    worker_pid: int = 0
    drain_seconds: float = 0.0
    read_seconds: float = 0.0
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.folder / "gateway.log"
        config = self.folder / "gateway.toml"
        config.write_text(
            f'data_dir = "{self.folder / "var"}"\nnode = "bench"\n\n'
            f'[store]\nurl = "{self.store_url}"\n\n'
            f'[[channels]]\nname = "support"\nkind = "team_email"\naddress = "{SUPPORT}"\n',
            encoding="utf-8",
        )
        self.config = config

    def start(self) -> None:
        """Start the daemon; wait for its listener and its worker."""
        env = dict(os.environ)
        env["GATEWAY__SMTP__LISTEN"] = "127.0.0.1:0"
        env["GATEWAY__LOG__FORMAT"] = "json"
        env["PYTHONUNBUFFERED"] = "1"
        if self.gateway_path is not None:
            env["PYTHONPATH"] = f"{self.gateway_path}{os.pathsep}{env.get('PYTHONPATH', '')}"
        log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(self.config), "serve"],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            env=env,
            cwd=self.folder,
        )
        log_file.close()
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        deadline = time.monotonic() + READY_TIMEOUT
        ready = worker = False
        while not (ready and worker and self.port):
            for event in self.events():
                name = event.get("event")
                if name == "smtp.listening" and event.get("protocol") == "smtp":
                    self.port = int(event["port"])
                elif name == "daemon.ready":
                    ready = True
                elif name == "worker.ready":
                    worker = True
                    self.worker_pid = int(event["pid"])
            if self.proc.poll() is not None:
                raise BenchError(f"gateway exited {self.proc.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"gateway not ready within {READY_TIMEOUT}s; see {self.log_path}")
            time.sleep(0.05)

    def events(self) -> Iterator[dict[str, Any]]:
        """Log events written since the last call."""
        with self.log_path.open("rb") as log:
            log.seek(self._offset)
            chunk = log.read()
        end = chunk.rfind(b"\n") + 1
        self._offset += end
        for line in chunk[:end].splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    yield event

    def rss(self, key: str = "VmHWM") -> tuple[float, float]:
        """(daemon, worker) resident set in MB: peak by default."""
        assert self.proc is not None
        return peak_rss_mb(self.proc.pid, key), peak_rss_mb(self.worker_pid, key)

    def usage(self) -> tuple[float, float, float]:
        """(peak RSS MB of daemon + worker, daemon CPU s, worker CPU s)."""
        assert self.proc is not None
        return sum(self.rss()), cpu_seconds(self.proc.pid), cpu_seconds(self.worker_pid)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None:
            stop_process(self.proc, timeout=40)


# -- the store --------------------------------------------------------------------------


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class StoreProbe:
    """Reads the inbound queue of a store the gateway writes."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(_sync_url(url))

    def max_id(self) -> int:
        """The highest inbound id (0 for an empty or missing table)."""
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM inbound")).scalar())
        except DBAPIError as exc:  # a store the daemon has not created yet
            if "inbound" in str(exc):
                return 0
            raise

    def settled(self, after: int) -> tuple[int, int]:
        """(rows past ``after`` no longer queued, of which quarantined)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT count(*), coalesce(sum(CASE WHEN state = 'quarantined' "
                    "THEN 1 ELSE 0 END), 0) FROM inbound WHERE id > :after AND state != 'queued'"
                ),
                {"after": after},
            ).one()
        return int(row[0]), int(row[1])

    def wait_settled(self, after: int, count: int, timeout: float) -> tuple[float, int]:
        """Wait until ``count`` rows past ``after`` are settled; (monotonic time, quarantined)."""
        deadline = time.monotonic() + timeout
        while True:
            done, quarantined = self.settled(after)
            if done >= count:
                return time.monotonic(), quarantined
            if time.monotonic() > deadline:
                raise BenchError(f"only {done} of {count} messages processed after {timeout}s")
            time.sleep(POLL_INTERVAL)

    def unread(self, after: int) -> int:
        """Messages of rows past ``after`` filed but not read yet (0 before that table)."""
        try:
            with self.engine.connect() as conn:
                query = text("SELECT count(*) FROM unread WHERE inbound_id > :after")
                return int(conn.execute(query, {"after": after}).scalar_one())
        except DBAPIError as exc:  # a gateway from before filing and reading were apart
            if "unread" in str(exc):
                return 0
            raise

    def wait_read(self, after: int, timeout: float) -> float:
        """Wait until every message past ``after`` is read; the monotonic time it was."""
        deadline = time.monotonic() + timeout
        while self.unread(after):
            if time.monotonic() > deadline:
                raise BenchError(f"messages still unread after {timeout}s")
            time.sleep(POLL_INTERVAL)
        return time.monotonic()

    def dispose(self) -> None:
        """Close its connections."""
        self.engine.dispose()


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1, or a given server."""

    def __init__(self, url: str | None) -> None:
        self.root: Path | None = None
        self.bin_dir: Path | None = None
        if url:
            self.base = make_url(url).set(database=None).render_as_string(hide_password=False)
            return
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise BenchError("PostgreSQL is not installed; pass --pg-url")
        self.bin_dir = found[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="gw-bench-pg."))
        data = self.root / "data"
        data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(data, "postgres")
        port = _free_port()
        self._run([str(self.bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
                f"unix_socket_directories = '{data}'\nfsync = on\nmax_connections = 100\n"
                "shared_buffers = 128MB\n"
            )
        self._run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log"), "start"]
        )
        self.base = f"postgresql+asyncpg://postgres@127.0.0.1:{port}"

    @staticmethod
    def _run(argv: list[str]) -> None:
        if Path(argv[0]).name == "initdb":
            argv = [*argv, "-E", "UTF8", "--no-sync"]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def new_database(self) -> str:
        """An empty database; returns its URL."""
        name = f"gw_bench_{uuid.uuid4().hex[:10]}"
        engine = create_engine(_sync_url(f"{self.base}/postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return f"{self.base}/{name}"

    def stop(self) -> None:
        """Stop and delete the throwaway cluster."""
        if self.root is None or self.bin_dir is None:
            return
        with contextlib.suppress(subprocess.SubprocessError):
            self._run(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop"]
            )
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the client -------------------------------------------------------------------------


@dataclass
class Sent:
    """What the client saw."""

    accepted: int
    refused: int
    seconds: float
    """From the first connect to the last answer."""
    client_cpu: float


async def _session(port: int, mails: Sequence[Mail]) -> tuple[int, int]:
    accepted = refused = 0
    smtp = aiosmtplib.SMTP(
        hostname="127.0.0.1",
        port=port,
        timeout=SEND_TIMEOUT,
        start_tls=False,
        local_hostname="bench",
    )
    async with smtp:
        for mail in mails:
            try:
                await smtp.sendmail(mail.mail_from, [SUPPORT], mail.data)
                accepted += 1
            except aiosmtplib.SMTPResponseException:
                refused += 1
    return accepted, refused


async def _send_all(port: int, mails: Sequence[Mail], k: int) -> list[tuple[int, int]]:
    shares = [mails[i::k] for i in range(k)]
    async with asyncio.TaskGroup() as tasks:
        jobs = [tasks.create_task(_session(port, share)) for share in shares if share]
    return [job.result() for job in jobs]


def send(port: int, mails: Sequence[Mail], k: int) -> Sent:
    """Send ``mails`` over ``k`` concurrent connections, several messages per session."""
    cpu = time.process_time()
    start = time.monotonic()
    results = asyncio.run(_send_all(port, mails, k))
    seconds = time.monotonic() - start
    return Sent(
        accepted=sum(a for a, _ in results),
        refused=sum(r for _, r in results),
        seconds=seconds,
        client_cpu=time.process_time() - cpu,
    )


# -- one run ----------------------------------------------------------------------------


@dataclass
class RunResult:
    """The figures of one run."""

    run: int
    bare_mps: float
    bare_rss_mb: float
    gateway_mps: float
    gateway_accept_mps: float
    """Up to the last ``250``, before the pipeline caught up."""
    gateway_read_mps: float
    """Up to the last message read (body stored, notifications written), after filing."""
    ratio: float
    rss_mb: float
    daemon_cpu_s: float
    worker_cpu_s: float
    client_cpu_s: float
    gateway_seconds: float
    refused: int
    quarantined: int


def measure_bare(mails: Sequence[Mail], k: int) -> tuple[float, float]:
    """(messages per second, peak RSS MB) of the bare server."""
    bare = BareServer()
    try:
        sent = send(bare.port, mails, k)
    finally:
        counted = bare.stop()
    if sent.refused or counted != len(mails):
        raise BenchError(f"bare server counted {counted} of {len(mails)}")
    print(
        f"  bare server: cpu {bare.cpu_s:.1f}s, client cpu {sent.client_cpu:.1f}s",
        file=sys.stderr,
        flush=True,
    )
    return len(mails) / sent.seconds, bare.rss_mb


def measure_gateway(
    folder: Path, store_url: str, mails: Sequence[Mail], k: int, args: argparse.Namespace
) -> tuple[float, float, Sent, tuple[float, float, float], int, float]:
    """(msg/s to the last ticket, seconds, what the client saw, usage, quarantined, msg/s
    to the last message read). Usage is peak RSS after reading, CPU up to the last ticket."""
    gateway = Gateway(folder, store_url, args.gateway_path)
    probe = StoreProbe(store_url)
    try:
        gateway.start()
        idle_rss = gateway.rss("VmRSS")
        after = probe.max_id()
        if args.phases:
            # Diagnostic: freeze the worker while mail is accepted, then let it drain alone.
            time.sleep(1.5)  # past the worker's first idle poll, so it holds no lock
            os.kill(gateway.worker_pid, signal.SIGSTOP)
        start = time.monotonic()
        try:
            sent = send(gateway.port, mails, k)
        finally:
            if args.phases:
                os.kill(gateway.worker_pid, signal.SIGCONT)
        end, quarantined = probe.wait_settled(
            after, sent.accepted, timeout=max(120.0, len(mails) / 20)
        )
        if args.phases:
            gateway.drain_seconds = end - (start + sent.seconds)
        usage = gateway.usage()
        read_end = probe.wait_read(after, timeout=max(120.0, len(mails) / 20))
        gateway.read_seconds = read_end - start
        peaks = gateway.rss()  # after reading: the peak of filing and reading
        usage = (sum(peaks), usage[1], usage[2])
        print(
            f"  RSS MB: daemon {idle_rss[0]:.1f} at start, {peaks[0]:.1f} peak; "
            f"worker {idle_rss[1]:.1f} at start, {peaks[1]:.1f} peak",
            file=sys.stderr,
            flush=True,
        )
    finally:
        gateway.stop()
        probe.dispose()
    seconds = end - start
    if args.phases:
        print(
            f"  phases: accept alone {len(mails) / sent.seconds:.1f} msg/s, "
            f"pipeline alone {len(mails) / gateway.drain_seconds:.1f} msg/s",
            file=sys.stderr,
            flush=True,
        )
    return (
        len(mails) / seconds,
        seconds,
        sent,
        usage,
        quarantined,
        len(mails) / gateway.read_seconds,
    )


def prefill(
    folder: Path, store_url: str, count: int, k: int, args: argparse.Namespace
) -> dict[str, float]:
    """Put ``count`` messages into the store through the gateway at full speed."""
    gateway = Gateway(folder, store_url, args.gateway_path)
    probe = StoreProbe(store_url)
    gen = CorpusGenerator(args.seed + 1_000_003, "prefill")
    start = time.monotonic()
    sent_total = 0
    try:
        gateway.start()
        after = probe.max_id()
        while sent_total < count:
            chunk = [gen.next() for _ in range(min(5000, count - sent_total))]
            sent = send(gateway.port, chunk, k)
            sent_total += sent.accepted
            print(f"  prefill: {sent_total}/{count} accepted", file=sys.stderr, flush=True)
        end, quarantined = probe.wait_settled(after, sent_total, timeout=count / 20 + 600)
    finally:
        gateway.stop()
        probe.dispose()
    seconds = end - start
    return {
        "messages": sent_total,
        "seconds": seconds,
        "mps": sent_total / seconds,
        "quarantined": quarantined,
    }


# -- the command ------------------------------------------------------------------------


def _median(results: list[RunResult], name: str) -> float:
    return float(statistics.median(getattr(r, name) for r in results))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """All runs; returns the report."""
    pg = Postgres(args.pg_url) if args.store == "postgresql" else None
    root = Path(tempfile.mkdtemp(prefix="gw-bench."))
    results: list[RunResult] = []
    report: dict[str, Any] = {
        "n": args.n,
        "k": args.k,
        "runs": args.runs,
        "store": args.store,
        "prefill": args.prefill,
        "seed": args.seed,
    }
    try:
        shared: tuple[Path, str] | None = None
        if args.prefill:
            folder = root / "prefilled"
            folder.mkdir()
            url = pg.new_database() if pg else f"sqlite:///{folder / 'gateway.db'}"
            print(f"prefilling {args.prefill} messages ...", file=sys.stderr, flush=True)
            # At least 8 connections: filling the store is not what is measured, and one
            # connection would take several times longer.
            report["prefill_result"] = prefill(
                folder, url, args.prefill, max(args.k, PREFILL_K), args
            )
            shared = (folder, url)
        for i in range(args.runs):
            mails = generate(args.n, seed=args.seed, tag=f"run{i}-{uuid.uuid4().hex[:6]}")
            if i == 0:
                report["corpus"] = describe(mails)
            bare_mps, bare_rss = measure_bare(mails, args.k)
            if shared is None:
                folder = root / f"run{i}"
                folder.mkdir()
                url = pg.new_database() if pg else f"sqlite:///{folder / 'gateway.db'}"
            else:
                folder, url = shared
            mps, seconds, sent, (rss, dcpu, wcpu), quarantined, read_mps = measure_gateway(
                folder, url, mails, args.k, args
            )
            result = RunResult(
                run=i + 1,
                bare_mps=bare_mps,
                bare_rss_mb=bare_rss,
                gateway_mps=mps,
                gateway_accept_mps=args.n / sent.seconds,
                gateway_read_mps=read_mps,
                ratio=mps / bare_mps,
                rss_mb=rss,
                daemon_cpu_s=dcpu,
                worker_cpu_s=wcpu,
                client_cpu_s=sent.client_cpu,
                gateway_seconds=seconds,
                refused=sent.refused,
                quarantined=quarantined,
            )
            results.append(result)
            _print_run(result, sys.stderr if args.json else sys.stdout)
            if shared is None and not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if pg is not None:
            pg.stop()
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    report["results"] = [asdict(r) for r in results]
    report["median"] = {
        name: _median(results, name)
        for name in (
            *("bare_mps", "gateway_mps", "gateway_accept_mps", "gateway_read_mps"),
            *("ratio", "rss_mb"),
        )
    }
    report["max_rss_mb"] = max(r.rss_mb for r in results)
    return report


def _print_run(r: RunResult, out: TextIO) -> None:
    print(
        f"run {r.run}: bare {r.bare_mps:7.1f} msg/s | gateway {r.gateway_mps:7.1f} msg/s "
        f"(accept {r.gateway_accept_mps:7.1f}, read {r.gateway_read_mps:7.1f}) | "
        f"ratio {r.ratio:.3f} | RSS {r.rss_mb:6.1f} MB | "
        f"cpu daemon {r.daemon_cpu_s:.1f}s worker {r.worker_cpu_s:.1f}s "
        f"client {r.client_cpu_s:.1f}s | refused {r.refused} quarantined {r.quarantined}",
        file=out,
        flush=True,
    )


def _print_summary(report: dict[str, Any]) -> None:
    med = report["median"]
    print(
        f"median of {report['runs']} (N={report['n']}, K={report['k']}, {report['store']}, "
        f"prefill {report['prefill']}): bare {med['bare_mps']:.1f} msg/s, gateway "
        f"{med['gateway_mps']:.1f} msg/s (all read {med['gateway_read_mps']:.1f} msg/s), "
        f"ratio {med['ratio']:.3f}, RSS {med['rss_mb']:.1f} MB "
        f"(max {report['max_rss_mb']:.1f})"
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "bare-server"])
    parser.add_argument("--n", type=int, default=2000, help="messages per run (2000)")
    parser.add_argument("--k", type=int, default=8, help="concurrent SMTP connections (8)")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported (5)")
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", help="use this PostgreSQL server instead of a throwaway one")
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        metavar="M",
        help="store M messages through the gateway first, then measure",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--gateway-path", type=Path, help="import the gateway package from this folder (a snapshot)"
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="diagnostic: pause the worker (SIGSTOP) while sending, then time accept and "
        "pipeline separately; the ratio is then not the headline figure",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folders")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    if args.mode == "bare-server":
        return serve_bare()
    try:
        report = run(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    report["machine"] = {"nproc": os.cpu_count(), "python": sys.version.split()[0]}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_summary(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
