"""The inbox in process (issue 13 item 8; the SIGKILL bursts are tests/test_durability_bursts.py): an update is
in the database before the queue hands it on, a second delivery of it is not handled again, what a stop
cut short is replayed at start-up once, and one that keeps being cut short is given up."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from telegram import Update

import bot
from handlers.common import Services
from handlers.inbox import MAX_REPLAYS, Inbox
from handlers.localapi import LocalBotAPI, message_update
from knowledge.store import Store

from . import test_officials
from .fake_bot_api import FakeBotAPI
from .test_e2e import TOKEN

kb = test_officials.kb  # the same fixture


def rows(store: Store) -> dict[int, tuple[str, int]]:
    return {r[0]: (r[1], r[2]) for r in store.db.execute("SELECT update_id, state, attempts FROM inbox")}


async def test_stored_before_queued_and_a_second_delivery_is_dropped(tmp_path):
    store = Store(tmp_path / "bot.db")
    api = LocalBotAPI()
    inbox = Inbox(store)
    update = Update.de_json(message_update(api, "xin chào", 5), None)
    await inbox.put(update)
    assert rows(store) == {update.update_id: ("new", 0)}
    stored = json.loads(store.db.execute("SELECT raw FROM inbox").fetchone()[0])
    assert stored["message"]["text"] == "xin chào" and stored["update_id"] == update.update_id
    await inbox.put(update)
    assert inbox.qsize() == 1  # Telegram's second delivery of an update it was never told had arrived
    inbox.done(update)
    assert rows(store) == {update.update_id: ("done", 0)}


async def test_the_application_replays_what_a_stop_cut_short_once(kb, tmp_path):
    db = tmp_path / "bot.db"
    api = LocalBotAPI()
    cut_short = message_update(api, "Số hộ nghèo năm 2023 là bao nhiêu?", 77)
    answered = message_update(api, "xin chào", 78)
    store = Store(db)
    store.inbox_add(cut_short["update_id"], json.dumps(cut_short))  # stored, then the process died
    store.inbox_add(answered["update_id"], json.dumps(answered))
    store.inbox_done(answered["update_id"])
    services = Services(kb=kb, store=store, flood_limit=10**6)
    app = bot.build_application(services, "0:test", request=api)
    async with app:
        await bot.post_init(app)  # as run_polling does: before polling starts
        await app.start()
        for _ in range(300):
            if api.sent("sendMessage"):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        await app.stop()
    [reply] = api.sent("sendMessage")
    assert int(reply.params["chat_id"]) == 77 and "81" in reply.params["text"]
    assert rows(store)[cut_short["update_id"]] == ("done", 1)
    store.close()


async def test_an_update_cut_short_again_and_again_is_given_up(tmp_path):
    store = Store(tmp_path / "bot.db")
    api = LocalBotAPI()
    raw = message_update(api, "xin chào", 5)
    store.inbox_add(raw["update_id"], json.dumps(raw))
    for attempt in range(MAX_REPLAYS):
        inbox = Inbox(store)  # a new process each time
        assert await inbox.replay(None) == 1
        inbox.starting(await inbox.get())  # it begins, and the process dies before it ends
        assert rows(store)[raw["update_id"]] == ("new", attempt + 1)
    inbox = Inbox(store)
    assert await inbox.replay(None) == 0 and inbox.empty()
    assert rows(store)[raw["update_id"]][0] == "abandoned"


async def test_queued_but_never_begun_does_not_count(tmp_path):
    store = Store(tmp_path / "bot.db")
    raw = message_update(LocalBotAPI(), "xin chào", 5)
    store.inbox_add(raw["update_id"], json.dumps(raw))
    for _ in range(MAX_REPLAYS + 2):  # killed each time before its turn came
        assert await Inbox(store).replay(None) == 1
    assert rows(store)[raw["update_id"]] == ("new", 0)


async def test_a_database_that_cannot_store_an_update_delays_it_and_loses_nothing(kb, tmp_path):
    """The inbox cannot write (locked, disk full): the batch is not confirmed, polling backs off instead of
    dying, and once the database takes it again the message is answered, once. Over real HTTP to the fake
    Telegram (tests/fake_bot_api.py), which delivers again what getUpdates did not confirm."""
    store = Store(tmp_path / "bot.db")
    failures = [sqlite3.OperationalError("database is locked")] * 2
    real_add = store.inbox_add

    def flaky_add(update_id: int, raw: str) -> bool:
        if failures:
            raise failures.pop()
        return real_add(update_id, raw)

    store.inbox_add = flaky_add  # type: ignore[method-assign]
    with FakeBotAPI(token=TOKEN) as api:
        app = bot.build_application(Services(kb=kb, store=store, flood_limit=10**6), TOKEN, base_url=api.base_url)
        api.push_message("xin chào", 91)
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                for _ in range(1000):
                    if api.calls_to("sendMessage"):
                        break
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.3)
                assert app.updater.running
            finally:
                await app.updater.stop()
                await app.stop()
        polls = len(api.calls_to("getUpdates"))
        sent = [int(c.params["chat_id"]) for c in api.calls_to("sendMessage")]
    assert sent == [91] and not failures
    assert polls < 20, polls  # backed off, not a tight loop
    assert all(state == "done" for state, _ in rows(store).values()) and len(rows(store)) == 1


async def test_old_handled_updates_are_pruned_while_the_bot_runs(tmp_path, monkeypatch):
    store = Store(tmp_path / "bot.db")
    monkeypatch.setattr("handlers.inbox.PRUNE_EVERY", 3)
    inbox = Inbox(store)
    api = LocalBotAPI()
    updates = [Update.de_json(message_update(api, "xin chào", 5), None) for _ in range(3)]
    for update in updates:
        await inbox.put(update)
    store.db.execute("UPDATE inbox SET received_at = received_at - 30 * 24 * 3600 WHERE update_id = ?",
                     [updates[0].update_id])
    for update in updates:
        inbox.done(update)
    assert sorted(rows(store)) == [u.update_id for u in updates[1:]]
