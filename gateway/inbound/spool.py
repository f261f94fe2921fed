"""The durable spool: accepted raw messages, appended in batches to checksummed segment files.

A batch is one ``write`` and one ``fdatasync``, however many messages it holds;
that is what makes the SMTP ``250`` cheap (DESIGN.md, "The hot path"). A record
is::

    magic "HGW2" | crc32 of payload (4) | payload length (8) | sha256 of payload (32) | payload
      | crc32 of envelope (4) | envelope length (4) | envelope

The envelope (sender, recipients, peer: JSON) lets a record whose queue row
was lost with the page cache be queued again at start-up (see
:func:`gateway.inbound.intake.replay_spool`); records written before envelopes
were kept have magic "HGW1" and end with the payload.

Segments are named by a rising number and never appended to after a restart,
so a torn tail from a crash is never extended. The pipeline reads a record by
(segment, offset), checks it and copies the bytes into the blob store; a
segment is deleted once no queued row points into it.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"HGW2"
MAGIC_WITHOUT_ENVELOPE = b"HGW1"
_MAGICS = (MAGIC, MAGIC_WITHOUT_ENVELOPE)
_HEADER = struct.Struct(">4sIQ32s")
HEADER_SIZE = _HEADER.size
_TRAILER = struct.Struct(">II")
SEGMENT_SUFFIX = ".seg"
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024


class SpoolCorrupt(Exception):
    """A record does not read back as it was written."""


@dataclass(frozen=True, slots=True)
class SpoolRef:
    """Where one message's bytes are in the spool."""

    segment: str
    offset: int
    length: int
    sha256: str


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    """One intact record, as a scan of its segment finds it."""

    offset: int
    payload: bytes
    sha256: str
    envelope: bytes | None
    """The envelope as written, or None for a record from before envelopes were kept."""


def encode_record(payload: bytes, envelope: bytes | None = None) -> tuple[bytes, str]:
    """The record bytes for ``payload`` and the payload's sha256 hex digest."""
    digest = hashlib.sha256(payload).digest()
    magic = MAGIC_WITHOUT_ENVELOPE if envelope is None else MAGIC
    record = _HEADER.pack(magic, zlib.crc32(payload), len(payload), digest) + payload
    if envelope is not None:
        record += _TRAILER.pack(zlib.crc32(envelope), len(envelope)) + envelope
    return record, digest.hex()


