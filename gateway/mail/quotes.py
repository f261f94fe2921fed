"""The new text of a reply: what its sender wrote, without quoted history or signature.

``extract_reply(text, html)`` returns a :class:`ReplyText`. It never raises.

How it decides, in order:

1. **HTML structure.** When ``html`` is given and holds a client's quote
   container, that node is the cut: Gmail ``div.gmail_quote``, Outlook's
   ``#divRplyFwdMsg`` / ``#appendonsend`` / the ``border-top:solid #E1E1E1``
   header box, Outlook for Mac's reference container, Apple Mail's and
   Thunderbird's ``blockquote type="cite"`` / ``div.moz-cite-prefix``, Yahoo's
   ``yahoo_quoted``, Zoho's ``zmail_extra``, Proton's ``protonmail_quote``.
   The HTML is rendered to text (blockquotes as ``"> "`` lines) with a marker
   line where the node starts, and the text rules below run on that. Nodes
   that hold a whole quoted message (Outlook, Yahoo, Zoho) cut everything
   after them; blockquote-based ones (Gmail, Apple, Thunderbird, Proton) only
   drop their attribution and quoted lines, so a reply written between quotes
   survives. Without such a node the plain-text part is used (or the HTML's
   text when there is no plain part).
2. **Text markers**, the first one wins (only unquoted lines are looked at):
   an attribution line ("On <date>, <name> wrote:" in 17 languages, wrapped
   over up to three lines), an Outlook-style header block (From/Sent/To/Subject
   in those languages, optionally after a line of underscores; the labels and
   separator phrases are shared with :mod:`gateway.mail.forward_markers`), a
   Lotus Notes header (author and date, then To:/cc:/Subject:), an
   "-----Original Message-----" or forward separator line. An attribution
   that is directly followed by ``>``-quoted lines only introduces that quote;
   any other marker cuts everything after it.
3. **``>``-quoted lines** are dropped wherever they are. If the sender wrote
   between quote blocks (interleaved reply), each of their blocks is kept,
   joined with blank lines.
4. **Signature**, on what is left: everything from the first RFC 3676 ``"-- "``
   delimiter line, from a bare ``"--"`` line that is followed by at most ten
   lines, and from a mobile or webmail footer line ("Sent from my iPhone",
   "Get Outlook for Android", "Sent with Proton Mail secure email", and their
   translations) that is followed by at most three lines, and a mailing-list
   footer (a line of underscores, then "... mailing list" / "listinfo" /
   "unsubscribe") at the very end.

The sign-off rule: the issue counts "common sign-off blocks" as signature, and
so do multilingual reply parsers such as mail-parser-reply. A closing line
("Best regards,", "Mit freundlichen Grüßen", "Cordialement", ... in the issue's
17 languages, table ``SIGN_OFFS``), alone or with a name ("Cheers, Anna"), near
the end and followed only by signature-like lines (name, title, company, phone,
links, a legal disclaimer; no question, no postscript), starts the sign-off
block, which goes to ``signature``; so does a name alone on the last line
("...works fine.\n\nAnna"). A lone "Thanks" without comma or name, a closing
followed by more message, and a message that is nothing but a closing stay.

All regexes are compiled once, anchored, with bounded repetition, and are only
tried on lines that pass a cheap test (ends with a colon, starts with dashes,
...). Markers are looked for in the first 64 KiB of text only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.mail.forward_markers import HEADER_LABELS, SEPARATOR_PHRASES
from gateway.mail.html import html_to_text

__all__ = ["ReplyText", "extract_reply", "is_placeholder_text", "strip_signature"]

MAX_SCAN_CHARS = 64 * 1024
"""Markers are searched in this much text (and HTML structure in 4x as much)."""
MAX_TEXT_CHARS = 1 << 20
"""Text past this is not part of the result at all."""


@dataclass(frozen=True, slots=True)
class ReplyText:
    """The parts of a reply's text."""

    new_text: str
    """What the sender wrote in this message: no quoted history, no signature."""
    quoted: str
    """The quoted history that was cut (``""`` if none)."""
    signature: str
    """The signature or client footer that was cut (``""`` if none)."""
    method: str
    """Which rule cut it, e.g. ``"attribution line (de)"``, ``"html gmail_quote"``."""


# --- HTML structure ------------------------------------------------------------

_SOFT = "\ue000quote-soft\ue000"
_HARD = "\ue000quote-hard\ue000"

# Each container is found by a keyword (a fast ``str.find`` on the lower-cased
# HTML) and then confirmed on the tag that holds it; the earliest tag wins.
_HTML_MARKERS: tuple[tuple[str, re.Pattern[str], str, str], ...] = tuple(
    (keyword, re.compile(pattern, re.IGNORECASE), label, sentinel)
    for keyword, pattern, label, sentinel in (
        ("gmail_quote", r"\bclass\s*=\s*[\"']?[^\"'>]*\bgmail_quote", "html gmail_quote", _SOFT),
        (
            "blockquote",
            r"<blockquote\b[^>]*\btype\s*=\s*[\"']?cite\b",
            'html blockquote type="cite"',
            _SOFT,
        ),
        (
            "moz-cite-prefix",
            r"\bclass\s*=\s*[\"']?[^\"'>]*\bmoz-cite-prefix",
            "html moz-cite-prefix",
            _SOFT,
        ),
        (
            "protonmail_quote",
            r"\bclass\s*=\s*[\"']?[^\"'>]*\bprotonmail_quote\b",
            "html protonmail_quote",
            _SOFT,
        ),
        (
            "divrplyfwdmsg",
            r"\bid\s*=\s*[\"']?(?:x_)*divRplyFwdMsg\b",
            "html outlook divRplyFwdMsg",
            _HARD,
        ),
        (
            "appendonsend",
            r"\bid\s*=\s*[\"']?(?:x_)*appendonsend\b",
            "html outlook divRplyFwdMsg",
            _HARD,
        ),
        (
            "mail-editor-reference-message-container",
            r"\bid\s*=\s*[\"']?(?:x_)*mail-editor-reference-message-container\b",
            "html outlook for mac reference",
            _HARD,
        ),
        (
            "olk_src_body_section",
            r"\bid\s*=\s*[\"']?(?:x_)*OLK_SRC_BODY_SECTION\b",
            "html outlook for mac reference",
            _HARD,
        ),
        (
            "border-top",
            r"\bstyle\s*=\s*[\"']?[^>]*border-top\s*:\s*solid\s+#(?:E1E1E1|B5C4DF)\b",
            "html outlook header box",
            _HARD,
        ),
        (
            "yahoo_quoted",
            r"\b(?:class|id)\s*=\s*[\"']?[^\"'>]*yahoo_quoted",
            "html yahoo_quoted",
            _HARD,
        ),
        (
            "zmail_extra",
            r"\bclass\s*=\s*[\"']?[^\"'>]*\bzmail_extra",
            "html zoho zmail_extra",
            _HARD,
        ),
    )
)
_MAX_MARKER_TRIES = 200
_MAX_TAG = 2000


