"""The daily summary and announcements, in process: the real Application, handlers, ledger and daily job, with
an in-process Bot API (handlers.localapi) that can refuse messages the way Telegram does, and a clock the
test turns (``Services.clock``).

What is proven here: the summary fires at 07:00 in Asia/Ho_Chi_Minh (00:00 UTC), never twice a day, after
downtime, and again the next day; DAILY_SUMMARY_TIME is read safely; /dangky, /huydangky (groups: only their
admins or the commune's officials), the subscriber's language, /tomtat, /thongbao's preview and its
once-only confirmation; how each Bot API answer ends a delivery (sent, blocked and unsubscribed, failed,
retried); one message in flight at a time; and a crash in the middle of a send leaving one 'unknown' row
and no duplicate after the restart. Over HTTP, at scale and with a real process: test_broadcast_e2e.py.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import CallbackContext
from telegram.request import RequestData

import bot
from handlers import broadcast
from handlers.broadcast import DELIVERER, Deliverer
from handlers.common import Services
from handlers.localapi import LocalBotAPI, callback_update, message_update
from knowledge.kb import KnowledgeBase
from knowledge.metrics import Registry
from knowledge.store import Store
from knowledge.summary import parse_time, summary_due

from .fake_bot_api_limits import ADMIN_RIGHTS

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = dt.UTC
EARLY = dt.datetime(2024, 3, 5, 6, 0, tzinfo=TZ)  # before the day's summary is due
GROUP = -1001234567890
OFFICIAL = 501
GROUP_ADMIN = 502
GROUP_OWNER = 503
MEMBER = 504


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture(scope="module")
def kb(tmp_path_factory, plan_path) -> KnowledgeBase:
    kb, _ = KnowledgeBase.open(Store(tmp_path_factory.mktemp("kb") / "kb.db"), [plan_path])
    return kb


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


# -- an in-process Bot API that can say no ---------------------------------------------------------------

@dataclass
class RefusingAPI(LocalBotAPI):
    """LocalBotAPI, plus: chats that refuse messages (``answers``: the next answers to a chat's sendMessage,
    as (HTTP status, description, parameters); ``blocked``: always 403), group admins for getChatMember,
    a delay per sendMessage, and a count of the sends in flight at once."""

    answers: dict[int, list[tuple[int, str, dict | None]]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    admins: dict[int, set[int]] = field(default_factory=dict)
    owners: dict[int, set[int]] = field(default_factory=dict)
    delay: float = 0.0
    in_flight: int = 0
    peak: int = 0
    refusals: list[tuple[int, int, str]] = field(default_factory=list)  # (chat, status, description)

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if url.endswith("/sendMessage") and request_data is not None:
            chat = int(request_data.parameters["chat_id"])
            queued = self.answers.get(chat)
            answer = queued.pop(0) if queued else (403, "Forbidden: bot was blocked by the user", None) \
                if chat in self.blocked else None
            if answer is not None:
                status, description, parameters = answer
                self.refusals.append((chat, status, description))
                body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
                if parameters:
                    body["parameters"] = parameters
                return status, json.dumps(body).encode()
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                if self.delay:
                    await asyncio.sleep(self.delay)
                return await super().do_request(url, method, request_data, *args, **kwargs)
            finally:
                self.in_flight -= 1
        return await super().do_request(url, method, request_data, *args, **kwargs)

    async def _api_getChatMember(self, params: dict) -> dict:
        chat, user_id = int(params["chat_id"]), int(params["user_id"])
        user = {"id": user_id, "is_bot": False, "first_name": "Người dùng"}
        if user_id in self.owners.get(chat, set()):
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in self.admins.get(chat, set()):
            return {"status": "administrator", "user": user, **ADMIN_RIGHTS}
        return {"status": "member", "user": user}

    def messages(self, chat: int | None = None) -> list[str]:
        """The texts sent (not edited) to one chat, or to every chat."""
        return [str(c.params.get("text")) for c in self.sent("sendMessage")
                if chat is None or int(c.params["chat_id"]) == chat]

    def per_chat(self, fragment: str) -> dict[int, int]:
        """How many messages holding ``fragment`` each chat received."""
        out: dict[int, int] = {}
        for c in self.sent("sendMessage"):
            if fragment in str(c.params.get("text")):
                out[int(c.params["chat_id"])] = out.get(int(c.params["chat_id"]), 0) + 1
        return out


class Bot:
    """The Application over a RefusingAPI, with a clock the test sets (``bot.now``)."""

    def __init__(self, kb: KnowledgeBase, registry: Registry, db: Path, *, now: dt.datetime,
                 api: RefusingAPI | None = None, summary_time: dt.time = dt.time(7, 0)) -> None:
        self.api = api or RefusingAPI()
        self.store = Store(db)
        self.now = now
        self.services = Services(kb=kb, store=self.store, registry=registry, summary_time=summary_time,
                                 clock=lambda: self.now, tick_seconds=3600, flood_limit=10**6)
        self.app = bot.build_application(self.services, "0:test", request=self.api)
        # Retries back off a thousand times faster than in production: the tests do not wait out 0.5 s.
        self.app.bot_data[DELIVERER] = Deliverer(self.services, backoff=0.0005)

    async def start(self, *, post_init: bool = False) -> Bot:
        """As run_polling does it: initialize, post_init (menus, recovery, the daily job), then start."""
        await self.app.initialize()
        if post_init:
            await bot.post_init(self.app)
        await self.app.start()
        return self

    async def stop(self) -> None:
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        self.store.close()

    async def say(self, text: str, user_id: int = 1, **kwargs: Any) -> list[str]:
        return await self._process(message_update(self.api, text, user_id, **kwargs))

    async def press(self, data: str, user_id: int = 1, **kwargs: Any) -> list[str]:
        return await self._process(callback_update(self.api, data, user_id, **kwargs))

    async def _process(self, data: dict) -> list[str]:
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(data, self.app.bot))
        return [str(c.params.get("text")) for c in self.api.calls[before:]
                if c.method in ("sendMessage", "editMessageText")]

    def buttons(self) -> list[str]:
        """The callback data of the buttons on the last message sent with any."""
        for call in reversed(self.api.calls):
            markup = call.params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if markup:
                return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        return []

    async def tick(self) -> None:
        """One run of the daily job at ``self.now``, then wait for what it started to be delivered."""
        await broadcast.tick(CallbackContext(self.app))
        await self.settle()

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until no broadcast is open and the deliverer is idle."""
        deadline = time.monotonic() + timeout
        while self.store.open_broadcasts() or broadcast.deliverer(self.app).lock.locked():
            if time.monotonic() > deadline:
                raise AssertionError(f"delivery did not finish: {self.store.delivery_counts()}")
            await asyncio.sleep(0.01)


