"""A broadcast to 2,000 subscribers over HTTP, against a fake Telegram that is strict about the rate, fails
now and then, and has chats that blocked the bot (tests/fake_bot_api_limits.py).

Time runs ten times faster than on Telegram: the server allows 300 sending calls in any one second (Telegram
about 30) and the bot's limiter is set to match (TELEGRAM_RATE_LIMIT=300); the server's ``retry_after`` is
0.1 s (Telegram's shortest, 1 s, on the same scale). 2 % of the subscribers' sendMessage calls get a 5xx;
a fixed 1 % of the chats answer 403 Forbidden.

1. In process (the Application ``bot.build_application`` builds, PTB's HTTP client, StrictRateLimiter, the
   daily job creating the day's summary): every reachable subscriber receives the summary exactly once, in
   their language; the blocked ones are unsubscribed; a 5xx is retried; the ledger says what the server saw.
   Every other time is scaled too: the Deliverer's back-off (0.05 s instead of 0.5 s) and the limiter's
   per-chat windows (one message per 0.1 s in a private chat: ScaledRateLimiter).
2. ``python bot.py`` as a process, killed with SIGKILL about half-way through, then started again on the same
   database and server: a citizen's question asked while the broadcast runs is answered within 1 s; at the
   kill the ledger agrees with the server (at most one row 'sending'); after the restart nothing is sent
   twice, that row is 'unknown', the restart resumes the broadcast by itself within seconds, and everyone
   else receives the summary. (The process keeps production's 0.5 s back-off; a chat that fails goes back in
   the queue behind the others. The citizen's own chat is spared the 5xx and 403 rules, not the flood control.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import pytest

import bot
from handlers.broadcast import DELIVERER, Deliverer
from handlers.common import Services
from knowledge.kb import KnowledgeBase
from knowledge.metrics import Registry
from knowledge.store import Store

from .fake_bot_api import Call
from .fake_bot_api_limits import SERVER_ERRORS, LimitedBotAPI, ScaledRateLimiter
from .test_e2e import GUARD_MARK, guarded_env

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TOKEN = "424242:BROADCAST-token"
RATE = 300  # the server's ceiling and the bot's limiter: Telegram's 30 messages/s, ten times faster
SCALE = RATE / 30
RETRY_AFTER = 1 / SCALE
BACKOFF = 0.5 / SCALE  # the Deliverer's first back-off on the same scale (in process only)
PRIVATE, GROUPS = 1950, 50  # 2,000 subscribers
USER = 987650001  # a citizen who is not a subscriber
QUESTION, ANSWER = "ho can ngheo con bao nhieu", "122/910"
STARTUP = 30.0


class NotResumed(Exception):
    """After a restart the open broadcast did not go on by itself."""


def subscribers() -> dict[int, str]:
    """chat id → language: private chats and groups, one in four in English."""
    chats = [70_000_000 + i for i in range(PRIVATE)] + [-100_700_000_000 - i for i in range(GROUPS)]
    return {chat: "en" if i % 4 == 3 else "vi" for i, chat in enumerate(chats)}


def subscribe_all(store: Store, subs: dict[int, str]) -> None:
    for chat, lang in subs.items():
        store.subscribe(chat, "private" if chat > 0 else "supergroup", lang, None)


def limited_api(subs: dict[int, str], seed: int) -> LimitedBotAPI:
    return LimitedBotAPI(token=TOKEN, rate=RATE, retry_after=RETRY_AFTER, error_rate=0.02, blocked_share=0.01,
                         faulty=lambda chat: chat in subs, seed=seed)


def is_summary(call: Call) -> bool:
    return call.text.startswith(("<b>Tóm tắt ngày", "<b>Summary for"))


def is_5xx(call: Call) -> bool:
    return call.error in {description for _, description in SERVER_ERRORS}


def check_ledger(api: LimitedBotAPI, store: Store, broadcast_id: int, subs: dict[int, str],
                 unknown_allowed: int = 0) -> Counter[str]:
    """Every subscriber's row against what the server received; returns the count of each state."""
    rows = {row["chat_id"]: row for row in store.deliveries(broadcast_id)}
    assert set(rows) == set(subs), "one row per subscriber"
    received = api.delivered(is_summary)
    duplicates = {chat: n for chat, n in received.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} chats received the summary more than once: {duplicates}"
    assert set(received) <= set(subs)
    message_ids = {c.params["chat_id"]: c.result["message_id"] for c in api.calls_to("sendMessage")
                   if c.error is None and is_summary(c)}
    server_errors = api.refused("", is_5xx)
    states: Counter[str] = Counter()
    for chat, row in rows.items():
        state = row["state"]
        states[state] += 1
        if state == "sent":
            assert received[chat] == 1 and row["message_id"] == message_ids[chat], (chat, row)
            sent = next(c for c in api.calls_to("sendMessage") if c.error is None and c.params["chat_id"] == chat)
            wanted = "<b>Summary for" if subs[chat] == "en" else "<b>Tóm tắt ngày"
            assert sent.text.startswith(wanted), f"chat {chat} ({subs[chat]}) got {sent.text[:40]!r}"
        elif state == "blocked":
            assert api.is_blocked(chat) and received[chat] == 0, (chat, row)
            assert not store.is_subscribed(chat), f"blocked chat {chat} is still subscribed"
        elif state == "failed":
            assert received[chat] == 0 and server_errors[chat] >= 5, (chat, row, server_errors[chat])
        elif state == "unknown":
            assert unknown_allowed, (chat, row)
        else:
            raise AssertionError(f"chat {chat} ended {state!r}")
        if state != "blocked":
            assert store.is_subscribed(chat), f"chat {chat} ({state}) lost its subscription"
    assert states["unknown"] <= unknown_allowed
    blocked = {chat for chat in subs if api.is_blocked(chat)}
    assert 5 <= len(blocked) <= 45, len(blocked)  # about 1 % of 2,000
    assert {chat for chat, row in rows.items() if row["state"] == "blocked"} == blocked
    return states