def _find_container(source: str, lowered: str) -> tuple[int, str, str] | None:
    """The earliest quote container's tag start, label and sentinel."""
    best: tuple[int, str, str] | None = None
    for keyword, pattern, label, sentinel in _HTML_MARKERS:
        index = lowered.find(keyword)
        tries = 0
        while index >= 0 and tries < _MAX_MARKER_TRIES and (best is None or index < best[0]):
            tries += 1
            start = source.rfind("<", max(0, index - _MAX_TAG), index)
            end = source.find(">", index)
            if (
                start >= 0
                and end >= 0
                and source.find(">", start, index) < 0
                and pattern.search(source, start, end + 1)
            ):
                if best is None or start < best[0]:
                    best = (start, label, sentinel)
                break
            index = lowered.find(keyword, index + len(keyword))
    return best


def _mark_html(html: str) -> tuple[str, str] | None:
    """The HTML's text with a marker line where its quote container starts, and its label."""
    source = html[: MAX_SCAN_CHARS * 4].replace("\ue000", "")
    found = _find_container(source, source.lower())
    if found is None:
        return None
    start, label, sentinel = found
    marked = f"{source[:start]}<div>{sentinel}</div>{source[start:]}"
    return html_to_text(marked), label


# --- text markers ----------------------------------------------------------------

_DATE_HINT = re.compile(r"\d{1,2}[:.h]\d{2}|\d{4}|\d{1,2}[./-]\d{1,2}[./-]\d{2}|\d{1,2}\s?[年月日]")
_EMAIL_END = re.compile(r"[<(\[]?[^\s<>()@]{1,64}@[^\s<>()@]{1,255}[>)\]]?\s?[:：]$")

