"""The daily summary and announcements: /dangky, /huydangky, /tomtat, /thongbao, the daily job, delivery.

Delivery is exactly-once per subscriber through a ledger in the database: a broadcast is written with one
'pending' row per subscriber; each row is marked 'sending' (committed) as its message leaves the rate
limiter, its waits over, and 'sent' after. A restart resumes the pending rows; a row found 'sending' at
start-up was in flight when the process died — Telegram has no idempotency key, so it may or may not have
arrived — and becomes 'unknown', never re-sent. One message is in flight at a time, so at most one row
can end 'unknown' per crash, and a citizen's question never queues behind a burst of broadcast messages in
the rate limiter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from telegram import Bot, Chat, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from knowledge.announcements import CAPTION_LIMIT, Attachment, Span, announcement, visible_length
from knowledge.i18n import LANGS
from knowledge.store import Store
from knowledge.summary import build_summary, figure_line, summary_due
from knowledge.text import format_number

from .auth import allowed, author_may_still_write, may_press, role
from .common import (
    Services,
    acknowledge,
    esc,
    invalid_button,
    keyboard,
    lang_of,
    logged,
    pending_press,
    send_html,
    services,
    split_html,
    tr,
    user_hash,
)
from .ratelimit import StrictRateLimiter, retry_seconds

log = logging.getLogger("troly.broadcast")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
JOB_NAME = "daily-summary"
DELIVERER = "deliverer"
ANNOUNCE_CAPTION = r"^/(thongbao|announce)(@\w+)?(\s|$)"
TEXT_LIMIT = 4000  # an announcement longer than one Telegram message would arrive in pieces: ask for less


# -- the summary ------------------------------------------------------------------------------------

def render_summary(s: Services, day: dt.date, lang: str, now: float) -> str:
    """Today's summary in one language, as Telegram HTML: short enough to read on a phone."""
    since = now - 24 * 3600
    recent = s.store.figures_since(since)
    figures_of = {m.key: s.store.figures(m.key, include_undone=False) for m in s.registry.metrics}
    summary = build_summary(s.registry, day, recent, figures_of, s.store.announcements_since(since))
    lines = [tr(lang, "summary.title", date=day.strftime("%d/%m/%Y"), commune=s.kb.stats()["commune"])]
    if summary.new_figures:
        lines.append(tr(lang, "summary.new_figures"))
        lines += [f"• {esc(figure_line(row, progress))}" for row, progress in summary.new_figures[:8]]
    else:
        lines.append(tr(lang, "summary.no_new_figures"))
    if summary.behind:
        lines.append(tr(lang, "summary.behind"))
        lines += [tr(lang, "summary.behind_line", metric=b.metric.name, percent=format_number(b.percent, 0),
                     expected=format_number(b.expected, 0)) for b in summary.behind]
    if summary.announcements:
        lines.append(tr(lang, "summary.announcements"))
        lines += [f"• {esc(a)}" for a in summary.announcements[:5]]
    lines.append(tr(lang, "summary.how_to_ask"))
    return "\n".join(lines)


def delivery_report(s: Services, lang: str, now: float) -> str | None:
    """For admins: what the last day's broadcasts could not deliver."""
    counts = s.store.delivery_counts(since=now - 24 * 3600)
    if not counts:
        return None
    return tr(lang, "summary.report", sent=counts.get("sent", 0), failed=counts.get("failed", 0),
              unknown=counts.get("unknown", 0), blocked=counts.get("blocked", 0))


# -- delivery ---------------------------------------------------------------------------------------

