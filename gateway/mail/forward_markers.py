"""The words mail clients write when they forward or quote a message, per client and language.

Pure data: :mod:`gateway.mail.forwards` compiles these tables once at import.
A language is added by adding rows here, never code. Every row names the
client and language it was seen in, so a wrong row can be traced and removed.

Wordings are taken from what the clients produce (Gmail web/apps, Outlook
desktop/web/mobile, Apple Mail/iOS, Thunderbird, Yahoo, Zoho, Proton, GMX/Web.de,
Android/Samsung mail); where a client changed its wording over the years both
forms are listed.
"""

from __future__ import annotations

from typing import Final

# A separator phrase, written on a line of its own, between dashes or equals
# signs ("---------- Forwarded message ---------") or followed by a colon
# ("Begin forwarded message:"). The bool says whether the phrase itself says
# "forward": True for "Forwarded message", False for "Original Message", which
# Outlook and Android clients also write above quoted replies.
SEPARATOR_PHRASES: Final[tuple[tuple[str, bool, str], ...]] = (
    # (phrase, says_forward, where it comes from)
    ("Forwarded message", True, "Gmail (all locales since ~2019), Zoho, Missive (en)"),
    ("Forwarded Message", True, "Thunderbird, Yahoo, Proton (en)"),
    ("Forwarded e-mail", True, "various webmail (en)"),
    ("Forwarded email", True, "various webmail (en)"),
    ("Begin forwarded message", True, "Apple Mail / iOS (en)"),
    ("Original Message", False, "Outlook desktop, Android/Samsung, Yahoo (en)"),
    ("Original message", False, "Samsung Email, Android Gmail (en)"),
    ("Message d'origine", False, "Outlook / Thunderbird (fr)"),
    ("Message d’origine", False, "Outlook (fr, typographic apostrophe)"),
    ("Message original", False, "Android (fr)"),
    ("Ursprüngliche Nachricht", False, "Outlook / Android / GMX (de)"),
    ("Originalnachricht", False, "Samsung Email (de)"),
    ("Oorspronkelijk bericht", False, "Outlook / Android (nl)"),
    ("Origineel bericht", False, "Samsung Email (nl)"),
    ("Mensaje original", False, "Outlook / Android (es)"),
    ("Messaggio originale", False, "Outlook / Android (it)"),
    ("Mensagem original", False, "Outlook / Android (pt)"),
    ("Originalmeddelande", False, "Outlook (sv)"),
    ("Ursprungligt meddelande", False, "Android (sv)"),
    ("Oprindelig meddelelse", False, "Outlook (da)"),
    ("Opprinnelig melding", False, "Outlook (no)"),
    ("Alkuperäinen viesti", False, "Outlook (fi)"),
    ("Wiadomość oryginalna", False, "Outlook (pl)"),
    ("Oryginalna wiadomość", False, "Android (pl)"),
    ("Původní zpráva", False, "Outlook (cs)"),
    ("Původní e-mail", False, "Seznam / Android (cs)"),
    ("Исходное сообщение", False, "Outlook (ru)"),
    ("Исходное письмо", False, "Android (ru)"),
    ("Özgün İleti", False, "Outlook (tr)"),
    ("Orijinal mesaj", False, "Android (tr)"),
    ("Orijinal Mesaj", False, "Outlook (tr)"),
    ("元のメッセージ", False, "Outlook (ja)"),
    ("原始邮件", False, "Outlook (zh-CN)"),
    ("原始郵件", False, "Outlook (zh-TW)"),
    # Localized forward wordings (Gmail before ~2019, Thunderbird, Yahoo, GMX, Proton).
    ("Weitergeleitete Nachricht", True, "Gmail (old) / Thunderbird / Yahoo / GMX (de)"),
    ("Weitergeleitete E-Mail", True, "Apple / Android (de)"),
    ("Message transféré", True, "Gmail (old) / Thunderbird (fr)"),
    ("Message transmis", True, "Yahoo (fr)"),
    ("Début du message réexpédié", True, "Apple Mail (fr)"),
    ("Début du message transféré", True, "Apple Mail iOS (fr)"),
    ("Doorgestuurd bericht", True, "Gmail (old) / Thunderbird / Yahoo (nl)"),
    ("Begin doorgestuurd bericht", True, "Apple Mail (nl)"),
    ("Anfang der weitergeleiteten Nachricht", True, "Apple Mail (de)"),
    ("Anfang der weitergeleiteten E-Mail", True, "Apple Mail iOS (de)"),
    ("Mensaje reenviado", True, "Gmail (old) / Thunderbird / Yahoo (es)"),
    ("Inicio del mensaje reenviado", True, "Apple Mail (es)"),
    ("Messaggio inoltrato", True, "Gmail (old) / Thunderbird / Yahoo (it)"),
    ("Inizio messaggio inoltrato", True, "Apple Mail (it)"),
    ("Mensagem encaminhada", True, "Gmail (old) / Thunderbird / Yahoo (pt-BR)"),
    ("Mensagem reencaminhada", True, "Thunderbird / Yahoo (pt-PT)"),
    ("Início da mensagem reencaminhada", True, "Apple Mail (pt-PT)"),
    ("Início da mensagem encaminhada", True, "Apple Mail (pt-BR)"),
    ("Vidarebefordrat meddelande", True, "Gmail (old) / Thunderbird / Yahoo (sv)"),
    ("Vidarebefordrat brev", True, "Apple Mail (sv)"),
    ("Vidarebefordrat mejl", True, "Apple Mail (sv, newer)"),
    ("Videresendt meddelelse", True, "Gmail (old) / Thunderbird / Yahoo (da)"),
    ("Videresendt besked", True, "Apple Mail (da)"),
    ("Start på videresendt besked", True, "Apple Mail (da)"),
    ("Videresendt melding", True, "Gmail (old) / Thunderbird / Apple Mail (no)"),
    ("Videresendt e-post", True, "Android (no)"),
    ("Välitetty viesti", True, "Gmail (old) / Thunderbird (fi)"),
    ("Välitetty viesti alkaa", True, "Apple Mail (fi)"),
    ("Edelleenlähetetty viesti", True, "Yahoo (fi)"),
    ("Przekazana wiadomość", True, "Gmail (old) / Yahoo (pl)"),
    ("Treść przekazanej wiadomości", True, "Thunderbird (pl)"),
    ("Początek przekazywanej wiadomości", True, "Apple Mail (pl)"),
    ("Wiadomość przekazana dalej", True, "Android (pl)"),
    ("Přeposlaná zpráva", True, "Gmail (old) / Thunderbird / Yahoo (cs)"),
    ("Začátek přeposílané zprávy", True, "Apple Mail (cs)"),
    ("Пересылаемое сообщение", True, "Gmail (old) / Yahoo (ru)"),
    ("Перенаправленное сообщение", True, "Thunderbird (ru)"),
    ("Начало переадресованного сообщения", True, "Apple Mail (ru)"),
    ("Пересланное сообщение", True, "Yandex / Mail.ru (ru)"),
    ("İletilen ileti", True, "Gmail (old) / Thunderbird (tr)"),
    ("İletilmiş Mesaj", True, "Yahoo (tr)"),
    ("İleti başlangıcı", True, "Apple Mail (tr)"),
    ("Yönlendirilmiş ileti", True, "Android (tr)"),
    ("転送されたメッセージ", True, "Gmail (old, ja)"),
    ("転送メッセージ", True, "Thunderbird / Yahoo (ja)"),
    ("メッセージを転送", True, "HubSpot / Android (ja)"),
    ("転送するメッセージ", True, "Apple Mail (ja)"),
    ("转发的邮件", True, "Gmail (old, zh-CN)"),
    ("已转发邮件", True, "Gmail / Android (zh-CN)"),
    ("转发邮件信息", True, "Apple Mail / QQ Mail (zh-CN)"),
    ("轉寄的郵件", True, "Gmail (old, zh-TW)"),
    ("轉寄郵件", True, "Gmail / Apple Mail (zh-TW)"),
    ("下面是被转发的邮件", True, "Apple Mail (zh-CN)"),
    ("以下为转发的邮件", True, "Apple Mail (zh-CN, newer)"),
    ("以下為轉寄的郵件", True, "Apple Mail (zh-TW)"),
    ("转发的消息", True, "Thunderbird (zh-CN)"),
    ("轉寄的訊息", True, "Thunderbird (zh-TW)"),
    ("İletilen ileti başlangıcı", True, "Apple Mail (tr)"),
    ("Original Appointment", False, "Outlook desktop, forwarded meeting (en)"),
    ("Ursprünglicher Termin", False, "Outlook desktop, forwarded meeting (de)"),
)