# Attribution lines that start with their language's lead word: they cut even
# when no ">"-quote follows (Yahoo, Outlook and others quote without ">").
_STRICT_ATTRIBUTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("en", r"^On\b.{4,400}?\bwrote\s?:$"),
        ("nl", r"^Op\b.{4,400}?\b(?:schreef|geschreven)\b.{0,300}?:$"),
        ("de", r"^Am\b.{4,400}?\bschrieb\b.{0,300}?:$"),
        ("fr", r"^Le\b.{4,400}?\ba\s+écrit\s?:$"),
        ("es", r"^El\b.{4,400}?\bescribió\s?:$"),
        ("it", r"^Il\b.{4,400}?\bha\s+scritto\s?:$"),
        ("pt", r"^(?:Em|No dia)\b.{4,400}?\bescreveu\s?:$"),
        ("sv/da", r"^Den\b.{4,400}?\bskrev\b.{0,300}?:$"),
        ("pl", r"^W dniu\b.{4,400}?\b(?:napisał(?:\(a\)|a)?|pisze)\s?:$"),
        # Apple Mail (pl): "Wiadomość napisana przez <name> w dniu <date>, o godz. <time>:"
        ("pl", r"^Wiadomość napisana przez\b.{4,400}?:$"),
        ("cs", r"^Dne\b.{4,400}?\bnapsal(?:\(a\)|a)?\s?:$"),
        ("zh", r"^在.{4,400}?(?:写道|寫道)\s?[:：]$"),
    )
)
# Attribution lines known only by their ending: they need a date or time in
# them, and then cut like the strict ones.
_DATED_ATTRIBUTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("en", r"\b(?:wrote|writes)\s?:$"),
        # Lotus Notes / HCL Notes: "<name> wrote on 03/03/2025 10:15:00 AM:"
        ("en", r"\bwrote on\b.{4,80}?:$"),
        ("de", r"\bschrieb\s.{1,300}?:$|\bschrieb\s?:$"),
        ("nl", r"\bschreef\s.{1,300}?:$|\bhet volgende geschreven\s?:$"),
        ("fr", r"\ba\s+écrit\s?:$"),
        ("es", r"\bescribió\s?:$"),
        ("it", r"\bha\s+scritto\s?:$"),
        ("pt", r"\bescreveu\b.{0,120}?:$"),
        ("sv/da/no", r"\bskrev\s.{1,300}?:$|\bskrev\s?:$"),
        # Gmail and Thunderbird (fi) put the date after the verb:
        # "<name> kirjoitti 3.3.2025 klo 10.15:"
        ("fi", r"\bkirjoitti\b.{0,80}?:$"),
        ("pl", r"\b(?:napisał(?:\(a\)|a)?|pisze)\s?:$"),
        ("cs", r"\bnapsal(?:\(a\)|a)?\s?:$"),
        ("ru", r"(?:пишет|написал(?:\(а\)|а)?)\s?:$"),
        ("tr", r"\byazdı\s?[:：]$"),
        # Gmail (ja) "... <addr>:"; Apple Mail (ja) "2025/03/03 10:15、<name> <addr>のメール:"
        ("ja", r"(?:のメッセージ|のメール|書きました|wrote)\s?[:：]$"),
        ("zh", r"(?:写道|寫道)\s?[:：]$"),
    )
)
# Attribution lines a ">"-quote follows may be as short as "Sam wrote:".
_LOOSE_ATTRIBUTION = re.compile(
    r"(?:\bwrote|\bwrites|\bsaid|\bschrieb|\bschreef|\ba\s+écrit|\bescribió|\bha\s+scritto|\bescreveu"
    r"|\bskrev|\bkirjoitti|\bnapisał(?:\(a\)|a)?|\bpisze|\bnapsal(?:\(a\)|a)?|пишет"
    r"|написал(?:\(а\)|а)?|\byazdı|のメッセージ|書きました|写道|寫道)\s?[:：]$",
    re.IGNORECASE,
)
_FORWARD_INTRO = re.compile(
    r"^(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht"
    r"|Début du message (?:réexpédié|transféré)|Begin van doorgestuurd bericht"
    r"|Inicio del mensaje reenviado|Inizio messaggio inoltrato"
    r"|Início da mensagem (?:reencaminhada|encaminhada)|Vidarebefordrat brev"
    r"|Videresendt besked|Videresendt melding|Välitetty viesti alkaa"
    r"|Początek przekazywanej wiadomości|Začátek přeposlané zprávy"
    r"|Начало переадресованного сообщения|İletilen ileti başlangıcı|転送されたメッセージ"
    r"|以下为转发的邮件|以下為轉寄的郵件)\s?[:：]$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^[-=_*\s]{0,3}[-=]{2,}\s*(?P<words>[^-=].{2,300}?)\s*[-=]{2,}[-=\s]{0,3}$",
)
# A link a client appended to its footer ("Get Outlook for iOS<https://aka.ms/...>").
_LINK = re.compile(r"\s?<(?:https?|mailto):[^<>\s]{1,2000}>")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_ORIGINAL_WORDS = re.compile(
    r"^(?:Original Message|Original|Ursprüngliche Nachricht|Originalnachricht|Originale Nachricht"
    r"|Message d['’]origine|Message original|Oorspronkelijk bericht|Origineel bericht"
    r"|Mensaje original|Messaggio originale|Mensagem original|Mensagem Original"
    r"|Ursprungligt meddelande|Originalmeddelande|Oprindelig meddelelse|Opprinnelig melding"
    r"|Alkuperäinen viesti|Wiadomość oryginalna|Oryginalna wiadomość|Původní zpráva"
    r"|Исходное сообщение|Оригинальное сообщение|Özgün İleti|Orijinal İleti|Orijinal Mesaj"
    r"|元のメッセージ|原始邮件|原始郵件|原邮件)$",
    re.IGNORECASE,
)
_FORWARD_WORDS = re.compile(
    r"^(?:Forwarded message|Forwarded Message|Weitergeleitete Nachricht|Message transféré"
    r"|Doorgestuurd bericht|Mensaje reenviado|Messaggio inoltrato|Mensagem encaminhada"
    r"|Vidarebefordrat meddelande|Videresendt meddelelse|Videresendt melding"
    r"|Välitetty viesti|Wiadomość przekazana|Przekazana wiadomość|Přeposlaná zpráva"
    r"|Пересылаемое сообщение|Пересланное сообщение|İletilen ileti|転送されたメッセージ"
    r"|转发的邮件|轉寄的郵件|Forwarded)$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^_{8,}\s*$")
# Every separator phrase the forward reader knows, folded (one table for both).
_SEPARATOR_WORDS: dict[str, str] = {
    " ".join(phrase.casefold().split()): (
        "forward separator" if says_forward else "original message separator"
    )
    for phrase, says_forward, _where in SEPARATOR_PHRASES
}

# Header keys of Outlook-style blocks, lower-cased, by kind.
_HEADER_KINDS: dict[str, str] = {}
for _kind, _keys in (
    (
        "from",
        "from von de van da från fra lähettäjä od от kimden 差出人 发件人 寄件者 寄件人 發件人 "
        "afzender expéditeur remitente mittente remetente avsändare avsender nadawca "
        "odesílatel отправитель gönderen 送信者",
    ),
    (
        "date",
        "sent date gesendet datum envoyé envoyé_le date_d'envoi verzonden verstuurd enviado "
        "enviado_el enviada enviada_em enviado_em enviado_a_las fecha inviato data skickat "
        "sendt dato lähetetty päivämäärä wysłano wysłane odesláno отправлено дата gönderildi "
        "tarih 送信日時 日付 发送时间 日期 時間 寄件日期 傳送時間 sent_on",
    ),
    (
        "to",
        "to an à a aan para till til vastaanottaja do komu кому kime 宛先 收件人 收件者 "
        "cc kopie kopia копия bilgi 抄送 副本 cc_list",
    ),
    (
        "subject",
        "subject betreff objet onderwerp asunto oggetto assunto ämne emne aihe temat "
        "předmět тема konu 件名 主题 主旨 主題",
    ),
):
    for _key in _keys.split():
        _HEADER_KINDS[_key.replace("_", " ")] = _kind
# The labels the forward reader knows (one table for both readers, so a label
# added for forwards also cuts quoted history); Cc counts as To here.
for _key, _field in HEADER_LABELS.items():
    if _field != "other":
        _HEADER_KINDS.setdefault(_key, "to" if _field == "cc" else _field)
_HEADER_LINE = re.compile(r"^[ \t]*\*{0,2}[ \t]*([^\W\d_][\w .'’-]{0,24}?)[ \t]*\*{0,2}[ \t]*[:：]")

_QUOTE_LINE = re.compile(r"^[ \t]{0,3}>")

# --- signatures ---------------------------------------------------------------------