class Deliverer:
    """Works through the open broadcasts one message at a time; one worker per process."""

    def __init__(self, s: Services, retries: int = 4, backoff: float = 0.5) -> None:
        self.s = s
        self.retries = retries
        self.backoff = backoff
        self.lock = asyncio.Lock()
        self.wakeup = asyncio.Event()

    @property
    def busy(self) -> bool:
        return self.lock.locked()

    async def run_open(self, bot: Bot, keep_going: Callable[[], bool] = lambda: True) -> None:
        """Deliver every open broadcast (resumed after a restart, or just created). When ``keep_going`` turns
        false (the bot is stopping) it stops after the message in hand; the rest stay pending for the next
        start, so a stop never waits for a whole broadcast."""
        async with self.lock:
            for broadcast_id, _, texts in self.s.store.open_broadcasts():
                attachment = self.s.store.broadcast_attachment(broadcast_id)
                if not await self._deliver(bot, broadcast_id, texts, keep_going, attachment):
                    return

    async def _deliver(self, bot: Bot, broadcast_id: int, texts: dict[str, str],
                       keep_going: Callable[[], bool], attachment: Attachment | None = None) -> bool:
        """A chat that fails for a passing reason (5xx, a time-out) goes back in the queue behind the others,
        so one bad chat never holds up the rest; after ``retries`` more tries it is 'failed'."""
        store = self.s.store
        while batch := store.next_pending(broadcast_id, 200):
            settled = False
            for chat_id, lang, attempts in batch:
                if not keep_going():
                    log.info("broadcast=%d paused at stop: %s", broadcast_id, store.delivery_counts(broadcast_id))
                    return False
                sending = _Sending(store, broadcast_id, chat_id, bot)
                state, message_id, error = await self._send(bot, chat_id, texts.get(lang) or texts["vi"], attachment,
                                                            sending)
                sending()  # a try that never reached the wire counts as one too
                if state == "retry":
                    state = "failed" if attempts >= self.retries else "pending"
                settled = settled or state != "pending"
                store.mark_delivery(broadcast_id, chat_id, state, message_id=message_id, error=error)
                if state != "sent":
                    log.info("broadcast=%d chat=%s %s: %s", broadcast_id, user_hash(chat_id), state, error)
            if not settled:  # only chats that keep failing are left: give them a moment
                await asyncio.sleep(self.backoff * 2 ** min(batch[0][2], 6))
        store.finish_broadcast(broadcast_id)
        log.info("broadcast=%d done: %s", broadcast_id, store.delivery_counts(broadcast_id))
        return True

    async def _send(self, bot: Bot, chat_id: int, text: str, attachment: Attachment | None = None,
                    sending: _Sending | None = None) -> tuple[str, int | None, str | None]:
        """A text over Telegram's 4,096 characters goes as several messages, cut between lines; one that fails
        after the first has gone is 'failed' (sending it again would repeat what arrived). With an attachment
        the text is its caption (kept under Telegram's limit when the announcement was previewed)."""
        if attachment:
            return await self._send_one(bot, chat_id, text, attachment, sending)
        pieces = split_html(text)
        state, first_id, error = await self._send_one(bot, chat_id, pieces[0], sending=sending)
        for n, piece in enumerate(pieces[1:], start=2):
            if state != "sent":
                break
            state, _, error = await self._send_one(bot, chat_id, piece)
            if state != "sent":
                return "failed", first_id, f"piece {n} of {len(pieces)}: {error}"
        return state, first_id, error

    async def _send_one(self, bot: Bot, chat_id: int, text: str, attachment: Attachment | None = None,
                        sending: _Sending | None = None) -> tuple[str, int | None, str | None]:
        """One try: 'sent', 'blocked', 'failed' (for good), or 'retry' (worth another try later)."""
        for _ in range(3):  # a RetryAfter waited out, a migrated group followed, then the send itself
            try:
                message = await send_announcement(bot, chat_id, text, attachment, leaving=sending)
                return "sent", message.message_id, None
            except Forbidden as err:  # blocked the bot, kicked it from the group
                return "blocked", None, str(err)[:200]
            except BadRequest as err:  # "Chat not found" and the like: this chat cannot be reached
                if "not found" in str(err).lower() or "deactivated" in str(err).lower():
                    return "blocked", None, str(err)[:200]
                return "failed", None, str(err)[:200]
            except ChatMigrated as err:  # the group became a supergroup: follow it, and its subscription
                self.s.store.migrate_chat(chat_id, err.new_chat_id)
                chat_id = err.new_chat_id
            except RetryAfter as err:  # the limiter gave up waiting: back off and try again
                await asyncio.sleep(retry_seconds(err))
            except (NetworkError, TelegramError) as err:  # 5xx, time-outs
                return "retry", None, str(err)[:200]
        return "retry", None, "flood control or migration did not settle"