# -- 1. in process, over HTTP -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kb(tmp_path_factory, plan_path) -> KnowledgeBase:
    kb, _ = KnowledgeBase.open(Store(tmp_path_factory.mktemp("kb") / "kb.db"), [plan_path])
    return kb


async def test_a_summary_to_2000_subscribers_reaches_each_reachable_chat_exactly_once(kb, tmp_path):
    subs = subscribers()
    store = Store(tmp_path / "bot.db")
    subscribe_all(store, subs)  # before the bot starts
    now = dt.datetime(2024, 3, 5, 9, 0, tzinfo=TZ)
    services = Services(kb=kb, store=store, registry=Registry.load(), clock=lambda: now, tick_seconds=3600)
    limiter = ScaledRateLimiter(RATE, SCALE)
    with limited_api(subs, seed=1) as api:
        app = bot.build_application(services, TOKEN, base_url=api.base_url, rate_limiter=limiter)
        app.bot_data[DELIVERER] = Deliverer(services, backoff=BACKOFF)
        await app.initialize()
        await bot.post_init(app)  # as run_polling: recovery and the daily job, whose first tick is due
        await app.start()
        started = time.monotonic()
        try:
            while not store.summary_exists("2024-03-05") or store.open_broadcasts():
                assert time.monotonic() - started < 60, f"not done: {store.delivery_counts()}"
                await asyncio.sleep(0.1)
        finally:
            await app.stop()
            await app.shutdown()
        took = time.monotonic() - started
        assert api.errors == []

    [broadcast_id] = {row[0] for row in store.db.execute("SELECT id FROM broadcasts").fetchall()}
    states = check_ledger(api, store, broadcast_id, subs)
    retried = set(api.refused("", lambda c: is_5xx(c) and is_summary(c)))
    assert len(retried) >= 10, "the server's 5xx did not happen"
    ended = {row["chat_id"]: row["state"] for row in store.deliveries(broadcast_id) if row["chat_id"] in retried}
    assert set(ended.values()) <= {"sent", "failed"} and Counter(ended.values())["sent"] >= len(retried) - 1
    assert states["sent"] + states["failed"] + states["blocked"] == len(subs)
    print(f"\n{len(subs)} subscribers in {took:.1f} s: {dict(states)}; server: {dict(api.counts)}; "
          f"limiter waited out {limiter.retries} RetryAfter")


# -- 2. bot.py as a process, SIGKILL half-way, restart ----------------------------------------------------