_FOOTER = re.compile(
    r"^(?:Sent (?:from|with|via|using) \S.*"
    r"|Get Outlook for \S.*|Download Outlook for \S.*|Outlook für .{1,60} beziehen"
    r"|Von meinem .{1,60} gesendet\.?|Gesendet (?:von|mit|vom|aus) .{1,60}"
    r"|Von .{1,40} gesendet\.?"
    r"|Envoyé (?:de|depuis|à partir de|avec) .{1,60}|Obtenir Outlook pour .{1,30}"
    r"|(?:Verstuurd|Verzonden) (?:vanaf|vanuit|met|via|van) .{1,60}|Outlook voor .{1,20} downloaden"
    r"|Enviado (?:desde|do|de|con|com|a partir do) .{1,60}|Obtener Outlook para .{1,30}"
    r"|Obter o Outlook para .{1,30}"
    r"|Inviato (?:da|dal|con) .{1,60}|Scarica Outlook per .{1,30}"
    r"|Skickat från .{1,60}|Hämta Outlook för .{1,30}"
    r"|Sendt fra .{1,60}|Hent Outlook til .{1,30}|Få Outlook til .{1,30}"
    r"|Lähetetty \S{1,40}(?:sta|stä)\.?"
    r"|Wysłane (?:z|ze|przy użyciu) .{1,60}|Wysłano z .{1,60}|Pobierz Outlook .{1,40}"
    r"|Odesláno (?:z|ze) .{1,60}|Stáhněte si Outlook .{1,40}"
    r"|Отправлено (?:с|из|через|со) .{1,60}|Получите Outlook для .{1,30}"
    r"|.{1,40} gönderildi\.?|.{1,40}(?:'dan|'den) gönderildi\.?"
    r"|.{1,40}から送信|发自我的.{1,40}|從我的.{1,40}傳送|发送自.{1,40}|來自我的.{1,40}"
    r"|从.{1,40}发送|從.{1,40}傳送)$",
    re.IGNORECASE,
)
# Footers that are whole sentences: K-9 Mail, mail.com, GMX / WEB.DE apps and their translations.
_LONG_FOOTER = re.compile(
    r"^(?:Sent from my .{1,80} with .{1,40}\. Please excuse my brevity\.?"
    r"|.{1,80}Please excuse my brevity\.?"
    r"|Von meinem .{1,80} mit .{1,40} gesendet\..{0,80}"
    r"|Diese Nachricht wurde von meinem .{1,80} mit .{1,40} gesendet\.?"
    r"|Envoyé de mon .{1,80} avec .{1,40}\. Veuillez excuser (?:ma|la) brièveté\.?"
    r"|Enviado desde mi .{1,80} con .{1,40}\. Disculpa(?:d)? (?:mi|la) brevedad\.?"
    r"|Inviato dal mio .{1,80} con .{1,40}\. Scusate la brevità\.?"
    r"|Verzonden van mijn .{1,80} met .{1,40}\. Excuses voor de beknoptheid\.?)$",
    re.IGNORECASE,
)
_MAX_LONG_FOOTER_LINE = 200
# A footer is a short phrase; a longer line starting "Sent from my ..." is a sentence.
_MAX_FOOTER_LINE = 100
_MAX_FOOTER_WORDS = 8


@dataclass(slots=True)
class _Cut:
    """Where the text markers put the cut, and which lines are quote."""

    keep: list[bool]
    """Per line before ``end``: does it belong to the new text?"""
    end: int
    """Index of the first line of the hard-cut history (``len(lines)`` if none)."""
    method: str
    quoted_lines: int