async def send_announcement(bot: Bot, chat_id: int, text: str, attachment: Attachment | None = None,
                            markup: InlineKeyboardMarkup | None = None,
                            leaving: Callable[[], None] | None = None) -> Message:
    """One message as subscribers get it: the text, or the photo or file (by its Telegram file_id) with the
    text as its caption. The preview goes through here too, so the official sees exactly this. ``leaving`` is
    called as the request leaves, its rate limiter's waits over (``_Sending``)."""
    hook = {"rate_limit_args": leaving} if leaving is not None and leaving.limited else {}  # type: ignore[attr-defined]
    if leaving is not None and not hook:
        leaving()
    if attachment and attachment.kind == "photo":
        return await bot.send_photo(chat_id, attachment.file_id, caption=text, reply_markup=markup, **hook)
    if attachment:
        return await bot.send_document(chat_id, attachment.file_id, caption=text, reply_markup=markup, **hook)
    return await bot.send_message(chat_id, text, reply_markup=markup, **hook)


class _Sending:
    """A delivery's 'sending' mark (committed, the crash marker), made once, as late as can be: by the rate
    limiter once its waits for the chat and overall are over, so a process killed while the message waits
    leaves it 'pending', sent on the restart, and not 'sending', never sent again (handlers/tickets.py does
    the same for its outbox); without the limiter, just before the call."""

    def __init__(self, store: Store, broadcast_id: int, chat_id: int, bot: Bot) -> None:
        self.store, self.broadcast_id, self.chat_id = store, broadcast_id, chat_id
        self.limited = isinstance(getattr(bot, "rate_limiter", None), StrictRateLimiter)
        self.done = False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.store.mark_delivery(self.broadcast_id, self.chat_id, "sending", attempt=True)


def deliverer(application: Application) -> Deliverer:
    found = application.bot_data.get(DELIVERER)
    if found is None:
        found = application.bot_data[DELIVERER] = Deliverer(application.bot_data["services"])
    return found


def start_delivery(application: Application) -> None:
    """Deliver in the background: answering questions goes on meanwhile."""
    if not application.running:  # not serving yet: the daily job's first tick starts it
        return
    application.create_task(deliverer(application).run_open(application.bot, lambda: application.running),
                            name="broadcast-delivery")


# -- the daily job ----------------------------------------------------------------------------------

def today_summary(s: Services, now_local: dt.datetime) -> int | None:
    """Create today's summary broadcast if it is due (and not yet created): its id, or None."""
    day = now_local.date().isoformat()
    if not summary_due(now_local, s.summary_time, s.store.summary_exists(day)):
        return None
    now = now_local.timestamp()
    texts = {lang: render_summary(s, now_local.date(), lang, now) for lang in ("vi", "en")}
    return s.store.create_broadcast("summary", texts, day=day)


async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every minute: is today's summary due? (Also run once at start-up, which is the catch-up.)"""
    s = services(context)
    now_local = s.clock().astimezone(TZ)
    created = today_summary(s, now_local)
    if created is None:
        # A broadcast left open by a stop or a crash (or whose start found the bot not yet serving) resumes.
        if not deliverer(context.application).busy and s.store.open_broadcasts():
            start_delivery(context.application)
        return
    log.info("daily summary %s: broadcast=%d", now_local.date(), created)
    start_delivery(context.application)
    for admin_id in s.admin_ids:
        report = delivery_report(s, "vi", now_local.timestamp())
        if report:
            try:
                await context.bot.send_message(admin_id, report)
            except TelegramError as err:
                log.warning("admin report to %s failed: %s", user_hash(admin_id), err)


async def on_start(application: Application) -> None:
    """At start-up: in-flight rows become 'unknown', open broadcasts resume, the job is scheduled."""
    s: Services = application.bot_data["services"]
    unknown = s.store.recover_in_flight()
    if unknown:
        log.warning("%d deliveries were in flight at the last stop: marked unknown, not re-sent", unknown)
    start_delivery(application)
    if application.job_queue is not None:
        application.job_queue.run_repeating(tick, interval=s.tick_seconds, first=0.5, name=JOB_NAME)


# -- commands ---------------------------------------------------------------------------------------

async def _managed_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Chat | None:
    """The chat whose subscription may change: any private chat; a group only by its admins (or the
    commune's officials). Otherwise it says why not, and gives None."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type == ChatType.PRIVATE or role(update, context):
        return chat
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        member = None
    if member is not None and member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return chat
    await send_html(update, context, tr(lang_of(update, context), "subscribe.group_admins"))
    return None


@logged("/dangky")
async def cmd_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/dangky: the daily summary, in this chat's language; then, if it has not said so, which village."""
    chat = await _managed_chat(update, context)
    if chat is None:
        return
    lang = lang_of(update, context)
    s = services(context)
    new = s.store.subscribe(chat.id, chat.type, lang, update.effective_user.id if update.effective_user else None)
    hour = s.summary_time.strftime("%H:%M")
    text = tr(lang, "subscribe.done" if new else "subscribe.already", time=hour)
    markup = None
    if s.registry.villages and s.store.subscriber_village(chat.id) is None:
        text += "\n" + tr(lang, "village.ask_after_subscribe")
        markup = _village_keyboard(s, lang)
    await send_html(update, context, text, markup)


