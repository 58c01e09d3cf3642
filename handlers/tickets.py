"""Tickets on Telegram: a question handed to the commune's officials, a citizen's report (/phananh), its status
(/theodoi), the officials' list (/hoidap), their answers (a reply to the ticket's post, or ✍️ Trả lời), and
the courier that delivers every message a ticket causes exactly once (knowledge/tickets.py has the rules).

Who may do what is checked at the moment of every press and every reply (handlers/auth.py): only an official
or an admin reads a ticket (/hoidap, the posts go only to the officials' chat or to officials privately) and
only they answer or move one, even inside the officials' group.

Delivery: the answer (or the status change) and its outbox row are committed together; the courier marks a
row 'sending' (committed when the rate limiter lets the request leave) and 'sent' once Telegram answers. A
SIGKILL before that leaves it 'pending' (sent on the restart). A row found 'sending' at start-up was in
flight: a citizen's answer or status becomes 'unknown' and is never sent again (so never twice; the window
in which a crash loses it is the one call in flight, a few milliseconds, and the answer is then still in
/theodoi); a post to the officials is sent again (at least once: a second copy of "🎫 #12" is harmless, a
lost one would leave the question unseen). A time-out is treated the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import Bot, ForceReply, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from knowledge.answer import Reply
from knowledge.tickets import (
    DONE,
    IN_PROGRESS,
    POST_MARK,
    QUESTION,
    REPORT,
    STATUSES,
    Draft,
    OutboxItem,
    Recipient,
    Ticket,
    TicketDesk,
    TicketError,
    age_days,
    parse_officials_chat,
    recipients,
)

from .auth import allowed
from .common import (
    Services,
    acknowledge,
    button_label,
    esc,
    invalid_button,
    keyboard,
    lang_of,
    logged,
    note,
    send_html,
    services,
    tr,
    user_hash,
)
from .ratelimit import StrictRateLimiter

log = logging.getLogger("troly.tickets")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COURIER = "ticket-courier"
JOB_NAME = "ticket-outbox"
RETRIES = 5
# What the officials read may arrive twice (the same "🎫 #12": either answers it), never not at all; what a
# citizen receives arrives at most once (in flight at a crash: 'unknown', still readable in /theodoi).
AT_LEAST_ONCE = ("post", "photo", "location", "digest")
OFFICIALS_CHAT_META = "officials_chat"
PURGE_EVERY = 3600.0  # seconds between two privacy sweeps while running
LIST_MAX = 15


def desk(context: ContextTypes.DEFAULT_TYPE) -> TicketDesk:
    return TicketDesk(services(context).store)


def officials_chat(s: Services) -> int | None:
    """The officials' group: an admin's /nhomcanbo (kept in the database), else commune.yaml's officials_chat."""
    stored = s.store.get_meta(OFFICIALS_CHAT_META)
    if stored is not None:
        return parse_officials_chat(stored)
    return parse_officials_chat(s.kb.commune.get("officials_chat"))


def ticket_recipients(s: Services) -> list[Recipient]:
    officials = [pid for pid, _ in s.store.people_with_role("official")]
    langs = {pid: s.store.user_lang(pid) or "vi" for pid in set(officials) | set(s.admin_ids)}
    return recipients(officials_chat(s), officials, s.admin_ids, langs)


def when(timestamp: float | None) -> str:
    return dt.datetime.fromtimestamp(timestamp, TZ).strftime("%H:%M %d/%m/%Y") if timestamp else "—"


def status_label(ticket: Ticket, lang: str, status: str | None = None) -> str:
    return tr(lang, f"ticket.status.{status or ticket.status}")


# -- what the messages say ----------------------------------------------------------------------------

def post_text(ticket: Ticket, lang: str) -> str:
    """The officials' post: the mark a reply is recognised by, what was asked or reported, how to answer."""
    kind = tr(lang, "ticket.kind.question" if ticket.kind == QUESTION else "ticket.kind.report")
    lines = [f"{POST_MARK}{ticket.id} · {kind} · {when(ticket.created_at)}"]
    lines.append(f"«{esc(ticket.text)}»" if ticket.text else tr(lang, "ticket.no_text"))
    if ticket.latitude is not None and ticket.longitude is not None:
        lines.append(tr(lang, "ticket.location", lat=f"{ticket.latitude:.5f}", lon=f"{ticket.longitude:.5f}"))
    if ticket.photo:
        lines.append(tr(lang, "ticket.has_photo"))
    if ticket.kind == REPORT:
        lines.append(tr(lang, "ticket.status_line", status=status_label(ticket, lang)))
    lines.append(tr(lang, "ticket.how_to_answer"))
    return "\n".join(lines)