class BotRun:
    """``python bot.py`` on the given database, reaching only 127.0.0.1 (tests/test_e2e.py's guard)."""

    def __init__(self, api: LimitedBotAPI, tmp: Path, db: Path, name: str) -> None:
        env = guarded_env(tmp, api.base_url, db, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_RATE_LIMIT=str(RATE),
                          DAILY_SUMMARY_TIME="00:00")  # due whenever the test runs
        self.api = api
        self.err_path = tmp / f"{name}.stderr"
        self._out: IO[bytes] = (tmp / f"{name}.stdout").open("wb")
        self._err: IO[bytes] = self.err_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)

    def logs(self) -> str:
        if not self._err.closed:
            self._err.flush()
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def until(self, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                pytest.fail(f"bot.py exited ({self.proc.returncode}) waiting for {what}:\n{self.logs()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"waited {timeout:g} s for {what}:\n{self.logs()[-3000:]}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._out.close()
        self._err.close()


def summaries_received(api: LimitedBotAPI) -> int:
    return sum(api.delivered(is_summary).values())


def test_killed_half_way_then_restarted_sends_nothing_twice_and_reaches_the_rest(tmp_path):
    subs = subscribers()
    db = tmp_path / "bot.db"
    store = Store(db)
    subscribe_all(store, subs)
    with limited_api(subs, seed=2) as api:
        reachable = len([chat for chat in subs if not api.is_blocked(chat)])
        first = BotRun(api, tmp_path, db, "first")
        try:
            first.until(lambda: bool(api.calls_to("deleteWebhook")), "polling to start", STARTUP)
            first.until(lambda: summaries_received(api) >= 100, "the daily summary to start going out")

            # 5. While the broadcast runs, a citizen's question is answered within a second.
            latencies = []
            for at in (100, 400, 700):
                first.until(lambda at=at: summaries_received(api) >= at, f"{at} summaries")
                mark = api.mark()
                asked = time.monotonic()
                api.push_message(QUESTION, USER)
                reply = api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == USER and ANSWER in c.text,
                                     timeout=10, since=mark)
                latencies.append(reply.at - asked)
                assert summaries_received(api) < reachable // 2, "the broadcast was not under way"
            assert max(latencies) < 1.0, f"answers took {[round(x, 3) for x in latencies]} s during the broadcast"
            print(f"\nanswers during the broadcast took {', '.join(f'{x * 1000:.0f} ms' for x in latencies)}")

            first.until(lambda: summaries_received(api) >= reachable // 2, "half the summaries", 60)
            first.proc.kill()  # SIGKILL: no clean-up of any kind
            first.proc.wait(timeout=10)
        finally:
            first.stop()

        # At the kill: the ledger agrees with the server, and at most one row was in flight.
        [(broadcast_id, kind, _)] = store.open_broadcasts()
        assert kind == "summary"
        rows = {row["chat_id"]: row["state"] for row in store.deliveries(broadcast_id)}
        received = api.delivered(is_summary)
        assert max(received.values()) == 1, "a duplicate before the kill"
        sent = {chat for chat, state in rows.items() if state == "sent"}
        in_flight = {chat for chat, state in rows.items() if state == "sending"}
        assert len(in_flight) <= 1, in_flight
        assert sent <= set(received) and set(received) - sent <= in_flight
        assert reachable * 0.4 < len(received) < reachable * 0.9, f"killed at {len(received)} of {reachable}"
        before = len(received)
        print(f"killed after {before} of {reachable} reachable chats; in flight: {len(in_flight)}")

        second = BotRun(api, tmp_path, db, "second")
        try:
            mark = api.mark()
            second.until(lambda: any(c.index >= mark for c in api.calls_to("deleteWebhook")), "the restart",
                         STARTUP)
            rows = {row["chat_id"]: row["state"] for row in store.deliveries(broadcast_id)}
            unknown = {chat for chat, state in rows.items() if state == "unknown"}
            assert unknown == in_flight and "sending" not in rows.values()
            if in_flight:
                assert "marked unknown, not re-sent" in second.logs()
            deadline = time.monotonic() + 5.0
            while summaries_received(api) == before:
                if time.monotonic() > deadline:
                    raise NotResumed(f"{len(subs) - before} deliveries still open: {store.delivery_counts()}")
                time.sleep(0.05)
            second.until(lambda: not store.open_broadcasts(), "the rest of the broadcast", 60)
        finally:
            second.stop()
        states = check_ledger(api, store, broadcast_id, subs, unknown_allowed=1)
        gaps = {chat for chat in subs if not api.is_blocked(chat) and api.delivered(is_summary)[chat] == 0}
        failed = {row["chat_id"] for row in store.deliveries(broadcast_id) if row["state"] == "failed"}
        assert gaps <= unknown | failed, "a reachable chat got nothing and the ledger does not say why"
        assert states["unknown"] == len(in_flight)
        assert GUARD_MARK not in first.logs() + second.logs()
