"""Mail understanding benchmark: our pure pipeline against a bare stdlib parse of the same bytes.

Run from the repository root::

    .venv/bin/python -m bench.inspect --n 2000 --rounds 5
    .venv/bin/python -m bench.inspect --json

(Run it as a module: as a script, ``bench/`` would come first on ``sys.path`` and this
file would shadow the standard library's ``inspect``.)

The corpus is built in memory from the repository's fixture messages
(``tests/fixtures/mail/*/*.eml``) with seeded variations: a new Message-ID on
every copy, a new ``From`` on person-written mail, longer bodies (a text
paragraph repeated, HTML blocks added, newsletter-style tables for list mail)
and, on some, a base64 attachment. Each fixture is put in a category by what
the pipeline itself says about the untouched file (forward, bounce, ...), and
copies are drawn by category weight so the mix resembles a support inbox.

In one process, after a warm-up, each round times three passes over the whole
corpus, in an order that alternates between rounds:

- ``bare``: ``email.message_from_bytes(raw, policy=email.policy.default)``, then
  ``get_body(preferencelist=("plain", "html")).get_content()``;
- ``inspect``: ``gateway.mail.inspect.inspect_message(raw)``, the whole
  understanding plus the JSON-ready description;
- ``understand``: ``understand(parse_message(raw))`` alone.

The medians are reported, with ``inspect`` cost over ``bare`` cost (target at
most 4). A last pass times each step per message to name the slowest messages
and the step that dominates each.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import gc
import hashlib
import json
import os
import platform
import quopri
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from gateway.mail.classify import MailKind, classify
from gateway.mail.forwards import ForwardKind, ForwardPolicy, resolve_authorship, ticket_contact
from gateway.mail.html import html_to_text, sanitize_html
from gateway.mail.inspect import describe, inspect_message
from gateway.mail.parse import parse_message
from gateway.mail.quotes import extract_reply
from gateway.mail.understand import Understanding, understand

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "mail"
SEED = 20250303
TARGET_RATIO = 4.0
STEPS = ("parse", "classify", "authorship", "reply", "html", "describe")

CATEGORY_WEIGHTS: dict[str, float] = {
    "reply": 0.40,
    "new": 0.22,
    "forward": 0.12,
    "auto_reply": 0.08,
    "newsletter": 0.07,
    "bounce": 0.06,
    "spam": 0.02,
    "damaged": 0.03,
}
"""Share of each category in the corpus: mostly people writing and answering."""

PERSON_CATEGORIES = frozenset({"reply", "new", "forward"})
"""Mail a person wrote: it gets a new From, longer text and sometimes an attachment."""

_NAMES = (
    "Anna Berg",
    "Sam Lee",
    "Luc Martin",
    "Priya Nair",
    "Kenji Sato",
    "María José Pérez",
    "Olga Ivanova",
    "Jens Müller",
    "Chloé Dubois",
    "Ahmed Khan",
    "Mei Chen",
    "Pavel Novák",
)
_DOMAINS = ("northwind.example", "contoso.example", "example.de", "example.fr", "example.org")
_FILLER = tuple(
    [
        "the",
        "order",
        "invoice",
        "account",
        "please",
        "could",
        "you",
        "check",
        "again",
        "since",
        "yesterday",
        "we",
        "tried",
        "several",
        "times",
        "but",
        "it",
        "still",
        "does",
        "not",
        "work",
        "our",
        "team",
        "needs",
        "this",
        "fixed",
        "before",
        "the",
        "end",
        "of",
        "the",
        "month",
        "attached",
        "is",
        "a",
        "screenshot",
        "the",
        "customer",
        "number",
        "is",
        "on",
        "the",
        "invoice",
    ]
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One message of the corpus."""

    name: str
    """``folder/fixture#copy``."""
    category: str
    raw: bytes
    extended: bool
    """A body was made longer."""
    attachment: bool
    """A base64 attachment was added."""


# -- building the corpus -----------------------------------------------------------------


