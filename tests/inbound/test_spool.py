"""The spool on its own: records, checksums, torn tails, rotation and unreadable records."""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from pathlib import Path

import pytest

from gateway.inbound.spool import (
    HEADER_SIZE,
    MAGIC,
    MAGIC_WITHOUT_ENVELOPE,
    SpoolCorrupt,
    SpoolRef,
    SpoolWriter,
    encode_record,
    iter_records,
    list_segments,
    read_record,
)

PAYLOADS = [
    b"From: ann@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
    b"",
    b"\x00\xff binary \r\n.\r\n" * 50,
    b"Subject: three\r\n\r\n" + b"x" * 70_000,
]


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def pairs(path: Path) -> list[tuple[int, bytes]]:
    return [(r.offset, r.payload) for r in iter_records(path)]


def test_record_with_envelope_keeps_it_after_the_payload(spool: Path) -> None:
    record, _ = encode_record(b"hello", b'["smtp"]')
    assert record[:4] == MAGIC
    assert record[HEADER_SIZE : HEADER_SIZE + 5] == b"hello"
    assert int.from_bytes(record[HEADER_SIZE + 5 : HEADER_SIZE + 9], "big") == zlib.crc32(
        b'["smtp"]'
    )
    assert record[HEADER_SIZE + 13 :] == b'["smtp"]'
    writer = SpoolWriter(spool)
    refs = writer.append_batch([b"one", b"two"], [b"e1", b"e22"])
    refs += writer.append_batch([b"three"])  # no envelope: the old layout
    writer.close()
    assert [read_record(spool, r) for r in refs] == [b"one", b"two", b"three"]
    found = list(iter_records(spool / refs[0].segment))
    assert [(r.offset, r.payload, r.envelope) for r in found] == [
        (refs[0].offset, b"one", b"e1"),
        (refs[1].offset, b"two", b"e22"),
        (refs[2].offset, b"three", None),
    ]
    assert [r.sha256 for r in found] == [r.sha256 for r in refs]


@pytest.mark.parametrize("cut", [1, 5, 9])
def test_torn_envelope_ends_the_records(spool: Path, cut: int) -> None:
    writer = SpoolWriter(spool)
    refs = writer.append_batch([b"one", b"two"], [b"envelope", b"envelope"])
    writer.close()
    path = spool / refs[0].segment
    path.write_bytes(path.read_bytes()[:-cut])
    assert pairs(path) == [(0, b"one")]


def test_undo_cuts_the_last_batch_off(spool: Path) -> None:
    writer = SpoolWriter(spool)
    [kept] = writer.append_batch([b"kept"], [b"e"])
    writer.append_batch([b"refused", b"also refused"], [b"e", b"e"])
    writer.undo_last_batch()
    [after] = writer.append_batch([b"after"], [b"e"])
    writer.close()
    assert pairs(spool / kept.segment) == [(0, b"kept"), (after.offset, b"after")]
    assert read_record(spool, after) == b"after"


