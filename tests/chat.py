"""Reading what the bot said from the Bot API calls it made: the texts, and the buttons under them."""

from __future__ import annotations

import json


def texts(calls: list[dict]) -> list[str]:
    """The texts sent or edited in, in order."""
    return [c["text"] for c in calls if c["method"] in ("sendMessage", "editMessageText")]


def buttons(calls: list[dict]) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button, in order."""
    out = []
    for c in calls:
        markup = c.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in (markup or {}).get("inline_keyboard", []):
            out.extend((b["text"], b["callback_data"]) for b in row)
    return out
