"""The quick MIME reader builds what the stdlib parser builds, or steps aside.

``parse_message`` cuts plain, well-formed MIME at its boundaries itself and
leaves everything else to the stdlib parser; each message here is parsed both
ways and the results must be equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bench.corpus import generate
from gateway.mail import parse
from gateway.mail.message import ParsedMail
from gateway.mail.parse import parse_message

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"


def _both_ways(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[ParsedMail, ParsedMail]:
    quick = parse_message(raw)
    with monkeypatch.context() as patch:
        patch.setattr(parse, "_quick_tree", lambda _data: None)
        full = parse_message(raw)
    return quick, full


def _multipart(body: str, *, boundary: str = "b1", head: str = "", eol: str = "\r\n") -> bytes:
    lines = [
        "From: Ann <ann@example.com>",
        "To: support@acme.example",
        "Subject: Test",
        "Message-ID: <q@example.com>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        *([head] if head else []),
        "",
        body,
    ]
    return eol.join(lines).replace("\r\n", eol).encode("utf-8")


TEXT = "Content-Type: text/plain; charset=utf-8\r\n\r\nHello there\r\n"
HTML = "Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello</p>\r\n"
FILE = (
    "Content-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=a.pdf\r\n\r\nJVBERi0xLjQK\r\n"
)

SHAPES: dict[str, bytes] = {
    "two parts": _multipart(f"--b1\r\n{TEXT}--b1\r\n{FILE}--b1--\r\n"),
    "preamble and epilogue": _multipart(
        f"This is a MIME message.\r\n\r\n--b1\r\n{TEXT}--b1--\r\nepilogue\r\n"
    ),
    "no line break after the close": _multipart(f"--b1\r\n{TEXT}--b1--"),
    "blanks after a boundary": _multipart(f"--b1  \t\r\n{TEXT}--b1-- \r\n"),
    "boundary as a prefix of a longer line": _multipart(
        f"--b1\r\n{TEXT}--b1x is not a boundary\r\n--b1--\r\n"
    ),
    "nested alternative": _multipart(
        '--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n'
        f"--b2\r\n{TEXT}--b2\r\n{HTML}--b2--\r\ninner epilogue\r\n--b1\r\n{FILE}--b1--\r\n"
    ),
    "part without headers": _multipart("--b1\r\n\r\njust text\r\n--b1--\r\n"),
    "bare LF": _multipart(f"--b1\r\n{TEXT}--b1\r\n{FILE}--b1--\r\n", eol="\n"),
    "folded headers": _multipart(
        "--b1\r\nContent-Type: text/plain;\r\n\tcharset=utf-8\r\n\r\nfolded\r\n--b1--\r\n",
        head="X-Long: one\r\n two",
    ),
    "8-bit body": _multipart("--b1\r\nContent-Type: text/plain\r\n\r\nGrüße\r\n--b1--\r\n"),
    # The stdlib flags these or reads them differently: the quick reader must step aside.
    "no close boundary": _multipart(f"--b1\r\n{TEXT}"),
    "no start boundary": _multipart("just text\r\n"),
    "two boundary lines in a row": _multipart(f"--b1\r\n--b1\r\n{TEXT}--b1--\r\n"),
    "attached message": _multipart(
        "--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n--b1--\r\n"
    ),
    "digest": _multipart(f"--b1\r\n{TEXT}--b1--\r\n").replace(b"mixed", b"digest"),
    "no blank line after the headers": b"Subject: x\r\nnot a header line\r\nbody\r\n",
    "continuation first": b" folded\r\nSubject: x\r\n\r\nbody\r\n",
    "bare CR": b"Subject: x\r\n\r\nline\rmore\r\n",
    "mbox From line": b"From ann@example.com Mon Jan 1\r\nSubject: x\r\n\r\nbody\r\n",
    "base64 multipart": _multipart(
        f"--b1\r\n{TEXT}--b1--\r\n", head="Content-Transfer-Encoding: base64"
    ),
}


def _fixture_and_corpus() -> Iterator[tuple[str, bytes]]:
    for path in sorted(FIXTURES.rglob("*.eml")):
        yield str(path.relative_to(FIXTURES)), path.read_bytes()
    for n, mail in enumerate(generate(200, seed=11)):
        yield f"corpus {n}", mail.data
    built = EmailMessage()
    built["From"] = "Ann <ann@example.com>"
    built["Subject"] = "Built"
    built.set_content("plain text\n")
    built.add_alternative("<p>html</p>", subtype="html")
    built.add_attachment(b"\x00\x01" * 500, maintype="application", subtype="octet-stream")
    yield "EmailMessage", built.as_bytes()


@pytest.mark.parametrize(("name", "raw"), list(SHAPES.items()), ids=list(SHAPES))
def test_each_shape_reads_the_same_both_ways(
    name: str, raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick, full = _both_ways(raw, monkeypatch)
    assert quick == full


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("two parts", True),
        ("nested alternative", True),
        ("bare LF", True),
        ("no close boundary", False),
        ("attached message", False),
        ("digest", False),
        ("bare CR", False),
    ],
)
def test_quick_reader_steps_aside_where_the_stdlib_flags_something(
    name: str, expected: bool
) -> None:
    assert (parse._quick_tree(SHAPES[name]) is not None) is expected


def test_fixtures_and_corpus_read_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_count = 0
    total = 0
    for name, raw in _fixture_and_corpus():
        total += 1
        quick_count += parse._quick_tree(raw.replace(b"\x00", b"")) is not None
        quick, full = _both_ways(raw, monkeypatch)
        assert quick == full, name
    # Most real mail is plain, well-formed MIME: the quick reader is the common path.
    assert quick_count > total * 0.8