def _categorise(path: Path, raw: bytes) -> str:
    """Which category a fixture stands for, by what the pipeline says about the untouched file."""
    if path.parent.name == "bad":
        return "damaged"
    seen = understand(parse_message(raw))
    kind = seen.classification.kind
    if kind is MailKind.BOUNCE:
        return "bounce"
    if kind is MailKind.AUTO_REPLY:
        return "auto_reply"
    if kind is MailKind.SPAM:
        return "spam"
    if kind is MailKind.LIST:
        return "newsletter"
    if seen.authorship.kind is not ForwardKind.NONE:
        return "forward"
    if seen.mail.in_reply_to or seen.mail.references:
        return "reply"
    return "new"


def _split_head(entity: bytes) -> tuple[bytes, bytes, bytes]:
    """Header block, the blank line (with its line ending), body."""
    match = re.search(rb"\r?\n\r?\n", entity)
    if match is None:
        return entity, b"", b""
    return entity[: match.start()], entity[match.start() : match.end()], entity[match.end() :]


_HEADERS = BytesHeaderParser(policy=email.policy.compat32)


def _head_info(head: bytes) -> tuple[str, str | None, str, str]:
    """Content type, boundary, transfer encoding and charset of a header block."""
    msg = _HEADERS.parsebytes(head + b"\n\n")
    cte = str(msg.get("content-transfer-encoding", "7bit")).strip().lower()
    boundary = msg.get_boundary()
    return msg.get_content_type(), boundary, cte, (msg.get_content_charset() or "us-ascii")


def _transfer_decode(body: bytes, cte: str) -> bytes | None:
    if cte == "base64":
        try:
            return base64.b64decode(body, validate=False)
        except ValueError:
            return None
    if cte == "quoted-printable":
        return quopri.decodestring(body)
    if cte in {"7bit", "8bit", "binary"}:
        return body
    return None


def _transfer_encode(data: bytes, cte: str, nl: bytes) -> bytes:
    if cte == "base64":
        text = base64.b64encode(data)
        return nl.join(text[i : i + 76] for i in range(0, len(text), 76)) + nl
    # Keep the part's line endings: the edit may have added "\n" lines.
    data = data.replace(b"\r\n", b"\n")
    if cte == "quoted-printable":
        data = quopri.encodestring(data)
    return data.replace(b"\n", nl)


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_FILLER, k=rng.randint(12, 30))
    return " ".join(words).capitalize() + "."


def _longer_text(data: bytes, copies: int) -> bytes:
    """The first paragraph repeated ``copies`` times: the person wrote more."""
    match = re.search(rb"\r?\n\r?\n", data)
    if match is None:
        return data
    first = data[: match.end()]
    return first * (copies + 1) + data[match.end() :]


def _html_block(rng: random.Random, newsletter: bool) -> bytes:
    if not newsletter:
        return f"<div>{_sentence(rng)} {_sentence(rng)}</div>\n".encode()
    n = rng.randint(1, 999)
    return (
        '<table width="600" cellpadding="0" cellspacing="0" style="border:0;'
        'font-family:Arial,sans-serif"><tr><td style="padding:12px 24px">'
        f'<a href="https://shop.example/p/{n}?utm_source=news&amp;utm_medium=email">'
        f'<img src="https://cdn.shop.example/img/{n}.jpg" width="552" alt="Product {n}"></a>'
        f'<h2 style="color:#2a7a2a;font-size:20px">{_sentence(rng)[:40]}</h2>'
        f'<p style="font-size:14px;line-height:20px">{_sentence(rng)} {_sentence(rng)}</p>'
        f'<a href="https://shop.example/p/{n}" style="background:#2a7a2a;color:#fff;'
        'padding:8px 16px;text-decoration:none">Shop now</a></td></tr></table>\n'
    ).encode()


def _longer_html(data: bytes, rng: random.Random, blocks: int, newsletter: bool) -> bytes:
    """HTML blocks added right after ``<body>`` (or at the start)."""
    extra = b"".join(_html_block(rng, newsletter) for _ in range(blocks))
    match = re.search(rb"<body[^>]*>", data, re.IGNORECASE)
    at = match.end() if match else 0
    return data[:at] + extra + data[at:]