def test_record_layout_names_crc_length_and_digest() -> None:
    record, sha = encode_record(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest()
    assert len(record) == HEADER_SIZE + 5
    assert record[:4] == MAGIC_WITHOUT_ENVELOPE
    assert int.from_bytes(record[4:8], "big") == zlib.crc32(b"hello")
    assert int.from_bytes(record[8:16], "big") == 5
    assert record[16:48] == hashlib.sha256(b"hello").digest()
    assert record[48:] == b"hello"


def test_batch_reads_back_by_ref_and_by_iteration(spool: Path) -> None:
    writer = SpoolWriter(spool)
    refs = writer.append_batch(PAYLOADS[:2]) + writer.append_batch(PAYLOADS[2:])
    writer.close()
    assert [r.sha256 for r in refs] == [hashlib.sha256(p).hexdigest() for p in PAYLOADS]
    assert [r.length for r in refs] == [len(p) for p in PAYLOADS]
    assert len({r.segment for r in refs}) == 1
    assert [read_record(spool, r) for r in refs] == PAYLOADS
    [(_, name)] = list_segments(spool)
    assert pairs(spool / name) == [(r.offset, p) for r, p in zip(refs, PAYLOADS, strict=True)]
    assert (spool / name).stat().st_size == sum(HEADER_SIZE + len(p) for p in PAYLOADS)


def test_segment_is_private(spool: Path) -> None:
    writer = SpoolWriter(spool)
    [ref] = writer.append_batch([b"secret"])
    writer.close()
    assert (spool / ref.segment).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("cut", [1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 3])
def test_torn_tail_stops_iteration_after_last_whole_record(spool: Path, cut: int) -> None:
    writer = SpoolWriter(spool)
    refs = writer.append_batch([b"one", b"two", b"three"])
    writer.close()
    path = spool / refs[0].segment
    whole = path.read_bytes()
    # A crash mid-write leaves the last record short by some bytes.
    path.write_bytes(whole[: refs[2].offset + cut])
    assert [r.payload for r in iter_records(path)] == [b"one", b"two"]
    assert read_record(spool, refs[1]) == b"two"
    with pytest.raises(SpoolCorrupt, match=r"truncated header|bad record header"):
        read_record(spool, refs[2])


def test_garbage_after_records_is_not_a_record(spool: Path) -> None:
    writer = SpoolWriter(spool)
    [ref] = writer.append_batch([b"kept"])
    writer.close()
    path = spool / ref.segment
    with path.open("ab") as fh:
        fh.write(b"\x00" * 200)
    assert pairs(path) == [(0, b"kept")]


def test_flipped_payload_bit_is_a_checksum_mismatch(spool: Path) -> None:
    writer = SpoolWriter(spool)
    first, second = writer.append_batch([b"first message", b"second message"])
    writer.close()
    path = spool / first.segment
    data = bytearray(path.read_bytes())
    data[first.offset + HEADER_SIZE + 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(SpoolCorrupt, match="checksum mismatch"):
        read_record(spool, first)
    assert read_record(spool, second) == b"second message"
    # Iteration stops at the damaged record: nothing after it is trusted.
    assert pairs(path) == []


def test_ref_with_wrong_digest_or_length_is_refused(spool: Path) -> None:
    writer = SpoolWriter(spool)
    [ref] = writer.append_batch([b"payload"])
    writer.close()
    wrong_sha = SpoolRef(ref.segment, ref.offset, ref.length, "0" * 64)
    with pytest.raises(SpoolCorrupt, match="checksum mismatch"):
        read_record(spool, wrong_sha)
    wrong_length = SpoolRef(ref.segment, ref.offset, ref.length + 1, ref.sha256)
    with pytest.raises(SpoolCorrupt, match="bad record header"):
        read_record(spool, wrong_length)
    wrong_offset = SpoolRef(ref.segment, ref.offset + 1, ref.length, ref.sha256)
    with pytest.raises(SpoolCorrupt, match="bad record header"):
        read_record(spool, wrong_offset)


def test_missing_segment_is_spool_corrupt_not_oserror(spool: Path) -> None:
    spool.mkdir()
    ref = SpoolRef("0000000000000042.seg", 0, 5, hashlib.sha256(b"hello").hexdigest())
    with pytest.raises(SpoolCorrupt, match=re.escape("0000000000000042.seg@0")):
        read_record(spool, ref)


def test_rotation_starts_a_new_segment_past_the_size_limit(spool: Path) -> None:
    writer = SpoolWriter(spool, segment_bytes=1000)
    refs = [writer.append_batch([bytes([n]) * 600])[0] for n in range(4)]
    writer.close()
    # A batch always lands whole in one segment; the next batch starts a new one once full.
    assert [r.segment for r in refs] == [
        "0000000000000001.seg",
        "0000000000000001.seg",
        "0000000000000002.seg",
        "0000000000000002.seg",
    ]
    assert [r.offset for r in refs] == [0, HEADER_SIZE + 600, 0, HEADER_SIZE + 600]
    assert [n for n, _ in list_segments(spool)] == [1, 2]
    for n, ref in enumerate(refs):
        assert read_record(spool, ref) == bytes([n]) * 600


def test_restart_never_appends_to_an_old_segment(spool: Path) -> None:
    first = SpoolWriter(spool)
    [old] = first.append_batch([b"before crash"])
    first.close()
    path = spool / old.segment
    path.write_bytes(path.read_bytes()[:-3])  # torn tail left by the crash
    second = SpoolWriter(spool)
    [new] = second.append_batch([b"after restart"])
    second.close()
    assert new.segment != old.segment
    assert new.segment > old.segment
    assert (new.offset, read_record(spool, new)) == (0, b"after restart")
    assert pairs(path) == []


def test_failed_write_is_raised_and_next_batch_uses_a_fresh_segment(spool: Path) -> None:
    writer = SpoolWriter(spool)
    [first] = writer.append_batch([b"one"])
    assert writer._fd is not None
    # The segment turns unwritable under the writer (an I/O error, a full disk).
    os.close(writer._fd)
    writer._fd = os.open(spool / first.segment, os.O_RDONLY)
    with pytest.raises(OSError, match="Bad file descriptor"):
        writer.append_batch([b"two"])
    [third] = writer.append_batch([b"three"])
    writer.close()
    assert third.segment != first.segment
    assert read_record(spool, first) == b"one"
    assert read_record(spool, third) == b"three"


def test_list_segments_ignores_other_files(spool: Path) -> None:
    spool.mkdir()
    for name in ("0000000000000003.seg", "0000000000000010.seg", "notes.seg", "5.tmp", "x"):
        (spool / name).write_bytes(b"")
    assert list_segments(spool) == [(3, "0000000000000003.seg"), (10, "0000000000000010.seg")]
    assert list_segments(spool / "missing") == []


def test_skipped_records_are_passed_over_unread(spool: Path) -> None:
    writer = SpoolWriter(spool)
    refs = writer.append_batch([b"one", b"two" * 100, b"three"], [b"a", b"b", b"c"])
    writer.close()
    path = spool / refs[0].segment
    data = bytearray(path.read_bytes())
    data[refs[1].offset + HEADER_SIZE] ^= 0x01  # a skipped payload is not even checked
    path.write_bytes(bytes(data))
    middle = (refs[1].offset, refs[1].sha256)
    found = list(iter_records(path, skip=lambda offset, sha: (offset, sha) == middle))
    assert [(r.offset, r.payload, r.envelope) for r in found] == [
        (refs[0].offset, b"one", b"a"),
        (refs[2].offset, b"three", b"c"),
    ]
