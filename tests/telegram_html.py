"""Is a string valid HTML for Telegram's parse_mode=HTML? (The tags and entities Telegram accepts.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span",
           "blockquote", "tg-emoji"}
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ALLOWED:
            self.errors.append(f"tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}>")
        else:
            self.stack.pop()


def html_errors(text: str) -> list[str]:
    """What Telegram would reject in ``text`` (empty when it is valid)."""
    errors: list[str] = []
    for m in re.finditer(r"&", text):
        if not ENTITY.match(text, m.start()):
            errors.append(f"bare & at {m.start()}")
    stripped = re.sub(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?>", "", text)
    if "<" in stripped or ">" in stripped:
        errors.append("a < or > that is not a tag")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    errors.extend(checker.errors)
    if checker.stack:
        errors.append(f"unclosed {checker.stack}")
    return errors
