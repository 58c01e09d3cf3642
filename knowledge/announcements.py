"""An official's announcement as subscribers will see it: the words with their line breaks, the formatting the
official typed (bold, italic… given as spans, the way Telegram marks them) rendered as Telegram HTML with
everything else escaped, and the villages it is for ("/thongbao thôn Còn Nàn, Bản Vàng: …").

No Telegram types here: a span is (kind, offset, length[, url]) with offsets in UTF-16 code units, as the
Bot API gives them; the handler converts its entities.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .text import fold

CAPTION_LIMIT = 1024  # Telegram's longest caption (a photo's or a file's), in characters as shown

# The formatting kept, and its Telegram HTML. Mentions, hashtags, URLs typed as text and the like are shown as
# the text they are (Telegram links a bare URL by itself).
TAGS: dict[str, tuple[str, str]] = {
    "bold": ("<b>", "</b>"), "italic": ("<i>", "</i>"), "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"), "spoiler": ('<span class="tg-spoiler">', "</span>"),
    "code": ("<code>", "</code>"), "pre": ("<pre>", "</pre>"), "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}
LINK_SCHEMES = ("http://", "https://", "tg://")
_TARGET = re.compile(r"^(?:gui |cho |chi )?(?:cac )?(?:thon|villages?)\s+(?P<names>.+)$")
_NAME_SPLIT = re.compile(r"\s*(?:,|;|\+|&|\b(?:và|va|and)\b)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A piece of formatting: Telegram's entity type ("bold"), where it starts and how long it is (UTF-16
    units), and a text link's URL."""

    kind: str
    offset: int
    length: int
    url: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A photo or a file an announcement carries: Telegram's ``file_id`` of what the official sent (sent on by
    that id, never downloaded); ``kind`` is "photo" or "document"."""

    kind: str
    file_id: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "file_id": self.file_id}

    @classmethod
    def from_dict(cls, data: dict | None) -> Attachment | None:
        return cls(str(data["kind"]), str(data["file_id"])) if data else None


@dataclass(frozen=True)
class Announcement:
    """What an official asked to announce: ``text`` the plain words (the daily summary quotes them), ``html``
    the same as Telegram HTML, ``villages`` the villages it is for (empty: everyone). ``problem`` is a locale
    key when it cannot be sent as asked ("announce.usage", "announce.unknown_village" with ``unknown``)."""

    text: str
    html: str
    villages: tuple[str, ...] = ()
    problem: str | None = None
    unknown: str = ""


def render_html(text: str, spans: Sequence[Span] = ()) -> str:
    """``text`` as Telegram HTML: every character escaped, the known formatting as tags, always well nested
    (spans that overlap without nesting are closed and reopened around each other)."""
    index = _utf16_index(text)
    kept = []
    for n, span in enumerate(spans):
        start, end = index(span.offset), index(span.offset + span.length)
        if start >= end:
            continue
        if span.kind in TAGS:
            kept.append((start, end, n, TAGS[span.kind]))
        elif span.kind == "text_link" and span.url and span.url.lower().startswith(LINK_SCHEMES):
            kept.append((start, end, n, (f'<a href="{html.escape(span.url, quote=True)}">', "</a>")))
    kept.sort(key=lambda s: (s[0], -s[1], s[2]))
    out: list[str] = []
    stack: list[tuple[int, int, int, tuple[str, str]]] = []
    for i, char in enumerate(text + "\0"):
        active = [s for s in kept if s[0] <= i < s[1]]
        keep = 0  # the stack's bottom that stays open: every span in it is still active
        while keep < len(stack) and stack[keep] in active:
            keep += 1
        for span in reversed(stack[keep:]):
            out.append(span[3][1])
        del stack[keep:]
        for span in active:
            if span not in stack:
                out.append(span[3][0])
                stack.append(span)
        if i < len(text):
            out.append(html.escape(char, quote=False))
    return "".join(out)


def announcement(text: str, spans: Sequence[Span], village_named: Callable[[str], str | None],
                 command_length: int = 0) -> Announcement:
    """The announcement in ``text`` after its command (``command_length`` UTF-16 units, "/thongbao"), with a
    leading "thôn A, B:" line taken as its villages. Line breaks are kept as typed."""
    body, spans = _cut(text, spans, command_length)
    stripped = body.lstrip()
    body, spans = _cut(body, spans, _utf16_len(body[: len(body) - len(stripped)]))
    body = body.rstrip()
    villages: tuple[str, ...] = ()
    head_end = _head_end(body)
    if head_end is not None:
        head = body[:head_end].strip()
        match = _TARGET.match(fold(head))
        if match:
            prefix_words = len(fold(head).split()) - len(match.group("names").split())
            names = [n for n in _NAME_SPLIT.split(" ".join(head.split()[prefix_words:])) if n.strip()]
            found = [village_named(n) for n in names]
            unknown = next((n for n, f in zip(names, found) if not f), None)
            if unknown is not None or not names:
                return Announcement("", "", problem="announce.unknown_village", unknown=(unknown or head).strip())
            villages = tuple(dict.fromkeys(v for v in found if v))
            rest = body[head_end + 1:]
            body, spans = _cut(body, spans, _utf16_len(body[: len(body) - len(rest.lstrip())]))
    if not body.strip():
        return Announcement("", "", villages, problem="announce.usage")
    return Announcement(body, render_html(body, spans), villages)


def visible_length(rendered: str) -> int:
    """How long Telegram HTML is once shown, in UTF-16 units as Telegram counts (an emoji is two): a caption's
    limit counts what is shown, not the tags."""
    return _utf16_len(html.unescape(re.sub(r"<[^>]+>", "", rendered)))


def _head_end(body: str) -> int | None:
    """Where a first line "thôn …:" ends (its colon), when the first line has one early enough to be one."""
    line_end = body.find("\n")
    colon = (body if line_end < 0 else body[:line_end]).find(":")
    return colon if 0 < colon <= 120 else None


def _cut(text: str, spans: Sequence[Span], units: int) -> tuple[str, list[Span]]:
    """``text`` without its first ``units`` UTF-16 units, the spans moved along (and clipped)."""
    if units <= 0:
        return text, list(spans)
    chars = _utf16_index(text)(units)
    out = []
    for s in spans:
        start, end = max(s.offset - units, 0), s.offset + s.length - units
        if end > start:
            out.append(Span(s.kind, start, end - start, s.url))
    return text[chars:], out


def _utf16_len(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def _utf16_index(text: str) -> Callable[[int], int]:
    """UTF-16 offset → index in ``text`` (an emoji is two units and one character)."""
    positions = []
    for i, c in enumerate(text):
        positions.append(i)
        if ord(c) > 0xFFFF:
            positions.append(i)
    positions.append(len(text))

    def index(units: int) -> int:
        return positions[min(max(units, 0), len(positions) - 1)]

    return index
