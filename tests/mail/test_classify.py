"""classify over real-shaped fixtures (read through parse_message), plus never-raises properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.mail.bounces import read_bounce
from gateway.mail.classify import (
    CLASSIFY_RULES,
    DEFAULT_ACTIONS,
    BounceInfo,
    Classification,
    KindAction,
    MailKind,
    OwnIdentity,
    classify,
    may_auto_answer,
)
from gateway.mail.message import Address, Attachment, ParsedMail
from gateway.mail.parse import parse_message

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail" / "classify"
ALL_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.eml"))

OWN = OwnIdentity(
    message_id_domains=frozenset({"mail.acme.example"}),
    loop_values=frozenset({"acme-prod-1"}),
    own_list_ids=frozenset({"support@acme.example"}),
)


def read_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def classify_fixture(name: str, own: OwnIdentity | None = OWN) -> Classification:
    return classify(parse_message(read_fixture(name)), own)


# fixture, expected kind, a fragment the reason must contain
KINDS: list[tuple[str, MailKind, str]] = [
    # automatic replies
    ("outlook-oof-en.eml", MailKind.AUTO_REPLY, "Auto-Submitted: auto-generated"),
    ("outlook-oof-de-exchange2010.eml", MailKind.AUTO_REPLY, "Automatische Antwort"),
    ("outlook-oof-fr.eml", MailKind.AUTO_REPLY, "Réponse automatique"),
    ("outlook-oof-es.eml", MailKind.AUTO_REPLY, "Auto-Submitted"),
    ("outlook-oof-ja.eml", MailKind.AUTO_REPLY, "自動応答"),
    ("exchange2003-oof-en.eml", MailKind.AUTO_REPLY, "Out of Office AutoReply"),
    ("gmail-vacation-en.eml", MailKind.AUTO_REPLY, "Auto-Submitted: auto-replied"),
    ("icloud-vacation-en.eml", MailKind.AUTO_REPLY, "null sender"),
    ("zimbra-oof-en.eml", MailKind.AUTO_REPLY, "zimbra; vacation"),
    ("cpanel-autoresponder.eml", MailKind.AUTO_REPLY, "X-Autorespond"),
    ("yahoo-autoreply-en.eml", MailKind.AUTO_REPLY, "Auto-Reply"),
    ("sieve-vacation-de.eml", MailKind.AUTO_REPLY, "auto-replied (vacation)"),
    ("list-member-oof-en.eml", MailKind.AUTO_REPLY, "Auto-Submitted"),
    ("mdn-read-receipt-outlook.eml", MailKind.AUTO_REPLY, "read receipt"),
    ("lotus-notes-oof-en.eml", MailKind.AUTO_REPLY, "AUTO:"),
    # delivery reports
    ("postfix-dsn-user-unknown.eml", MailKind.BOUNCE, "report-type=delivery-status"),
    ("postfix-dsn-delayed.eml", MailKind.BOUNCE, "report-type=delivery-status"),
    ("exim-bounce.eml", MailKind.BOUNCE, "X-Failed-Recipients"),
    ("exim-delayed-warning.eml", MailKind.BOUNCE, "MAILER-DAEMON"),
    ("qmail-bounce.eml", MailKind.BOUNCE, "failure notice"),
    ("o365-ndr-en.eml", MailKind.BOUNCE, "delivery-status"),
    ("exchange-ndr-de.eml", MailKind.BOUNCE, "delivery-status"),
    ("gmail-dsn-en.eml", MailKind.BOUNCE, "delivery-status"),
    ("yahoo-bounce-en.eml", MailKind.BOUNCE, "Failure Notice"),
    ("sendmail-returned-mail.eml", MailKind.BOUNCE, "Returned mail"),
    # lists and bulk
    ("mailman3-list-post.eml", MailKind.LIST, "Precedence: list"),
    ("mailchimp-newsletter.eml", MailKind.LIST, "bulk sender"),
    ("sendgrid-bulk-precedence.eml", MailKind.LIST, "Precedence: bulk"),
    ("github-notification.eml", MailKind.LIST, "Precedence: list"),
    # spam verdicts
    ("spamassassin-flagged.eml", MailKind.SPAM, "X-Spam-Flag: YES"),
    ("rspamd-flagged.eml", MailKind.SPAM, "X-Spamd-Result"),
    ("o365-junk-forefront.eml", MailKind.SPAM, "SFV:SPM"),
    # our own mail
    ("own-mail-loop.eml", MailKind.LOOP, "mail.acme.example"),
    # people
    ("google-groups-customer.eml", MailKind.NORMAL, "no rule matched"),
    ("spamassassin-ham.eml", MailKind.NORMAL, "no rule matched"),
    ("outlook-normal-distribution-list.eml", MailKind.NORMAL, "no rule matched"),
    ("gmail-human-undeliverable-subject.eml", MailKind.NORMAL, "no rule matched"),
    ("apple-mail-human-automatic-subject.eml", MailKind.NORMAL, "no rule matched"),
    ("thunderbird-human-oof-topic-de.eml", MailKind.NORMAL, "no rule matched"),
    ("gmail-human-forwarded-bounce.eml", MailKind.NORMAL, "no rule matched"),
    ("ios-mail-normal.eml", MailKind.NORMAL, "no rule matched"),
    ("outlook-human-out-of-office-announcement.eml", MailKind.NORMAL, "no rule matched"),
    # breadth: more languages, responders and bounce formats
    ("lotus-notes-auto-subject-en.eml", MailKind.AUTO_REPLY, "(Lotus Notes)"),
    ("lotus-notes-oof-template-body-en.eml", MailKind.AUTO_REPLY, "This is an automated"),
    ("exchange2003-ndr-mixed-en.eml", MailKind.BOUNCE, "subject 'Undeliverable'"),
    ("exchange2003-ndr-unknown-words-de.eml", MailKind.BOUNCE, "returning a message"),
    ("apache-james-sms-gateway-bounce-en.eml", MailKind.BOUNCE, "body 'Invalid user'"),
    ("icloud-vacation-archived-en.eml", MailKind.AUTO_REPLY, "out-of-office text 'Thank"),
    ("webde-vacation-archived-de.eml", MailKind.AUTO_REPLY, "out-of-office text 'Vielen"),
    ("outlook-human-away-but-answers-en.eml", MailKind.NORMAL, "no rule matched"),
    ("gmail-human-short-reply-en.eml", MailKind.NORMAL, "no rule matched"),
    ("exchange2010-oof-nl.eml", MailKind.AUTO_REPLY, "subject 'Automatisch antwoord:'"),
    ("exchange2010-oof-it.eml", MailKind.AUTO_REPLY, "subject 'Risposta automatica:'"),
    ("exchange2010-oof-pt.eml", MailKind.AUTO_REPLY, "subject 'Resposta automática:'"),
    ("exchange2010-oof-sv.eml", MailKind.AUTO_REPLY, "subject 'Automatiskt svar:'"),
    ("exchange2010-oof-da.eml", MailKind.AUTO_REPLY, "subject 'Automatisk svar:'"),
    ("exchange2010-oof-fi.eml", MailKind.AUTO_REPLY, "subject 'Automaattinen vastaus:'"),
    ("exchange2010-oof-pl.eml", MailKind.AUTO_REPLY, "subject 'Odpowiedź automatyczna:'"),
    ("exchange2010-oof-cs.eml", MailKind.AUTO_REPLY, "subject 'Automatická odpověď:'"),
    ("exchange2010-oof-ru.eml", MailKind.AUTO_REPLY, "subject 'Автоматический ответ:'"),
    ("exchange2010-oof-tr.eml", MailKind.AUTO_REPLY, "subject 'Otomatik yanıt:'"),
    ("exchange2010-oof-zh.eml", MailKind.AUTO_REPLY, "subject '自动回复:'"),
    ("aol-vacation-suffix-en.eml", MailKind.AUTO_REPLY, "subject '(Automatic Response)'"),
    ("responder-sentence-subject-en.eml", MailKind.AUTO_REPLY, "'I am out of the office'"),
    ("helpdesk-ack-no-auto-headers-en.eml", MailKind.AUTO_REPLY, "subject 'Ticket Received'"),
    ("zendesk-ack-en.eml", MailKind.AUTO_REPLY, "Auto-Submitted: auto-generated"),
    ("jira-service-desk-en.eml", MailKind.AUTO_REPLY, "Auto-Submitted: auto-generated"),
    ("mimecast-rejected-en.eml", MailKind.BOUNCE, "MAILER-DAEMON/postmaster sender and subj"),
    ("domino-delivery-failure-en.eml", MailKind.BOUNCE, "MAILER-DAEMON/postmaster sender and subj"),
    ("amazon-ses-dsn-en.eml", MailKind.BOUNCE, "multipart/report; report-type=delivery-s"),
    ("mailru-bounce-ru.eml", MailKind.BOUNCE, "MAILER-DAEMON/postmaster sender and subj"),
    ("gmail-human-ticket-received-reply.eml", MailKind.NORMAL, "no rule matched"),
    ("outlook-human-thank-you-new-mail.eml", MailKind.NORMAL, "no rule matched"),
    ("apple-human-absence-reply.eml", MailKind.NORMAL, "no rule matched"),
]


def test_every_fixture_has_a_case() -> None:
    assert sorted(name for name, _, _ in KINDS) == ALL_FIXTURES


@pytest.mark.parametrize(("fixture", "kind", "reason"), KINDS)
def test_kind_and_reason(fixture: str, kind: MailKind, reason: str) -> None:
    result = classify_fixture(fixture)
    assert result.kind is kind, result.reason
    assert reason.lower() in result.reason.lower()
    assert (result.bounce is not None) == (kind is MailKind.BOUNCE)


# fixture, failed recipient, status, diagnostic fragment, original Message-ID, permanent
BOUNCES: list[tuple[str, str | None, str | None, str | None, str | None, bool]] = [
    (
        "postfix-dsn-user-unknown.eml",
        "j.doe@customer.example",
        "5.1.1",
        "User unknown in virtual mailbox table",
        "hdg.1042.a1b2c3d4@mail.acme.example",
        True,
    ),
    (
        "postfix-dsn-delayed.eml",
        "ops@slowhost.example",
        "4.4.1",
        "Connection timed out",
        "hdg.2200.deadbeef@mail.acme.example",
        False,
    ),
    (
        "exim-bounce.eml",
        "m.rossi@azienda.example",
        "5.1.1",
        "550 5.1.1",
        "hdg.3310.cafebabe@mail.acme.example",
        True,
    ),
    ("exim-delayed-warning.eml", "it@farm.example", "4.7.1", "Greylisting", None, False),
    (
        "qmail-bounce.eml",
        "k.nowak@firma.example",
        "5.1.1",
        "no mailbox here by that name",
        "hdg.877.0badf00d@mail.acme.example",
        True,
    ),
    (
        "o365-ndr-en.eml",
        "adele.v@contoso.com",
        "5.1.10",
        "RecipientNotFound",
        "hdg.6001.feedface@mail.acme.example",
        True,
    ),
    (
        "exchange-ndr-de.eml",
        "f.schulz@kunde.de",
        "5.1.1",
        "ExRecipNotFound",
        "hdg.7007.abad1dea@mail.acme.example",
        True,
    ),
    (
        "gmail-dsn-en.eml",
        "tom.h@nowhere.example",
        "5.1.2",
        "NXDOMAIN",
        "CAJp6xq1Zx7Y8rT9q0wN3mB2vC4xD5e6F7g8H9i0J1k@mail.gmail.com",
        True,
    ),
    (
        "yahoo-bounce-en.eml",
        "lisa_m_1990@yahoo.com",
        "5.0.0",
        "Not a valid recipient",
        "hdg.5150.c0ffee00@mail.acme.example",
        True,
    ),
    (
        "sendmail-returned-mail.eml",
        "bob@oldhost.example",
        "5.1.1",
        "User unknown",
        "hdg.12.00000012@mail.acme.example",
        True,
    ),
]


@pytest.mark.parametrize(
    ("fixture", "failed", "status", "diagnostic", "original", "permanent"), BOUNCES
)
def test_bounce_details(
    fixture: str,
    failed: str | None,
    status: str | None,
    diagnostic: str | None,
    original: str | None,
    permanent: bool,
) -> None:
    info = classify_fixture(fixture).bounce
    assert info is not None
    assert info.failed_recipient == failed
    assert info.status == status
    if diagnostic is None:
        assert info.diagnostic is None
    else:
        assert info.diagnostic is not None
        assert diagnostic in info.diagnostic
    assert info.original_message_id == original
    assert info.permanent is permanent


def test_dsn_is_a_bounce_although_it_says_auto_submitted() -> None:
    raw = read_fixture("postfix-dsn-user-unknown.eml")
    assert b"Auto-Submitted: auto-replied" in raw
    assert classify(parse_message(raw)).kind is MailKind.BOUNCE


def test_google_group_relay_is_a_list_unless_it_is_our_own_group() -> None:
    assert classify_fixture("google-groups-customer.eml", None).kind is MailKind.LIST
    as_list_id = OwnIdentity(frozenset(), own_list_ids=frozenset({"<support.acme.example>"}))
    assert classify_fixture("google-groups-customer.eml", as_list_id).kind is MailKind.NORMAL
    other_group = OwnIdentity(frozenset(), own_list_ids=frozenset({"sales@acme.example"}))
    assert classify_fixture("google-groups-customer.eml", other_group).kind is MailKind.LIST


def test_own_list_does_not_hide_a_newsletter_relayed_through_it() -> None:
    raw = read_fixture("google-groups-customer.eml").replace(
        b"X-BeenThere:", b"X-MC-User: a1b2c3d4e5f6\nX-BeenThere:", 1
    )
    assert classify(parse_message(raw), OWN).kind is MailKind.LIST


def test_loop_needs_an_identity() -> None:
    assert classify_fixture("own-mail-loop.eml", None).kind is MailKind.AUTO_REPLY


def test_loop_header_alone_is_a_loop_only_with_our_value() -> None:
    raw = read_fixture("own-mail-loop.eml").replace(
        b"<hdg.9001.0f0f0f0f@mail.acme.example>", b"<abc123@relay.elsewhere.example>"
    )
    mail = parse_message(raw)
    result = classify(mail, OWN)
    assert result.kind is MailKind.LOOP
    assert "X-Helpdesk-Gateway-Loop" in result.reason
    other = OwnIdentity(frozenset({"mail.acme.example"}), loop_values=frozenset({"acme-test"}))
    assert classify(mail, other).kind is MailKind.AUTO_REPLY


def test_x_loop_with_our_value_is_a_loop() -> None:
    raw = read_fixture("spamassassin-ham.eml").replace(
        b"User-Agent:", b"X-Loop: acme-prod-1\nUser-Agent:", 1
    )
    assert classify(parse_message(raw), OWN).kind is MailKind.LOOP
    assert classify(parse_message(raw), None).kind is MailKind.NORMAL


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (b"Auto-Submitted: no", MailKind.NORMAL),
        (b"Auto-Submitted: auto-notified", MailKind.AUTO_REPLY),
        (b"X-Autoreply: yes", MailKind.AUTO_REPLY),
        (b"X-Autogenerated: Reply", MailKind.AUTO_REPLY),
        (b"X-POST-MessageClass: 9; Autoresponder", MailKind.AUTO_REPLY),
        (b"X-FC-MachineGenerated: true", MailKind.AUTO_REPLY),
        (b"Precedence: auto_reply", MailKind.AUTO_REPLY),
        (b"Return-Path: <>", MailKind.AUTO_REPLY),
        (b"X-OTRS-Loop: yes", MailKind.AUTO_REPLY),
        (b"X-Auto-Response-Suppress: All", MailKind.NORMAL),
        (b"X-Auto-Response-Suppress: OOF, AutoReply", MailKind.NORMAL),
        (b"X-MS-Exchange-Inbox-Rules-Loop: marta@firma.example", MailKind.NORMAL),
        (b"Precedence: junk", MailKind.LIST),
        (b"List-Unsubscribe: <mailto:leave@news.example>", MailKind.LIST),
        (b"X-Spam-Status: Yes, score=6.1 required=5.0", MailKind.SPAM),
        (b"X-Spam: yes", MailKind.SPAM),
        (b"X-Rspamd-Action: rewrite subject", MailKind.SPAM),
        (b"X-Rspamd-Action: greylist", MailKind.NORMAL),
        (b"X-MS-Exchange-Organization-SCL: 5", MailKind.SPAM),
        (b"X-MS-Exchange-Organization-SCL: 4", MailKind.NORMAL),
        (b"X-MS-Exchange-Organization-SCL: -1", MailKind.NORMAL),
    ],
)
def test_single_header_on_a_human_mail(header: bytes, kind: MailKind) -> None:
    raw = read_fixture("spamassassin-ham.eml")
    # Drop the ham verdicts first so each header is judged alone.
    lines = [
        line
        for line in raw.split(b"\n")
        if not line.startswith((b"X-Spam", b"X-Rspamd", b"X-Spamd", b"\tDKIM", b"Return-Path"))
    ]
    mail = parse_message(header + b"\n" + b"\n".join(lines))
    assert classify(mail, OWN).kind is kind


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Automatic reply: Invoice 12", MailKind.AUTO_REPLY),
        ("Automatisch antwoord: Factuur 12", MailKind.AUTO_REPLY),
        ("Odpowiedź automatyczna: Faktura 12", MailKind.AUTO_REPLY),
        ("Автоматический ответ: Счёт 12", MailKind.AUTO_REPLY),
        ("自动回复: 发票 12", MailKind.AUTO_REPLY),
        ("Otomatik yanıt: Fatura 12", MailKind.AUTO_REPLY),
        ("Out of Office: RE: Invoice 12", MailKind.AUTO_REPLY),
        ("Abwesenheitsnotiz: AW: Rechnung 12", MailKind.AUTO_REPLY),
        ("Automatic reply settings do not work", MailKind.NORMAL),
        ("Undeliverable: Invoice 12", MailKind.NORMAL),
        ("Re: Undelivered Mail Returned to Sender", MailKind.NORMAL),
        ("Out of office until Monday", MailKind.NORMAL),
        ("Abwesenheit: Urlaubsantrag genehmigt?", MailKind.NORMAL),
    ],
)
def test_subject_alone_on_a_new_human_mail(subject: str, kind: MailKind) -> None:
    raw = read_fixture("ios-mail-normal.eml").replace(
        b"Subject: Out of stock item - when back?", f"Subject: {subject}".encode(), 1
    )
    assert classify(parse_message(raw), OWN).kind is kind


def test_precedence_junk_on_a_reply_is_an_auto_reply() -> None:
    raw = read_fixture("ios-mail-normal.eml").replace(
        b"Subject: Out of stock item - when back?",
        b"Subject: Re: Shipping\nPrecedence: junk\nIn-Reply-To: <hdg.1.2@mail.acme.example>",
        1,
    )
    assert classify(parse_message(raw), OWN).kind is MailKind.AUTO_REPLY


def test_weak_subject_counts_on_a_reply() -> None:
    raw = read_fixture("ios-mail-normal.eml").replace(
        b"Subject: Out of stock item - when back?",
        b"Subject: Out of Office\nIn-Reply-To: <hdg.1.2@mail.acme.example>",
        1,
    )
    assert classify(parse_message(raw), OWN).kind is MailKind.AUTO_REPLY


def test_human_with_postmaster_address_and_no_bounce_words_is_normal() -> None:
    raw = read_fixture("ios-mail-normal.eml").replace(
        b"From: Miguel Silva <m.silva@outlook.example>",
        b"From: Miguel Silva <postmaster@outlook.example>",
        1,
    )
    assert classify(parse_message(raw), OWN).kind is MailKind.NORMAL


def test_mailer_daemon_text_bounce_in_html_only() -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\n"
        b"To: support@acme.example\nSubject: Notification\nMessage-ID: <n1@mx.example>\n"
        b"Content-Type: text/html; charset=utf-8\n\n"
        b"<html><body><p>Your message could not be delivered to "
        b"<b>anna@dest.example</b>.</p><p>550 5.2.2 mailbox full</p></body></html>\n"
    )
    result = classify(parse_message(raw))
    assert result.kind is MailKind.BOUNCE
    assert result.bounce == BounceInfo(
        failed_recipient="anna@dest.example",
        status="5.2.2",
        diagnostic="550 5.2.2 mailbox full",
        original_message_id=None,
        permanent=True,
    )


def test_abuse_feedback_report_goes_with_bounces() -> None:
    raw = (
        b"From: <staff@hotmail.example>\nTo: support@acme.example\n"
        b"Subject: complaint about message\n"
        b"Message-ID: <arf1@hotmail.example>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="b1"\n\n'
        b"--b1\nContent-Type: text/plain\n\nThis is an email abuse report.\n"
        b"--b1\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
        b"User-Agent: SomeGenerator/1.0\nVersion: 1\n\n"
        b"--b1\nContent-Type: text/rfc822-headers\n\n"
        b"From: support@acme.example\nMessage-ID: <hdg.77.aa@mail.acme.example>\n\n--b1--\n"
    )
    result = classify(parse_message(raw), OWN)
    assert result.kind is MailKind.BOUNCE
    assert result.bounce is not None
    assert result.bounce.original_message_id == "hdg.77.aa@mail.acme.example"


def test_rules_table_reads_as_the_policy() -> None:
    assert [kind for kind, _ in CLASSIFY_RULES] == [
        MailKind.LOOP,
        MailKind.BOUNCE,
        MailKind.AUTO_REPLY,
        MailKind.SPAM,
        MailKind.LIST,
    ]


def test_actions_cover_every_kind_and_only_normal_mail_is_answered() -> None:
    assert set(DEFAULT_ACTIONS) == set(MailKind)
    assert DEFAULT_ACTIONS[MailKind.LOOP] is KindAction.DROP
    assert DEFAULT_ACTIONS[MailKind.SPAM] is KindAction.QUARANTINE
    assert DEFAULT_ACTIONS[MailKind.AUTO_REPLY] is KindAction.ATTACH
    for kind in MailKind:
        assert may_auto_answer(Classification(kind, "test")) is (kind is MailKind.NORMAL)


# --- never raises -------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=20_000))
def test_classify_never_raises_on_parsed_bytes(raw: bytes) -> None:
    assert isinstance(classify(parse_message(raw), OWN), Classification)


_HEADER_NAMES = st.sampled_from(
    [
        "Auto-Submitted",
        "Precedence",
        "Return-Path",
        "X-Failed-Recipients",
        "Content-Type",
        "Content-Class",
        "List-Id",
        "List-Post",
        "Mailing-List",
        "X-Spamd-Result",
        "X-MS-Exchange-Organization-SCL",
        "X-Forefront-Antispam-Report",
        "X-Helpdesk-Gateway-Loop",
        "X-Autoreply",
        "X-Mailer",
    ]
)
_TEXT = st.text(max_size=300)


@st.composite
def _mails(draw: st.DrawFn) -> ParsedMail:
    data = draw(st.binary(max_size=2000))
    ctype = draw(
        st.sampled_from(
            ["message/delivery-status", "text/rfc822-headers", "message/rfc822", "text/plain"]
        )
    )
    part = Attachment(None, ctype, len(data), None, False, "0" * 64, data)
    sender = draw(st.sampled_from(["MAILER-DAEMON@x.example", "postmaster", "", "a@b"]))
    return ParsedMail(
        message_id=draw(st.one_of(st.none(), _TEXT)),
        in_reply_to=(),
        references=(),
        subject=draw(_TEXT),
        date=None,
        from_=Address(draw(_TEXT), sender),
        sender=None,
        reply_to=(),
        to=(Address("", draw(_TEXT)),),
        cc=(),
        headers=tuple(draw(st.lists(st.tuples(_HEADER_NAMES, _TEXT), max_size=8))),
        text=draw(st.text(max_size=3000)),
        html=draw(st.one_of(st.none(), st.text(max_size=3000))),
        attachments=(part,),
        attached_messages=(),
        repairs=(),
        size=0,
    )


@settings(max_examples=300, deadline=None)
@given(_mails())
def test_classify_and_read_bounce_never_raise_on_odd_values(mail: ParsedMail) -> None:
    result = classify(mail, OWN)
    assert isinstance(result, Classification)
    assert isinstance(read_bounce(mail), BounceInfo)


@pytest.mark.parametrize(
    ("subject", "headers", "kind"),
    [
        ("Re: Order (Automatic Response)", b"", MailKind.AUTO_REPLY),
        ("Order 4711 [Auto-Reply]", b"", MailKind.AUTO_REPLY),
        ("[Auto-Reply] Order 4711", b"", MailKind.AUTO_REPLY),
        ("(Out of Office) Re: Order 4711", b"", MailKind.AUTO_REPLY),
        ("I'm currently out of the office", b"In-Reply-To: <a@b.example>\n", MailKind.AUTO_REPLY),
        ("Request received: Order 4711", b"References: <a@b.example>\n", MailKind.AUTO_REPLY),
        ("Request received: Order 4711", b"", MailKind.NORMAL),
        ("Re: Request received: Order 4711", b"In-Reply-To: <a@b.example>\n", MailKind.NORMAL),
        ("Re: I'm out of the office next week", b"In-Reply-To: <a@b.example>\n", MailKind.NORMAL),
        ("Why is my ticket received but not answered (automatic response?)", b"", MailKind.NORMAL),
    ],
)
def test_responder_subjects(subject: str, headers: bytes, kind: MailKind) -> None:
    raw = (
        b"From: Pat <pat@customer.example>\nTo: support@acme.example\nSubject: "
        + subject.encode()
        + b"\n"
        + headers
        + b"\nHello\n"
    )
    assert classify(parse_message(raw)).kind is kind