# Separator lines that name who forwarded or who wrote, between dashes:
# "----- Forwarded by Bob Tanner/ACME on 03/03/2025 10:20 AM -----" (Lotus Notes),
# "----- Forwarded message from Sam Lee <sam@example.com> -----" (mutt). The
# phrase is followed by free text; all of them say "forward".
SEPARATOR_LEADS: Final[tuple[tuple[str, str], ...]] = (
    ("Forwarded by", "Lotus / HCL Notes (en)"),
    ("Forwarded message from", "mutt (en)"),
    ("Weitergeleitet von", "Lotus Notes (de)"),
    ("Weitergeleitete Nachricht von", "mutt (de)"),
    ("Réacheminé par", "Lotus Notes (fr)"),
    ("Doorgestuurd door", "Lotus Notes (nl)"),
    ("Inoltrato da", "Lotus Notes (it)"),
    ("Reenviado por", "Lotus Notes (es)"),
)

# Header labels of a quoted or forwarded header block, lower-cased, to the
# field they stand for. "date" covers Sent/Gesendet/Envoyé: Outlook writes the
# send time where others write Date.
HEADER_LABELS: Final[dict[str, str]] = {
    # from
    "from": "from",
    "von": "from",
    "de": "from",
    "van": "from",
    "da": "from",
    "fra": "from",
    "från": "from",
    "lähettäjä": "from",
    "od": "from",
    "от": "from",
    "отправитель": "from",
    "kimden": "from",
    "gönderen": "from",
    "差出人": "from",
    "送信者": "from",
    "送信元": "from",
    "发件人": "from",
    "寄件者": "from",
    "寄件人": "from",
    "absender": "from",
    "expéditeur": "from",
    "remitente": "from",
    "remetente": "from",
    "mittente": "from",
    "afzender": "from",
    "avsändare": "from",
    "afsender": "from",
    "avsender": "from",
    "nadawca": "from",
    "odesílatel": "from",
    "feladó": "from",
    "de la": "from",
    # date
    "date": "date",
    "sent": "date",
    "datum": "date",
    "gesendet": "date",
    "envoyé": "date",
    "envoyé le": "date",
    "verzonden": "date",
    "verstuurd": "date",
    "enviado": "date",
    "enviada": "date",
    "enviado el": "date",
    "enviada em": "date",  # Outlook 2010-2016 (pt-BR)
    "enviado em": "date",  # Outlook (pt-BR, newer)
    "sent on": "date",
    "fecha": "date",
    "inviato": "date",
    "data": "date",
    "skickat": "date",
    "skickades": "date",
    "sendt": "date",
    "dato": "date",
    "lähetetty": "date",
    "päivämäärä": "date",
    "päiväys": "date",
    "wysłano": "date",
    "wysłane": "date",
    "odesláno": "date",
    "отправлено": "date",
    "дата": "date",
    "gönderildi": "date",
    "gönderilme": "date",
    "gönderilen": "date",
    "tarih": "date",
    "送信日時": "date",
    "日付": "date",
    "日時": "date",
    "发送时间": "date",
    "日期": "date",
    "時間": "date",
    "傳送時間": "date",
    "寄件日期": "date",
    "elküldve": "date",
    "dátum": "date",
    # subject
    "subject": "subject",
    "betreff": "subject",
    "objet": "subject",
    "sujet": "subject",
    "onderwerp": "subject",
    "asunto": "subject",
    "oggetto": "subject",
    "assunto": "subject",
    "ämne": "subject",
    "emne": "subject",
    "aihe": "subject",
    "temat": "subject",
    "předmět": "subject",
    "тема": "subject",
    "konu": "subject",
    "件名": "subject",
    "主题": "subject",
    "主旨": "subject",
    "主題": "subject",
    "tárgy": "subject",
    "predmet": "subject",
    # to
    "to": "to",
    "an": "to",
    "à": "to",
    "a": "to",
    "aan": "to",
    "para": "to",
    "till": "to",
    "til": "to",
    "vastaanottaja": "to",
    "do": "to",
    "komu": "to",
    "кому": "to",
    "kime": "to",
    "alıcı": "to",
    "宛先": "to",
    "送信先": "to",
    "收件人": "to",
    "收件者": "to",
    "pour": "to",
    "destinataire": "to",
    "destinatario": "to",
    "destinatário": "to",
    "adresat": "to",
    "mottagare": "to",
    "modtager": "to",
    "mottaker": "to",
    "címzett": "to",
    "empfänger": "to",
    # cc
    "cc": "cc",
    "kopie": "cc",
    "kopie (cc)": "cc",
    "copie à": "cc",
    "copie": "cc",
    "kopio": "cc",
    "kopi": "cc",
    "kopia": "cc",
    "kopia do wiadomości": "cc",
    "dw": "cc",
    "копия": "cc",
    "bilgi": "cc",
    "抄送": "cc",
    "副本": "cc",
    "cc 宛先": "cc",
    "másolat": "cc",
    "bcc": "cc",
    # present in blocks, carrying nothing we need
    "reply-to": "other",
    "antwort an": "other",
    "répondre à": "other",
    "antwoord aan": "other",
    "responder a": "other",
    "rispondi a": "other",
    "svara till": "other",
    "svar til": "other",
    "odpowiedź-do": "other",
    "odpověď na": "other",
    "ответ-кому": "other",
    "yanıt adresi": "other",
    "importance": "other",
    "wichtigkeit": "other",
    "priority": "other",
    "attachments": "other",
    "anlagen": "other",
    "anhänge": "other",
    "pièces jointes": "other",
    "bijlagen": "other",
    "datos adjuntos": "other",
    "allegati": "other",
    "anexos": "other",
    "bifogade filer": "other",
    "vedhæftede filer": "other",
    "vedlegg": "other",
    "liitteet": "other",
    "załączniki": "other",
    "přílohy": "other",
    "вложения": "other",
    "ekler": "other",
    "添付ファイル": "other",
    "附件": "other",
    "message-id": "other",
    "sender": "other",
    "organization": "other",
}