def _village_keyboard(s: Services, lang: str) -> InlineKeyboardMarkup | None:
    """The commune's villages, two a row (by position: a name may not fit a button's 64 bytes), and none."""
    names = s.registry.villages
    rows = [[(v, f"sv:{i}") for i, v in enumerate(names[j:j + 2], start=j)] for j in range(0, len(names), 2)]
    rows.append([(tr(lang, "village.clear"), "sv:-")])
    return keyboard(rows)


@logged("/thon")
async def cmd_village(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/thon: which village this subscriber lives in (announcements for a village reach it)."""
    chat = await _managed_chat(update, context)
    if chat is None:
        return
    lang = lang_of(update, context)
    s = services(context)
    if not s.store.is_subscribed(chat.id):
        await send_html(update, context, tr(lang, "village.subscribe_first"))
        return
    current = s.store.subscriber_village(chat.id) or tr(lang, "village.none_set")
    await send_html(update, context, tr(lang, "village.ask", current=current), _village_keyboard(s, lang))


@logged("/thon:button")
async def on_village_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A village pressed under /dangky or /thon (or "none")."""
    query = update.callback_query
    if query is None or not query.data:
        return
    await acknowledge(update)
    chat = await _managed_chat(update, context)
    if chat is None:
        return
    lang = lang_of(update, context)
    s = services(context)
    value = query.data.partition(":")[2]
    if value == "-":
        village = None
    elif value.isdigit() and int(value) < len(s.registry.villages):
        village = s.registry.villages[int(value)]
    else:
        await invalid_button(update, context)
        return
    if not s.store.set_subscriber_village(chat.id, village):
        await send_html(update, context, tr(lang, "village.subscribe_first"))
        return
    key = "village.set" if village else "village.cleared"
    await send_html(update, context, tr(lang, key, village=village or ""), edit=True)


@logged("/huydangky")
async def cmd_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/huydangky: no more daily summaries."""
    chat = await _managed_chat(update, context)
    if chat is None:
        return
    ended = services(context).store.unsubscribe(chat.id, "asked")
    await send_html(update, context, tr(lang_of(update, context),
                                        "unsubscribe.done" if ended else "unsubscribe.not_subscribed"))


@logged("/tomtat")
async def cmd_summary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tomtat: today's summary now."""
    s = services(context)
    now_local = s.clock().astimezone(TZ)
    await send_html(update, context, render_summary(s, now_local.date(), lang_of(update, context),
                                                    now_local.timestamp()))


def _spans(entities: Sequence[MessageEntity] | None) -> list[Span]:
    return [Span(str(getattr(e.type, "value", e.type)), e.offset, e.length, e.url) for e in entities or ()]


def _command_length(text: str, entities: Sequence[MessageEntity] | None) -> int:
    """The UTF-16 length of the leading "/thongbao" (or "/thongbao@bot"): its entity, else its first word."""
    marked = next((e.length for e in entities or () if e.type == MessageEntityType.BOT_COMMAND and e.offset == 0), 0)
    if marked or not text.startswith("/"):
        return marked
    return len(text.split(None, 1)[0].encode("utf-16-le")) // 2


def _rendered(lang: str, body_html: str) -> str:
    """The message subscribers get: the header in their language, then the announcement."""
    return tr(lang, "announce.header") + "\n" + body_html


@logged("/thongbao")
async def cmd_announce(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/thongbao [thôn A, B:] <nội dung>: an announcement to subscribers (of those villages), after a preview."""
    message = update.effective_message
    if not await allowed(update, context, "thongbao") or message is None:
        return
    await _announce(update, context, message.text or "", message.entities, None)


@logged("/thongbao:file")
async def on_announce_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo or a file with "/thongbao …" as its caption: the announcement carries it (by its file_id)."""
    message = update.effective_message
    if not await allowed(update, context, "thongbao") or message is None:
        return
    if message.photo:
        attachment = Attachment("photo", message.photo[-1].file_id)
    elif message.document:
        attachment = Attachment("document", message.document.file_id)
    else:
        return
    await _announce(update, context, message.caption or "", message.caption_entities, attachment)


async def _announce(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                    entities: Sequence[MessageEntity] | None, attachment: Attachment | None) -> None:
    """Preview the announcement exactly as it will be sent, then ask: to how many, Gửi or Hủy."""
    lang = lang_of(update, context)
    s = services(context)
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    found = announcement(text, _spans(entities), s.registry.village_named,
                         _command_length(text, entities))
    if found.problem == "announce.unknown_village":
        await send_html(update, context, tr(lang, found.problem, village=found.unknown,
                                            villages=", ".join(s.registry.villages)))
        return
    if found.problem:
        await send_html(update, context, tr(lang, "announce.usage"))
        return
    rendered = _rendered(lang, found.html)
    length = max(visible_length(_rendered(lng, found.html)) for lng in LANGS)  # the longest header counts
    limit = CAPTION_LIMIT if attachment else TEXT_LIMIT
    if length > limit:
        key = "announce.caption_too_long" if attachment else "announce.too_long"
        await send_html(update, context, tr(lang, key, length=length, limit=limit))
        return
    token = secrets.token_hex(8)
    s.store.open_pending(token, user.id, {"announcement": found.text, "html": found.html,
                                          "villages": list(found.villages),
                                          "attachment": attachment.as_dict() if attachment else None})
    # What subscribers will see, through the very call that sends it to them.
    if attachment:
        await send_announcement(context.bot, chat.id, rendered, attachment)
    else:
        for piece in split_html(rendered):
            await send_announcement(context.bot, chat.id, piece)
    target = tr(lang, "announce.to_villages", villages=", ".join(found.villages)) if found.villages else ""
    rows = [[(tr(lang, "update.confirm"), f"an:{token}"), (tr(lang, "update.cancel"), f"ax:{token}")]]
    await send_html(update, context, tr(lang, "announce.preview", count=s.store.audience_size(found.villages),
                                        target=target), keyboard(rows))


@logged("/thongbao:button")
async def on_announce_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    press = await pending_press(update, context, "announcement", "update.expired")
    if press is None:
        return
    kind, token, owner, payload, state = press.kind, press.token, press.owner, press.payload, press.state
    lang = lang_of(update, context)
    s = services(context)
    if not await may_press(update, context, f"thongbao:{'cancel' if kind == 'ax' else 'confirm'}", owner):
        return
    if kind == "ax":  # after Gửi (a double tap, a stale keyboard) it is too late to cancel: say so
        cancelled = s.store.cancel_pending(token)
        await send_html(update, context, tr(lang, "update.cancelled" if cancelled else "announce.already"),
                        edit=True)
        return
    if state == "cancelled":
        await send_html(update, context, tr(lang, "announce.was_cancelled"))
        return
    if not await author_may_still_write(update, context, "thongbao:confirm", owner):
        return
    text = payload["announcement"]
    body_html = payload.get("html") or esc(text)  # a preview made before formatting was kept: its plain words
    texts = {lng: _rendered(lng, body_html) for lng in LANGS}
    created = s.store.create_broadcast("announcement", texts, created_by=owner, request=token, body=text,
                                       villages=payload.get("villages") or (),
                                       attachment=Attachment.from_dict(payload.get("attachment")))
    s.store.close_pending(token)
    if created is None:
        await send_html(update, context, tr(lang, "announce.already"), edit=True)
        return
    start_delivery(context.application)
    await send_html(update, context, tr(lang, "announce.sending",
                                        count=sum(s.store.delivery_counts(created).values())), edit=True)


def handlers() -> Sequence[BaseHandler]:
    return [
        CommandHandler(["dangky", "subscribe"], cmd_subscribe),
        CommandHandler(["huydangky", "unsubscribe"], cmd_unsubscribe),
        CommandHandler(["tomtat", "summary"], cmd_summary),
        CommandHandler(["thon", "village"], cmd_village),
        CallbackQueryHandler(on_village_button, pattern=r"^sv:"),
        CommandHandler(["thongbao", "announce"], cmd_announce),
        # A photo or a file whose caption is "/thongbao …" (CommandHandler reads only a message's text).
        MessageHandler((filters.PHOTO | filters.Document.ALL) & filters.CaptionRegex(ANNOUNCE_CAPTION),
                       on_announce_file),
        CallbackQueryHandler(on_announce_button, pattern=r"^(an|ax):"),
    ]