def extract_reply(text: str, html: str | None = None) -> ReplyText:
    """Split a reply into its new text, the quoted history and the signature; never raises.

    ``text`` is the plain-text body, ``html`` the HTML body when there is one.
    The HTML's structure wins when it has a client's quote container; else the
    text is used, or the HTML's text when ``text`` is empty.
    """
    html_label = ""
    source = text
    if html:
        marked = _mark_html(html)
        if marked is not None:
            source, html_label = marked
        elif not text.strip() or is_placeholder_text(text):
            source = html_to_text(html)
    source = source[:MAX_TEXT_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    lines = source.split("\n")
    cut = _find_cut(lines, html_label)
    new_lines = _assemble(lines, cut)
    body, signature, sig_method = _strip_signature(new_lines)
    quoted = _quoted_text(lines, cut)
    method = cut.method
    if sig_method:
        method = sig_method if method == "no quote found" else f"{method} + {sig_method}"
    return ReplyText(
        new_text="\n".join(body).strip("\n"),
        quoted=quoted,
        signature="\n".join(signature).strip("\n"),
        method=method,
    )


# The text part some senders put beside the real HTML body: a notice, not text.
_PLACEHOLDER = re.compile(
    r"^\W*(?:this (?:is an? )?(?:message|e-?mail) (?:is )?(?:in|formatted (?:in|as)|contains) html"
    r"|this is an? (?:html|multi-?part) (?:message|e-?mail)"
    r"|to view this (?:message|e-?mail)|(?:your|this) (?:e-?mail|mail) (?:client|program|reader|"
    r"application) (?:does not|doesn't|cannot|can't|is not able to) (?:support|display|show)"
    r"|please (?:use|enable|switch to) an? html|html content only"
    r"|diese (?:nachricht|e-mail) (?:ist|wurde) (?:im|in) html"
    r"|ce message est au format html)",
    re.IGNORECASE,
)
_MAX_PLACEHOLDER = 300


def is_placeholder_text(text: str) -> bool:
    """Whether a text part is only a notice that the message is in HTML."""
    stripped = text.strip()
    return len(stripped) <= _MAX_PLACEHOLDER and _PLACEHOLDER.match(stripped) is not None


def strip_signature(text: str) -> tuple[str, str]:
    """``(body, signature)``: ``text`` without its delimited signature or client footer.

    The rules are the signature rules of :func:`extract_reply` (``"-- "``,
    "Sent from my iPhone" and its translations, list footers); no quote is cut.
    """
    lines = text[:MAX_TEXT_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body, signature, _label = _strip_signature(lines)
    return "\n".join(body).strip("\n"), "\n".join(signature).strip("\n")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _find_cut(lines: list[str], html_label: str) -> _Cut:
    """Walk the lines once, marking quote lines and stopping at the first hard marker."""
    n = len(lines)
    keep = [True] * n
    method = ""
    quoted_lines = 0
    scanned = 0
    i = 0
    while i < n:
        line = lines[i]
        if _QUOTE_LINE.match(line):
            keep[i] = False
            quoted_lines += 1
            i += 1
            continue
        stripped = line.strip().replace("\u00a0", " ")
        if not stripped or scanned > MAX_SCAN_CHARS:
            scanned += len(line) + 1
            i += 1
            continue
        scanned += len(line) + 1
        if stripped == _HARD:
            return _Cut(keep[:i], i, html_label, quoted_lines)
        if stripped == _SOFT:
            first_quote = _soft_quote_start(lines, i)
            if first_quote is None:
                return _Cut(keep[:i], i, html_label, quoted_lines)
            for j in range(i, first_quote):
                keep[j] = False
            method = method or html_label
            i = first_quote
            continue
        marker = _hard_marker(lines, i, stripped)
        if marker is not None:
            start, label = marker
            return _Cut(keep[:start], start, method or label, quoted_lines)
        attribution = _attribution(lines, i, stripped)
        if attribution is not None:
            start, label, strict = attribution
            if _quote_follows(lines, i):
                for j in range(start, i + 1):
                    keep[j] = False
                method = method or f"attribution line ({label})"
            elif _indented_quote_follows(lines, i):
                # mail(1)-style clients (s-nail, BSD mail) quote with a tab, not ">".
                return _Cut(keep[:start], start, method or f"tab-quoted ({label})", quoted_lines)
            elif strict:
                return _Cut(
                    keep[:start], start, method or f"attribution line ({label})", quoted_lines
                )
        i += 1
    if not method:
        method = "quoted lines" if quoted_lines else "no quote found"
    return _Cut(keep, n, method, quoted_lines)


def _soft_quote_start(lines: list[str], start: int) -> int | None:
    """First ``>`` line after a soft marker, if only an attribution stands between."""
    content = 0
    for j in range(start + 1, min(len(lines), start + 12)):
        if _QUOTE_LINE.match(lines[j]):
            return j
        if lines[j].strip():
            content += 1
            if content > 4:
                return None
    return None


def _quote_follows(lines: list[str], index: int) -> bool:
    """Is the next non-blank line (within three) a ``>`` quote line?"""
    for j in range(index + 1, min(len(lines), index + 4)):
        if _QUOTE_LINE.match(lines[j]):
            return True
        if lines[j].strip():
            return False
    return False


def _indented_quote_follows(lines: list[str], index: int) -> bool:
    """Does a tab-indented block follow ``index`` and run to the end of the text?

    Only a whole trailing block counts: a tab-indented line in the middle of a
    mail is as likely to be a list or a piece of code as a quote.
    """
    rest = [line for line in lines[index + 1 :] if line.strip()]
    return bool(rest) and all(line.startswith("\t") for line in rest)


def _hard_marker(lines: list[str], index: int, stripped: str) -> tuple[int, str] | None:
    """A separator line or header block starting at ``index``: (cut line, label)."""
    first = stripped[0]
    if first in "-=_*" or (len(stripped) > 2 and stripped[1] in "-="):
        if _UNDERSCORES.match(stripped):
            nxt = _next_nonblank(lines, index + 1, 2)
            if nxt is not None and _header_block(lines, nxt):
                return index, "outlook header block"
        separator = _SEPARATOR.match(stripped)
        if separator is not None:
            words = separator.group("words").strip(" -=*")
            known = _SEPARATOR_WORDS.get(" ".join(words.casefold().split()))
            if _ORIGINAL_WORDS.match(words) or known == "original message separator":
                return index, "original message separator"
            if _FORWARD_WORDS.match(words) or known == "forward separator":
                return index, "forward separator"
            if _LOOSE_ATTRIBUTION_WORDS.search(words) and _DATE_HINT.search(words):
                return index, "zoho attribution line"
    if (
        _FORWARD_INTRO.match(stripped)
        or _LEAD_SEPARATOR.match(stripped)
        or (
            stripped[-1] in ":："
            and _SEPARATOR_WORDS.get(" ".join(stripped[:-1].casefold().split()))
            == "forward separator"
        )
    ):
        return index, "forward separator"
    if ("/" in stripped or (index + 1 < len(lines) and "/" in lines[index + 1][:12])) and (
        _notes_header(lines, index, stripped)
    ):
        return index, "notes header block"
    if (":" in stripped[:40] or "：" in stripped[:40]) and _header_block(lines, index):
        return index, "outlook header block"
    return None


# Lotus Notes and mutt name the forwarder or author after the dashes, and Notes
# wraps the line: "----- Forwarded by Bob/ACME on 03/03/2025" + "10:20 AM -----".
_LEAD_SEPARATOR = re.compile(
    r"^-{3,}\s*(?:Forwarded by|Forwarded message from|Weitergeleitet von|Réacheminé par"
    r"|Doorgestuurd door|Inoltrato da|Reenviado por)\s",
    re.IGNORECASE,
)
_NOTES_DATE = r"\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
_NOTES_ON = re.compile(rf"^[^:]{{1,200}}?\s(?:on|am|le|el|il|op)\s{_NOTES_DATE}$", re.IGNORECASE)
_NOTES_DATE_LINE = re.compile(rf"^{_NOTES_DATE}$", re.IGNORECASE)


def _notes_header(lines: list[str], index: int, stripped: str) -> bool:
    """Lotus Notes' quoted header: '<author> on <date>' (or the date on the next
    line), then To: and Subject: lines without a From label."""
    if _NOTES_ON.match(stripped) is not None:
        start = index + 1
    else:
        date = _next_nonblank(lines, index + 1, 1)
        if date is None or _NOTES_DATE_LINE.match(lines[date].strip()) is None:
            return False
        start = date + 1
    kinds: list[str] = []
    for j in range(start, min(len(lines), start + 12)):
        if not lines[j].strip():
            continue
        kind = _header_kind(lines[j].replace("\u00a0", " "))
        if kind is None:
            if not kinds or kinds[-1] != "to":
                return False
            continue  # a wrapped recipient list
        kinds.append(kind)
        if kind == "subject":
            return kinds[0] == "to"
    return False


_LOOSE_ATTRIBUTION_WORDS = re.compile(
    r"\b(?:wrote|schrieb|schreef|a écrit|escribió|ha scritto|escreveu|skrev|kirjoitti"
    r"|napisał|napsal|пишет|написал|yazdı)\b",
    re.IGNORECASE,
)


def _next_nonblank(lines: list[str], start: int, limit: int) -> int | None:
    for j in range(start, min(len(lines), start + limit)):
        if lines[j].strip():
            return j
    return None


def _header_kind(line: str) -> str | None:
    match = _HEADER_LINE.match(line)
    if match is None:
        return None
    return _HEADER_KINDS.get(match.group(1).strip().lower())


def _header_block(lines: list[str], index: int) -> bool:
    """Do the lines from ``index`` form a From/Sent/To/Subject block?"""
    first = _header_kind(lines[index].replace("\u00a0", " "))
    if first not in {"from", "date"}:
        return False
    kinds = {first}
    keys = 1
    loose = 0
    for j in range(index + 1, min(len(lines), index + 10)):
        line = lines[j].replace("\u00a0", " ")
        if not line.strip():
            if keys >= 2:
                break
            continue  # some clients put a blank line between the header lines
        kind = _header_kind(line)
        if kind is None:
            loose += 1  # a wrapped To: or Cc: line
            if loose > 2:
                break
            continue
        kinds.add(kind)
        keys += 1
    return keys >= 2 and "from" in kinds and len(kinds) >= 2


def _attribution(lines: list[str], index: int, stripped: str) -> tuple[int, str, bool] | None:
    """An attribution ending on line ``index``: (first line, language, strict)."""
    if not stripped.endswith((":", "：")) or len(stripped) > 500:
        return None
    parts = [stripped]
    candidates = [(index, stripped)]
    for back in (1, 2):
        j = index - back
        if j < 0:
            break
        previous = lines[j].strip().replace("\u00a0", " ")
        # A wrapped attribution line is long and is not the end of a sentence.
        if (
            not previous
            or _QUOTE_LINE.match(lines[j])
            or len(previous) < 25
            or previous.endswith((".", "!", "?", ":", "。"))
        ):
            break
        parts.insert(0, previous)
        candidates.append((j, " ".join(parts)))
    for start, candidate in candidates:
        if len(candidate) > 600:
            break
        dated = _DATE_HINT.search(candidate) is not None
        if not dated:
            continue
        for label, pattern in _STRICT_ATTRIBUTIONS:
            if pattern.match(candidate):
                return start, label, True
        for label, pattern in _DATED_ATTRIBUTIONS:
            if pattern.search(candidate):
                return start, label, True
        if _EMAIL_END.search(candidate):
            return start, "date and address", True
    if len(stripped) <= 300 and _LOOSE_ATTRIBUTION.search(stripped):
        return index, "short", False
    # Any other short line naming a mailbox or a time, ending in a colon, that
    # a quote follows: a customised attribution ("* Sam <s@x> [2025-03-03]:").
    if len(stripped) <= 200 and ("@" in stripped or _TIME.search(stripped)):
        return index, "custom", False
    return None


def _assemble(lines: list[str], cut: _Cut) -> list[str]:
    """The kept lines; blocks between quotes joined with one blank line."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for keep, line in zip(cut.keep, lines, strict=False):
        if keep:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    out: list[str] = []
    for block in blocks:
        while block and _is_blank(block[0]):
            block.pop(0)
        while block and _is_blank(block[-1]):
            block.pop()
        if block:
            if out:
                out.append("")
            out.extend(block)
    return out


_LIST_FOOTER = re.compile(
    r"mailing list|listinfo|mailman|unsubscribe|abbestellen|abmelden|désabonner|desinscri",
    re.IGNORECASE,
)


# Closings people type before their name, per language (lower-case). A line that
# is one of these (optionally with the name after it, "Cheers, Anna") starts
# the sign-off block at the end of the new text.
SIGN_OFFS: tuple[tuple[str, str], ...] = (
    (
        "en",
        "best regards|kind regards|warm regards|warmest regards|regards|best wishes|best"
        "|all the best|cheers|thanks|thank you|many thanks|thanks a lot|thanks again"
        "|thanks so much|thank you very much|thanks in advance|sincerely|yours sincerely"
        "|yours truly|yours faithfully|respectfully|kind regards and thanks|br|rgds|thx"
        "|take care|with thanks|thanks and regards|thanks & regards|thanks and best regards"
        "|many thanks and best regards|many thanks and kind regards|best regards and thanks"
        "|have a nice day|have a great day|have a good day|have a nice weekend|have a great weekend"
        "|talk soon|speak soon|warmly|yours|with best regards|with kind regards",
    ),
    (
        "de",
        "mit freundlichen grüßen|mit freundlichen grüssen|mit freundlichem gruß|mfg"
        "|freundliche grüße|freundliche grüsse|viele grüße|viele grüsse|beste grüße|beste grüsse"
        "|liebe grüße|liebe grüsse|herzliche grüße|herzliche grüsse|schöne grüße|grüße|grüsse|gruß"
        "|gruss|lg|vg|danke|vielen dank|besten dank|danke und gruß|danke und viele grüße"
        "|schönen tag|schönen tag noch|einen schönen tag|schönes wochenende|bis bald",
    ),
    (
        "fr",
        "cordialement|bien cordialement|très cordialement|bien à vous|salutations"
        "|meilleures salutations|sincères salutations|merci|merci beaucoup|merci d'avance"
        "|merci d’avance|bonne journée|bonne soirée|amicalement|à bientôt|bien amicalement",
    ),
    (
        "es",
        "saludos|un saludo|saludos cordiales|atentamente|cordialmente|gracias|muchas gracias"
        "|un abrazo|un cordial saludo",
    ),
    (
        "it",
        "cordiali saluti|saluti|distinti saluti|grazie|grazie mille|buona giornata|un saluto"
        "|cordialmente",
    ),
    (
        "pt",
        "atenciosamente|cumprimentos|melhores cumprimentos|abraços|abraço|obrigado|obrigada"
        "|att|att.|saudações|grato|grata",
    ),
    (
        "nl",
        "met vriendelijke groet|met vriendelijke groeten|vriendelijke groet|vriendelijke groeten"
        "|mvg|groeten|groet|hartelijke groet|hartelijke groeten|bedankt|dank je|dank u"
        "|alvast bedankt",
    ),
    (
        "sv",
        "med vänliga hälsningar|vänliga hälsningar|mvh|hälsningar|hälsning|bästa hälsningar"
        "|tack|tack så mycket|tack på förhand",
    ),
    (
        "da",
        "med venlig hilsen|venlig hilsen|hilsen|de bedste hilsner|bedste hilsner|vh|tak|mange tak",
    ),
    ("no", "med vennlig hilsen|vennlig hilsen|beste hilsen|takk|tusen takk"),
    ("fi", "ystävällisin terveisin|terveisin|parhain terveisin|kiitos|kiittäen|t."),
    (
        "pl",
        "pozdrawiam|z poważaniem|z powazaniem|pozdrawiam serdecznie|serdecznie pozdrawiam"
        "|dziękuję|dziekuje|dzięki|z wyrazami szacunku|pozdrowienia",
    ),
    ("cs", "s pozdravem|děkuji|díky|zdravím|s úctou|s přáním hezkého dne|hezký den"),
    (
        "ru",
        "с уважением|спасибо|всего доброго|всего хорошего|с наилучшими пожеланиями"
        "|заранее спасибо|благодарю",
    ),
    ("tr", "saygılarımla|iyi çalışmalar|teşekkürler|teşekkür ederim|selamlar|sevgiler|iyi günler"),
    (
        "ja",
        "よろしくお願いいたします|よろしくお願いします|よろしくお願い致します|宜しくお願いいたします"
        "|以上、よろしくお願いいたします|以上です|ありがとうございます",
    ),
    ("zh", "此致|此致敬礼|谢谢|祝好|顺祝商祺|敬礼|祝商祺|多谢|感谢"),
)
_SIGN_OFF_WORDS = "|".join(
    sorted(
        {re.escape(phrase) for _lang, phrases in SIGN_OFFS for phrase in phrases.split("|")},
        key=len,
        reverse=True,
    )
)
# The closing and its own punctuation; a name may follow on the same line.
_SIGN_OFF = re.compile(rf"^(?:{_SIGN_OFF_WORDS})(?![^\W\d_])\s*[,.!。！、:]*", re.IGNORECASE)
_SIGN_OFF_ALONE = re.compile(rf"^(?:{_SIGN_OFF_WORDS})\s*[.!。！、:]*\s*$", re.IGNORECASE)
# "-Anna" or "/John": a name set off by a dash or slash on its own line.
_DASH_NAME = re.compile(r"^[-/–—](?P<name>[^\W\d_].{0,40})$")
_POSTSCRIPT = re.compile(r"^(?:p\.?\s?s\.?|ps)\b", re.IGNORECASE)
# A name alone on the last line: 1-3 capitalised words, or 2-4 CJK characters.
_NAME_LINE = re.compile(
    r"^(?:[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*\.?(?:\s[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*\.?){0,2}"
    r"|[\u3040-\u30ff\u4e00-\u9fff]{2,4})$"
)
# Words a reply may end on that are no names.
_NOT_NAMES = frozenset(
    {
        *("yes", "no", "ok", "okay", "thanks", "thank", "sure", "done", "fine", "great"),
        *("perfect", "correct", "right", "agreed", "bye", "hi", "hello", "ja", "nein", "danke"),
        *("gerne", "genau", "richtig", "oui", "non", "merci", "parfait", "si", "sí", "gracias"),
        *("vale", "claro", "sì", "grazie", "certo", "sim", "não", "obrigado", "obrigada", "tak"),
        *("nej", "kiitos", "joo", "ei", "dzięki", "nie", "díky", "ano", "ne", "да", "нет"),
        *("спасибо", "evet", "hayır", "teşekkürler"),
    }
)
_NAME_PARTICLES = frozenset(
    {"de", "van", "von", "der", "den", "da", "di", "le", "la", "du", "del", "dos", "das", "y", "e"}
)
_MAX_SIGN_OFF_TAIL = 12
"""Non-empty lines (name, title, company, phone, ...) a sign-off block may have."""


def _cut_sign_off(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split the closing and what follows it off the end: (body, sign-off block).

    Only a closing near the end counts (at most ``_MAX_SIGN_OFF_TAIL`` lines
    after it, no postscript among them), with text of the message before it; a
    closing with nothing after it needs a comma or a name ("Thanks," and
    "Cheers, Anna", not "Thanks").
    """
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 2:
        return lines, []
    for position, index in enumerate(content[1:], start=1):
        tail = content[position + 1 :]
        if len(tail) > _MAX_SIGN_OFF_TAIL:
            continue
        line = lines[index].strip().replace("\u00a0", " ")
        if len(line) > 60:
            continue
        if not _is_sign_off(line) and not (
            # "-Anna" as the last line, not the last item of a "-item" list
            not tail
            and _is_dash_name(line)
            and lines[content[position - 1]].lstrip()[:1] not in "-–—*•"
        ):
            continue
        if not tail and _SIGN_OFF_ALONE.match(line) is not None:
            continue  # "Thanks" alone may be the message; "Thanks," or "Thanks, Anna" is not
        if any(_POSTSCRIPT.match(lines[i].strip()) for i in tail):
            continue
        if not all(_is_signature_line(lines[i].strip()) for i in tail):
            continue  # the message goes on after the "Thanks,"
        return lines[:index], lines[index:]
    last = lines[content[-1]].strip()
    before = lines[content[-1] - 1].rstrip()
    if (
        _is_name(last)
        and not _is_sign_off(lines[content[-2]].strip())
        # set apart by a blank line or after a finished sentence, not a list's last item
        and (not before or before.endswith((".", "!", "?", ",", "。", "！", "？")))
    ):
        # "...works fine.\n\nAnna": the name alone is the sign-off.
        return lines[: content[-1]], lines[content[-1] :]
    return lines, []


_DISCLAIMER = re.compile(
    r"confidential|disclaimer|intended (?:only )?for|privileged|prohibited|unauthori[sz]ed"
    r"|registered (?:office|in)|vertraulich|amtsgericht|registergericht|geschäftsführ|hrb\b"
    r"|confidentiel|confidencial|riservat|vertrouwelijk|konfidentiell|fortrolig|poufn|důvěrn"
    r"|конфиденциальн|gizli",
    re.IGNORECASE,
)
_MAX_SIGNATURE_WORDS = 12


def _is_signature_line(line: str) -> bool:
    """Whether a line after a closing can be signature: a name, title, company,
    address, phone or link line, or a legal disclaimer, but no question or prose."""
    if line.endswith(("?", "？")):
        return False
    return len(line.split()) <= _MAX_SIGNATURE_WORDS or _DISCLAIMER.search(line) is not None


def _is_dash_name(line: str) -> bool:
    """ "-Anna" or "/John": a name right after a dash or slash (not a "- item" of a list)."""
    found = _DASH_NAME.match(line)
    return found is not None and _is_name(found.group("name"))


def _is_sign_off(line: str) -> bool:
    """Whether a line is a closing, alone or with a name.

    "Cheers, Anna" is one; "Thanks, it works." is a sentence.
    """
    head = _SIGN_OFF.match(line)
    if head is None:
        return False
    rest = line[head.end() :].strip()
    return not rest or _is_name(rest)


def _is_name(line: str) -> bool:
    """Whether a line is a person's name and nothing else ("Anna", "Jan de Vries", "山田")."""
    if len(line) > 40 or _NAME_LINE.match(line) is None:
        return False
    words = line.split()
    if any(w.strip(".").casefold() in _NOT_NAMES for w in words):
        return False
    if line.endswith(".") and len(words[-1]) > 2:
        return False  # "Sam L." ends with an initial; "Second answer." is a sentence
    # Names are capitalised ("Jan de Vries": only the particles are not); CJK has no case.
    return (
        all(not w[0].islower() or w in _NAME_PARTICLES for w in words)
        and words[0] not in _NAME_PARTICLES
    )


def _strip_signature(lines: list[str]) -> tuple[list[str], list[str], str]:
    """Split off the signature: (body, signature, label).

    A delimited signature or a client footer first; then the sign-off block
    ("Best regards,\nAnna Berg\nAcme GmbH") at the end of what is left.
    """
    body, signature, label = _strip_delimited(lines)
    body, sign_off = _cut_sign_off(body)
    if sign_off:
        return body, [*sign_off, *signature], f"{label} + sign-off" if label else "sign-off"
    return body, signature, label


def _strip_delimited(lines: list[str]) -> tuple[list[str], list[str], str]:
    """Split off a delimited signature or a client footer: (body, signature, label)."""
    for index, line in enumerate(lines):
        # Mailman and similar list managers append "____\nfoo mailing list\n...".
        if _UNDERSCORES.match(line) and index:
            rest = lines[index + 1 : index + 10]
            if len(lines) - index <= 10 and any(_LIST_FOOTER.search(r) for r in rest):
                return lines[:index], lines[index:], "mailing list footer"
        bare = line.rstrip("\n")
        if bare == "-- ":
            return lines[:index], lines[index + 1 :], "signature delimiter"
        if bare.strip() == "--" or bare.strip() == "-- ":
            rest = [rest_line for rest_line in lines[index + 1 :] if rest_line.strip()]
            if len(rest) <= 10:
                return lines[:index], lines[index + 1 :], "signature delimiter"
        stripped = _LINK.sub("", line.strip().replace("\u00a0", " "))
        if stripped and (
            (
                len(stripped) <= _MAX_FOOTER_LINE
                and stripped.count(" ") < _MAX_FOOTER_WORDS
                and _FOOTER.match(stripped)
            )
            or (len(stripped) <= _MAX_LONG_FOOTER_LINE and _LONG_FOOTER.match(stripped))
        ):
            rest = [rest_line for rest_line in lines[index + 1 :] if rest_line.strip()]
            if len(rest) <= 3:
                return lines[:index], lines[index:], "mobile footer"
    return lines, [], ""


def _quoted_text(lines: list[str], cut: _Cut) -> str:
    """The history that was cut: dropped quote lines, then everything after the cut."""
    dropped = [line for keep, line in zip(cut.keep, lines, strict=False) if not keep]
    dropped.extend(lines[cut.end :])
    return "\n".join(line for line in dropped if line not in {_SOFT, _HARD}).strip("\n")
