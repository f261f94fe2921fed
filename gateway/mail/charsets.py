"""Turning the bytes of a body or header into text when the declared charset lies.

Real mail declares ``us-ascii`` and carries UTF-8, declares nothing and carries
Latin-1, or names charsets Python does not know (``cp-1252``, ``x-unknown``).
:func:`decode_bytes` tries, in order: the declared charset strictly, UTF-8,
charset-normalizer (only for longer text, and only when the cheap tries failed),
and finally windows-1252 with replacement, and says which repair it made.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import lru_cache

import charset_normalizer

__all__ = ["Decoded", "canonical_charset", "decode_bytes", "decode_header_bytes"]

# Labels mail clients write that Python's codec registry does not resolve, or
# resolves to a narrower codec than the sender meant (WHATWG treats latin-1 and
# us-ascii labels as windows-1252; gb2312 mail is routinely GBK/GB18030).
_ALIASES: dict[str, str] = {
    "latin1": "windows-1252",
    "iso88591": "windows-1252",
    "iso885915": "iso-8859-15",
    "l1": "windows-1252",
    "cp1252": "windows-1252",
    "win1252": "windows-1252",
    "windows1252": "windows-1252",
    "xansi": "windows-1252",
    "ansi": "windows-1252",
    "usascii": "ascii",
    "ascii": "ascii",
    "ansix3.41968": "ascii",
    "utf8": "utf-8",
    "xunicode20utf8": "utf-8",
    "unicode11utf8": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "xgbk": "gb18030",
    "euccn": "gb18030",
    "xeuccn": "gb18030",
    "big5": "big5hkscs",
    "shiftjis": "cp932",
    "sjis": "cp932",
    "xsjis": "cp932",
    "mskanji": "cp932",
    "windows31j": "cp932",
    "euckr": "cp949",
    "ksc56011987": "cp949",
    "ksc5601": "cp949",
    "iso88598i": "iso-8859-8",
    "iso88596i": "iso-8859-6",
    "tis620": "cp874",
    "windows874": "cp874",
    "xmacroman": "mac-roman",
    "macintosh": "mac-roman",
    "xmaccyrillic": "mac-cyrillic",
    "cp850": "cp850",
    "ibm850": "cp850",
    "koi8r": "koi8-r",
    "koi8u": "koi8-u",
    "utf7": "utf-7",
}

# Labels that say "I do not know" rather than naming a charset.
_NO_CHARSET = frozenset({"", "unknown8bit", "xunknown", "unknown", "xuserdefined", "default"})

# Codecs whose bytes are ASCII-compatible and single-byte: UTF-8 that also
# decodes strictly is far more likely UTF-8 mislabelled than genuine text.
_SINGLE_BYTE_PREFIXES = ("iso8859", "cp12", "windows", "ascii", "latin", "koi8", "mac", "cp8")

# What charset-normalizer may answer that we believe; its guesses on other
# codecs (EBCDIC, cp1006, UTF-16 without BOM) are almost always noise in mail.
_TRUSTED_GUESSES = frozenset(
    {
        "cp1250",
        "cp1251",
        "cp1253",
        "cp1254",
        "cp1255",
        "cp1256",
        "cp1257",
        "cp1258",
        "koi8_r",
        "koi8_u",
        "gb18030",
        "gb2312",
        "gbk",
        "big5",
        "big5hkscs",
        "shift_jis",
        "cp932",
        "euc_jp",
        "euc_kr",
        "cp949",
        "iso2022_jp",
        "iso8859_2",
        "iso8859_5",
        "iso8859_7",
        "iso8859_9",
    }
)
# Guesses that mean "some western single-byte charset": windows-1252 reads them all.
_WESTERN_GUESSES = frozenset({"cp1252", "latin_1", "iso8859_15", "iso8859_1", "ascii"})

# Latin-script single-byte guesses that compete with windows-1252.
_LATIN_GUESSES = frozenset({"cp1250", "cp1254", "cp1257", "cp1258", "iso8859_2", "iso8859_9"})
_EVIDENCE_SAMPLE = 4096

# charset-normalizer is slow on short text and unreliable there; below this it
# is skipped and windows-1252 is used.
_MIN_GUESS_BYTES = 256
_GUESS_SAMPLE = 32 * 1024
_MAX_LABEL = 40
_WIDER: dict[str, tuple[str, ...]] = {
    "iso2022_jp": ("iso2022_jp_ext", "iso2022_jp_2"),
    "euc_jp": ("cp932",),
    "shift_jis": ("cp932",),
}
# ISO-2022 and UTF-7/16/32 text may be pure ASCII bytes that still need decoding.
_NOT_ASCII_SAFE = ("iso2022", "utf7", "utf16", "utf32")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes, with the repair it needed (``None`` if none)."""

    text: str
    charset: str
    """The codec actually used (``utf-8``, ``windows-1252``, ...)."""
    repair: str | None


