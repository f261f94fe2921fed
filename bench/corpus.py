"""A deterministic corpus of realistic help-desk mail for the ingest benchmark.

New conversations and replies (with real In-Reply-To and References naming
earlier messages of the same corpus), 2–20 KB each: plain text, quoted-printable
UTF-8, multipart/alternative, and multipart/mixed with PDF- or PNG-like
attachments; Received chains, DKIM and Authentication-Results headers, a spread
of senders and mail clients, all addressed to support@acme.example.

The same ``seed`` gives the same messages; ``tag`` goes into every Message-ID so
that corpora for successive runs into one store never collide.
"""

from __future__ import annotations

import base64
import quopri
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

SUPPORT = "support@acme.example"
MIN_SIZE = 2 * 1024
MAX_SIZE = 20 * 1024

_FIRST_NAMES = (
    "Anna Berg Sam Lee Luc Martin Priya Nair Kenji Sato María José Olga Ivanova Tom Baker "
    "Fatima Zahra Jens Müller Chloé Dubois Ahmed Khan Sofia Rossi Liam O'Brien Mei Chen "
    "Noah Smith Emma Johansson Lucas Silva Aisha Bello Pavel Novák Hanna Virtanen Diego Ramos"
)
_FIRST = tuple(_FIRST_NAMES.split())
_DOMAINS = (
    "northwind.example",
    "contoso.example",
    "fabrikam.example",
    "mail.example.com",
    "example.org",
    "globex.example",
    "initech.example",
    "umbrella.example",
    "example.de",
    "example.fr",
)
_RELAYS = ("mx1.acme.example", "mx2.acme.example", "smtp-in.acme.example")
_CLIENTS = (
    ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Thunderbird/115.6.0"),
    ("X-Mailer", "Apple Mail (2.3774.300.61.1.2)"),
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("X-Mailer", "iPhone Mail (21C66)"),
    ("User-Agent", "Roundcube Webmail/1.6.5"),
    ("X-Google-Smtp-Source", "AGHT+IHb7c1oOQ9kq3N5tq0y7P0m"),
)
_TOPICS = (
    "Invoice {n} shows the wrong VAT number",
    "Cannot log in after password reset",
    "Order #{n} arrived damaged",
    "Question about the annual plan",
    "Export to CSV times out",
    "Refund for order {n}",
    "API returns 502 since this morning",
    "Change of billing address",
    "Two-factor codes not arriving",
    "Wrong size delivered (order {n})",
    "Bitte um Rückruf wegen Rechnung {n}",
    "Problème de connexion à mon compte",
    "Cancel my subscription",
    "Feature request: dark mode",
)
_WORD_TEXT = (
    "the order account invoice please could you check again since yesterday we have "
    "tried several times but it still does not work our team needs this fixed before "
    "the end of the month thanks for your help attached is a screenshot of the error "
    "message the customer number is on the invoice kind regards best wishes also the "
    "delivery was late and the package was opened when it arrived can someone call me "
    "back I am available in the afternoon from two until five o'clock we use the "
    "professional plan with twelve seats and the admin account is mine Rechnung "
    "Lieferung bitte danke schön merci beaucoup commande problème déjà été réglé"
)
_WORDS = tuple(_WORD_TEXT.split())
_SIGNOFFS = (
    "Thanks,",
    "Best regards,",
    "Kind regards,",
    "Cheers,",
    "Viele Grüße,",
    "Cordialement,",
)


@dataclass(frozen=True, slots=True)
class Mail:
    """One message of the corpus: the envelope sender and the raw bytes (CRLF lines)."""

    mail_from: str
    data: bytes
    is_reply: bool
    kind: str
    """``plain``, ``qp``, ``alternative`` or ``attachment``."""


@dataclass(slots=True)
class _Conversation:
    subject: str
    customer_name: str
    customer_addr: str
    message_ids: list[str] = field(default_factory=list)
    last_text: str = ""


def _encode_name(name: str) -> str:
    if name.isascii():
        return f'"{name}"' if "'" in name else name
    return "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="


def _encode_subject(subject: str) -> str:
    if subject.isascii():
        return subject
    return "=?utf-8?q?" + quopri.encodestring(subject.encode(), header=True).decode() + "?="


def _paragraphs(rng: random.Random, size: int) -> str:
    out: list[str] = []
    total = 0
    while total < size:
        words = rng.choices(_WORDS, k=rng.randint(25, 70))
        words[0] = words[0].capitalize()
        lines: list[str] = []
        line = ""
        for word in words:
            if len(line) + len(word) + 1 > 72:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line + ".")
        para = "\r\n".join(lines)
        out.append(para)
        total += len(para) + 4
    return "\r\n\r\n".join(out)