def _edit_leaves(
    entity: bytes, edit: Callable[[str, bytes], bytes | None], done: set[str]
) -> bytes:
    """``entity`` with its first text/plain and first text/html body parts passed to ``edit``.

    Walks the MIME tree on the bytes, so every part it does not edit keeps its bytes.
    """
    head, blank, body = _split_head(entity)
    ctype, boundary, cte, charset = _head_info(head)
    if ctype.startswith("multipart/") and boundary:
        delimiter = re.compile(rb"(^|\r?\n)(--" + re.escape(boundary.encode()) + rb"(?:--)?)")
        pieces = delimiter.split(body)
        # pieces: preamble, (newline, delimiter, part)*; the part after each delimiter
        # starts with the rest of the delimiter line.
        for i in range(3, len(pieces), 3):
            if pieces[i - 1].endswith(b"--"):
                break
            line_end = re.match(rb"[ \t]*\r?\n", pieces[i])
            if line_end is None:
                continue
            part = pieces[i][line_end.end() :]
            pieces[i] = pieces[i][: line_end.end()] + _edit_leaves(part, edit, done)
        return head + blank + b"".join(pieces)
    if ctype not in {"text/plain", "text/html"} or ctype in done:
        return entity
    if "16" in charset or "32" in charset or "2022" in charset:
        return entity
    decoded = _transfer_decode(body, cte)
    if decoded is None:
        return entity
    edited = edit(ctype, decoded)
    if edited is None:
        return entity
    done.add(ctype)
    nl = b"\r\n" if b"\r\n" in head else b"\n"
    return head + blank + _transfer_encode(edited, cte, nl)


def _set_header(head: bytes, name: str, value: str, nl: bytes) -> bytes:
    """``head`` with header ``name`` (folded lines included) replaced by ``value``, if present."""
    pattern = re.compile(
        rb"(?im)^" + re.escape(name.encode()) + rb":[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*"
    )
    line = f"{name}: {value}".encode()
    new, count = pattern.subn(lambda _: line, head, count=1)
    return new if count else head


def _encode_name(name: str) -> str:
    if name.isascii():
        return name
    return "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="


def _attach(raw: bytes, rng: random.Random, nl: bytes) -> bytes:
    """``raw`` with a PDF- or PNG-like base64 attachment; wrapped in multipart/mixed if need be."""
    size = int(rng.choice((4, 12, 40, 120, 300)) * 1024 * rng.uniform(0.6, 1.4))
    if rng.random() < 0.5:
        ctype, name, magic = (
            "application/pdf",
            f"invoice-{rng.randint(1000, 9999)}.pdf",
            b"%PDF-1.7",
        )
    else:
        ctype, name, magic = "image/png", f"screenshot-{rng.randint(1, 99)}.png", b"\x89PNG\r\n"
    data = magic + rng.randbytes(size)
    encoded = base64.b64encode(data)
    lines = nl.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    part = nl.join(
        (
            f'Content-Type: {ctype}; name="{name}"'.encode(),
            f'Content-Disposition: attachment; filename="{name}"'.encode(),
            b"Content-Transfer-Encoding: base64",
            b"",
            lines,
        )
    )
    head, blank, body = _split_head(raw)
    ctype_top, boundary, _, _ = _head_info(head)
    if ctype_top == "multipart/mixed" and boundary:
        closing = b"--" + boundary.encode() + b"--"
        at = body.rfind(closing)
        if at >= 0:
            body = body[:at] + b"--" + boundary.encode() + nl + part + nl + body[at:]
            return head + blank + body
    # Move the top-level Content-* fields into the first part of a new multipart/mixed.
    content = re.compile(rb"(?im)^content-[^:]*:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*(?:\r?\n|$)")
    fields = b"".join(m.group(0) for m in content.finditer(head + nl))
    rest = content.sub(b"", head + nl).rstrip(b"\r\n")
    if not fields:
        fields = b"Content-Type: text/plain; charset=us-ascii" + nl
    if not re.search(rb"(?im)^mime-version:", rest):
        rest += nl + b"MIME-Version: 1.0"
    outer = f"bench-{rng.getrandbits(48):012x}".encode()
    return (
        rest
        + nl
        + b'Content-Type: multipart/mixed; boundary="'
        + outer
        + b'"'
        + nl
        + nl
        + b"--"
        + outer
        + nl
        + fields
        + nl
        + body
        + nl
        + b"--"
        + outer
        + nl
        + part
        + nl
        + b"--"
        + outer
        + b"--"
        + nl
    )