@pytest.fixture
async def make_bot(kb, registry, tmp_path):
    made: list[Bot] = []

    async def make(now: dt.datetime = EARLY, db: str = "bot.db", start: bool = True,
                   **kwargs: Any) -> Bot:
        b = Bot(kb, registry, tmp_path / db, now=now, **kwargs)
        made.append(b)
        if start:
            await b.start()
        return b

    yield make
    for b in made:
        await b.stop()


def subscribe(store: Store, *chats: tuple[int, str]) -> None:
    for chat, lang in chats:
        store.subscribe(chat, "private" if chat > 0 else "supergroup", lang, None)


SUBSCRIBERS = ((11, "vi"), (12, "en"), (13, "vi"), (GROUP, "vi"))
VI_TITLE, EN_TITLE = "Tóm tắt ngày", "Summary for"


def titles(api: RefusingAPI) -> dict[int, int]:
    both = api.per_chat(VI_TITLE)
    for chat, n in api.per_chat(EN_TITLE).items():
        both[chat] = both.get(chat, 0) + n
    return both


# -- the daily job -------------------------------------------------------------------------------------

async def test_summary_fires_at_seven_in_hanoi_which_is_midnight_utc(make_bot):
    b = await make_bot(now=utc(2024, 3, 4, 23, 59))  # 06:59 on 5 March in Hà Nội (and 23:59 UTC on the 4th)
    subscribe(b.store, *SUBSCRIBERS)
    await b.tick()
    assert titles(b.api) == {}, "fired before 07:00 local (a clock read in UTC would say it is past 07:00)"
    assert not b.store.summary_exists("2024-03-04") and not b.store.summary_exists("2024-03-05")

    b.now = utc(2024, 3, 5, 0, 0)  # 07:00 in Hà Nội; a clock read in UTC would wait seven more hours
    await b.tick()
    assert b.store.summary_exists("2024-03-05")
    assert titles(b.api) == {11: 1, 12: 1, 13: 1, GROUP: 1}
    assert "Tóm tắt ngày 05/03/2024" in b.api.messages(11)[0]
    assert "Summary for 05/03/2024" in b.api.messages(12)[0], "the English subscriber got another language"

    # The rest of the day: every minute's tick finds it sent — including 07:00 UTC (14:00 in Hà Nội).
    for now in (utc(2024, 3, 5, 0, 1), utc(2024, 3, 5, 7, 0), utc(2024, 3, 5, 16, 59)):
        b.now = now
        await b.tick()
    assert titles(b.api) == {11: 1, 12: 1, 13: 1, GROUP: 1}, "the summary went out twice in one day"

    # The next day: nothing at 06:59 local (23:59 UTC), then again at 07:00 local.
    b.now = utc(2024, 3, 5, 23, 59)
    await b.tick()
    assert titles(b.api) == {11: 1, 12: 1, 13: 1, GROUP: 1}
    b.now = utc(2024, 3, 6, 0, 0)
    await b.tick()
    assert titles(b.api) == {11: 2, 12: 2, 13: 2, GROUP: 2}
    assert "Tóm tắt ngày 06/03/2024" in b.api.messages(11)[-1]
    assert b.store.delivery_counts() == {"sent": 8}