# Subject prefixes a client adds when forwarding. Lower-cased, without the colon.
FORWARD_PREFIXES: Final[frozenset[str]] = frozenset(
    {
        "fwd",  # Gmail, Thunderbird, Apple (all locales)
        "fw",  # Outlook (en, cs, hu, nl, pt, ru, sk), Yahoo
        "fwrd",
        "wg",  # Outlook (de)
        "tr",  # Outlook (fr)
        "trans",  # old Outlook Express (fr)
        "rv",  # Outlook (es)
        "reenv",  # Android (es)
        "i",  # Outlook (it)
        "inoltro",  # Android (it)
        "enc",  # Outlook (pt-BR)
        "encam",  # Android (pt)
        "doorst",  # Outlook (nl)
        "doorgestuurd",  # Outlook for Mac / Android (nl)
        "vs",  # Outlook (da, no) -- but Finnish replies use it too, see REPLY_PREFIXES_FI
        "vb",  # Outlook (sv)
        "vl",  # Outlook (fi)
        "videresend",  # New Outlook (no)
        "pd",  # Outlook (pl)
        "pd.",
        "přep",  # Android (cs)
        "пересл",  # Outlook (ru)
        "fw.",
        "ilt",  # Outlook (tr), dotless form after case folding
        "i̇lt",  # Outlook (tr), "İLT" lower-cased by Python
        "転送",  # Outlook (ja)
        "转发",  # Outlook / Gmail (zh-CN)
        "轉寄",  # Outlook (zh-TW)
        "轉發",  # (zh-HK)
        "redir.",  # Outlook (ro)
        "továbbítás",  # Outlook (hu)
        "전달",  # Outlook (ko)
        "πρθ",  # Outlook (el)
        "posl",  # Outlook (sk, sl)
    }
)