def _variant(path: Path, raw: bytes, category: str, copy: int, rng: random.Random) -> Sample:
    nl = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    head, blank, body = _split_head(raw)
    head = _set_header(head, "Message-ID", f"<bench.{copy}.{rng.getrandbits(40):010x}@bench>", nl)
    if category in PERSON_CATEGORIES:
        name = rng.choice(_NAMES)
        local = name.split()[0].lower().encode("ascii", "ignore").decode() or "user"
        address = f"{local}.{rng.randint(1, 999)}@{rng.choice(_DOMAINS)}"
        head = _set_header(head, "From", f"{_encode_name(name)} <{address}>", nl)
    raw = head + blank + body
    extended = attachment = False
    if category in PERSON_CATEGORIES and rng.random() < 0.6:
        copies = rng.choice((1, 2, 3, 5, 8))

        def edit(ctype: str, data: bytes) -> bytes | None:
            if ctype == "text/plain":
                return _longer_text(data, copies)
            return _longer_html(data, rng, copies, newsletter=False)

        longer = _edit_leaves(raw, edit, set())
        extended = longer != raw
        raw = longer
    elif category == "newsletter":
        blocks = rng.choice((4, 10, 20, 40))
        longer = _edit_leaves(
            raw,
            lambda ctype, data: (
                _longer_html(data, rng, blocks, newsletter=True) if ctype == "text/html" else None
            ),
            set(),
        )
        extended = longer != raw
        raw = longer
    if category in PERSON_CATEGORIES and rng.random() < 0.2:
        raw = _attach(raw, rng, nl)
        attachment = True
    folder = path.parent.name
    return Sample(f"{folder}/{path.name}#{copy}", category, raw, extended, attachment)


def build_corpus(n: int, seed: int = SEED) -> list[Sample]:
    """``n`` messages from the fixtures, drawn by category weight; the same seed, the same bytes."""
    fixtures: dict[str, list[tuple[Path, bytes]]] = {}
    for path in sorted(FIXTURES.glob("*/*.eml")):
        raw = path.read_bytes()
        fixtures.setdefault(_categorise(path, raw), []).append((path, raw))
    rng = random.Random(seed)
    categories = [c for c in CATEGORY_WEIGHTS if fixtures.get(c)]
    weights = [CATEGORY_WEIGHTS[c] for c in categories]
    corpus: list[Sample] = []
    # Every fixture once, then weighted draws.
    plan = [(c, item) for c in categories for item in fixtures[c]]
    while len(plan) < n:
        category = rng.choices(categories, weights)[0]
        plan.append((category, rng.choice(fixtures[category])))
    rng.shuffle(plan)
    for copy, (category, (path, raw)) in enumerate(plan[:n]):
        corpus.append(_variant(path, raw, category, copy, rng))
    return corpus