class SpoolWriter:
    """Appends batches to the current segment; used by one task of the intake at a time."""

    def __init__(self, directory: Path, *, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._number = max((n for n, _ in list_segments(directory)), default=0)
        self._fd: int | None = None
        self._size = 0
        self._batch_start = 0
        self._name = ""

    @property
    def current(self) -> str:
        """Name of the segment being written, or ``""`` before the first batch."""
        return self._name

    def append_batch(
        self, payloads: Sequence[bytes], envelopes: Sequence[bytes] | None = None
    ) -> list[SpoolRef]:
        """Append every payload (with its envelope), fdatasync once, and say where each went.

        Blocking: call it through ``asyncio.to_thread``. Raises OSError (disk
        full, I/O error); then nothing of the batch may be acknowledged.
        """
        if self._fd is None or self._size >= self.segment_bytes:
            self._rotate()
        assert self._fd is not None
        refs: list[SpoolRef] = []
        chunks: list[bytes] = []
        offset = self._batch_start = self._size
        for i, payload in enumerate(payloads):
            record, sha = encode_record(payload, envelopes[i] if envelopes is not None else None)
            refs.append(SpoolRef(self._name, offset, len(payload), sha))
            chunks.append(record)
            offset += len(record)
        data = b"".join(chunks)
        written = 0
        try:
            view = memoryview(data)
            while written < len(data):
                written += os.write(self._fd, view[written:])
            os.fdatasync(self._fd)
        except OSError:
            # Whatever reached the file is garbage now: start a clean segment next time.
            self.close()
            raise
        self._size = offset
        return refs

    def undo_last_batch(self) -> None:
        """Cut the last batch off its segment: it was refused, so it must never be replayed.

        Blocking. If the cut fails the segment is closed (the next batch starts
        a new one) and the records stay; replaying them would store mail the
        sender also retries, which the pipeline's Message-ID check catches.
        """
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, self._batch_start)
            os.fdatasync(self._fd)
        except OSError:
            self.close()
            return
        self._size = self._batch_start

    def _rotate(self) -> None:
        self.close()
        self._number += 1
        self._name = f"{self._number:016d}{SEGMENT_SUFFIX}"
        path = self.directory / self._name
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self._size = 0
        # The new file's directory entry must be durable before any 250 points into it.
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def close(self) -> None:
        """Close the current segment; the next batch starts a new one."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_record(directory: Path, ref: SpoolRef) -> bytes:
    """The payload at ``ref``, checked against its header and digest; raises SpoolCorrupt."""
    with SpoolReader(directory) as reader:
        return reader.read(ref)


class SpoolReader:
    """Reads records, keeping the last few segments open: the pipeline reads them in order."""

    OPEN_SEGMENTS = 4

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fds: dict[str, int] = {}

    def __enter__(self) -> SpoolReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def read(self, ref: SpoolRef) -> bytes:
        """The payload at ``ref``, checked against its header and digest; raises SpoolCorrupt."""
        try:
            return self._read(ref)
        except SpoolCorrupt:
            if ref.segment not in self._fds:
                raise
        # The open file may be an older segment of that name, deleted since: open it anew.
        self.forget(ref.segment)
        return self._read(ref)

    def _read(self, ref: SpoolRef) -> bytes:
        try:
            data = os.pread(self._fd(ref.segment), HEADER_SIZE + ref.length, ref.offset)
        except OSError as exc:
            self.forget(ref.segment)
            raise SpoolCorrupt(f"{ref.segment}@{ref.offset}: {exc.strerror or exc}") from exc
        return _check(ref, data[:HEADER_SIZE], data[HEADER_SIZE:])

    def _fd(self, segment: str) -> int:
        fd = self._fds.get(segment)
        if fd is None:
            if len(self._fds) >= self.OPEN_SEGMENTS:
                os.close(self._fds.pop(next(iter(self._fds))))
            fd = os.open(self.directory / segment, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            self._fds[segment] = fd
        return fd

    def forget(self, segment: str) -> None:
        """Close ``segment`` (before it is deleted)."""
        fd = self._fds.pop(segment, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        """Close every open segment."""
        for segment in list(self._fds):
            self.forget(segment)


def _check(ref: SpoolRef, header: bytes, payload: bytes) -> bytes:
    if len(header) < HEADER_SIZE:
        raise SpoolCorrupt(f"{ref.segment}@{ref.offset}: truncated header")
    magic, crc, length, digest = _HEADER.unpack(header)
    if magic not in _MAGICS or length != ref.length or len(payload) != length:
        raise SpoolCorrupt(f"{ref.segment}@{ref.offset}: bad record header")
    if zlib.crc32(payload) != crc or digest.hex() != ref.sha256:
        raise SpoolCorrupt(f"{ref.segment}@{ref.offset}: checksum mismatch")
    return payload


def iter_records(
    path: Path, *, skip: Callable[[int, str], bool] | None = None
) -> Iterator[SpoolRecord]:
    """Every intact record of one segment, in order; stops at a torn tail.

    A record for which ``skip(offset, sha256)`` is true is passed over unread
    (its payload is not checked either): a replay looks only at the few
    records that have no queue row.
    """
    with path.open("rb") as fh:
        offset = 0
        while True:
            header = fh.read(HEADER_SIZE)
            if len(header) < HEADER_SIZE:
                return
            magic, crc, length, digest = _HEADER.unpack(header)
            if magic not in _MAGICS:
                return
            sha256 = digest.hex()
            passed = skip is not None and skip(offset, sha256)
            if passed:
                payload = b""
                fh.seek(length, os.SEEK_CUR)
            else:
                payload = fh.read(length)
                if len(payload) != length or zlib.crc32(payload) != crc:
                    return
            size = HEADER_SIZE + length
            envelope = None
            if magic == MAGIC:
                trailer = fh.read(_TRAILER.size)
                if len(trailer) < _TRAILER.size:
                    return
                envelope_crc, envelope_length = _TRAILER.unpack(trailer)
                envelope = fh.read(envelope_length)
                if len(envelope) != envelope_length or zlib.crc32(envelope) != envelope_crc:
                    return
                size += _TRAILER.size + envelope_length
            if not passed:
                yield SpoolRecord(offset, payload, sha256, envelope)
            offset += size


def list_segments(directory: Path) -> list[tuple[int, str]]:
    """The segments in ``directory`` as (number, name), oldest first."""
    found: list[tuple[int, str]] = []
    if not directory.is_dir():
        return found
    for entry in directory.iterdir():
        stem, suffix = entry.stem, entry.suffix
        if suffix == SEGMENT_SUFFIX and stem.isdigit():
            found.append((int(stem), entry.name))
    return sorted(found)