def post_buttons(ticket: Ticket, lang: str) -> list[list[tuple[str, str]]]:
    rows = [[(tr(lang, "ticket.answer_button"), f"ta:{ticket.id}")]]
    if ticket.kind == REPORT:
        rows.append([(tr(lang, "ticket.move_button", status=status_label(ticket, lang, s)), f"tw:{ticket.id}:{s}")
                     for s in (IN_PROGRESS, DONE)])
    return rows


def answer_text(ticket: Ticket, text: str, name: str | None, lang: str) -> str:
    """What the citizen receives: which of their tickets, what they asked, the answer, who answered."""
    key = "ticket.answer_to_question" if ticket.kind == QUESTION else "ticket.answer_to_report"
    return "\n".join([tr(lang, key, id=ticket.id), f"«{esc(ticket.text)}»" if ticket.text else "", "",
                      esc(text), "", tr(lang, "ticket.answered_by", name=name or tr(lang, "ticket.an_official"))])


def status_text(ticket: Ticket, status: str, name: str | None, lang: str) -> str:
    return "\n".join([tr(lang, "ticket.status_changed", id=ticket.id, status=status_label(ticket, lang, status)),
                      f"«{esc(ticket.text[:300])}»" if ticket.text else "",
                      tr(lang, "ticket.changed_by", name=name or tr(lang, "ticket.an_official"))])


def digest_text(s: Services, lang: str, now: float) -> str | None:
    tickets = s.store.open_tickets()
    if not tickets:
        return None
    questions = sum(t.kind == QUESTION for t in tickets)
    return tr(lang, "ticket.digest", questions=questions, reports=len(tickets) - questions,
              id=tickets[0].id, days=age_days(tickets[0].created_at, now))


# -- the courier ------------------------------------------------------------------------------------

class Courier:
    """Sends the outbox one message at a time (one worker per process, under a lock)."""

    def __init__(self, s: Services) -> None:
        self.s = s
        self.lock = asyncio.Lock()
        self.purged_at = 0.0

    async def run(self, bot: Bot) -> int:
        """One pass over what is pending: the number sent. A row that fails for a passing reason stays
        pending (the next pass, or the periodic job, tries it again) until RETRIES, then 'failed'."""
        sent = 0
        async with self.lock:
            for item in self.s.store.outbox_pending(200):
                state, message_id, error = await self._deliver(bot, item)
                if state == "retry":
                    state = "failed" if item.attempts + 1 >= RETRIES else "pending"
                self.s.store.outbox_mark(item.id, state, message_id=message_id, error=error)
                sent += state == "sent"
                if state != "sent":
                    log.info("outbox=%d %s to chat=%s: %s: %s", item.id, item.purpose, user_hash(item.chat_id),
                             state, error)
        return sent

    async def _deliver(self, bot: Bot, item: OutboxItem) -> tuple[str, int | None, str | None]:
        """The call for one row. 'sending' is committed as late as can be: by the rate limiter once its waits
        are over (a kill during a wait leaves the row 'pending'), or here, just before, without one."""
        store = self.s.store
        marked: list[bool] = []

        def leaving() -> None:
            if not marked:
                marked.append(True)
                store.outbox_mark(item.id, "sending", attempt=True)  # the crash marker

        limited = isinstance(getattr(bot, "rate_limiter", None), StrictRateLimiter)
        hook = {"rate_limit_args": leaving} if limited else {}
        ticket = store.ticket(item.ticket_id) if item.ticket_id is not None else None
        if item.chat_id is None or (item.ticket_id is not None and ticket is None):
            return "dropped", None, "no chat"
        lang = item.lang
        if item.purpose == "digest":
            text = digest_text(self.s, lang, time.time())
            if text is None:
                return "dropped", None, "nothing open"
            send = bot.send_message(item.chat_id, text, **hook)
        elif ticket is None:
            return "dropped", None, "no ticket"
        elif item.purpose == "post":
            send = bot.send_message(item.chat_id, post_text(ticket, lang),
                                    reply_markup=keyboard(post_buttons(ticket, lang)), **hook)
        elif item.purpose == "photo" and ticket.photo:
            send = bot.send_photo(item.chat_id, ticket.photo, caption=f"{POST_MARK}{ticket.id}", **hook)
        elif item.purpose == "location" and ticket.latitude is not None and ticket.longitude is not None:
            send = bot.send_location(item.chat_id, ticket.latitude, ticket.longitude, **hook)
        elif item.purpose in ("answer", "status") and item.event_id is not None \
                and (event := store.ticket_event(item.event_id)) is not None:
            text = answer_text(ticket, event.text or "", event.by_name, lang) if item.purpose == "answer" \
                else status_text(ticket, event.status or ticket.status, event.by_name, lang)
            send = bot.send_message(item.chat_id, text, **hook)
        else:
            return "dropped", None, f"nothing to send for {item.purpose}"
        if not limited:
            leaving()
        try:
            message: Message = await send
            return "sent", message.message_id, None
        except Forbidden as err:  # blocked the bot, left the group
            return "blocked", None, str(err)[:200]
        except BadRequest as err:  # the chat cannot be reached, the photo is gone
            return "failed", None, str(err)[:200]
        except TimedOut as err:  # the request may have arrived: a citizen's is never sent again
            return ("retry" if item.purpose in AT_LEAST_ONCE else "unknown"), None, str(err)[:200]
        except RetryAfter as err:
            return "retry", None, str(err)[:200]
        except (NetworkError, TelegramError) as err:  # refused, 5xx: worth another try later
            if item.purpose not in AT_LEAST_ONCE and _maybe_arrived(err):
                return "unknown", None, str(err)[:200]
            return "retry", None, str(err)[:200]
        finally:
            send.close()  # a coroutine never awaited (an early return above) must not warn