# Subject prefixes a client adds when replying. Lower-cased, without the colon.
REPLY_PREFIXES: Final[frozenset[str]] = frozenset(
    {
        "re",
        "aw",  # de
        "antw",  # nl
        "antwort",
        "sv",  # sv, da, no
        "svar",
        "odp",  # pl, cs
        "отв",  # ru
        "ответ",
        "ynt",  # tr
        "ya",  # tr (old)
        "r",  # it
        "rif",  # it
        "res",  # pt-BR
        "réf",
        "rép",  # fr (old clients)
        "回复",  # zh-CN
        "答复",  # zh-CN (Outlook)
        "回覆",  # zh-TW
        "返信",  # ja
        "wg: re",
        "vá",  # hu
        "atb",  # lv
    }
)

# Finnish Outlook writes "VS:" (vastaus) for replies, Danish and Norwegian
# Outlook write "VS:" for forwards: the block's From label decides.
FINNISH_FROM_LABELS: Final[frozenset[str]] = frozenset({"lähettäjä"})

# Lines that introduce a quoted reply ("On Mon, ... wrote:"): when one of these
# comes before a forwarded block, the block is part of quoted history.
REPLY_ATTRIBUTION_ENDINGS: Final[tuple[str, ...]] = (
    "wrote",  # en
    "writes",
    "schrieb",  # de
    "a écrit",  # fr
    "escribió",  # es
    "ha scritto",  # it
    "scrisse",
    "schreef",  # nl
    "geschreven",  # nl (Outlook)
    "skrev",  # sv, da, no
    "skrev følgende",
    "följande",
    "napisał",  # pl
    "napisała",
    "napisał(a)",
    "napsal",  # cs
    "napsala",
    "napsal(a)",
    "написал",  # ru
    "написала",
    "написал(а)",
    "пишет",
    "kirjoitti",  # fi
    "escreveu",  # pt
    "yazdı",  # tr
    "şunu yazdı",
    "のメッセージ",  # ja (Gmail: "2025年3月3日(月) 10:15 Alice <a@b>:")
    "さんは書きました",
    "写道",  # zh-CN
    "寫道",  # zh-TW
)

