"""resolve_authorship over real-shaped forward fixtures (read through parse_message)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.mail.forwards import (
    Authorship,
    ForwardKind,
    ForwardPolicy,
    _html_text,
    _parse_date,
    resolve_authorship,
    ticket_contact,
)
from gateway.mail.message import Address, ParsedMail
from gateway.mail.parse import parse_message

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail" / "forwards"
ALL_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.eml"))
TEAM = frozenset({"support@acme.example"})

HAND = ForwardKind.HAND_FORWARD


def resolve(name: str) -> Authorship:
    return resolve_authorship(parse_message((FIXTURES / name).read_bytes()), team_addresses=TEAM)


# (fixture, author, original subject, forwarded_by, start of the forwarder's note)
HAND_FORWARDS = [
    (
        "gmail-fwd-en.eml",
        "sam.lee@example.com",
        "Order 1182 arrived damaged",
        "bob.tanner@gmail.com",
        "Hi team,",
    ),
    (
        "gmail-fwd-de.eml",
        "anna.berg@example.de",
        "Rechnung 4711 falsch",
        "jonas.weber@gmail.com",
        "Hallo zusammen,",
    ),
    (
        "gmail-fwd-nl.eml",
        "fleur.jansen@example.nl",
        "Levering te laat",
        "pieter.devries@gmail.com",
        "Zie hieronder.",
    ),
    (
        "gmail-fwd-fr.eml",
        "camille.dubois@example.fr",
        "Problème de connexion",
        "luc.martin@gmail.com",
        "Bonjour,",
    ),
    (
        "gmail-fwd-es.eml",
        "lucia.garcia@example.es",
        "Factura duplicada",
        "javier.ruiz@gmail.com",
        "Os reenvío esto.",
    ),
    (
        "gmail-fwd-it.eml",
        "giulia.bianchi@example.it",
        "Reso non ricevuto",
        "marco.rossi@gmail.com",
        "Potete verificare?",
    ),
    (
        "gmail-fwd-pt.eml",
        "ana.costa@example.com.br",
        "Pedido atrasado",
        "rafael.souza@gmail.com",
        "Segue abaixo.",
    ),
    (
        "gmail-fwd-sv.eml",
        "maja.svensson@example.se",
        "Fel i beställning",
        "erik.lund@gmail.com",
        "Kan ni titta",
    ),
    (
        "gmail-fwd-da.eml",
        "sofie.hansen@example.dk",
        "Manglende levering",
        "mads.nielsen@gmail.com",
        "Se nedenfor.",
    ),
    (
        "gmail-fwd-no.eml",
        "ingrid.berg@example.no",
        "Feil på faktura",
        "ola.nordmann@gmail.com",
        "Kan dere sjekke?",
    ),
    (
        "gmail-fwd-fi.eml",
        "aino.korhonen@example.fi",
        "Tilaus puuttuu",
        "mikko.virtanen@gmail.com",
        "Katsokaa tätä.",
    ),
    (
        "gmail-fwd-pl.eml",
        "k.wisniewska@example.pl",
        "Reklamacja zamówienia",
        "piotr.nowak@gmail.com",
        "Przesyłam dalej.",
    ),
    (
        "gmail-fwd-cs.eml",
        "petra.svobodova@example.cz",
        "Chybná faktura",
        "jan.novak@gmail.com",
        "Posílám dál.",
    ),
    (
        "gmail-fwd-ru.eml",
        "olga.smirnova@example.ru",
        "Не пришёл заказ",
        "ivan.petrov@gmail.com",
        "Посмотрите",
    ),
    (
        "gmail-fwd-tr.eml",
        "ayse.demir@example.com.tr",
        "Sipariş gecikti",
        "mehmet.yilmaz@gmail.com",
        "Bakabilir misiniz?",
    ),
    (
        "gmail-fwd-ja.eml",
        "hanako.yamada@example.jp",
        "注文の件",
        "ken.sato@gmail.com",
        "ご確認ください。",
    ),
    ("gmail-fwd-zh.eml", "li.na@example.cn", "订单问题", "wei.wang@gmail.com", "请处理一下。"),
    (
        "gmail-fwd-nested-en.eml",
        "sam.lee@example.com",
        "Broken invoice link",
        "bob.tanner@gmail.com",
        "FYI, see the chain",
    ),
    (
        "outlook-desktop-fwd-de.eml",
        "anna.berg@example.de",
        "Lieferung unvollständig",
        "jonas.weber@acme.example",
        "Hallo Support,",
    ),
    (
        "outlook-desktop-fwd-en-original-message.eml",
        "tom.baker@example.co.uk",
        "Warranty claim",
        "dana.fox@acme.example",
        "Please pick this up.",
    ),
    (
        "outlook-desktop-fwd-nl.eml",
        "fleur.jansen@example.nl",
        "Retour aanvraag",
        "sanne.bakker@acme.example",
        "Ter info.",
    ),
    (
        "outlook-desktop-fwd-sv.eml",
        "maja.svensson@example.se",
        "Återbetalning",
        "erik.lund@acme.example",
        "Kan ni ta denna?",
    ),
    (
        "outlook-desktop-fwd-da.eml",
        "sofie.hansen@example.dk",
        "Forkert vare",
        "mads.nielsen@acme.example",
        "Til jer.",
    ),
    (
        "outlook-desktop-fwd-no.eml",
        "ingrid.berg@example.no",
        "Spørsmål om levering",
        "ola.nordmann@acme.example",
        "Videresender.",
    ),
    (
        "outlook-desktop-fwd-fi.eml",
        "aino.korhonen@example.fi",
        "Laskutusvirhe",
        "mikko.virtanen@acme.example",
        "Tiedoksi.",
    ),
    (
        "outlook-desktop-fwd-pl.eml",
        "k.wisniewska@example.pl",
        "Brak faktury",
        "piotr.nowak@acme.example",
        "Proszę o obsługę.",
    ),
    (
        "outlook-desktop-fwd-cs.eml",
        "petra.svobodova@example.cz",
        "Reklamace",
        "jan.novak@acme.example",
        "Předávám.",
    ),
    (
        "outlook-desktop-fwd-ru.eml",
        "olga.smirnova@example.ru",
        "Возврат денег",
        "ivan.petrov@acme.example",
        "Пересылаю.",
    ),
    (
        "outlook-desktop-fwd-tr.eml",
        "ayse.demir@example.com.tr",
        "Fatura hatası",
        "mehmet.yilmaz@acme.example",
        "Bilginize.",
    ),
    (
        "outlook-desktop-fwd-ja.eml",
        "hanako.yamada@example.jp",
        "配送について",
        "ken.sato@acme.example",
        "ご対応お願いします。",
    ),
    (
        "outlook-desktop-fwd-zh.eml",
        "li.na@example.cn",
        "退款申请",
        "wei.wang@acme.example",
        "请处理。",
    ),
    (
        "outlook-web-fwd-fr.eml",
        "camille.dubois@example.fr",
        "Remboursement",
        "luc.martin@acme.example",
        "Bonjour,",
    ),
    (
        "outlook-web-fwd-es.eml",
        "lucia.garcia@example.es",
        "Cambio de dirección",
        "javier.ruiz@acme.example",
        "Para vosotros.",
    ),
    (
        "outlook-web-fwd-it.eml",
        "giulia.bianchi@example.it",
        "Ordine errato",
        "marco.rossi@acme.example",
        "Vedete voi.",
    ),
    (
        "outlook-web-fwd-pt.eml",
        "ana.costa@example.com.br",
        "Troca de produto",
        "rafael.souza@acme.example",
        "Por favor",
    ),
    (
        "outlook-web-fwd-en.eml",
        "tom.baker@example.co.uk",
        "Cannot log in",
        "dana.fox@acme.example",
        "Another one for you.",
    ),
    (
        "outlook-ios-fwd-en.eml",
        "tom.baker@example.co.uk",
        "Delivery address wrong",
        "dana.fox@acme.example",
        "Can you handle this?",
    ),
    (
        "apple-mail-fwd-en.eml",
        "sam.lee@example.com",
        "Missing parts",
        "bob.tanner@icloud.com",
        "See below.",
    ),
    (
        "apple-mail-fwd-fr.eml",
        "camille.dubois@example.fr",
        "Colis abîmé",
        "luc.martin@icloud.com",
        "Pour vous.",
    ),
    (
        "apple-ios-fwd-de.eml",
        "anna.berg@example.de",
        "Kündigung",
        "jonas.weber@icloud.com",
        "",  # only the client footer: not a note
    ),
    (
        "apple-mail-fwd-es.eml",
        "lucia.garcia@example.es",
        "Garantía",
        "javier.ruiz@icloud.com",
        "Os lo paso.",
    ),
    (
        "apple-mail-fwd-sv.eml",
        "maja.svensson@example.se",
        "Leveransfråga",
        "erik.lund@icloud.com",
        "Till er.",
    ),
    (
        "thunderbird-fwd-de.eml",
        "anna.berg@example.de",
        "Passwort vergessen",
        "jonas.weber@mailbox.org",
        "Zur Info.",
    ),
    (
        "thunderbird-fwd-fr-html.eml",
        "camille.dubois@example.fr",
        "Adresse de livraison",
        "luc.martin@mailbox.org",
        "Voir ci-dessous.",
    ),
    (
        "thunderbird-fwd-en.eml",
        "sam.lee@example.com",
        "Invoice copy",
        "bob.tanner@fastmail.com",
        "",
    ),
    (
        "yahoo-fwd-en.eml",
        "sam.lee@example.com",
        "Refund status",
        "bob.tanner@yahoo.com",
        "Please help this customer.",
    ),
    (
        "zoho-fwd-en.eml",
        "sam.lee@example.com",
        "Account locked",
        "bob@zohomail.eu",
        "Forwarding for support.",
    ),
    (
        "proton-fwd-en.eml",
        "sam.lee@example.com",
        "Data export request",
        "bob.tanner@proton.me",
        "",  # only the client footer: not a note
    ),
    (
        "gmx-fwd-de.eml",
        "anna.berg@example.de",
        "Lastschrift zurückgebucht",
        "jonas.weber@gmx.de",
        "Bitte bearbeiten.",
    ),
    (
        "samsung-fwd-en.eml",
        "sam.lee@example.com",
        "Wrong color",
        "bob.tanner@gmail.com",
        "",  # only the client footer: not a note
    ),
    (
        "android-fwd-de.eml",
        "anna.berg@example.de",
        "Termin verschieben",
        "jonas.weber@t-online.de",
        "",  # only the client footer: not a note
    ),
    (
        "google-groups-hand-forward-en.eml",
        "sam.lee@example.com",
        "Order 2231",
        "bob.tanner@acme-sales.example",
        "Support, please",
    ),
    # Breadth: more clients and languages, HTML-only, encoded bodies, odd names.
    (
        "lotus-notes-fwd-en.eml",
        "randa.karkour@example.com",
        "Egyptian Festival",
        "michelle.lokay@acme.example",
        "Can someone",
    ),
    (
        "lotus-notes-fwd-re-subject-en.eml",
        "susan.hansen@example.edu",
        "Re: Visiting Acme",
        "vince.kaminski@acme.example",
        "FYI.",
    ),
    (
        "exchange-rule-fwd-autogenerated-en.eml",
        "lee.wong@example.sg",
        "App crashes on start",
        "dana.fox@contoso.example",
        "",
    ),
    (
        "apple-mail-fwd-it.eml",
        "giulia.bianchi@example.it",
        "Pacco danneggiato",
        "marco.rossi@example.net",
        "Potete verificare, per favore?",
    ),
    (
        "apple-mail-fwd-nl.eml",
        "fleur.jansen@example.nl",
        "Factuur klopt niet",
        "pieter@example.net",
        "Zie hieronder.",
    ),
    (
        "apple-mail-fwd-pt.eml",
        "ana.costa@example.com.br",
        "Pedido não chegou",
        "rafael@example.net",
        "Segue.",
    ),
    (
        "apple-mail-fwd-da.eml",
        "sofie.hansen@example.dk",
        "Forkert vare",
        "mads@example.net",
        "Kan I se på det?",
    ),
    (
        "apple-mail-fwd-no.eml",
        "ingrid.berg@example.no",
        "Mangler kvittering",
        "ola@example.net",
        "Se under.",
    ),
    (
        "apple-mail-fwd-fi.eml",
        "aino.korhonen@example.fi",
        "Lasku väärin",
        "mikko@example.net",
        "Katsokaa tätä.",
    ),
    (
        "apple-mail-fwd-pl.eml",
        "k.wisniewska@example.pl",
        "Brak faktury",
        "piotr@example.net",
        "Przesyłam dalej.",
    ),
    (
        "apple-mail-fwd-cs.eml",
        "jana.novakova@example.cz",
        "Reklamace",
        "petr@example.net",
        "Posílám dál.",
    ),
    (
        "apple-mail-fwd-ru.eml",
        "olga.ivanova@example.ru",
        "Не пришёл заказ",
        "ivan@example.net",
        "Посмотрите, пожалуйста.",
    ),
    (
        "apple-mail-fwd-tr.eml",
        "ayse.yilmaz@example.com.tr",
        "Fatura hatası",
        "mehmet@example.net",
        "Bakabilir misiniz?",
    ),
    (
        "apple-mail-fwd-ja.eml",
        "hanako.sato@example.jp",
        "商品が届きません",
        "ichiro@example.net",
        "ご確認ください。",
    ),
    (
        "apple-mail-fwd-zh.eml",
        "wang.fang@example.cn",
        "发票有误",
        "li.lei@example.net",
        "请处理。",
    ),
    (
        "thunderbird-fwd-nl.eml",
        "fleur.jansen@example.nl",
        "Levering ontbreekt",
        "pieter@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-es.eml",
        "lucia.garcia@example.es",
        "Pedido incompleto",
        "javier@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-it.eml",
        "giulia.bianchi@example.it",
        "Rimborso",
        "marco@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-pt.eml",
        "ana.costa@example.com.br",
        "Troca de produto",
        "rafael@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-sv.eml",
        "maja.svensson@example.se",
        "Fel storlek",
        "erik@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-pl.eml",
        "k.wisniewska@example.pl",
        "Zwrot towaru",
        "piotr@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-cs.eml",
        "jana.novakova@example.cz",
        "Vrácení peněz",
        "petr@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-ru.eml",
        "olga.ivanova@example.ru",
        "Возврат",
        "ivan@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-ja.eml",
        "hanako.sato@example.jp",
        "返品について",
        "ichiro@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-zh.eml",
        "wang.fang@example.cn",
        "退款申请",
        "li.lei@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-fi.eml",
        "aino.korhonen@example.fi",
        "Palautus",
        "mikko@example.net",
        "FYI",
    ),
    (
        "thunderbird-fwd-tr.eml",
        "ayse.yilmaz@example.com.tr",
        "İade talebi",
        "mehmet@example.net",
        "FYI",
    ),
    (
        "outlook-web-fwd-de.eml",
        "anna.berg@example.de",
        "Lieferung fehlt",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-nl.eml",
        "fleur.jansen@example.nl",
        "Pakket kwijt",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-sv.eml",
        "maja.svensson@example.se",
        "Saknad leverans",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-da.eml",
        "sofie.hansen@example.dk",
        "Pakke mangler",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-pl.eml",
        "k.wisniewska@example.pl",
        "Brak paczki",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-ru.eml",
        "olga.ivanova@example.ru",
        "Нет посылки",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-ja.eml",
        "hanako.sato@example.jp",
        "荷物が届かない",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-zh.eml",
        "wang.fang@example.cn",
        "包裹未到",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-tr.eml",
        "ayse.yilmaz@example.com.tr",
        "Kargo gelmedi",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-cs.eml",
        "jana.novakova@example.cz",
        "Chybí balík",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-fi.eml",
        "aino.korhonen@example.fi",
        "Paketti puuttuu",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-web-fwd-no.eml",
        "ingrid.berg@example.no",
        "Pakke mangler",
        "agent@acme.example",
        "Bitte bearbeiten.",
    ),
    (
        "outlook-desktop-fwd-en-comma-name-mailto.eml",
        "sam.lee@example.com",
        "Order 5521 missing items",
        "bob.tanner@acme.example",
        "Hi team",
    ),
    (
        "outlook-desktop-fwd-de-html-name-only.eml",
        "m.schulz@kunde.example",
        "Reklamation Auftrag 8812",
        "jonas.weber@acme.example",
        "Zur Info.",
    ),
    (
        "gmail-ios-fwd-en-quoted-comma-name.eml",
        "pat.obrien@example.ie",
        "Refund for order #7781",
        "dana.fox@gmail.com",
        "Can you help",
    ),
    (
        "samsung-fwd-fr-html.eml",
        "camille.dubois@example.fr",
        "Colis non reçu",
        "luc.martin@gmail.com",
        "Pour info",
    ),
    (
        "k9-fwd-en.eml",
        "jordan.blake@example.org",
        "Cannot log in",
        "chris.page@example.net",
        "Forwarding",
    ),
    (
        "yahoo-fwd-de-html.eml",
        "anna.berg@example.de",
        "Falsche Rechnung",
        "jonas.weber@yahoo.de",
        "Bitte",
    ),
    (
        "zoho-fwd-fr.eml",
        "camille.dubois@example.fr",
        "Erreur de facturation",
        "luc@zoho.example",
        "Voir",
    ),
    (
        "gmx-fwd-en-plain.eml",
        "taylor.reed@example.com",
        "Broken charger",
        "chris@gmx.example",
        "FYI",
    ),
    (
        "outlook-android-fwd-en.eml",
        "noreply-alerts@vendor.example",
        "Your account is locked",
        "chris.page@outlook.example",
        "FYI",
    ),
    (
        "outlook-fwd-of-gmail-fwd-en.eml",
        "kim.park@example.kr",
        "Warranty claim",
        "bob.tanner@acme.example",
        "See the chain",
    ),
    (
        "outlook-2010-fwd-external-tag-es.eml",
        "maria.lopez@example.mx",
        "Pedido 9912 incompleto",
        "bob.tanner@acme.example",
        "Please handle.",
    ),
    (
        "gmail-fwd-edited-subject-en.eml",
        "lee.wong@example.sg",
        "App crashes on start",
        "bob.tanner@gmail.com",
        "Customer complaint",
    ),
    (
        "thunderbird-fwd-bare-address-no-note.eml",
        "sam@example.org",
        "Wrong size",
        "bob@example.net",
        "",
    ),
    (
        "proton-fwd-en-html.eml",
        "noah.schmidt@example.ch",
        "Login broken",
        "alex@proton.example",
        "Please check.",
    ),
]


@pytest.mark.parametrize(("fixture", "author", "subject", "forwarder", "note"), HAND_FORWARDS)
def test_hand_forward_names_original_sender(
    fixture: str, author: str, subject: str, forwarder: str, note: str
) -> None:
    a = resolve(fixture)
    assert a.kind is HAND
    assert a.author is not None
    assert a.author.normalized == author
    assert a.original is not None
    assert a.original.sender == a.author
    assert a.original.subject == subject
    assert a.original.date is not None
    assert a.original.date.tzinfo is not None
    assert a.original.date_text
    assert a.original.text  # the forwarded body was kept
    assert a.forwarded_by is not None
    assert a.forwarded_by.normalized == forwarder
    assert a.note.startswith(note)
    if not note:
        assert a.note == ""


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("gmail-fwd-en.eml", datetime(2025, 3, 3, 10, 15, tzinfo=timezone(timedelta(hours=-5)))),
        ("gmail-fwd-de.eml", datetime(2025, 3, 3, 10, 15, tzinfo=timezone(timedelta(hours=1)))),
        ("gmail-fwd-cs.eml", datetime(2025, 3, 3, 10, 15, tzinfo=timezone(timedelta(hours=1)))),
        (
            "apple-mail-fwd-en.eml",
            datetime(2025, 3, 3, 10, 15, 8, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            "outlook-desktop-fwd-zh.eml",
            datetime(2025, 3, 3, 14, 15, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("yahoo-fwd-en.eml", datetime(2025, 3, 3, 15, 15, 8, tzinfo=UTC)),
        ("samsung-fwd-en.eml", datetime(2025, 3, 3, 15, 15, tzinfo=UTC)),
    ],
)
def test_forwarded_date_is_read_in_the_right_zone(fixture: str, expected: datetime) -> None:
    a = resolve(fixture)
    assert a.original is not None
    assert a.original.date == expected


def test_nested_forward_keeps_only_the_innermost_body() -> None:
    a = resolve("gmail-fwd-nested-en.eml")
    assert a.original is not None
    assert "link in my invoice mail" in a.original.text
    assert "this came to us" not in a.original.text
    assert [t.normalized for t in a.original.to] == ["info@partner.example"]


def test_name_only_outlook_block_takes_the_address_from_the_html_mailto() -> None:
    a = resolve("outlook-desktop-fwd-ja.eml")
    assert a.author == Address("山田 花子", "hanako.yamada@example.jp")
    assert "html" in a.reason


@pytest.mark.parametrize(
    ("fixture", "author", "subject", "forwarder", "note"),
    [
        (
            "outlook-fwd-attachment-en.eml",
            "tom.baker@example.co.uk",
            "Broken charger",
            "dana.fox@acme.example",
            "Dana Fox | Acme",
        ),
        (
            "thunderbird-fwd-attachment-de.eml",
            "anna.berg@example.de",
            "Vertrag",
            "jonas.weber@mailbox.org",
            "Siehe Anhang.",
        ),
        (
            "outlook-fwd-attachment-of-gmail-fwd-en.eml",
            "nora.quist@example.no",
            "Broken hinge",
            "bob.tanner@acme.example",
            "Please take this one.",  # "Bob" is the sign-off, not the note
        ),
        (
            "gmail-fwd-attachment-empty-subject-en.eml",
            "lee.wong@example.sg",
            "App crashes on start",
            "dana.fox@gmail.com",
            "",
        ),
    ],
)
def test_forward_as_attachment(
    fixture: str, author: str, subject: str, forwarder: str, note: str
) -> None:
    a = resolve(fixture)
    assert a.kind is ForwardKind.ATTACHED
    assert a.author is not None
    assert a.author.normalized == author
    assert a.original is not None
    assert a.original.subject == subject
    assert a.original.date is not None
    assert a.forwarded_by is not None
    assert a.forwarded_by.normalized == forwarder
    assert a.note == note


@pytest.mark.parametrize(
    ("fixture", "author", "group"),
    [
        ("google-groups-dmarc-en.eml", "alice@example.com", "support@acme.example"),
        ("mailman-dmarc-munge-en.eml", "carl@example.org", "users@lists.acme.example"),
    ],
)
def test_group_relay_gives_the_real_author(fixture: str, author: str, group: str) -> None:
    a = resolve(fixture)
    assert a.kind is ForwardKind.GROUP_RELAY
    assert a.author is not None
    assert a.author.normalized == author
    assert a.forwarded_by is not None
    assert a.forwarded_by.normalized == group
    assert a.original is None


@pytest.mark.parametrize(
    ("fixture", "author", "forwarder", "delivered"),
    [
        (
            "srs-alias-forward-en.eml",
            "sam.lee@example.com",
            "help@acme.example",
            "help@acme.example",
        ),
        (
            "resent-redirect-en.eml",
            "tom.baker@example.co.uk",
            "dana.fox@acme.example",
            "support@acme.example",
        ),
        (
            "exchange-rule-redirect-en.eml",
            "tom.baker@example.co.uk",
            "dana.fox@acme.example",
            "dana.fox@acme.example",
        ),
        (
            "gmail-auto-forward-en.eml",
            "lucia.garcia@example.es",
            "acme.help@gmail.com",
            "acme.help@gmail.com",
        ),
    ],
)
def test_server_forward_keeps_from_and_says_where_it_went(
    fixture: str, author: str, forwarder: str, delivered: str
) -> None:
    a = resolve(fixture)
    assert a.kind is ForwardKind.SERVER_FORWARD
    assert a.author is not None
    assert a.author.normalized == author
    assert a.forwarded_by is not None
    assert a.forwarded_by.normalized == forwarder
    assert a.delivered_to[0] == delivered


NEGATIVES = sorted(n for n in ALL_FIXTURES if n.startswith("neg-"))


@pytest.mark.parametrize("fixture", NEGATIVES)
def test_ordinary_mail_and_replies_are_not_forwards(fixture: str) -> None:
    mail = parse_message((FIXTURES / fixture).read_bytes())
    a = resolve_authorship(mail, team_addresses=TEAM)
    assert a.kind is ForwardKind.NONE, a.reason
    assert a.author == mail.from_
    assert a.forwarded_by is None
    assert a.original is None
    assert a.delivered_to == ()


def test_every_fixture_is_covered_by_a_table() -> None:
    tabled = (
        {row[0] for row in HAND_FORWARDS}
        | set(NEGATIVES)
        | {
            "outlook-fwd-attachment-en.eml",
            "thunderbird-fwd-attachment-de.eml",
            "gmail-fwd-attachment-empty-subject-en.eml",
            "outlook-fwd-attachment-of-gmail-fwd-en.eml",
            "google-groups-dmarc-en.eml",
            "mailman-dmarc-munge-en.eml",
            "srs-alias-forward-en.eml",
            "resent-redirect-en.eml",
            "exchange-rule-redirect-en.eml",
            "gmail-auto-forward-en.eml",
        }
    )
    assert set(ALL_FIXTURES) == tabled
    assert len(ALL_FIXTURES) >= 50


def test_readme_lists_every_fixture() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in ALL_FIXTURES)


# --- policy -----------------------------------------------------------------


def test_ticket_contact_follows_the_policy_for_hand_forwards() -> None:
    a = resolve("gmail-fwd-de.eml")
    assert ticket_contact(a, ForwardPolicy.ORIGINAL) == a.author
    assert ticket_contact(a, ForwardPolicy.FORWARDER) == a.forwarded_by


def test_ticket_contact_is_the_author_for_relays_and_server_forwards() -> None:
    for name in ("google-groups-dmarc-en.eml", "srs-alias-forward-en.eml", "neg-plain-en.eml"):
        a = resolve(name)
        assert ticket_contact(a, ForwardPolicy.FORWARDER) == a.author


def test_ticket_contact_falls_back_to_the_forwarder_without_an_address() -> None:
    bob = Address("Bob", "bob@acme.example")
    a = Authorship(HAND, Address("Alice", ""), bob, None, "", (), "test")
    assert ticket_contact(a, ForwardPolicy.ORIGINAL) == bob


# --- small pieces, on inputs the fixtures do not spell out ------------------


def _mail(subject: str, text: str, html: str | None = None, **headers: str) -> ParsedMail:
    return ParsedMail(
        message_id="m@x.example",
        in_reply_to=(),
        references=(),
        subject=subject,
        date=datetime(2025, 3, 10, 9, 0, tzinfo=UTC),
        from_=Address("Bob", "bob@acme.example"),
        sender=None,
        reply_to=(),
        to=(Address("", "support@acme.example"),),
        cc=(),
        headers=tuple(headers.items()),
        text=text,
        html=html,
        attachments=(),
        attached_messages=(),
        repairs=(),
        size=len(text),
    )


OUTLOOK_BLOCK = (
    "See below\n\nFrom: Alice Example <alice@example.com>\nSent: Monday, March 3, 2025 10:15 AM\n"
    "To: Bob <bob@acme.example>\nSubject: Help\n\nBody\n"
)


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("FW: Help", HAND),
        ("Fwd: Re: Help", HAND),
        ("[EXT] WG: Help", HAND),
        ("RE: Help", ForwardKind.NONE),
        ("Re: FW: Help", ForwardKind.NONE),
        ("Help", ForwardKind.NONE),  # a bare Outlook block without a forward prefix: maybe a reply
    ],
)
def test_bare_outlook_block_needs_a_forward_prefix(subject: str, kind: ForwardKind) -> None:
    assert resolve_authorship(_mail(subject, OUTLOOK_BLOCK)).kind is kind


def test_explicit_separator_counts_without_a_prefix() -> None:
    text = "fyi\n\n---------- Forwarded message ---------\n" + OUTLOOK_BLOCK.split("\n\n", 1)[1]
    a = resolve_authorship(_mail("Help", text))
    assert a.kind is HAND
    assert a.author == Address("Alice Example", "alice@example.com")


@pytest.mark.parametrize(
    "separator",
    [
        "---------- Forwarded\u00a0message ---------",  # a no-break space between the words
        "---------- Forwarded   message ---------",
        "---------- For\u200bwarded message ---------",  # a zero-width space inside a word
        "*---------- FORWARDED MESSAGE ---------*",
        "> ---------- Weitergeleitete Nachricht ----------",
        "-----Message transféré-----",
        "-------- 转发的邮件 --------",
    ],
)
def test_separator_without_a_prefix_is_found_however_it_is_written(separator: str) -> None:
    # Mail without a forward prefix is only read line by line when a separator's word is in
    # it: a separator that the full reading finds must never be skipped by that test.
    text = f"fyi\n\n{separator}\n" + OUTLOOK_BLOCK.split("\n\n", 1)[1]
    a = resolve_authorship(_mail("Help", text))
    assert a.kind is HAND, a.reason
    assert a.author == Address("Alice Example", "alice@example.com")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Alice Example [mailto:alice@example.com]", Address("Alice Example", "alice@example.com")),
        ("Alice Example <mailto:alice@example.com>", Address("Alice Example", "alice@example.com")),
        ('"alice@example.com" <alice@example.com>', Address("", "alice@example.com")),
        (
            "Alice Example <alice@example.com<mailto:alice@example.com>>",
            Address("Alice Example", "alice@example.com"),
        ),
    ],
)
def test_outlook_address_forms(value: str, expected: Address) -> None:
    text = f"From: {value}\nSent: Monday, March 3, 2025 10:15 AM\nSubject: Help\n\nBody\n"
    assert resolve_authorship(_mail("FW: Help", text)).author == expected


def test_html_only_bold_labels_and_mailto_links() -> None:
    html = (
        "<div>Please check</div><hr><div id='divRplyFwdMsg'><b>Von:</b> "
        "<a href='mailto:anna@example.de'>Anna Berg</a><br><b>Gesendet:</b> Montag, 3. März 2025 "
        "10:15<br><b>An:</b> Bob<br><b>Betreff:</b> Frage</div><p>Hallo</p>"
    )
    a = resolve_authorship(_mail("WG: Frage", "", html))
    assert a.kind is HAND
    assert a.author == Address("Anna Berg", "anna@example.de")
    assert a.original is not None
    assert a.original.subject == "Frage"
    assert a.note == "Please check"


def test_html_text_keeps_lines_and_hides_scripts() -> None:
    text, classes = _html_text(
        "<style>p{}</style><p class='x'>One<br>Two</p><table><tr><th>From:</th>"
        "<td>A</td></tr></table><script>bad()</script>"
    )
    assert text.split("\n") == ["One", "Two", "", "From: A"]
    assert "x" in classes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 3 Mar 2025 at 10:15", datetime(2025, 3, 3, 10, 15, tzinfo=UTC)),
        ("3. März 2025 um 10:15", datetime(2025, 3, 3, 10, 15, tzinfo=UTC)),
        ("lundi 3 mars 2025 à 10:15", datetime(2025, 3, 3, 10, 15, tzinfo=UTC)),
        ("2025年3月3日 10:15", datetime(2025, 3, 3, 10, 15, tzinfo=UTC)),
        ("Monday, March 3, 2025 10:15 PM", datetime(2025, 3, 3, 22, 15, tzinfo=UTC)),
        ("mar. 4 mars 2025 à 10:15", datetime(2025, 3, 4, 10, 15, tzinfo=UTC)),
        ("2025-03-03 10:15", datetime(2025, 3, 3, 10, 15, tzinfo=UTC)),
        ("On Monday, March 3rd, 2025 at 10:15 AM", datetime(2025, 3, 3, 10, 15, tzinfo=UTC)),
        ("Dienstag, 2. November 2021, 09:26:50 MEZ", datetime(2021, 11, 2, 8, 26, 50, tzinfo=UTC)),
        # Apple Mail (zh) writes the zone before the time; a dashed date is no zone.
        ("2025年3月3日 GMT+8 10:15:22", datetime(2025, 3, 3, 2, 15, 22, tzinfo=UTC)),
        ("3-3-2025 10:15", datetime(2025, 3, 3, 10, 15, tzinfo=UTC)),
        ("3. marts 2025 kl. 10.15.22 CET", datetime(2025, 3, 3, 9, 15, 22, tzinfo=UTC)),
        ("2025-03-03T10:15:00Z", datetime(2025, 3, 3, 10, 15, tzinfo=UTC)),
        ("04-Mar-2025 16:05", datetime(2025, 3, 4, 16, 5, tzinfo=UTC)),
        ("yesterday", None),
    ],
)
def test_localized_dates(text: str, expected: datetime | None) -> None:
    assert _parse_date(text, UTC) == expected


def test_multipart_report_is_never_a_forward() -> None:
    mail = _mail("Fwd: x", OUTLOOK_BLOCK, **{"Content-Type": "multipart/report; report-type=x"})
    assert resolve_authorship(mail).kind is ForwardKind.NONE


def test_list_headers_alone_are_no_server_forward() -> None:
    mail = _mail(
        "Hello", "Hi", **{"Delivered-To": "a@acme.example", "X-Original-To": "a@acme.example"}
    )
    assert resolve_authorship(mail).kind is ForwardKind.NONE


# --- never raises -----------------------------------------------------------

_line = st.sampled_from(
    [
        "---------- Forwarded message ---------",
        "-----Original Message-----",
        "Begin forwarded message:",
        "From: A <a@b.example>",
        "Von: Anna",
        "Sent: Monday, March 3, 2025 10:15 AM",
        "Date: 2025年13月40日 99:99",
        "Subject: x",
        "To: ",
        "> > From: q@r.example",
        "On Mon wrote:",
        "________________________________",
        "",
    ]
)


@given(
    subject=st.text(max_size=40) | st.sampled_from(["Fwd: x", "RE: y", "VS: z"]),
    lines=st.lists(_line | st.text(max_size=60), max_size=40),
    html=st.none() | st.text(max_size=400),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_resolve_never_raises(subject: str, lines: list[str], html: str | None) -> None:
    a = resolve_authorship(_mail(subject, "\n".join(lines), html))
    assert isinstance(a, Authorship)
    if a.kind is HAND:
        assert a.original is not None


@given(st.text(max_size=120))
@settings(max_examples=300, deadline=None)
def test_date_parser_never_raises(text: str) -> None:
    result = _parse_date(text, UTC)
    assert result is None or result.tzinfo is not None


@given(st.binary(max_size=4_000))
@settings(max_examples=100, deadline=None)
def test_resolve_never_raises_on_parsed_bytes(raw: bytes) -> None:
    assert isinstance(resolve_authorship(parse_message(raw)), Authorship)


def test_team_original_gives_way_to_the_customer_block_around_it() -> None:
    # Sam forwarded our own mail to a colleague, who forwarded it on: the
    # innermost block is the team's, so the customer's block wins.
    text = (
        "Please look.\n\n---------- Forwarded message ---------\n"
        "From: *Sam Lee* <sam.lee@example.com>\nDate: Tue, Mar 4, 2025 at 9:00 AM\n"
        "Subject: Fwd: Broken\nTo: <bob@acme.example>\n\n\nThis is wrong.\n\n"
        "---------- Forwarded message ---------\nFrom: Acme Support <support@acme.example>\n"
        "Date: Mon, Mar 3, 2025 at 10:15 AM\nSubject: Broken\n"
        "To: <sam.lee@example.com>\n\n\nYour order shipped.\n"
    )
    a = resolve_authorship(_mail("Fwd: Fwd: Broken", text), team_addresses=TEAM)
    assert a.author == Address("Sam Lee", "sam.lee@example.com")
    assert a.original is not None
    assert a.original.text == "This is wrong."
    innermost = resolve_authorship(_mail("Fwd: Fwd: Broken", text))
    assert innermost.author == Address("Acme Support", "support@acme.example")


def test_forwarded_reply_thread_stops_at_the_forwarded_message() -> None:
    # FW: of an Outlook thread: the first block is the customer's reply; the block
    # under it is quoted history, not a further forward.
    text = (
        "fyi\n\nFrom: Sam Lee <sam.lee@example.com>\nSent: Monday, March 3, 2025 10:15 AM\n"
        "To: Bob <bob@acme.example>\nSubject: RE: Broken\n\nStill broken.\n\n"
        "From: Bob <bob@acme.example>\nSent: Friday, February 28, 2025 9:00 AM\n"
        "To: Sam Lee <sam.lee@example.com>\nSubject: Broken\n\nTry again.\n"
    )
    a = resolve_authorship(_mail("FW: Broken", text))
    assert a.author == Address("Sam Lee", "sam.lee@example.com")
    assert a.original is not None
    assert a.original.subject == "RE: Broken"


def test_resent_fields_on_list_traffic_are_no_forward() -> None:
    mail = _mail(
        "Hello", "Hi", **{"Resent-From": "list@lists.example", "List-Id": "<list.lists.example>"}
    )
    assert resolve_authorship(mail).kind is ForwardKind.NONE


def test_out_of_office_stamped_by_an_inbox_rule_is_no_forward() -> None:
    mail = _mail(
        "Automatic reply: Order",
        "I am away.",
        **{
            "X-MS-Exchange-Inbox-Rules-Loop": "bob@acme.example",
            "Auto-Submitted": "auto-generated",
        },
    )
    assert resolve_authorship(mail).kind is ForwardKind.NONE
    mail = _mail(
        "Automatic reply: Order", "Away.", **{"X-MS-Exchange-Inbox-Rules-Loop": "bob@acme.example"}
    )
    assert resolve_authorship(mail).kind is ForwardKind.NONE  # the loop names From itself


@pytest.mark.parametrize(
    ("subject", "text", "author"),
    [
        # Gmail's plain text wraps a long From after "Name <".
        (
            "Fwd: Order",
            "---------- Forwarded message ---------\n"
            "From: Alexandra Konstantinopoulou-Smith <\nalexandra.k@example.com>\n"
            "Date: Mon, Mar 3, 2025 at 10:15 AM\nSubject: Order\nTo: <bob@gmail.com>\n\nHello\n",
            "alexandra.k@example.com",
        ),
        # Lotus Notes names the forwarder in the separator, even without "Fw:".
        (
            "Order",
            "FYI\n\n----- Forwarded by Bob Tanner/ACME on 03/03/2025 10:20 AM -----\n\n"
            "From:\tSam Lee <sam@example.com>\nTo:\tbob@acme.example\n"
            "Date:\t03/03/2025 10:15 AM\nSubject:\tOrder\n\nHello\n",
            "sam@example.com",
        ),
        # mutt: "----- Forwarded message from <author> -----".
        (
            "[sam@example.com: Order]",
            "FYI\n\n----- Forwarded message from Sam Lee <sam@example.com> -----\n\n"
            "Date: Mon, 3 Mar 2025 10:15:00 +0100\nFrom: Sam Lee <sam@example.com>\n"
            "To: bob@example.net\nSubject: Order\n\nHello\n\n----- End forwarded message -----\n",
            "sam@example.com",
        ),
    ],
)
def test_forward_layouts_of_older_clients(subject: str, text: str, author: str) -> None:
    a = resolve_authorship(_mail(subject, text), team_addresses=TEAM)
    assert a.kind is HAND, a.reason
    assert a.author is not None
    assert a.author.address == author
    assert a.original is not None
    assert a.original.subject == "Order"
    assert a.original.date is not None


def test_a_quoted_mutt_forward_in_a_reply_is_no_forward() -> None:
    text = (
        "Thanks\n\nOn Mon, Mar 3, 2025 at 10:15 AM Bob <bob@example.net> wrote:\n"
        "> ----- Forwarded message from Sam Lee <sam@example.com> -----\n"
        "> From: Sam Lee <sam@example.com>\n> Date: Mon, 3 Mar 2025\n> Subject: Order\n"
    )
    assert resolve_authorship(_mail("Re: Order", text)).kind is ForwardKind.NONE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # en-GB day first with a slash: the reading before the forward wins.
        ("Tue 04/03/2025 16:05", datetime(2025, 3, 4, 16, 5, tzinfo=UTC)),
        # en-US month first stays when it is the one in the past.
        ("03/04/2025 4:05 PM", datetime(2025, 3, 4, 16, 5, tzinfo=UTC)),
        # Both readings in the past: the closer one.
        ("12/11/2024 10:00", datetime(2024, 12, 11, 10, 0, tzinfo=UTC)),
    ],
)
def test_ambiguous_numeric_dates_fall_before_the_forward(text: str, expected: datetime) -> None:
    near = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    assert _parse_date(text, UTC, near=near) == expected


# Outlook desktop (Word HTML) forward labels and dates in the languages.
WORD_HTML_LABELS = {
    "en": ("FW", "From", "Sent", "To", "Subject", "Monday, March 3, 2025 10:15 AM"),
    "de": ("WG", "Von", "Gesendet", "An", "Betreff", "Montag, 3. März 2025 10:15"),
    "fr": ("TR", "De", "Envoyé", "À", "Objet", "lundi 3 mars 2025 10:15"),
    "es": ("RV", "De", "Enviado el", "Para", "Asunto", "lunes, 3 de marzo de 2025 10:15"),
    "it": ("I", "Da", "Inviato", "A", "Oggetto", "lunedì 3 marzo 2025 10:15"),
    "pt": ("ENC", "De", "Enviada em", "Para", "Assunto", "segunda-feira, 3 de março de 2025 10:15"),
    "nl": ("FW", "Van", "Verzonden", "Aan", "Onderwerp", "maandag 3 maart 2025 10:15"),
    "sv": ("VB", "Från", "Skickat", "Till", "Ämne", "den 3 mars 2025 10:15"),
    "da": ("VS", "Fra", "Sendt", "Til", "Emne", "3. marts 2025 10:15"),
    "no": ("VS", "Fra", "Sendt", "Til", "Emne", "mandag 3. mars 2025 10:15"),
    "fi": (
        "VL",
        "Lähettäjä",
        "Lähetetty",
        "Vastaanottaja",
        "Aihe",
        "maanantai 3. maaliskuuta 2025 10.15",
    ),
    "pl": ("PD", "Od", "Wysłano", "Do", "Temat", "poniedziałek, 3 marca 2025 10:15"),
    "cs": ("FW", "Od", "Odesláno", "Komu", "Předmět", "pondělí 3. března 2025 10:15"),
    "ru": ("FW", "От", "Отправлено", "Кому", "Тема", "3 марта 2025 г. 10:15"),
    "tr": ("İLT", "Kimden", "Gönderildi", "Kime", "Konu", "3 Mart 2025 Pazartesi 10:15"),
    "ja": ("FW", "差出人", "送信日時", "宛先", "件名", "2025年3月3日 10:15"),
    "zh": ("转发", "发件人", "发送时间", "收件人", "主题", "2025年3月3日 10:15"),
}


@pytest.mark.parametrize("lang", sorted(WORD_HTML_LABELS))
def test_outlook_desktop_word_html_forward_in_each_language(lang: str) -> None:
    prefix, frm, sent, to, subject, date = WORD_HTML_LABELS[lang]
    span = f'<span lang="{lang.upper()}">'
    html = (
        '<div class="WordSection1"><p class="MsoNormal">Note<o:p></o:p></p><div><div style="border'
        ':none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal">'
        f'<b>{span}{frm}:</span></b>{span} Kim Park &lt;<a href="mailto:kim.park@example.org">'
        f"kim.park@example.org</a>&gt; <br><b>{sent}:</b> {date}<br><b>{to}:</b> Bob &lt;"
        f"bob@acme.example&gt;<br><b>{subject}:</b> Order 7<o:p></o:p></span></p></div></div>"
        '<p class="MsoNormal">Body<o:p></o:p></p></div>'
    )
    a = resolve_authorship(_mail(f"{prefix}: Order 7", "", html), team_addresses=TEAM)
    assert a.kind is HAND, a.reason
    assert a.original is not None
    assert a.original.sender.address == "kim.park@example.org"
    assert a.original.subject == "Order 7"
    assert a.original.date is not None
    assert (a.original.date.day, a.original.date.hour, a.original.date.minute) == (3, 10, 15)


def test_a_wrapped_long_subject_is_read_whole() -> None:
    text = (
        "---------- Forwarded message ---------\nFrom: Kim Park <kim@example.org>\n"
        "Date: Mon, Mar 3, 2025 at 10:15 AM\n"
        "Subject: Very long subject line that goes on and on beyond seventy eight\n"
        "characters for sure\nTo: <bob@gmail.com>\n\n\nHello\n"
    )
    a = resolve_authorship(_mail("Fwd: Very long", text))
    assert a.original is not None
    assert a.original.subject == (
        "Very long subject line that goes on and on beyond seventy eight characters for sure"
    )


def test_a_forward_behind_an_html_only_notice_is_read_from_the_html() -> None:
    html = (
        "<p>FYI</p><p>---------- Forwarded message ---------<br>From: Kim Park "
        "&lt;kim@example.org&gt;<br>Date: Mon, Mar 3, 2025 at 10:15 AM<br>Subject: Order 7<br>"
        "To: &lt;bob@example.net&gt;</p><p>Hello</p>"
    )
    notice = "To view this message, please use an HTML compatible email viewer."
    a = resolve_authorship(_mail("Order 7", notice, html))
    assert a.kind is HAND, a.reason
    assert a.author is not None
    assert a.author.address == "kim@example.org"


def test_a_wrapped_fwd_subject_is_a_forward_prefix() -> None:
    # Netscape / old Mozilla: "[Fwd: <subject>]" and an "Original Message" separator.
    text = (
        "FYI\n\n-------- Original Message --------\nSubject: Order 7\n"
        "Date: Mon, 3 Mar 2025 10:15:00 +0100\nFrom: Kim Park <kim@example.org>\n"
        "To: bob@example.net\n\nHello\n"
    )
    a = resolve_authorship(_mail("[Fwd: Order 7]", text))
    assert a.kind is HAND, a.reason
    assert a.author is not None
    assert a.author.address == "kim@example.org"


@pytest.mark.parametrize(
    "fixture",
    [
        "srs-alias-forward-en.eml",
        "resent-redirect-en.eml",
        "exchange-rule-redirect-en.eml",
        "gmail-auto-forward-en.eml",
    ],
)
def test_inspect_names_no_original_sender_for_a_server_forward(fixture: str) -> None:
    # From was left as it was: the message is the original, so none is invented.
    from gateway.mail.inspect import inspect_message

    seen = inspect_message((FIXTURES / fixture).read_bytes())
    assert seen["forward_kind"] == "server_forward"
    assert seen["original_sender"] is None
    assert seen["forwarded_by"] is not None
    assert seen["contact"]["address"] == seen["from"]["address"]


def test_inspect_names_the_author_of_a_group_relay() -> None:
    from gateway.mail.inspect import inspect_message

    seen = inspect_message((FIXTURES / "google-groups-dmarc-en.eml").read_bytes())
    assert seen["forward_kind"] == "group_relay"
    assert seen["original_sender"] is not None
    assert seen["original_sender"]["address"] != seen["from"]["address"]
    assert seen["original_sender"]["address"] == seen["contact"]["address"]