def composition(corpus: Sequence[Sample]) -> dict[str, Any]:
    """Counts per category and sizes, for the report."""
    sizes = sorted(len(s.raw) for s in corpus)
    return {
        "messages": len(corpus),
        "fixtures": len({s.name.split("#")[0] for s in corpus}),
        "categories": dict(Counter(s.category for s in corpus).most_common()),
        "extended": sum(s.extended for s in corpus),
        "with_attachment": sum(s.attachment for s in corpus),
        "bytes_total": sum(sizes),
        "size_median": sizes[len(sizes) // 2],
        "size_p95": sizes[int(len(sizes) * 0.95)],
        "size_max": sizes[-1],
        "sha256": hashlib.sha256(b"".join(s.raw for s in corpus)).hexdigest()[:16],
    }


# -- timing ------------------------------------------------------------------------------


def _bare(raw: bytes) -> bool:
    """Bare stdlib parse and body read; False when the stdlib raised on the input."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        body = msg.get_body(preferencelist=("plain", "html"))
        if body is not None:
            body.get_content()
    except Exception:  # noqa: BLE001 - the bare parser may raise on bad input; counted, not hidden
        return False
    return True


def _inspect(raw: bytes) -> bool:
    inspect_message(raw)
    return True


def _understand(raw: bytes) -> bool:
    understand(parse_message(raw))
    return True


PASSES: dict[str, Callable[[bytes], bool]] = {
    "bare": _bare,
    "inspect": _inspect,
    "understand": _understand,
}


def _time_pass(fn: Callable[[bytes], bool], raws: Sequence[bytes]) -> tuple[list[float], int]:
    """Seconds per message for one pass over ``raws``, and how many calls returned False."""
    gc.collect()
    clock = time.perf_counter
    failed = 0
    seconds: list[float] = []
    for raw in raws:
        start = clock()
        ok = fn(raw)
        seconds.append(clock() - start)
        if not ok:
            failed += 1
    return seconds, failed


def _steps(raw: bytes) -> dict[str, float]:
    """Seconds per step of ``inspect_message`` for one message, step by step as it runs them."""
    clock = time.perf_counter
    t0 = clock()
    mail = parse_message(raw)
    t1 = clock()
    classification = classify(mail, None)
    t2 = clock()
    authorship = resolve_authorship(mail, team_addresses=frozenset())
    contact = ticket_contact(authorship, ForwardPolicy.ORIGINAL)
    t3 = clock()
    reply = extract_reply(mail.text, mail.html)
    t4 = clock()
    text = mail.text
    if not text.strip() and mail.html:
        text = html_to_text(mail.html)
    html = sanitize_html(mail.html, cid_urls={}) if mail.html else None
    t5 = clock()
    seen = Understanding(mail, classification, authorship, contact, text, reply, html)
    describe(seen)
    t6 = clock()
    return {
        "parse": t1 - t0,
        "classify": t2 - t1,
        "authorship": t3 - t2,
        "reply": t4 - t3,
        "html": t5 - t4,
        "describe": t6 - t5,
    }


def _per_step(corpus: Sequence[Sample], repeat: int = 2) -> list[dict[str, float]]:
    """Per message, the fastest of ``repeat`` timings of each step."""
    gc.collect()
    out: list[dict[str, float]] = []
    for sample in corpus:
        best: dict[str, float] = {}
        for _ in range(repeat):
            for step, seconds in _steps(sample.raw).items():
                best[step] = min(best.get(step, seconds), seconds)
        out.append(best)
    return out


def run(n: int, rounds: int, seed: int = SEED) -> dict[str, Any]:
    """Build the corpus, time the passes, and return every figure as plain data."""
    started = time.perf_counter()
    corpus = build_corpus(n, seed)
    raws = [s.raw for s in corpus]
    built = time.perf_counter() - started

    for fn in PASSES.values():  # warm-up: imports, regex caches, codec lookups
        _time_pass(fn, raws)

    runs: dict[str, list[list[float]]] = {name: [] for name in PASSES}
    failed: dict[str, int] = {}
    order = list(PASSES)
    for r in range(rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            seconds, failures = _time_pass(PASSES[name], raws)
            runs[name].append(seconds)
            failed[name] = failures

    times = {name: [sum(run) for run in rs] for name, rs in runs.items()}
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    # Per message, its median over the rounds: summed by group for the breakdown.
    per_msg = {
        name: [statistics.median(ts) for ts in zip(*rs, strict=True)] for name, rs in runs.items()
    }
    groups: dict[str, list[int]] = {}
    for i, sample in enumerate(corpus):
        groups.setdefault(sample.category, []).append(i)
        groups.setdefault(
            "with attachment" if sample.attachment else "no added attachment", []
        ).append(i)
    breakdown = {
        group: {
            "messages": len(idx),
            **{
                f"{name}_ms": round(1000 * sum(per_msg[name][i] for i in idx) / len(idx), 3)
                for name in PASSES
            },
            "ratio": round(
                sum(per_msg["inspect"][i] for i in idx) / sum(per_msg["bare"][i] for i in idx), 2
            ),
        }
        for group, idx in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    }
    steps = _per_step(corpus)
    step_totals = {step: sum(s[step] for s in steps) for step in STEPS}
    slowest = sorted(range(len(corpus)), key=lambda i: sum(steps[i].values()), reverse=True)[:10]
    return {
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
        },
        "n": len(corpus),
        "rounds": rounds,
        "seed": seed,
        "corpus": composition(corpus),
        "corpus_build_s": round(built, 2),
        "median_s": {k: round(v, 4) for k, v in medians.items()},
        "all_s": {k: [round(t, 4) for t in v] for k, v in times.items()},
        "msgs_per_s": {k: round(len(corpus) / v, 1) for k, v in medians.items()},
        "ms_per_msg": {k: round(1000 * v / len(corpus), 4) for k, v in medians.items()},
        "bare_failed": failed["bare"],
        "ratio_inspect_over_bare": round(medians["inspect"] / medians["bare"], 2),
        "ratio_understand_over_bare": round(medians["understand"] / medians["bare"], 2),
        "target_ratio": TARGET_RATIO,
        "breakdown": breakdown,
        "step_share": {
            step: round(total / sum(step_totals.values()), 3) for step, total in step_totals.items()
        },
        "slowest": [
            {
                "message": corpus[i].name,
                "category": corpus[i].category,
                "bytes": len(corpus[i].raw),
                "ms": round(1000 * sum(steps[i].values()), 2),
                "dominant": max(steps[i], key=lambda step: steps[i][step]),
                "steps_ms": {step: round(1000 * t, 2) for step, t in steps[i].items()},
            }
            for i in slowest
        ],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def _print_report(result: dict[str, Any], out: Any = sys.stdout) -> None:
    def say(line: str = "") -> None:
        print(line, file=out)

    m = result["machine"]
    say(f"machine: nproc={m['nproc']} {m['implementation']} {m['python']} ({m['platform']})")
    c = result["corpus"]
    cats = ", ".join(f"{k} {v}" for k, v in c["categories"].items())
    say(f"corpus: {c['messages']} messages from {c['fixtures']} fixtures (seed {result['seed']})")
    say(f"  categories: {cats}")
    say(
        f"  {c['extended']} with longer bodies, {c['with_attachment']} with an added attachment; "
        f"{c['bytes_total'] / 1e6:.1f} MB, median {c['size_median']} B, "
        f"p95 {c['size_p95']} B, max {c['size_max']} B"
    )
    say(f"rounds: {result['rounds']} (median; passes alternate order each round)")
    for name in PASSES:
        say(
            f"  {name:<10} {result['msgs_per_s'][name]:>9.1f} msgs/s  "
            f"{result['ms_per_msg'][name]:.3f} ms/msg  runs {result['all_s'][name]}"
        )
    say(f"  bare parser raised on {result['bare_failed']} messages (counted as done)")
    ratio = result["ratio_inspect_over_bare"]
    verdict = "within" if ratio <= result["target_ratio"] else "OVER"
    say(f"cost ratio inspect/bare: {ratio:.2f} ({verdict} target {result['target_ratio']})")
    say(f"cost ratio understand/bare: {result['ratio_understand_over_bare']:.2f}")
    say("per group, mean ms per message (per-message medians over the rounds):")
    say(f"  {'group':<20} {'msgs':>5} {'bare':>7} {'inspect':>8} {'underst.':>8} {'ratio':>6}")
    for group, row in result["breakdown"].items():
        say(
            f"  {group:<20} {row['messages']:>5} {row['bare_ms']:>7.3f} {row['inspect_ms']:>8.3f} "
            f"{row['understand_ms']:>8.3f} {row['ratio']:>6.2f}"
        )
    shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in result["step_share"].items())
    say(f"share of pipeline time per step: {shares}")
    say("10 slowest messages (inspect, best of 2):")
    for row in result["slowest"]:
        steps = " ".join(f"{k}={v}" for k, v in row["steps_ms"].items())
        say(
            f"  {row['ms']:>7.2f} ms  {row['dominant']:<10} {row['message']} "
            f"({row['category']}, {row['bytes']} B)  [{steps}]"
        )
    say(f"elapsed: {result['elapsed_s']} s")


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--seed", type=int, default=SEED, help="corpus seed")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when the ratio is over the target."""
    args = _parse_args(argv)
    result = run(args.n, args.rounds, args.seed)
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_report(result)
    return 0 if result["ratio_inspect_over_bare"] <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
