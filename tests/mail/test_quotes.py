"""extract_reply over real-shaped replies from many clients and languages, plus rule cases."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.mail.parse import parse_message
from gateway.mail.quotes import ReplyText, extract_reply, strip_signature
from tests.mail.test_forwards import WORD_HTML_LABELS

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail" / "replies"

# fixture -> the text the sender typed (whitespace is compared normalised)
REPLIES: dict[str, tuple[str, ...]] = {
    "apple-mail-reply-de.eml": (
        "Hallo,",
        "",
        "vielen Dank, der Ersatz ist heute angekommen und funktioniert einwandfrei.",
    ),
    "apple-mail-reply-en.eml": (
        "Hi,",
        "",
        "thanks for the quick answer. The replacement arrived today and works fine.",
    ),
    "gmail-android-reply-es.eml": ("Perfecto, muchas gracias.",),
    "gmail-web-forward-note-en.eml": (
        "Looping in our facilities team; they ordered the other unit.",
    ),
    "gmail-web-reply-cs.eml": (
        "Dobrý den,",
        "",
        "děkuji, náhrada dnes dorazila a funguje bez problémů.",
    ),
    "gmail-web-reply-da.eml": (
        "Hej,",
        "",
        "tak, erstatningen kom i dag og virker fint.",
    ),
    "gmail-web-reply-de.eml": (
        "Hallo,",
        "",
        "vielen Dank, der Ersatz ist heute angekommen und funktioniert einwandfrei.",
    ),
    "gmail-web-reply-en.eml": (
        "Hi,",
        "",
        "thanks for the quick answer. The replacement arrived today and works fine.",
    ),
    "gmail-web-reply-es.eml": (
        "Hola,",
        "",
        "gracias, el reemplazo llegó hoy y funciona perfectamente.",
    ),
    "gmail-web-reply-fi.eml": (
        "Hei,",
        "",
        "kiitos, korvaava tuote tuli tänään ja toimii hyvin.",
    ),
    "gmail-web-reply-fr.eml": (
        "Bonjour,",
        "",
        "merci, le remplacement est arrivé aujourd'hui et fonctionne très bien.",
    ),
    "gmail-web-reply-it.eml": (
        "Buongiorno,",
        "",
        "grazie, la sostituzione è arrivata oggi e funziona benissimo.",
    ),
    "gmail-web-reply-ja.eml": (
        "お世話になっております。",
        "",
        "交換品は本日届き、問題なく動作しています。",
        "ありがとうございました。",
    ),
    "gmail-web-reply-nl.eml": (
        "Hallo,",
        "",
        "bedankt, de vervanging is vandaag aangekomen en werkt prima.",
    ),
    "gmail-web-reply-no.eml": (
        "Hei,",
        "",
        "takk, erstatningen kom i dag og fungerer fint.",
    ),
    "gmail-web-reply-pl.eml": (
        "Dzień dobry,",
        "",
        "dziękuję, zamiennik dotarł dzisiaj i działa bez zarzutu.",
    ),
    "gmail-web-reply-pt.eml": (
        "Olá,",
        "",
        "obrigado, a substituição chegou hoje e está funcionando.",
    ),
    "gmail-web-reply-ru.eml": (
        "Здравствуйте,",
        "",
        "спасибо, замена пришла сегодня и работает отлично.",
    ),
    "gmail-web-reply-sv.eml": (
        "Hej,",
        "",
        "tack, ersättningen kom idag och fungerar utmärkt.",
    ),
    "gmail-web-reply-tr.eml": (
        "Merhaba,",
        "",
        "teşekkürler, yenisi bugün geldi ve sorunsuz çalışıyor.",
    ),
    "gmail-web-reply-zh.eml": (
        "您好，",
        "",
        "谢谢，替换件今天已经收到，使用正常。",
    ),
    "gmail-web-signature-nl.eml": (
        "Hoi,",
        "",
        "Klopt, het is opgelost. Bedankt!",
    ),
    "gmx-reply-de.eml": (
        "Hallo zusammen,",
        "",
        "das Gerät läuft jetzt, danke.",
    ),
    "iphone-reply-en.eml": (
        "Hi,",
        "",
        "thanks for the quick answer. The replacement arrived today and works fine.",
    ),
    "iphone-reply-fr.eml": (
        "Bonjour,",
        "",
        "merci, le remplacement est arrivé aujourd'hui et fonctionne très bien.",
    ),
    "iphone-reply-ja.eml": (
        "お世話になっております。",
        "",
        "交換品は本日届き、問題なく動作しています。",
        "ありがとうございました。",
    ),
    "iphone-reply-nl.eml": (
        "Hallo,",
        "",
        "bedankt, de vervanging is vandaag aangekomen en werkt prima.",
    ),
    "iphone-reply-sv.eml": (
        "Hej,",
        "",
        "tack, ersättningen kom idag och fungerar utmärkt.",
    ),
    "mutt-interleaved-en.eml": (
        "It says 2.4.1 on the About screen.",
        "",
        "Yes, every time. I attached the log from this morning.",
    ),
    "outlook-2010-plain-reply-it.eml": (
        "Buongiorno,",
        "",
        "confermo, tutto risolto.",
    ),
    "outlook-desktop-reply-cs.eml": (
        "Dobrý den,",
        "",
        "děkuji, náhrada dnes dorazila a funguje bez problémů.",
    ),
    "outlook-desktop-reply-da.eml": (
        "Hej,",
        "",
        "tak, erstatningen kom i dag og virker fint.",
    ),
    "outlook-desktop-reply-de.eml": (
        "Hallo,",
        "",
        "vielen Dank, der Ersatz ist heute angekommen und funktioniert einwandfrei.",
    ),
    "outlook-desktop-reply-en.eml": (
        "Hi,",
        "",
        "thanks for the quick answer. The replacement arrived today and works fine.",
    ),
    "outlook-desktop-reply-fi.eml": (
        "Hei,",
        "",
        "kiitos, korvaava tuote tuli tänään ja toimii hyvin.",
    ),
    "outlook-desktop-reply-fr.eml": (
        "Bonjour,",
        "",
        "merci, le remplacement est arrivé aujourd'hui et fonctionne très bien.",
    ),
    "outlook-desktop-reply-it.eml": (
        "Buongiorno,",
        "",
        "grazie, la sostituzione è arrivata oggi e funziona benissimo.",
    ),
    "outlook-desktop-reply-ja.eml": (
        "お世話になっております。",
        "",
        "交換品は本日届き、問題なく動作しています。",
        "ありがとうございました。",
    ),
    "outlook-desktop-reply-nl.eml": (
        "Hallo,",
        "",
        "bedankt, de vervanging is vandaag aangekomen en werkt prima.",
    ),
    "outlook-desktop-reply-pl.eml": (
        "Dzień dobry,",
        "",
        "dziękuję, zamiennik dotarł dzisiaj i działa bez zarzutu.",
    ),
    "outlook-desktop-reply-pt.eml": (
        "Olá,",
        "",
        "obrigado, a substituição chegou hoje e está funcionando.",
    ),
    "outlook-desktop-reply-ru.eml": (
        "Здравствуйте,",
        "",
        "спасибо, замена пришла сегодня и работает отлично.",
    ),
    "outlook-desktop-reply-tr.eml": (
        "Merhaba,",
        "",
        "teşekkürler, yenisi bugün geldi ve sorunsuz çalışıyor.",
    ),
    "outlook-desktop-reply-zh.eml": (
        "您好，",
        "",
        "谢谢，替换件今天已经收到，使用正常。",
    ),
    "outlook-ios-reply-de.eml": (
        "Hallo,",
        "",
        "vielen Dank, der Ersatz ist heute angekommen und funktioniert einwandfrei.",
    ),
    "outlook-ios-reply-en.eml": (
        "Hi,",
        "",
        "thanks for the quick answer. The replacement arrived today and works fine.",
    ),
    "outlook-web-reply-en.eml": (
        "Hi,",
        "",
        "thanks for the quick answer. The replacement arrived today and works fine.",
    ),
    "outlook-web-reply-es.eml": (
        "Hola,",
        "",
        "gracias, el reemplazo llegó hoy y funciona perfectamente.",
    ),
    "outlook-web-reply-no.eml": (
        "Hei,",
        "",
        "takk, erstatningen kom i dag og fungerer fint.",
    ),
    "outlook-web-reply-sv.eml": (
        "Hej,",
        "",
        "tack, ersättningen kom idag och fungerar utmärkt.",
    ),
    "proton-reply-en.eml": (
        "Hello,",
        "",
        "Confirmed, the replacement is here. You can close the ticket.",
    ),
    "samsung-email-reply-en.eml": ("Got it, thank you!",),
    "thunderbird-bottom-reply-cs.eml": (
        "Dobrý den,",
        "",
        "děkuji, náhrada dnes dorazila a funguje bez problémů.",
    ),
    "thunderbird-bottom-reply-en.eml": (
        "Hi,",
        "",
        "thanks for the quick answer. The replacement arrived today and works fine.",
    ),
    "thunderbird-reply-de.eml": (
        "Hallo,",
        "",
        "vielen Dank, der Ersatz ist heute angekommen und funktioniert einwandfrei.",
    ),
    "thunderbird-reply-pl.eml": (
        "Dzień dobry,",
        "",
        "dziękuję, zamiennik dotarł dzisiaj i działa bez zarzutu.",
    ),
    "thunderbird-reply-ru.eml": (
        "Здравствуйте,",
        "",
        "спасибо, замена пришла сегодня и работает отлично.",
    ),
    "webde-reply-de.eml": (
        "Hallo zusammen,",
        "",
        "das Gerät läuft jetzt, danke.",
    ),
    "yahoo-android-reply-en.eml": (
        "Hi,",
        "",
        "the new unit works, thanks.",
    ),
    "zoho-reply-de.eml": (
        "Hallo,",
        "",
        "passt, danke für die schnelle Hilfe!",
    ),
    # Breadth: more clients, HTML-only bodies, long footers, date-after-verb attributions.
    "lotus-notes-reply-header-en.eml": ("Thanks, the parcel arrived this morning.",),
    "k9-reply-en.eml": ("Works now, thanks.",),
    "webde-android-reply-de.eml": ("Danke!",),
    "lotus-notes-reply-en.eml": ("Thanks, received.",),
    "thunderbird-reply-fi-unquoted.eml": ("Kiitos!",),
    "windows-mail-reply-nl.eml": ("Prima, dank.",),
    "windows-mail-reply-zh.eml": ("好的，谢谢。",),
    "outlook-express-reply-en.eml": ("Ok, thanks.",),
    "hotmail-legacy-reply-en.eml": ("Ok thanks.",),
    "blackberry-reply-en.eml": ("Ok",),
    "apple-mail-reply-ja-plain-unquoted.eml": ("承知しました。",),
    "apple-mail-reply-pl-plain-unquoted.eml": ("Dziękuję.",),
    "yandex-reply-ru-plain.eml": ("Спасибо.",),
    "outlook-2013-reply-pt-original.eml": ("Obrigado.",),
    "outlook-2013-reply-tr-original.eml": ("Teşekkürler.",),
    "outlook-2013-reply-ja-original.eml": ("承知しました。",),
    "gmx-reply-de-html.eml": ("Danke, passt.",),
    "mailru-reply-ru-html.eml": ("Спасибо!",),
    "yandex-reply-ru-html.eml": ("Спасибо",),
    "outlook-2003-reply-en-html.eml": ("OK, thanks.",),
    "aol-reply-en-html.eml": ("Got it.",),
    "emclient-reply-en-html.eml": ("Thank you!",),
    "roundcube-reply-de-html.eml": ("Danke!",),
    "outlook-mac-reply-en-html.eml": ("Thanks.",),
    "sogo-reply-en-html.eml": ("Fine",),
    "qqmail-reply-zh-html.eml": ("好的",),
    "netease163-reply-zh-html.eml": ("收到，谢谢",),
    "yahoo-web-reply-en-html.eml": ("Thanks!",),
}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _read(name: str) -> tuple[str, str | None]:
    mail = parse_message((FIXTURES / name).read_bytes())
    return mail.text, mail.html


def test_every_fixture_is_in_the_table() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(REPLIES)


EXPECTED = sorted((name, "\n".join(lines)) for name, lines in REPLIES.items())


@pytest.mark.parametrize(("fixture", "expected"), EXPECTED)
def test_new_text_of_fixture(fixture: str, expected: str) -> None:
    text, html = _read(fixture)
    reply = extract_reply(text, html)
    assert _norm(reply.new_text) == _norm(expected), reply.method
    assert reply.quoted, "every fixture quotes the support mail"
    assert "Acme Support" not in reply.new_text


@pytest.mark.parametrize(
    ("fixture", "expected"), [(name, want) for name, want in EXPECTED if _read(name)[0].strip()]
)
def test_new_text_from_plain_part_alone(fixture: str, expected: str) -> None:
    text, _ = _read(fixture)
    assert _norm(extract_reply(text).new_text) == _norm(expected)


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [(name, want) for name, want in EXPECTED if _read(name)[1] is not None],
)
def test_new_text_from_html_part_alone(fixture: str, expected: str) -> None:
    _, html = _read(fixture)
    assert html is not None
    assert _norm(extract_reply("", html).new_text) == _norm(expected)


@pytest.mark.parametrize(
    ("fixture", "method"),
    [
        ("gmail-web-reply-de.eml", "html gmail_quote"),
        ("outlook-desktop-reply-en.eml", "html outlook header box"),
        ("outlook-web-reply-en.eml", "html outlook divRplyFwdMsg"),
        ("apple-mail-reply-en.eml", 'html blockquote type="cite"'),
        ("thunderbird-reply-de.eml", "html moz-cite-prefix"),
        ("yahoo-android-reply-en.eml", "html yahoo_quoted"),
        ("zoho-reply-de.eml", "html zoho zmail_extra"),
        ("proton-reply-en.eml", "html protonmail_quote"),
        ("gmx-reply-de.eml", "outlook header block"),
        ("outlook-2010-plain-reply-it.eml", "original message separator"),
        ("thunderbird-reply-pl.eml", "attribution line (pl)"),
        ("samsung-email-reply-en.eml", "original message separator"),
    ],
)
def test_method_names_the_rule(fixture: str, method: str) -> None:
    text, html = _read(fixture)
    assert extract_reply(text, html).method.startswith(method)


def test_signature_and_footer_are_returned() -> None:
    reply = extract_reply(*_read("gmail-web-signature-nl.eml"))
    assert reply.signature.startswith("Groet,\nJan\n")
    assert "Jan de Vries\nInkoop" in reply.signature
    assert reply.method == "html gmail_quote + signature delimiter + sign-off"
    iphone = extract_reply(*_read("iphone-reply-fr.eml"))
    assert iphone.signature == "Cordialement,\nLuc Martin\n\nEnvoyé de mon iPhone"


# --- rules on plain strings ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "method"),
    [
        (
            "Fine.\n\nOn Monday, March 3, 2025 at 10:15:00 AM GMT+1, Acme Support Team\n"
            "<support@example.com> on behalf of Jane\nwrote:\n\n> old\n",
            "Fine.",
            "attribution line (en)",
        ),
        (
            "Sure.\n\nOn 3 Mar 2025, at 10:15, Sam Lee <sam@example.com> wrote:\n\nold text\n",
            "Sure.",
            "attribution line (en)",
        ),
        ("Klar.\n\nDen 3. mar. 2025 kl. 10.15 skrev Sam <s@x.dk>:\n> gammel\n", "Klar.", "sv/da"),
        ("Ok.\n\nma 3.3.2025 klo 10.15 Sam (s@x.fi) kirjoitti:\n> vanha\n", "Ok.", "fi"),
        ("Ok.\n\n在 2025年3月3日 10:15，Sam <s@x.cn> 写道：\n> 旧\n", "Ok.", "zh"),
        ("Ok.\n\nSam <s@x.tw> 於 2025年3月3日 週一 上午10:15寫道：\n> 舊\n", "Ok.", "zh"),
        ("OK\n\n2025/03/03 10:15、山田さんは書きました:\n> 古い\n", "OK", "ja"),
        ("Да.\n\n03.03.2025 10:15, Сэм написал(а):\n> старое\n", "Да.", "ru"),
        (
            "Evet.\n\n3 Mar 2025 Pzt 10:15 tarihinde Sam <s@x.tr> şunu yazdı:\n> eski\n",
            "Evet.",
            "tr",
        ),
        ("Ano.\n\n-----Původní zpráva-----\nOd: Sam\nOdesláno: 3. 3. 2025\n", "Ano.", "original"),
        ("Ja.\n\n-----Ursprüngliche Nachricht-----\nVon: Sam\n", "Ja.", "original"),
        ("Tak.\n\n-------- Oryginalna wiadomość --------\nOd: Sam\n", "Tak.", "original"),
        (
            "Sí.\n\n*De:* Sam <s@x.es>\n*Enviado:* lunes\n*Para:* yo\n*Asunto:* x\n",
            "Sí.",
            "outlook",
        ),
        ("Oui\n\nDe : Sam\nEnvoyé : lundi 3 mars 2025\nÀ : moi\nObjet : x\n", "Oui", "outlook"),
        (
            "はい\n\n差出人: Sam\n送信日時: 2025年3月3日 10:15\n宛先: me\n件名: x\n",
            "はい",
            "outlook",
        ),
        (
            "好的\n\n发件人: Sam\n发送时间: 2025年3月3日 10:15\n收件人: me\n主题: x\n",
            "好的",
            "outlook",
        ),
        ("Ok\n\nKimden: Sam\nGönderildi: 3 Mart 2025\nKime: me\nKonu: x\n", "Ok", "outlook"),
    ],
)
def test_text_rules(text: str, expected: str, method: str) -> None:
    reply = extract_reply(text)
    assert reply.new_text == expected
    assert method in reply.method


def test_interleaved_reply_keeps_every_answer() -> None:
    text = (
        "On Mon, Mar 3, 2025 at 10:15 AM Sam <sam@example.com> wrote:\n"
        "> First question?\n\nFirst answer.\n\n> Second question?\n>\n> More.\n\nSecond answer.\n"
    )
    reply = extract_reply(text)
    assert reply.new_text == "First answer.\n\nSecond answer."
    assert "> Second question?" in reply.quoted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Agreed.\n\nSam Lee writes:\n> proposal\n", "Agreed."),
        ("Yes.\n\nQuoting Sam Lee <sam@example.com>:\n\n> proposal\n", "Yes."),
        ("Ja.\n\nZitat von Sam Lee <sam@example.de>:\n> Vorschlag\n", "Ja."),
        (
            "> proposal\n\nAgreed.\n\n_______________________________________________\n"
            "dev mailing list\ndev@lists.example.org\nhttps://lists.example.org/listinfo/dev\n",
            "Agreed.",
        ),
    ],
)
def test_list_style_attributions_and_footers(text: str, expected: str) -> None:
    assert extract_reply(text).new_text == expected


def test_sign_off_block_is_cut_as_signature() -> None:
    # The issue counts common sign-off blocks as signature, like "-- " ones.
    text = "Thanks, solved.\n\nKind regards,\nAnna Berg\nHead of Facilities\n"
    reply = extract_reply(text)
    assert reply.new_text == "Thanks, solved."
    assert reply.signature == "Kind regards,\nAnna Berg\nHead of Facilities"
    assert reply.method == "sign-off"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Works.\n\nCheers, Anna", "Works."),
        ("Got it.\n\nHave a nice day,\nAnna", "Got it."),
        ("Got it.\n\nThanks and regards,\nAnna Berg", "Got it."),
        (
            "Geht wieder.\n\nMit freundlichen Grüßen\nJürgen Weiß\nAcme GmbH\nTel. 030 1234",
            "Geht wieder.",
        ),
        ("Ça marche.\n\nCordialement,\nLuc", "Ça marche."),
        ("OK\n\n/John", "OK"),
        ("OK\n\n-Abhishek Kona", "OK"),
        ("Danke, passt.\nAnna", "Danke, passt."),
        ("Please send:\nCable\nCharger", "Please send:\nCable\nCharger"),
        ("Please send:\n- Cable\n- Charger", "Please send:\n- Cable\n- Charger"),
        ("Please send:\n-Cable\n-power supply", "Please send:\n-Cable\n-power supply"),
        ("Perfecto.\n\nLucía", "Perfecto."),
        ("了解しました。\n\n山田", "了解しました。"),
        ("Jan de Vries wrote the docs.\n\nJan de Vries", "Jan de Vries wrote the docs."),
        # Not sign-offs: a lone "Thanks", a postscript after the name, sentences, one line.
        ("Works now.\n\nThanks", "Works now.\n\nThanks"),
        (
            "Text.\n\nBest,\nAnna\n\nP.S. I need an invoice.",
            "Text.\n\nBest,\nAnna\n\nP.S. I need an invoice.",
        ),
        ("First answer.\n\nSecond answer.", "First answer.\n\nSecond answer."),
        ("Which one do you need?\n\nYes", "Which one do you need?\n\nYes"),
        ("Best regards,\nAnna", "Best regards,\nAnna"),
        (
            "Got it.\n\nThanks,\n\nOne more question: when does the next delivery arrive?\n\nAnna",
            "Got it.\n\nThanks,\n\nOne more question: when does the next delivery arrive?",
        ),
        (
            "Fine.\n\nRegards,\nAnna Berg\nAcme GmbH, Amtsgericht Berlin HRB 12345,"
            " Geschäftsführer: Max Mustermann, Sitz der Gesellschaft: Berlin, Deutschland",
            "Fine.",
        ),
    ],
)
def test_sign_off_rules(text: str, expected: str) -> None:
    assert extract_reply(text).new_text == expected


@pytest.mark.parametrize(
    "text",
    [
        "On Monday I wrote:\nthe printer is broken again.\n",
        "Le produit est cassé.\nLe technicien a écrit :\nrien.\n",
        "From: the warehouse\nwe never got the parcel.\n",
        "Sent from my office yesterday, the parcel never arrived.\nPlease check.\n",
        "Use the flag -- and then restart.\n",
        "Meeting moved.\nJohn Smith\n12/12/2000 05:25 PM\nPlease note the new room.\n",
    ],
)
def test_plain_sentences_are_not_cut(text: str) -> None:
    assert extract_reply(text).new_text == text.strip()


def test_bare_double_dash_cuts_only_a_short_block() -> None:
    short = "Answer.\n--\nSam\nACME\n"
    assert extract_reply(short).new_text == "Answer."
    long_tail = "Answer.\n--\n" + "\n".join(f"line {i}" for i in range(20))
    assert extract_reply(long_tail).new_text == long_tail.strip()


def test_wrapped_attribution_does_not_swallow_previous_sentence() -> None:
    text = (
        "Merci beaucoup pour votre aide précieuse avec la commande.\n"
        "Le lun. 3 mars 2025 à 10:15, Acme Support <support@example.com> a écrit :\n> vieux\n"
    )
    assert extract_reply(text).new_text.startswith("Merci beaucoup")


def test_html_interleaved_blockquote_keeps_text_after_quote() -> None:
    html = (
        '<div class="moz-cite-prefix">On 3/3/25 10:15, Sam wrote:<br></div>'
        '<blockquote type="cite">Question?</blockquote><p>My answer.</p>'
    )
    reply = extract_reply("", html)
    assert reply.new_text == "My answer."
    assert reply.method == "html moz-cite-prefix"


def test_html_marker_words_in_text_are_not_markers() -> None:
    html = "<p>Our CSS uses class=gmail_quote for quotes.</p>"
    assert extract_reply("", html).new_text == "Our CSS uses class=gmail_quote for quotes."


def test_long_input_is_bounded_and_fast() -> None:
    text = (
        "word " * 30 + "\n"
    ) * 20_000 + "On Mon, Mar 3, 2025 at 10:15 AM Sam <s@x> wrote:\n> q\n"
    start = time.perf_counter()
    reply = extract_reply(text, "<div>" + "<p>x</p>" * 50_000)
    assert time.perf_counter() - start < 2.0
    assert isinstance(reply, ReplyText)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *"abc >:-_\n\t@<>/=\"'#0123456789",
                "wrote:",
                "On ",
                "From: ",
                "Sent: ",
                "-- ",
                "\ud800",
                "<blockquote type=cite>",
                "gmail_quote",
                "\x00",
            ]
        ),
        max_size=200,
    ).map("".join),
    st.one_of(st.none(), st.text()),
)
def test_extract_reply_never_raises(text: str, html: str | None) -> None:
    reply = extract_reply(text, html)
    assert isinstance(reply.new_text, str)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Date after the verb (Gmail and Thunderbird in Finnish, Lotus Notes).
        ("Kiitos!\n\nAcme kirjoitti 3.3.2025 klo 10.15:\nHei,\nvanha viesti.\n", "Kiitos!"),
        ("Thanks.\n\nSam <s@x.org> wrote on 03/03/2025 10:15:00 AM:\n\nold text\n", "Thanks."),
        # Apple Mail's Japanese and Polish attributions, history not quoted.
        ("承知しました。\n\n2025/03/03 10:15、Sam <s@x.jp>のメール:\n\n古い\n", "承知しました。"),
        (
            "Dziękuję.\n\nWiadomość napisana przez Sam <s@x.pl> w dniu 3 mar 2025, o godz. 10:15:"
            "\n\nstare\n",
            "Dziękuję.",
        ),
        # Sentence-long client footers.
        (
            "Works.\n\nSent from my Android device with K-9 Mail. Please excuse my brevity.\n",
            "Works.",
        ),
        (
            "Danke!\n\nDiese Nachricht wurde von meinem Android Mobiltelefon mit GMX Mail"
            " gesendet.",
            "Danke!",
        ),
        ("Prima.\n\nVerzonden vanuit Mail<https://go.microsoft.com/x> voor Windows\n", "Prima."),
        ("好的。\n\n从 Windows 版邮件发送\n", "好的。"),
        # Lotus Notes: the quoted header has no From label; mutt names the author.
        (
            'Sure.\n\n"Joe" <joe@x.example> on 01/04/2001 01:35:25 PM\nTo: <me@x.example>\n'
            "cc:\nSubject: Meeting\n\nold\n",
            "Sure.",
        ),
        ("FYI.\n\n------ Forwarded by Bob/ACME on 03/03/2025\n10:20 AM ------\nold\n", "FYI."),
        ("Ok.\n\n----- Forwarded message from Sam <s@x.example> -----\nold\n", "Ok."),
    ],
)
def test_attributions_and_footers_seen_in_the_wild(text: str, expected: str) -> None:
    assert extract_reply(text).new_text == expected


@pytest.mark.parametrize(
    "text",
    [
        "I wrote on the form that the parcel never arrived:\nplease check.\n",
        "Please excuse my brevity in the last mail, here are the details.\n"
        "The order is 4711 and it was paid on 3 March.\n",
    ],
)
def test_sentences_like_the_new_rules_are_not_cut(text: str) -> None:
    assert extract_reply(text).new_text == text.strip()


def test_strip_signature_cuts_only_the_signature() -> None:
    body, signature = strip_signature("Please handle.\n\nSent from my iPhone")
    assert (body, signature) == ("Please handle.", "Sent from my iPhone")
    assert strip_signature("No signature here.") == ("No signature here.", "")


def test_labels_known_to_the_forward_reader_also_cut_replies() -> None:
    # Hungarian Outlook: labels only the forward table had.
    text = (
        "Köszönöm.\n\nFeladó: Acme Support <support@example.com>\n"
        "Elküldve: 2025. március 3. 10:15\nCímzett: Anna\nTárgy: Rendelés\n\nÜdv\n"
    )
    assert extract_reply(text).new_text == "Köszönöm."


@pytest.mark.parametrize(
    "text",
    [
        "Ok.\n\n-------- 転送メッセージ --------\n件名: x\n",  # Thunderbird (ja)
        "Ok.\n\nZačátek přeposílané zprávy:\n\nOd: x\n",  # Apple Mail (cs)
        "Ok.\n\nStart på videresendt besked:\n\nFra: x\n",  # Apple Mail (da)
    ],
)
def test_separators_known_to_the_forward_reader_also_cut_replies(text: str) -> None:
    assert extract_reply(text).new_text == "Ok."


def test_an_html_only_notice_in_the_text_part_gives_way_to_the_html() -> None:
    notice = "This is an HTML message. Please use an HTML capable mail program to read it."
    reply = extract_reply(notice, "<p>Thanks, it works.</p><p>Kim</p>")
    assert (reply.new_text, reply.signature) == ("Thanks, it works.", "Kim")
    # Without HTML the notice is all there is.
    assert extract_reply(notice).new_text == notice


@pytest.mark.parametrize("lang", sorted(WORD_HTML_LABELS))
@pytest.mark.parametrize(
    "separator", ["", "________________________________\n", "-----Original Message-----\n"]
)
def test_outlook_plain_header_block_in_each_language(lang: str, separator: str) -> None:
    _prefix, frm, sent, to, subject, date = WORD_HTML_LABELS[lang]
    text = (
        f"Thanks!\n\n{separator}{frm}: Acme Support <support@example.com>\n{sent}: {date}\n"
        f"{to}: Kim <kim@example.org>\n{subject}: RE: Order 7\n\nHello\n"
    )
    assert extract_reply(text).new_text == "Thanks!"


@pytest.mark.parametrize(
    "attribution",
    ["Ann Customer <ann@example.com> wrote:", "On Wed, 2 Dec 2026 at 10:00, Ann wrote:"],
)
def test_tab_quoted_history_of_mail1_clients_is_cut(attribution: str) -> None:
    # s-nail and BSD mail(1) indent the quoted message with a tab, not ">".
    text = f"Please unplug it first.\n\n{attribution}\n\tHello,\n\tmy printer is on fire.\n"
    reply = extract_reply(text)
    assert reply.new_text.strip() == "Please unplug it first."


def test_tab_indented_lines_without_attribution_are_kept() -> None:
    text = "Here is the config you asked for:\n\tlisten = 1\n\tport = 2\n\nDoes it look right?\n"
    assert "port = 2" in extract_reply(text).new_text
    text = "Ann wrote:\n\tHello,\nand then she added more below the quote.\n"
    assert "she added more" in extract_reply(text).new_text