# Month names and abbreviations, lower-cased, in the forms the clients print
# (nominative, genitive, abbreviated with the dot removed), space-separated.
MONTHS: Final[dict[int, str]] = {
    1: (
        "january jan januar jänner janvier janv enero ene gennaio gen janeiro januari "
        "tammikuuta tammikuu tammik tammi stycznia styczeń styczen sty ledna leden led "
        "января январь янв ocak oca"
    ),
    2: (
        "february feb februar février févr fevrier fevr fév febrero febbraio fevereiro fev "
        "februari helmikuuta helmikuu helmik helmi lutego luty lut února únor úno unora "
        "февраля февраль февр фев şubat şub subat sub"
    ),
    3: (
        "march mar märz mär maerz mars marzo março marco maart mrt marts maaliskuuta "
        "maaliskuu maalisk maalis marca marzec března březen bře brezna марта март мар "
        "mart"
    ),
    4: (
        "april apr avril avr abril abr aprile huhtikuuta huhtikuu huhtik huhti kwietnia "
        "kwiecień kwi dubna duben dub апреля апрель апр nisan nis"
    ),
    5: (
        "may mai mayo maggio mag maio mei maj toukokuuta toukokuu toukok touko maja "
        "května květen kvě kvetna мая май mayıs mayis"
    ),
    6: (
        "june jun juni juin junio giugno giu junho jun kesäkuuta kesäkuu kesäk kesä "
        "czerwca czerwiec cze června červen čvn cervna июня июнь июн haziran haz"
    ),
    7: (
        "july jul juli juillet juil julio luglio lug julho heinäkuuta heinäkuu heinäk "
        "heinä lipca lipiec lip července červenec čvc cervence июля июль июл temmuz tem"
    ),
    8: (
        "august aug août aout agosto ago augusti augustus elokuuta elokuu elok elo "
        "sierpnia sierpień sie srpna srpen srp августа август авг ağustos ağu agustos agu"
    ),
    9: (
        "september sep sept septembre septiembre setiembre settembre set setembro "
        "syyskuuta syyskuu syysk syys września wrzesień wrz září zář zari сентября "
        "сентябрь сент сен eylül eyl eylul"
    ),
    10: (
        "october oct okt oktober octobre octubre ottobre ott outubro out lokakuuta "
        "lokakuu lokak loka października październik paź paz října říjen říj rijna "
        "октября октябрь окт ekim eki"
    ),
    11: (
        "november nov novembre noviembre novembro marraskuuta marraskuu marrask marras "
        "listopada listopad lis listopadu ноября ноябрь нояб ноя kasım kas kasim"
    ),
    12: (
        "december dec dezember dez décembre déc decembre diciembre dic dicembre "
        "dezembro desember des joulukuuta joulukuu jouluk joulu grudnia grudzień gru "
        "prosince prosinec pro декабря декабрь дек aralık ara aralik"
    ),
}

# Words that mean "afternoon" in a 12-hour time, lower-cased.
PM_WORDS: Final[tuple[str, ...]] = ("pm", "p.m.", "p. m.", "午後", "下午", "晚上", "nachm.")
AM_WORDS: Final[tuple[str, ...]] = ("am", "a.m.", "a. m.", "午前", "上午", "早上", "vorm.")

# Time-zone abbreviations the clients print, as offsets in minutes.
ZONE_OFFSETS: Final[dict[str, int]] = {
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "ut": 0,
    "wet": 0,
    "west": 60,
    "bst": 60,
    "cet": 60,
    "mez": 60,
    "cest": 120,
    "mesz": 120,
    "eet": 120,
    "oez": 120,
    "eest": 180,
    "oesz": 180,
    "msk": 180,
    "trt": 180,
    "est": -300,
    "edt": -240,
    "cst": -360,
    "cdt": -300,
    "mst": -420,
    "mdt": -360,
    "pst": -480,
    "pdt": -420,
    "jst": 540,
    "kst": 540,
    "hkt": 480,
    "sgt": 480,
    "aest": 600,
    "aedt": 660,
}