async def test_a_bot_that_was_down_at_seven_sends_when_it_starts_and_only_once(make_bot):
    b = await make_bot(now=local(2024, 3, 5, 9, 30), start=False)
    subscribe(b.store, *SUBSCRIBERS)
    await b.start(post_init=True)  # the daily job's first tick, half a second after start, is the catch-up
    deadline = time.monotonic() + 10
    while titles(b.api) != {11: 1, 12: 1, 13: 1, GROUP: 1}:
        assert time.monotonic() < deadline, f"no catch-up summary: {titles(b.api)}"
        await asyncio.sleep(0.05)
    await b.settle()
    await b.stop()

    # Restarted later the same day (a new process, the same database): no second summary.
    again = await make_bot(now=local(2024, 3, 5, 10, 0), start=False)
    await again.start(post_init=True)
    await asyncio.sleep(1.0)  # the first tick has run
    await again.tick()
    assert titles(again.api) == {}, "a restart sent the day's summary again"


async def test_daily_summary_time_is_honoured(make_bot):
    b = await make_bot(now=local(2024, 3, 5, 17, 29), summary_time=dt.time(17, 30))
    subscribe(b.store, (11, "vi"))
    await b.tick()
    assert titles(b.api) == {}
    b.now = local(2024, 3, 5, 17, 30)
    await b.tick()
    assert titles(b.api) == {11: 1}


def test_summary_due():
    seven = dt.time(7, 0)
    assert not summary_due(local(2024, 3, 5, 6, 59, 59), seven, False)
    assert summary_due(local(2024, 3, 5, 7, 0), seven, False)
    assert summary_due(local(2024, 3, 5, 23, 59), seven, False)  # catch-up, late in the day
    assert not summary_due(local(2024, 3, 5, 9, 30), seven, True)