def _squash(label: str) -> str:
    return "".join(ch for ch in label.lower() if ch.isalnum() or ch == ".")


def _clean_label(label: str) -> str:
    """The declared label as it may appear in a repair phrase: short and printable."""
    cleaned = "".join(ch for ch in label.strip().strip("\"'").lower() if ch.isprintable())
    return cleaned[:_MAX_LABEL]


@lru_cache(maxsize=512)
def canonical_charset(label: str | None) -> str | None:
    """The Python codec name for a charset label from a message, or ``None``.

    Resolves misspellings (``utf8``, ``cp-1252``, ``latin-1``) and widens narrow
    labels to the superset mail really uses (``gb2312`` -> ``gb18030``,
    ``iso-8859-1`` -> ``windows-1252``). ``None`` when the label is missing,
    says "unknown", or names no codec Python has.
    """
    if label is None:
        return None
    cleaned = _clean_label(label)
    squashed = _squash(cleaned)
    if squashed in _NO_CHARSET:
        return None
    alias = _ALIASES.get(squashed)
    if alias is not None:
        return alias
    for candidate in (cleaned, squashed):
        if not candidate:
            continue
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        # Text codecs only: a label like "base64" or "rot13" must not select a
        # bytes-to-bytes transform.
        if getattr(info, "_is_text_encoding", True):
            return info.name
    return None


def _is_single_byte(codec: str) -> bool:
    squashed = _squash(codec)
    return squashed.startswith(_SINGLE_BYTE_PREFIXES)


def _display(codec: str) -> str:
    return {"cp1252": "windows-1252", "utf_8": "utf-8"}.get(codec, codec)


def _guess(data: bytes) -> str | None:
    """charset-normalizer's guess, mapped to a codec we trust, or ``None``."""
    if len(data) < _MIN_GUESS_BYTES:
        return None
    best = charset_normalizer.from_bytes(data[:_GUESS_SAMPLE]).best()
    if best is None:
        return None
    encoding = str(best.encoding)
    if encoding in _WESTERN_GUESSES:
        return "windows-1252"
    if encoding in _LATIN_GUESSES and not _letters_only_in(data[:_EVIDENCE_SAMPLE], encoding):
        # charset-normalizer leans to cp1250 and friends for German or French
        # text, turning è into č; such a guess must explain some byte that
        # windows-1252 cannot read as a letter.
        return "windows-1252"
    if encoding in _TRUSTED_GUESSES:
        return encoding
    return None


def _letters_only_in(data: bytes, codec: str) -> bool:
    """Whether ``codec`` reads some byte as a letter that windows-1252 does not."""
    guessed = data.decode(codec, "replace")
    western = data.decode("cp1252", "replace")
    if len(guessed) != len(western):
        return True
    return any(g.isalpha() and not w.isalpha() for g, w in zip(guessed, western, strict=True))


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


_JIS_ESCAPES: dict[bytes, str] = {
    b"$B": "jis",
    b"$@": "jis",
    b"(B": "ascii",
    b"(J": "ascii",
    b"(I": "kana",
}


