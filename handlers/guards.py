"""Before and after every handler: slow down floods, and turn errors into a log line and a polite reply."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import MessageEntityType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from .common import Services, lang_of, send_html, services, tr, user_hash

log = logging.getLogger("troly.errors")


async def flood_guard(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """More than ``flood_limit`` messages in ``flood_window`` seconds from one person: one polite notice, then
    their messages are dropped until they slow down (runs before every other handler)."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    s = services(context)
    now = s.monotonic()
    if now - s.flood_swept_at > s.flood_window:
        forget_idle(s, now)
    user_id = update.effective_user.id
    recent = [t for t in s.recent.get(user_id, []) if now - t < s.flood_window]
    recent.append(now)
    s.recent[user_id] = recent
    if len(recent) <= s.flood_limit:
        return
    if now - s.warned.get(user_id, -1e9) > s.flood_window:
        s.warned[user_id] = now
        log.info("user=%s flood: %d messages in %.0f s", user_hash(user_id), len(recent), s.flood_window)
        await send_html(update, context, tr(lang_of(update, context), "flood.notice"))
    raise ApplicationHandlerStop


def _holds_command(message: Message) -> bool:
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    return text.lstrip().startswith("/") or any(e.type == MessageEntityType.BOT_COMMAND for e in entities)


async def forwarded_command(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command inside a forwarded message is someone else's words: it never runs with the forwarder's rights
    (an admin forwarding a stranger's "/canbo them 903" must not make 903 an official). Replying to a forward
    with one's own command (/canbo them) still works: that reply is not itself forwarded."""
    if not isinstance(update, Update):
        return
    message = update.message or update.edited_message
    if message is None or message.forward_origin is None or not _holds_command(message):
        return
    user = update.effective_user
    log.info("user=%s forwarded command ignored", user_hash(user.id if user else None))
    await send_html(update, context, tr(lang_of(update, context), "forward.not_run"))
    raise ApplicationHandlerStop


def forget_idle(s: Services, now: float) -> None:
    """Forget whoever has been quiet for a whole window: their times no longer count, and without this every
    person who ever wrote kept a list (+11 MB per 10,000 users). Run at most once a window, so its cost per
    update stays constant; what is kept is bounded by the people active in the last two windows."""
    s.flood_swept_at = now
    for user_id in [u for u, times in s.recent.items() if not times or now - times[-1] >= s.flood_window]:
        del s.recent[user_id]
    for user_id in [u for u, at in s.warned.items() if now - at > s.flood_window]:
        del s.warned[user_id]


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log what went wrong (never the token, never to the chat) and apologise to the person."""
    user = update.effective_user if isinstance(update, Update) else None
    log.error("user=%s error: %r", user_hash(user.id if user else None), context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await send_html(update, context, tr(lang_of(update, context), "error.generic"))
        except Exception:  # the apology itself failed (network): the log line above is what remains
            log.warning("could not tell user=%s about the error", user_hash(user.id if user else None))