@pytest.mark.parametrize(("text", "expected"), [
    ("07:00", dt.time(7, 0)), ("6:30", dt.time(6, 30)), (" 18:05 ", dt.time(18, 5)), ("00:00", dt.time(0, 0)),
    ("", dt.time(7, 0)), ("banana", dt.time(7, 0)), ("25:00", dt.time(7, 0)), ("07:60", dt.time(7, 0)),
    ("7", dt.time(7, 0)), ("07:00:00", dt.time(7, 0)), ("-1:00", dt.time(7, 0)), ("7h30", dt.time(7, 0)),
    ("07.30", dt.time(7, 0)),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@given(st.text(max_size=12))
def test_parse_time_never_raises(text):
    assert isinstance(parse_time(text), dt.time)


@pytest.mark.parametrize(("value", "expected"), [("banana", dt.time(7, 0)), ("24:00", dt.time(7, 0)),
                                                 ("", dt.time(7, 0)), ("06:45", dt.time(6, 45))])
def test_daily_summary_time_from_the_environment(monkeypatch, kb, tmp_path, value, expected):
    monkeypatch.setenv("DAILY_SUMMARY_TIME", value)
    # open_services sets the knowledge base's live figures: a copy keeps the module's shared one as it is.
    monkeypatch.setattr(bot, "open_kb", lambda sources: (copy.copy(kb), Store(tmp_path / "env.db")))
    assert bot.open_services([]).summary_time == expected


async def test_summary_command_uses_the_local_date_and_the_askers_language(make_bot):
    b = await make_bot(now=utc(2024, 3, 1, 17, 30))  # 00:30 on 2 March in Hà Nội
    [vi] = await b.say("/tomtat", user_id=21)
    assert "Tóm tắt ngày 02/03/2024" in vi and "/huydangky" in vi
    await b.say("/ngonngu", user_id=22)
    await b.press("lang:en", user_id=22)
    [en] = await b.say("/summary", user_id=22)
    assert "Summary for 02/03/2024" in en and "/unsubscribe" in en
    assert not b.store.is_subscribed(21) and not b.store.open_broadcasts()  # a look, not a subscription


# -- subscriptions ---------------------------------------------------------------------------------------

async def test_subscribe_and_unsubscribe_in_private(make_bot):
    b = await make_bot()
    [done] = await b.say("/dangky", user_id=31)
    assert "Đã đăng ký" in done and "07:00" in done
    assert b.store.is_subscribed(31)
    [already] = await b.say("/dangky", user_id=31)
    assert "đã đăng ký rồi" in already
    assert b.store.subscribers() == [(31, "vi")]
    [off] = await b.say("/huydangky", user_id=31)
    assert "Đã hủy đăng ký" in off and not b.store.is_subscribed(31)
    [not_on] = await b.say("/huydangky", user_id=31)
    assert "chưa đăng ký" in not_on
    await b.say("/subscribe", user_id=31)
    assert b.store.subscribers() == [(31, "vi")]


async def test_in_a_group_only_its_admins_or_officials_manage_the_subscription(make_bot):
    api = RefusingAPI(admins={GROUP: {GROUP_ADMIN}}, owners={GROUP: {GROUP_OWNER}})
    b = await make_bot(api=api)
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    group = {"chat_id": GROUP, "chat_type": "supergroup"}

    [refused] = await b.say("/dangky", user_id=MEMBER, **group)
    assert "chỉ quản trị viên của nhóm" in refused and not b.store.is_subscribed(GROUP)
    [done] = await b.say("/dangky", user_id=GROUP_ADMIN, **group)
    assert "Đã đăng ký" in done and b.store.subscribers() == [(GROUP, "vi")]
    [refused] = await b.say("/huydangky", user_id=MEMBER, **group)
    assert "chỉ quản trị viên của nhóm" in refused and b.store.is_subscribed(GROUP)
    [off] = await b.say("/huydangky", user_id=GROUP_OWNER, **group)
    assert "Đã hủy đăng ký" in off and not b.store.is_subscribed(GROUP)
    [done] = await b.say("/dangky", user_id=OFFICIAL, **group)  # an official who is a plain member
    assert "Đã đăng ký" in done and b.store.is_subscribed(GROUP)
    row = b.store.db.execute("SELECT chat_type FROM subscriptions WHERE chat_id = ?", [GROUP]).fetchone()
    assert row[0] == "supergroup"
    # A member's own private chat is theirs to subscribe.
    [mine] = await b.say("/dangky", user_id=MEMBER)
    assert "Đã đăng ký" in mine and b.store.is_subscribed(MEMBER)


async def test_when_telegram_cannot_say_who_is_admin_the_group_is_not_changed(make_bot):
    class NoMembers(RefusingAPI):
        async def do_request(self, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            if url.endswith("/getChatMember"):  # e.g. the bot was just removed from the group
                return 403, b'{"ok": false, "error_code": 403, "description": "Forbidden: bot is not a member"}'
            return await super().do_request(url, *args, **kwargs)

    b = await make_bot(api=NoMembers(admins={GROUP: {GROUP_ADMIN}}))
    [refused] = await b.say("/dangky", user_id=GROUP_ADMIN, chat_id=GROUP, chat_type="supergroup")
    assert "chỉ quản trị viên của nhóm" in refused and not b.store.is_subscribed(GROUP)


async def test_the_subscription_keeps_the_subscribers_language(make_bot):
    b = await make_bot(now=local(2024, 3, 5, 6, 0))
    await b.say("/ngonngu", user_id=41)
    [switched] = await b.press("lang:en", user_id=41)
    assert "English" in switched
    [done] = await b.say("/dangky", user_id=41)
    assert "Subscribed" in done and "07:00" in done
    await b.say("/dangky", user_id=42)
    assert b.store.subscribers() == [(41, "en"), (42, "vi")]

    b.now = local(2024, 3, 5, 7, 0)
    await b.tick()
    [english] = b.api.messages(41)[-1:]
    [vietnamese] = b.api.messages(42)[-1:]
    assert english.startswith("<b>Summary for 05/03/2024</b>") and "/unsubscribe" in english
    assert vietnamese.startswith("<b>Tóm tắt ngày 05/03/2024</b>") and "/huydangky" in vietnamese


# -- announcements ---------------------------------------------------------------------------------------

async def test_an_announcement_is_previewed_confirmed_and_sent_once(make_bot):
    b = await make_bot()
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    subscribe(b.store, *SUBSCRIBERS)

    [refused] = await b.say("/thongbao Họp dân", user_id=MEMBER)
    assert "chỉ dành cho cán bộ" in refused
    assert b.store.audit_log(1)[0]["action"] == "thongbao" and not b.store.audit_log(1)[0]["allowed"]
    [usage] = await b.say("/thongbao", user_id=OFFICIAL)
    assert "Cách dùng" in usage

    text = "Họp dân thôn Nà Chuông 19h thứ Bảy <mang theo CCCD> & sổ hộ khẩu"
    [shown, preview] = await b.say(f"/thongbao {text}", user_id=OFFICIAL)
    assert shown == "📢 <b>Thông báo của UBND xã</b>\n" + text.replace("<", "&lt;").replace(">", "&gt;").replace(
        " & ", " &amp; "), "the preview is what subscribers get"
    assert "Sẽ gửi tới 4 người/nhóm" in preview
    confirm, cancel = b.buttons()
    assert confirm.startswith("an:") and cancel.startswith("ax:")
    assert b.api.per_chat("Họp dân") == {OFFICIAL: 1}, "something was sent before the confirmation"

    # A citizen who somehow presses the button sends nothing.
    await b.press(confirm, user_id=MEMBER)
    assert not b.store.open_broadcasts() and b.store.delivery_counts() == {}

    [sending] = await b.press(confirm, user_id=OFFICIAL)
    assert "Đang gửi tới 4" in sending
    await b.settle()
    got = {chat: n for chat, n in b.api.per_chat("Họp dân").items() if chat != OFFICIAL}
    assert got == {11: 1, 12: 1, 13: 1, GROUP: 1}
    assert "Thông báo của UBND xã" in b.api.messages(11)[-1]
    assert "Announcement from the commune" in b.api.messages(12)[-1]
    assert "&lt;mang theo CCCD&gt; &amp; sổ hộ khẩu" in b.api.messages(12)[-1]

    # The button pressed again, and twice at once: nothing goes out again.
    [already] = await b.press(confirm, user_id=OFFICIAL)
    assert "đã được gửi" in already
    await asyncio.gather(b.press(confirm, user_id=OFFICIAL), b.press(confirm, user_id=OFFICIAL))
    await b.settle()
    got = {chat: n for chat, n in b.api.per_chat("Họp dân").items() if chat != OFFICIAL}
    assert got == {11: 1, 12: 1, 13: 1, GROUP: 1}
    assert b.store.delivery_counts() == {"sent": 4}

    # The announcement is in the day's summary.
    b.now = local(2024, 3, 5, 7, 0)
    await b.tick()
    assert "Họp dân thôn Nà Chuông" in b.api.messages(11)[-1]


async def test_two_presses_at_once_create_one_broadcast(make_bot):
    b = await make_bot()
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    subscribe(b.store, *SUBSCRIBERS)
    await b.say("/thongbao Cắt điện sáng mai", user_id=OFFICIAL)
    confirm, _ = b.buttons()
    await asyncio.gather(*(b.press(confirm, user_id=OFFICIAL) for _ in range(5)))
    await b.settle()
    got = {chat: n for chat, n in b.api.per_chat("Cắt điện").items() if chat != OFFICIAL}
    assert got == {11: 1, 12: 1, 13: 1, GROUP: 1}


async def test_a_cancelled_announcement_is_never_sent(make_bot):
    b = await make_bot()
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    subscribe(b.store, *SUBSCRIBERS)
    await b.say("/thongbao Tiêm phòng gia súc", user_id=OFFICIAL)
    confirm, cancel = b.buttons()
    [cancelled] = await b.press(cancel, user_id=OFFICIAL)
    assert "Đã hủy" in cancelled
    await b.press(confirm, user_id=OFFICIAL)
    await b.settle()
    assert {chat for chat in b.api.per_chat("Tiêm phòng") if chat != OFFICIAL} == set()
    assert b.store.delivery_counts() == {}


# -- delivery ------------------------------------------------------------------------------------------

async def test_each_answer_from_telegram_ends_a_delivery_the_right_way(make_bot):
    too_many = (429, "Too Many Requests: retry after 0.01", {"retry_after": 0.01})
    api = RefusingAPI(
        blocked={62},
        answers={
            63: [(400, "Bad Request: chat not found", None)],
            64: [(403, "Forbidden: bot was kicked from the supergroup chat", None)],
            65: [(400, "Bad Request: message is too long", None)],
            66: [(502, "Bad Gateway", None), (500, "Internal Server Error", None)],  # then it goes through
            67: [(502, "Bad Gateway", None)] * 5,  # every attempt fails
            68: [too_many, too_many],
            69: [(403, "Forbidden: user is deactivated", None)],
        },
    )
    b = await make_bot(api=api)
    chats = list(range(61, 70))
    subscribe(b.store, *((chat, "vi") for chat in chats))
    created = b.store.create_broadcast("announcement", {"vi": "Lịch tiêm phòng", "en": "Vaccination"})
    assert created is not None
    await broadcast.deliverer(b.app).run_open(b.app.bot)

    states = {row["chat_id"]: row["state"] for row in b.store.deliveries(created)}
    assert states == {61: "sent", 62: "blocked", 63: "blocked", 64: "blocked", 65: "failed", 66: "sent",
                      67: "failed", 68: "sent", 69: "blocked"}
    assert b.api.per_chat("Lịch tiêm phòng") == {61: 1, 66: 1, 68: 1}
    assert [chat for chat, _, _ in api.refusals].count(67) == 5, "a 5xx is retried (4 times) before giving up"
    ended = {chat for chat in chats if not b.store.is_subscribed(chat)}
    assert ended == {62, 63, 64, 69}, "only the chats that cannot be reached are unsubscribed"
    # The ledger keeps the message id Telegram gave, and why the others failed.
    rows = {row["chat_id"]: row for row in b.store.deliveries(created)}
    sent_ids = {int(c.params["chat_id"]): c.message_id for c in b.api.sent("sendMessage")}
    assert all(rows[chat]["message_id"] == sent_ids[chat] for chat in (61, 66, 68))
    assert "blocked" in rows[62]["error"] and "too long" in rows[65]["error"]
    assert b.store.open_broadcasts() == []


async def test_a_failing_chat_waits_behind_the_others_and_a_migrated_group_is_followed(make_bot):
    api = RefusingAPI(answers={
        71: [(502, "Bad Gateway", None)],  # once: retried after the others, not before them
        -72: [(400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": -1007200})],
    })
    b = await make_bot(api=api)
    subscribe(b.store, (71, "vi"), (-72, "vi"), (73, "vi"), (74, "vi"))
    created = b.store.create_broadcast("announcement", {"vi": "Họp thôn", "en": "Meeting"})
    await broadcast.deliverer(b.app).run_open(b.app.bot)
    order = [int(c.params["chat_id"]) for c in b.api.sent("sendMessage") if "Họp thôn" in str(c.params["text"])]
    assert order == [-1007200, 73, 74, 71], order  # 71 failed first, went back in the queue, then got through
    assert {r["chat_id"]: r["state"] for r in b.store.deliveries(created)} == \
        {71: "sent", -72: "sent", 73: "sent", 74: "sent"}
    assert b.store.is_subscribed(-1007200) and not b.store.is_subscribed(-72)  # the subscription moved with it


async def test_changing_language_changes_ones_subscription(make_bot):
    b = await make_bot()
    await b.say("/dangky", user_id=43)
    assert b.store.subscribers() == [(43, "vi")]
    await b.press("lang:en", user_id=43)
    assert b.store.subscribers() == [(43, "en")]


async def test_cancel_after_the_announcement_went_out_says_so(make_bot):
    b = await make_bot()
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    subscribe(b.store, *SUBSCRIBERS)
    await b.say("/thongbao Lịch họp dân", user_id=OFFICIAL)
    confirm, cancel = b.buttons()
    await b.press(confirm, user_id=OFFICIAL)
    [late] = await b.press(cancel, user_id=OFFICIAL)  # a stale keyboard, a double tap
    assert "Đã hủy" not in late and "đã được gửi" in late
    await b.press(confirm, user_id=OFFICIAL)  # and again: no apology, nothing sent twice
    await b.settle()
    assert all(n == 1 for n in b.api.per_chat("Lịch họp dân").values())
    assert not any("Xin lỗi" in m for m in b.api.messages(OFFICIAL))


async def test_one_message_in_flight_even_when_delivery_is_started_twice(make_bot):
    b = await make_bot(api=RefusingAPI(delay=0.002))
    chats = [(1000 + i, "vi") for i in range(60)]
    subscribe(b.store, *chats)
    b.store.create_broadcast("announcement", {"vi": "Một lần thôi", "en": "Once"})
    broadcast.start_delivery(b.app)  # the daily job and a confirmation, one right after the other
    broadcast.start_delivery(b.app)
    await asyncio.sleep(0)
    await b.settle()
    assert b.api.peak == 1
    assert b.api.per_chat("Một lần thôi") == {chat: 1 for chat, _ in chats}


@dataclass
class CrashingAPI(RefusingAPI):
    """Takes the ``crash_at``-th message (Telegram has it) and then never answers: the process dies there."""

    crash_at: int = 0
    taken: int = 0
    hung: asyncio.Event = field(default_factory=asyncio.Event)

    async def _api_sendMessage(self, params: dict) -> dict:
        answer = await super()._api_sendMessage(params)
        self.taken += 1
        if self.taken == self.crash_at:
            self.hung.set()
            await asyncio.Event().wait()
        return answer


async def test_a_crash_during_a_send_leaves_one_unknown_and_nothing_is_sent_twice(make_bot):
    chats = [(2000 + i, "vi") for i in range(50)]
    first = await make_bot(api=CrashingAPI(crash_at=20), db="crash.db")
    subscribe(first.store, *chats)
    created = first.store.create_broadcast("announcement", {"vi": "Thông báo X", "en": "Notice X"})
    assert created is not None
    task = asyncio.create_task(broadcast.deliverer(first.app).run_open(first.app.bot))
    await asyncio.wait_for(first.api.hung.wait(), 5)
    task.cancel()  # the process dies here: message 20 has reached the chat, its row still says 'sending'
    with pytest.raises(asyncio.CancelledError):
        await task
    counts = first.store.delivery_counts(created)
    assert counts == {"sent": 19, "sending": 1, "pending": 30}, counts
    before = first.api.per_chat("Thông báo X")
    assert len(before) == 20

    # The restart: a new Application on the same database. post_init's recovery marks the in-flight row.
    second = await make_bot(api=RefusingAPI(), db="crash.db", start=False)
    await second.start(post_init=True)
    await broadcast.deliverer(second.app).run_open(second.app.bot)  # what the daily job's tick would start
    after = second.api.per_chat("Thông báo X")
    assert set(before) & set(after) == set(), "a chat got the announcement twice"
    rows = {row["chat_id"]: row["state"] for row in second.store.deliveries(created)}
    unknown = [chat for chat, state in rows.items() if state == "unknown"]
    assert len(unknown) == 1 and unknown[0] in before  # it did arrive; it is not sent again
    assert set(before) | set(after) == {chat for chat, _ in chats}
    assert second.store.delivery_counts(created) == {"sent": 49, "unknown": 1}
