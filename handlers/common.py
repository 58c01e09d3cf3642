"""What every handler shares: the services, the asker's language, safe HTML replies, one log line per update."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from knowledge.i18n import DEFAULT_LANG, LANGS, t
from knowledge.kb import KnowledgeBase
from knowledge.metrics import Registry
from knowledge.store import Store

log = logging.getLogger("troly.updates")

SERVICES_KEY = "services"
_NOTE: ContextVar[dict[str, Any] | None] = ContextVar("troly_update_note", default=None)
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]


@dataclass
class Services:
    """Built once at start-up (bot.py) and kept in ``bot_data``; handlers reach them through :func:`services`."""

    kb: KnowledgeBase
    store: Store
    registry: Registry = field(default_factory=lambda: Registry([], []))
    admin_ids: frozenset[int] = frozenset()
    summary_time: dt.time = dt.time(7, 0)  # DAILY_SUMMARY_TIME, local time
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))  # tests turn it
    tick_seconds: float = 30.0  # how often the daily job looks at the clock
    flood_limit: int = 10
    flood_window: float = 10.0
    recent: dict[int, list[float]] = field(default_factory=dict)  # user id → times of recent messages
    warned: dict[int, float] = field(default_factory=dict)  # user id → when told to slow down
    monotonic: Callable[[], float] = time.monotonic  # the flood guard's clock (tests turn it)
    flood_swept_at: float = 0.0  # when idle users were last forgotten (guards.flood_guard)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data[SERVICES_KEY]


def lang_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The asker's language: their choice (/ngonngu), else the language their Telegram is set to (when the bot
    has it), else Vietnamese."""
    user = update.effective_user
    if user is None:
        return DEFAULT_LANG
    chosen = services(context).store.user_lang(user.id)
    if chosen in LANGS:
        return chosen
    telegram = (user.language_code or "").split("-")[0].lower()
    return telegram if telegram in LANGS else DEFAULT_LANG


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


_SALT = {"key": b""}


def set_log_salt(secret: str) -> None:
    _SALT["key"] = secret.encode()


def user_hash(user_id: int | None) -> str:
    """Logs name people by a keyed hash, never by id or name (ids are few: an unkeyed hash is reversible)."""
    if user_id is None:
        return "-"
    return hmac.new(_SALT["key"], str(user_id).encode(), hashlib.sha256).hexdigest()[:10]


def split_html(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Pieces under Telegram's limit, cut between lines (our HTML never spans lines), else between words."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one very long line: cut at a space, never inside an entity or tag
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            while "&" in line[max(0, cut - 8) : cut] and ";" not in line[line.rfind("&", 0, cut) : cut]:
                cut -= 1
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [text[:limit]]


async def acknowledge(update: Update, text: str | None = None) -> None:
    """Answer a button press (stops its spinner, or shows ``text``). Best effort: Telegram refuses the answer
    once the press is ~15 s old ("query is too old"), as for a press replayed after a restart, and the
    press must still take effect."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text)
    except TelegramError as err:
        log.info("answerCallbackQuery failed (%s): the press goes on", err)


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    """Buttons from (label, callback data) rows; data must fit Telegram's 64 bytes."""
    built = []
    for row in rows:
        buttons = []
        for label, data in row:
            assert len(data.encode()) <= 64, data
            buttons.append(InlineKeyboardButton(label, callback_data=data))
        if buttons:
            built.append(buttons)
    return InlineKeyboardMarkup(built) if built else None


async def send_html(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                    markup: InlineKeyboardMarkup | None = None, edit: bool = False) -> Message | None:
    """Reply (or edit the pressed message) in HTML, split under 4096 characters; buttons go on the last piece."""
    pieces = split_html(text)
    chat = update.effective_chat
    if chat is None:
        return None
    query = update.callback_query
    if edit and query is not None and query.message is not None and len(pieces) == 1:
        try:
            await query.edit_message_text(pieces[0], reply_markup=markup)
            return None
        except BadRequest as err:
            if "not modified" in str(err).lower():  # a second tap: the message already says this
                return None
            # The pressed message cannot be edited (deleted, too old, a press replayed after a restart):
            # the result goes in a new message, never lost behind an error.
            log.info("edit failed (%s): sending the result as a new message", err)
    last: Message | None = None
    for i, piece in enumerate(pieces):
        last = await context.bot.send_message(chat.id, piece, reply_markup=markup if i == len(pieces) - 1 else None)
    return last


async def invalid_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Callback data the bot never sent, or one that no longer fits (forged, stale, another kind's token):
    say so politely and write nothing."""
    note(kind="button:invalid")
    await send_html(update, context, tr(lang_of(update, context), "button.invalid"))


def logged(kind: str) -> Callable[[Handler], Handler]:
    """One log line per update: who (hashed), what, how long; handlers add the source and score."""

    def wrap(fn: Handler) -> Handler:
        @wraps(fn)
        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
            started = time.perf_counter()
            found: dict[str, Any] = {}
            token = _NOTE.set(found)
            try:
                return await fn(update, context)  # a conversation step's next state passes through
            finally:
                _NOTE.reset(token)
                user = update.effective_user
                log.info("user=%s %s source=%s score=%s ms=%.1f", user_hash(user.id if user else None),
                         found.get("kind", kind), found.get("source", "-"), found.get("score", "-"),
                         (time.perf_counter() - started) * 1000)

        return run

    return wrap


def note(**values: Any) -> None:
    """Add what a handler found (source, score) to its update's log line."""
    found = _NOTE.get(None)
    if found is not None:
        found.update(values)


def short_key(key: str) -> str:
    """A passage key short enough for a button's 64 bytes."""
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def button_label(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tr(lang: str, key: str, **values: object) -> str:
    """A locale string, HTML-escaped values filled in."""
    return t(key, lang, **{k: esc(v) for k, v in values.items()})


@dataclass(frozen=True)
class Press:
    """A press of a pending request's Xác nhận or Hủy: the button's kind, the request's token, who made the
    request, what it holds and its state (``Store.pending``)."""

    kind: str
    token: str
    owner: int
    payload: dict
    state: str


async def pending_press(update: Update, context: ContextTypes.DEFAULT_TYPE, holds: str,
                        expired_key: str) -> Press | None:
    """The request a confirm or cancel button stands for, the press acknowledged; None, with the reason said,
    when it has expired or is another kind's request (``holds``: the payload key its own kind writes)."""
    query = update.callback_query
    if query is None or not query.data:
        return None
    await acknowledge(update)
    kind, _, token = query.data.partition(":")
    pending = services(context).store.pending(token)
    if pending is None:
        await send_html(update, context, tr(lang_of(update, context), expired_key))
        return None
    owner, payload, state = pending
    if holds not in payload:  # another kind's token pressed as this kind's
        await invalid_button(update, context)
        return None
    return Press(kind, token, owner, payload, state)