def _maybe_arrived(err: TelegramError) -> bool:
    """A connection lost after the request went out (python-telegram-bot names httpx's error) may have
    delivered it; a refused connection, or an error answer from the server (a 5xx), did not."""
    text = str(err)
    return text.startswith("httpx.") and not text.startswith("httpx.ConnectError")


def courier(application: Application) -> Courier:
    found = application.bot_data.get(COURIER)
    if found is None:
        found = application.bot_data[COURIER] = Courier(application.bot_data["services"])
    return found


async def deliver_now(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Right after a write: send what it caused (the handler's reply comes after, so the test and the person
    see the answer go out before "sent")."""
    await courier(context.application).run(context.bot)


async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Periodically: what is still pending (a failure, a restart), the officials' daily count once the day's
    summary is made, and the privacy sweep."""
    s = services(context)
    c = courier(context.application)
    now = time.time()
    if now - c.purged_at >= PURGE_EVERY:
        c.purged_at = now
        forgotten = desk(context).forget(now)
        if forgotten:
            log.info("%d closed tickets forgot their chat (30 days)", forgotten)
    day = s.clock().astimezone(TZ).date().isoformat()
    if s.store.summary_exists(day) and s.store.open_tickets():
        s.store.queue_digest(day, ticket_recipients(s))
    await c.run(context.bot)


async def on_start(application: Application) -> None:
    """At start-up: rows in flight at the last stop become 'unknown'; the job resumes the rest."""
    s: Services = application.bot_data["services"]
    resent, unknown = s.store.outbox_recover(again=AT_LEAST_ONCE)
    if resent:
        log.warning("%d posts to officials were in flight at the last stop: sent again (a copy is harmless)", resent)
    if unknown:
        log.warning("%d messages to citizens were in flight at the last stop: marked unknown, not sent again",
                    unknown)
    if application.job_queue is not None:
        application.job_queue.run_repeating(tick, interval=s.tick_seconds, first=0.3, name=JOB_NAME)


# -- offers under the bot's replies (handlers/citizen.py, teaching.py) ------------------------------------

def offer_rows(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply, question: str,
               lang: str) -> list[list[tuple[str, str]]]:
    """Under "I don't know", a close call or a request for a person: "Gửi câu hỏi cho cán bộ xã" (the question
    kept in the database under the button's token); under a complaint: "Gửi phản ánh"."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return []
    if reply.kind == "handoff":
        if chat.type != "private":  # what they would type next: in a group the bot may never see it
            return []
        if reply.act == "complaint":
            return [[(tr(lang, "report.offer_button"), "rp:")]]
        return [[(tr(lang, "ticket.offer_button"), "tn:")]]
    if reply.kind not in ("unknown", "suggest") or not question.strip():
        return []
    token = secrets.token_hex(8)
    services(context).store.open_offer(token, user.id, chat.id, lang, question[:2000])
    return [[(tr(lang, "ticket.offer_button"), f"tq:{token}")]]


def feedback_offer(lang: str) -> tuple[str, list[list[tuple[str, str]]]]:
    """After a 👎: the same offer, the question to be typed."""
    return tr(lang, "ticket.offer_after_feedback"), [[(tr(lang, "ticket.offer_button"), "tn:")]]


# -- citizens: handing a question over, reporting, following ---------------------------------------------

async def _sent_question(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket: Ticket, new: bool,
                         edit: bool) -> None:
    lang = lang_of(update, context)
    if new:
        await deliver_now(context)
    key = "ticket.sent" if new else "ticket.already_sent"
    await send_html(update, context, tr(lang, key, id=ticket.id) + "\n" + tr(lang, "ticket.follow"), edit=edit)


@logged("ticket:button")
async def on_citizen_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """tq: send the question kept under the button; tn: type one; rp: begin a report; rs/rx: send or drop it."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    if query is None or not query.data or user is None or chat is None:
        return
    await acknowledge(update)
    kind, _, value = query.data.partition(":")
    lang = lang_of(update, context)
    s = services(context)
    note(kind=f"ticket:{kind}")
    if kind == "tq":
        if (found := s.store.ticket_by_request(f"offer:{value}")) is not None:  # a second press, a replay
            await _sent_question(update, context, found, False, edit=False)
            return
        offer = s.store.offer(value)
        if offer is None:
            await invalid_button(update, context)
            return
        owner, offer_chat, offer_lang, question = offer
        if owner != user.id:  # someone else's question (in a group): only the asker hands it over
            await send_html(update, context, tr(lang, "ticket.not_yours"))
            return
        ticket, new = desk(context).ask(offer_chat, offer_lang, question, f"offer:{value}", ticket_recipients(s))
        s.store.drop_offer(value)
        await _sent_question(update, context, ticket, new, edit=False)
    elif kind == "tn":
        s.store.put_draft(user.id, chat.id, QUESTION, secrets.token_hex(8), lang)
        await send_html(update, context, tr(lang, "ticket.type_question"))
    elif kind == "rp":
        await _begin_report(update, context, "")
    elif kind in ("rs", "rx"):
        draft = s.store.draft(user.id, chat.id)
        if kind == "rs" and (found := s.store.ticket_by_request(value)) is not None:  # a second press, a replay
            await send_html(update, context, tr(lang, "report.already_sent", id=found.id), edit=True)
            return
        if draft is None or draft.kind != REPORT or draft.token != value:
            await invalid_button(update, context)
            return
        if kind == "rx":
            s.store.drop_draft(user.id, chat.id)
            await send_html(update, context, tr(lang, "report.cancelled"), edit=True)
            return
        await _send_report(update, context, draft)
    else:
        await invalid_button(update, context)


async def _send_report(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> None:
    lang = lang_of(update, context)
    try:
        ticket, new = desk(context).report(draft, ticket_recipients(services(context)))
    except TicketError:
        await send_html(update, context, tr(lang, "report.nothing_yet"))
        return
    if new:
        await deliver_now(context)
    key = "report.sent" if new else "report.already_sent"
    await send_html(update, context, tr(lang, key, id=ticket.id, status=status_label(ticket, lang)) + "\n"
                    + tr(lang, "ticket.follow"), edit=True)


async def _begin_report(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, extra: str = "") -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    lang = lang_of(update, context)
    token = secrets.token_hex(8)
    services(context).store.put_draft(user.id, chat.id, REPORT, token, lang, text=text[:2000])
    await send_html(update, context, tr(lang, "report.how") + (f"\n{extra}" if extra else ""),
                    keyboard(_report_rows(lang, token)))


def _report_rows(lang: str, token: str) -> list[list[tuple[str, str]]]:
    return [[(tr(lang, "report.send_button"), f"rs:{token}"), (tr(lang, "update.cancel"), f"rx:{token}")]]


@logged("/phananh")
async def cmd_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/phananh [nội dung]: begin a report; text, a photo and a location may follow, then «Gửi phản ánh»."""
    await _begin_report(update, context, " ".join(context.args or []))


async def open_report_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start phananh (a QR code on a notice board): the report begins at once, the office's contact beside."""
    await _begin_report(update, context, "", esc(services(context).kb.contact(lang_of(update, context))))


@logged("/theodoi")
async def cmd_track(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/theodoi: this chat's questions and reports, each with its status and the last answer."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = lang_of(update, context)
    s = services(context)
    tickets = s.store.tickets_of_chat(chat.id)
    if not tickets:
        await send_html(update, context, tr(lang, "track.none"))
        return
    lines = [tr(lang, "track.title")]
    for ticket in tickets:
        kind = tr(lang, "ticket.kind.question" if ticket.kind == QUESTION else "ticket.kind.report")
        lines.append(f"\n<b>#{ticket.id}</b> · {kind} · {status_label(ticket, lang)} · {when(ticket.created_at)}")
        lines.append(f"«{esc(ticket.text[:200])}»" if ticket.text else tr(lang, "ticket.no_text"))
        answers = [e for e in s.store.ticket_events(ticket.id) if e.kind == "answer"]
        if answers:
            last = answers[-1]
            lines.append(tr(lang, "track.answer", name=last.by_name or tr(lang, "ticket.an_official"),
                            text=last.text or ""))
    await send_html(update, context, "\n".join(lines))


# -- officials: the list, the answers, the statuses -------------------------------------------------------

@logged("/hoidap")
async def cmd_tickets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hoidap: the open tickets, oldest first, with their age; a button to answer each."""
    if not await allowed(update, context, "hoidap"):
        return
    lang = lang_of(update, context)
    s = services(context)
    tickets = s.store.open_tickets()
    if not tickets:
        await send_html(update, context, tr(lang, "tickets.none"))
        return
    now = time.time()
    lines = [tr(lang, "tickets.title", count=len(tickets))]
    for ticket in tickets[:LIST_MAX]:
        kind = tr(lang, "ticket.kind.question" if ticket.kind == QUESTION else "ticket.kind.report")
        lines.append(tr(lang, "tickets.line", id=ticket.id, kind=kind, days=age_days(ticket.created_at, now),
                        status=status_label(ticket, lang), text=ticket.text[:120]))
    lines.append(tr(lang, "tickets.how"))
    rows = []
    for t in tickets[:LIST_MAX]:
        row = [(button_label(tr(lang, "tickets.answer_one", id=t.id)), f"ta:{t.id}")]
        if t.kind == REPORT:  # its next statuses beside it, as on its post
            row += [(f"#{t.id} " + tr(lang, "ticket.move_button", status=status_label(t, lang, st)), f"tw:{t.id}:{st}")
                    for st in STATUSES[REPORT][STATUSES[REPORT].index(t.status) + 1:]]
        rows.append(row)
    await send_html(update, context, "\n".join(lines), keyboard(rows))


async def _record_answer(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int, text: str) -> None:
    """An official's answer: checked (the role now), recorded with its outbox row, delivered, confirmed."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    lang = lang_of(update, context)
    if not await allowed(update, context, "hoidap:answer"):
        return
    s = services(context)
    name = s.store.name_of(user.id) or user.full_name
    try:
        ticket, event, new = desk(context).answer(ticket_id, text, user.id, name,
                                                  f"reply:{message.chat_id}:{message.message_id}")
    except TicketError as err:
        await send_html(update, context, tr(lang, f"ticket.error.{err.reason}", id=ticket_id))
        return
    s.store.drop_draft(user.id, message.chat_id)
    if new:
        await deliver_now(context)
    lines = [tr(lang, "ticket.answer_recorded" if new else "ticket.answer_already", id=ticket.id)]
    if ticket.chat_id is None:
        lines.append(tr(lang, "ticket.chat_forgotten"))
    rows = [[(tr(lang, "ticket.keep_button"), f"tt:{event.id}")]] if ticket.kind == QUESTION else []
    await send_html(update, context, "\n".join(lines), keyboard(rows))


@logged("ticket:official-button")
async def on_official_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ta: answer this ticket (the next message is the answer); tw: a report's next status; tt: keep an answer
    as a taught answer. Each checks the role at the press."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    if query is None or not query.data or user is None or chat is None:
        return
    await acknowledge(update)
    kind, _, value = query.data.partition(":")
    lang = lang_of(update, context)
    if not await allowed(update, context, f"hoidap:{kind}"):
        return
    s = services(context)
    if kind == "ta" and value.isdigit() and (ticket := s.store.ticket(int(value))) is not None:
        s.store.put_draft(user.id, chat.id, "answer", secrets.token_hex(8), lang, ticket_id=ticket.id)
        group = chat.type != "private"
        mention = f'<a href="tg://user?id={user.id}">{esc(user.full_name)}</a>: ' if group else ""
        prompt = await context.bot.send_message(
            chat.id, f"{POST_MARK}{ticket.id} · {mention}" + tr(lang, "ticket.type_answer", text=ticket.text[:300]),
            reply_markup=ForceReply(selective=group))
        s.store.add_ticket_post(chat.id, prompt.message_id, ticket.id)  # a reply to the prompt answers too
    elif kind == "tw" and (parts := value.split(":")) and len(parts) == 2 and parts[0].isdigit() \
            and parts[1] in STATUSES[REPORT]:
        await _move(update, context, int(parts[0]), parts[1])
    elif kind == "tt" and value.isdigit():
        from .teaching import relearn  # the taught answers' index is rebuilt as /themhoidap does

        try:
            curated = desk(context).keep(int(value), user.id)
        except TicketError as err:
            await send_html(update, context, tr(lang, f"ticket.error.{err.reason}", id=value))
            return
        relearn(s)
        await send_html(update, context, tr(lang, "ticket.kept", id=curated), edit=True)
    else:
        await invalid_button(update, context)


async def _move(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int, status: str) -> None:
    user = update.effective_user
    assert user is not None
    lang = lang_of(update, context)
    s = services(context)
    try:
        ticket, _ = desk(context).move(ticket_id, status, user.id, s.store.name_of(user.id) or user.full_name)
    except TicketError as err:
        await send_html(update, context, tr(lang, f"ticket.error.{err.reason}", id=ticket_id))
        return
    await deliver_now(context)
    await send_html(update, context, tr(lang, "ticket.moved", id=ticket.id, status=status_label(ticket, lang)))


@logged("/nhomcanbo")
async def cmd_officials_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/nhomcanbo in a group (admins): tickets go to this group; /nhomcanbo - : back to commune.yaml's (or to
    each official privately); in a private chat: where they go now."""
    if not await allowed(update, context, "nhomcanbo", roles=("admin",)):
        return
    chat = update.effective_chat
    if chat is None:
        return
    lang = lang_of(update, context)
    s = services(context)
    args = context.args or []
    admin = update.effective_user.id if update.effective_user else None
    if args and args[0] == "-":
        s.store.delete_meta(OFFICIALS_CHAT_META, by=admin, action="nhomcanbo")
        current = officials_chat(s)
        now = tr(lang, "officials_chat.current", chat=current) if current else tr(lang, "officials_chat.none")
        await send_html(update, context, tr(lang, "officials_chat.cleared") + " " + now)
        return
    if chat.type == "private":
        current = officials_chat(s)
        await send_html(update, context, tr(lang, "officials_chat.current", chat=current) if current
                        else tr(lang, "officials_chat.none"))
        return
    s.store.set_meta(OFFICIALS_CHAT_META, str(chat.id))
    s.store.audit(admin, "nhomcanbo", str(chat.id), True)
    await send_html(update, context, tr(lang, "officials_chat.set"))


# -- messages that belong to a ticket (handler group -1: before every other handler) ---------------------

class _ReplyToPost(filters.MessageFilter):
    """A reply to one of the bot's ticket posts (they begin with POST_MARK); the database says which ticket."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied is not None and replied.from_user is not None and replied.from_user.is_bot
                    and (replied.text or replied.caption or "").startswith(POST_MARK))


def ticket_of_reply(s: Services, message: Message) -> int | None:
    """The ticket a reply is to: the number its post begins with ("🎫 #12 · …": the bot's own words, which
    nobody else can write into a message of the bot's), else the post as recorded when it was sent."""
    replied = message.reply_to_message
    if replied is None:
        return None
    head = (replied.text or replied.caption or "").removeprefix(POST_MARK).split(" ", 1)[0]
    if head.isdigit():
        return int(head)
    return s.store.ticket_of_post(message.chat_id, replied.message_id)


async def on_reply_to_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An official replying to a ticket's post answers it. A reply to a post by someone who is not an
    official is refused (audited) and goes nowhere; a reply to any other message of the bot's goes on."""
    message = update.effective_message
    if message is None or ticket_of_reply(services(context), message) is None:
        return  # not a ticket's post: the other handlers see it
    await _answer_by_reply(update, context)
    raise ApplicationHandlerStop


@logged("ticket:reply")
async def _answer_by_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    ticket_id = ticket_of_reply(services(context), message) if message is not None else None
    if message is None or ticket_id is None:
        return
    text = message.text or message.caption or ""
    if not text.strip():
        if await allowed(update, context, "hoidap:answer"):
            await send_html(update, context, tr(lang_of(update, context), "ticket.error.empty_answer"))
        return
    await _record_answer(update, context, ticket_id, text)


async def on_draft_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message while a draft is open: a report's text, photo or location; the question typed after
    "Gửi câu hỏi cho cán bộ xã"; an official's answer after ✍️ Trả lời. Without a draft it goes on."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if services(context).store.draft(user.id, message.chat_id) is None:
        return
    await _draft_step(update, context)
    raise ApplicationHandlerStop


@logged("ticket:draft")
async def _draft_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.effective_message, update.effective_user
    s = services(context)
    draft = s.store.draft(user.id, message.chat_id) if message is not None and user is not None else None
    if draft is None or message is None:
        return
    lang = lang_of(update, context)
    text = message.text or message.caption or ""
    if draft.kind == "answer" and draft.ticket_id is not None:
        await _record_answer(update, context, draft.ticket_id, text)
        return
    if draft.kind == QUESTION:
        if not text.strip():
            await send_html(update, context, tr(lang, "ticket.type_question"))
            return
        try:
            ticket, new = desk(context).ask(message.chat_id, draft.lang, text,
                                            f"typed:{message.chat_id}:{message.message_id}", ticket_recipients(s),
                                            drop_draft=(draft.user_id, draft.chat_id))
        except TicketError:
            await send_html(update, context, tr(lang, "ticket.type_question"))
            return
        await _sent_question(update, context, ticket, new, edit=False)
        return
    photo = message.photo[-1].file_id if message.photo else None  # the largest size
    location = message.location
    if not (text.strip() or photo or location):
        await send_html(update, context, tr(lang, "report.what_is_read"), keyboard(_report_rows(lang, draft.token)))
        return
    found = s.store.add_to_draft(draft.user_id, draft.chat_id, text=text.strip() or None, photo=photo,
                                 latitude=location.latitude if location else None,
                                 longitude=location.longitude if location else None)
    if found is None:
        return
    yes, no = "✓", "—"
    await send_html(update, context, tr(lang, "report.so_far", text=yes if found.text.strip() else no,
                                        photo=yes if found.photo else no,
                                        location=yes if found.latitude is not None else no),
                    keyboard(_report_rows(lang, found.token)))


async def on_command_with_draft(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command while a draft is open leaves the draft (/huy says so); the command itself then runs."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not message.text:
        return
    name = message.text.split()[0].split("@")[0].lstrip("/").lower()
    if name in ("phananh", "problem"):
        return  # begins a new draft in its place
    if not services(context).store.drop_draft(user.id, message.chat_id):
        return
    if name in ("huy", "cancel"):
        await send_html(update, context, tr(lang_of(update, context), "ticket.left"))
        raise ApplicationHandlerStop


# -- wiring -------------------------------------------------------------------------------------------

def early_handlers() -> Sequence[BaseHandler]:
    """Handler group -1 (bot.py): a reply to a ticket's post, a command that leaves a draft, a draft's next
    message. Each returns without a word (so group 0 handles the update as usual) unless the update is its."""
    ticket_input = filters.TEXT | filters.CAPTION | filters.PHOTO | filters.LOCATION
    return [
        MessageHandler(filters.REPLY & _ReplyToPost() & ~filters.COMMAND, on_reply_to_post),
        MessageHandler(filters.COMMAND, on_command_with_draft),
        MessageHandler(ticket_input & ~filters.COMMAND, on_draft_input),
    ]


def handlers() -> Sequence[BaseHandler]:
    return [
        CommandHandler(["phananh", "problem"], cmd_report),
        CommandHandler(["theodoi", "track"], cmd_track),
        CommandHandler(["hoidap", "tickets"], cmd_tickets),
        CommandHandler(["nhomcanbo", "officialsgroup"], cmd_officials_chat),
        CallbackQueryHandler(on_citizen_button, pattern=r"^(tq|tn|rp|rs|rx):"),
        CallbackQueryHandler(on_official_button, pattern=r"^(ta|tw|tt):"),
    ]