def _iso2022jp_as_cp932(data: bytes) -> str | None:
    """ISO-2022-JP as Windows writes it (CP50220: NEC and IBM extensions such as ①),
    which Python's ``iso2022_jp`` codecs refuse: each JIS pair is moved to its
    Shift_JIS code and the whole read as cp932. ``None`` if the bytes do not fit."""
    out = bytearray()
    mode = "ascii"
    i = 0
    n = len(data)
    while i < n:
        byte = data[i]
        if byte == 0x1B:
            found = _JIS_ESCAPES.get(data[i + 1 : i + 3])
            if found is None:
                return None
            mode = found
            i += 3
        elif mode == "jis" and byte not in (0x0A, 0x0D):
            if i + 1 >= n or not (0x21 <= byte <= 0x7E and 0x21 <= data[i + 1] <= 0x7E):
                return None
            second = data[i + 1] + (0x1F if byte % 2 else 0x7E)
            if byte % 2 and second >= 0x7F:
                second += 1
            out += bytes(((byte + 1) // 2 + (0x70 if byte <= 0x5E else 0xB0), second))
            i += 2
        else:
            out.append(byte + 0x80 if mode == "kana" and 0x21 <= byte <= 0x5F else byte)
            i += 1
    return _strict(bytes(out), "cp932")


@lru_cache(maxsize=512)
def _resolve(declared: str | None) -> tuple[str | None, str, bool, bool]:
    """(codec, repair prefix, single-byte?, not ASCII-safe?) for a declared label."""
    codec = canonical_charset(declared)
    label = _clean_label(declared) if declared is not None else ""
    if codec is None:
        what = "charset: missing" if not label else f"charset: unknown '{label}'"
        return None, what, False, False
    stateful = _squash(codec).startswith(_NOT_ASCII_SAFE)
    return codec, f"charset: declared {label}", _is_single_byte(codec), stateful


def decode_bytes(data: bytes, declared: str | None, *, guess: bool = True) -> Decoded:
    """Decode ``data`` declared as ``declared`` (a raw label or ``None``); never raises.

    ``repair`` names what was done when the declared charset could not be used,
    e.g. ``"charset: declared us-ascii, decoded as utf-8"`` or
    ``"charset: unknown 'x-foo', decoded as windows-1252"``. Pure ASCII needs no
    repair whatever was declared. ``guess=False`` skips charset-normalizer
    (for headers, which are too short for it).
    """
    codec, what, single_byte, stateful = _resolve(declared)
    if not stateful and data.isascii():
        return Decoded(data.decode("ascii"), "ascii", None)

    if codec is not None:
        if single_byte:
            # Mislabelled UTF-8 is the most common charset lie; single-byte
            # charsets decode anything, so test UTF-8 first.
            text = _strict(data, "utf-8")
            if text is not None:
                return Decoded(text, "utf-8", f"{what}, decoded as utf-8")
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, codec, None)
        for wider in _WIDER.get(codec, ()):
            # Japanese mail often uses the NEC/IBM extensions under the plain label.
            text = _strict(data, wider)
            if text is not None:
                return Decoded(text, wider, None)
        if codec == "iso2022_jp" and (text := _iso2022jp_as_cp932(data)) is not None:
            return Decoded(text, "cp50220", None)

    if codec not in ("utf-8", "utf_8"):
        text = _strict(data, "utf-8")
        if text is not None:
            return Decoded(text, "utf-8", f"{what}, decoded as utf-8")

    if codec == "windows-1252" or codec == "cp1252":
        # Declared windows-1252 but with its five undefined bytes: keep the
        # declared reading, replacing only those.
        return Decoded(data.decode("cp1252", "replace"), "windows-1252", None)

    guessed = _guess(data) if guess else None
    if guessed is not None and guessed != codec:
        return Decoded(
            data.decode(guessed, "replace"), guessed, f"{what}, decoded as {_display(guessed)}"
        )
    if codec is not None and not single_byte:
        # A multibyte charset with a few bad sequences: its own reading with
        # replacement keeps the rest of the text (a cp1252 reading would not).
        text = data.decode(codec, "replace")
        if codec not in ("utf-8", "utf_8") or _has_real_non_ascii(text):
            return Decoded(text, codec, f"{what}, invalid bytes replaced")
    return Decoded(
        data.decode("cp1252", "replace"), "windows-1252", f"{what}, decoded as windows-1252"
    )


def _has_real_non_ascii(text: str) -> bool:
    """Whether text decoded with replacement holds a non-ASCII character that decoded."""
    return not text.replace("\ufffd", "").isascii()


def decode_header_bytes(data: bytes) -> Decoded:
    """Decode raw 8-bit header bytes: UTF-8 first, then windows-1252; never raises."""
    if data.isascii():
        return Decoded(data.decode("ascii"), "ascii", None)
    text = _strict(data, "utf-8")
    if text is not None:
        # RFC 6532 allows raw UTF-8 in headers: not a repair.
        return Decoded(text, "utf-8", None)
    return Decoded(
        data.decode("cp1252", "replace"), "windows-1252", "8-bit header decoded as windows-1252"
    )