def _base64_lines(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def _attachment(rng: random.Random, size: int) -> tuple[str, str, bytes]:
    if rng.random() < 0.5:
        head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        return (
            "application/pdf",
            f"invoice-{rng.randint(1000, 9999)}.pdf",
            head + rng.randbytes(size),
        )
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x03\x20\x00\x00\x02\x58\x08\x06"
    return "image/png", f"screenshot-{rng.randint(1, 99)}.png", head + rng.randbytes(size)


def _html(text: str) -> str:
    paras = "".join(
        f"<p>{p.replace(chr(13) + chr(10), ' ')}</p>\r\n" for p in text.split("\r\n\r\n")
    )
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '</head>\r\n<body style="font-family: Calibri, sans-serif; font-size: 11pt">\r\n'
        f'<div dir="ltr">\r\n{paras}</div>\r\n</body></html>'
    )


def _qp(text: str) -> str:
    return quopri.encodestring(text.replace("\r\n", "\n").encode()).decode().replace("\n", "\r\n")


class CorpusGenerator:
    """Yields messages one by one; replies name earlier messages of the same generator."""

    def __init__(self, seed: int, tag: str, *, reply_share: float = 0.55) -> None:
        self.rng = random.Random(seed)
        self.tag = tag
        self.reply_share = reply_share
        self.conversations: list[_Conversation] = []
        self.start = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
        self.count = 0
        people = max(50, 400)
        self.people = [self._person(i) for i in range(people)]

    def _person(self, i: int) -> tuple[str, str]:
        rng = self.rng
        first, last = rng.choice(_FIRST), rng.choice(_FIRST)
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        local = local.encode("ascii", "ignore").decode() or f"user{i}"
        return f"{first} {last}", f"{local}{i}@{rng.choice(_DOMAINS)}"

    def __iter__(self) -> Iterator[Mail]:
        while True:
            yield self.next()

    def next(self) -> Mail:
        """The next message of the corpus."""
        rng = self.rng
        self.count += 1
        n = self.count
        when = self.start + timedelta(seconds=37 * n)
        reply = bool(self.conversations) and rng.random() < self.reply_share
        if reply:
            # Mostly recent conversations, sometimes an old one.
            recent = self.conversations[-300:]
            conv = rng.choice(recent if rng.random() < 0.85 else self.conversations)
        else:
            name, addr = rng.choice(self.people)
            subject = rng.choice(_TOPICS).format(n=rng.randint(10000, 99999))
            conv = _Conversation(subject, name, addr)
            self.conversations.append(conv)
        domain = conv.customer_addr.rpartition("@")[2]
        message_id = f"<{self.tag}.{n}.{rng.getrandbits(48):012x}@{domain}>"
        target = int(MIN_SIZE * (MAX_SIZE / MIN_SIZE) ** rng.random())
        roll = rng.random()
        kind = (
            "plain"
            if roll < 0.35
            else "qp"
            if roll < 0.5
            else "alternative"
            if roll < 0.8
            else "attachment"
        )
        headers = self._headers(conv, message_id, when, domain, reply)
        budget = max(600, target - len(headers) - 400)
        if kind == "attachment":
            att_size = int(budget * rng.uniform(0.4, 0.7) * 3 / 4)
            text_size = max(300, budget - att_size * 4 // 3)
        else:
            text_size = budget // 2 if kind == "alternative" else budget
        state = rng.getstate()
        for _ in range(4):
            # Encodings and the HTML part inflate the text: shrink until the whole fits.
            rng.setstate(state)
            text = self._text(conv, reply, text_size, when)
            body_headers, body = self._body(kind, text, rng, budget)
            data = (headers + body_headers + "\r\n" + body + "\r\n").encode("utf-8")
            if len(data) <= min(target + 512, MAX_SIZE):
                break
            scale = (target - len(headers)) / max(1, len(data) - len(headers))
            text_size = max(300, int(text_size * scale))
            budget = max(600, int(budget * scale))
        conv.message_ids.append(message_id)
        conv.last_text = text
        return Mail(conv.customer_addr, data, reply, kind)

    def _headers(
        self, conv: _Conversation, message_id: str, when: datetime, domain: str, reply: bool
    ) -> str:
        rng = self.rng
        date = format_datetime(when)
        relay = rng.choice(_RELAYS)
        ip = f"203.0.113.{rng.randint(2, 250)}"
        lines = [
            f"Return-Path: <{conv.customer_addr}>",
            f"Received: from {relay} (localhost [127.0.0.1])\r\n\tby gateway.acme.example "
            f"(Postfix) with ESMTP id {rng.getrandbits(40):010X}\r\n\tfor <{SUPPORT}>; {date}",
            f"Received: from mail.{domain} (mail.{domain} [{ip}])\r\n\tby {relay} (Postfix) "
            f"with ESMTPS id {rng.getrandbits(40):010X}\r\n\tfor <{SUPPORT}>; {date}",
            f"Received: by mail.{domain} with SMTP id {rng.getrandbits(64):016x};\r\n\t{date}",
            f"Authentication-Results: {relay};\r\n\tdkim=pass header.d={domain} "
            f"header.s=s1;\r\n\tspf=pass smtp.mailfrom={conv.customer_addr};\r\n\t"
            f"dmarc=pass (p=NONE) header.from={domain}",
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d="
            + domain
            + "; s=s1;\r\n\tt="
            + str(int(when.timestamp()))
            + "; h=from:to:subject:date:message-id:mime-version;\r\n\tbh="
            + base64.b64encode(rng.randbytes(32)).decode()
            + ";\r\n\tb="
            + "\r\n\t ".join(
                base64.b64encode(rng.randbytes(256)).decode()[i : i + 70] for i in range(0, 344, 70)
            ),
            f"Message-ID: {message_id}",
            f"Date: {date}",
            f"From: {_encode_name(conv.customer_name)} <{conv.customer_addr}>",
            f"To: Acme Support <{SUPPORT}>",
        ]
        subject = conv.subject
        if reply:
            subject = "Re: " + subject
            parent = conv.message_ids[-1]
            refs = conv.message_ids[-10:]
            lines.append(f"In-Reply-To: {parent}")
            lines.append("References: " + "\r\n ".join(refs))
        lines.append(f"Subject: {_encode_subject(subject)}")
        lines.append("MIME-Version: 1.0")
        header, value = rng.choice(_CLIENTS)
        lines.append(f"{header}: {value}")
        if rng.random() < 0.3:
            lines.append("Thread-Index: " + base64.b64encode(rng.randbytes(22)).decode())
        return "\r\n".join(lines) + "\r\n"

    def _text(self, conv: _Conversation, reply: bool, size: int, when: datetime) -> str:
        rng = self.rng
        first = conv.customer_name.split()[0]
        greeting = rng.choice(("Hello,", "Hi team,", "Dear support,", "Hallo,", "Bonjour,"))
        own = _paragraphs(rng, size // 2 if reply and conv.last_text else size)
        text = f"{greeting}\r\n\r\n{own}\r\n\r\n{rng.choice(_SIGNOFFS)}\r\n{conv.customer_name}"
        if reply and conv.last_text:
            quoted = "\r\n".join("> " + line for line in conv.last_text.split("\r\n"))
            stamp = format_datetime(when - timedelta(hours=5))
            text += f"\r\n\r\nOn {stamp}, {first} wrote:\r\n{quoted}"
        return text[: max(size, 300)]

    def _body(self, kind: str, text: str, rng: random.Random, budget: int) -> tuple[str, str]:
        boundary = f"=_b{rng.getrandbits(64):016x}"
        if kind == "plain":
            ascii_text = text.encode("ascii", "replace").decode()
            return (
                'Content-Type: text/plain; charset="us-ascii"; format=flowed\r\n'
                "Content-Transfer-Encoding: 7bit\r\n",
                ascii_text,
            )
        if kind == "qp":
            return (
                'Content-Type: text/plain; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n",
                _qp(text),
            )
        alternative = (
            f"--{boundary}\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            f"{_qp(text)}\r\n"
            f"--{boundary}\r\n"
            'Content-Type: text/html; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            f"{_qp(_html(text))}\r\n"
            f"--{boundary}--"
        )
        if kind == "alternative":
            return f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n', alternative
        outer = f"=_m{rng.getrandbits(64):016x}"
        ctype, filename, payload = _attachment(rng, max(200, int(budget * 0.45)))
        body = (
            "This is a multi-part message in MIME format.\r\n\r\n"
            f"--{outer}\r\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
            f"{alternative}\r\n"
            f"--{outer}\r\n"
            f'Content-Type: {ctype}; name="{filename}"\r\n'
            f'Content-Disposition: attachment; filename="{filename}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
            f"{_base64_lines(payload)}\r\n"
            f"--{outer}--"
        )
        return f'Content-Type: multipart/mixed; boundary="{outer}"\r\n', body


def generate(n: int, *, seed: int = 1, tag: str = "bench") -> list[Mail]:
    """``n`` messages of one corpus, in sending order."""
    gen = CorpusGenerator(seed, tag)
    return [gen.next() for _ in range(n)]


def describe(mails: list[Mail]) -> dict[str, float]:
    """Sizes and shares of a corpus, for the report."""
    sizes = sorted(len(m.data) for m in mails)
    kinds = {k: sum(1 for m in mails if m.kind == k) / len(mails) for k in ("plain", "qp")}
    kinds |= {
        k: sum(1 for m in mails if m.kind == k) / len(mails) for k in ("alternative", "attachment")
    }
    return {
        "messages": len(mails),
        "min_kb": sizes[0] / 1024,
        "median_kb": sizes[len(sizes) // 2] / 1024,
        "max_kb": sizes[-1] / 1024,
        "mean_kb": sum(sizes) / len(sizes) / 1024,
        "reply_share": sum(1 for m in mails if m.is_reply) / len(mails),
        **{f"{k}_share": v for k, v in kinds.items()},
    }
