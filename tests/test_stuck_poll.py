"""An update the library cannot parse no longer stops polling (issue 13 item 15): PTB dropped the whole batch
without moving the offset and fetched it again at once, ~4,000 times a minute, answering nobody. Now that
update is skipped with one log line (its id, never its content), and the others are answered. Driven
through the real Application's long polling (Updater.start_polling) over handlers.localapi."""

from __future__ import annotations

import asyncio

import pytest

import bot
from handlers.common import Services
from handlers.localapi import LocalBotAPI, message_update
from knowledge.store import Store

from . import test_officials

kb = test_officials.kb  # the same fixture
UNREADABLE = [
    {"message": {"message_id": 1, "date": 1_700_000_000, "chat": 5, "text": "chat is not an object"}},
    {"callback_query": {"id": "1", "data": "ex:1"}},  # no chat_instance, no from
    {"message": {"message_id": 2, "date": "hôm qua", "chat": {"id": 5, "type": "private"}}},
]


class CountingAPI(LocalBotAPI):
    polls: int = 0

    async def _api_getUpdates(self, params: dict) -> list:
        self.polls += 1
        return await super()._api_getUpdates(params)


@pytest.mark.parametrize("bad", UNREADABLE, ids=["chat-not-object", "callback-missing-fields", "bad-date"])
async def test_an_unreadable_update_is_skipped_and_the_rest_answered(kb, tmp_path, caplog, bad):
    api = CountingAPI(poll_timeout=0.2)
    services = Services(kb=kb, store=Store(tmp_path / "bot.db"), flood_limit=10**6)
    app = bot.build_application(services, "0:test", request=api)
    first = {"update_id": api.next_update_id(), **bad}
    await api.push(first)
    await api.push(message_update(api, "/start", 77))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=0)
        try:
            for _ in range(300):
                if api.sent("sendMessage"):
                    break
                await asyncio.sleep(0.01)
            polls_by_reply = api.polls
            await asyncio.sleep(0.5)
            later = api.polls - polls_by_reply
        finally:
            await app.updater.stop()
            await app.stop()
    [greeting] = api.sent("sendMessage")
    assert int(greeting.params["chat_id"]) == 77
    assert polls_by_reply <= 5 and later <= 10, (polls_by_reply, later)  # not a tight loop on the same batch
    skipped = [r.getMessage() for r in caplog.records if r.name == "troly.polling"]
    assert len(skipped) == 1 and skipped[0].startswith(f"update={first['update_id']} skipped"), skipped
    assert "chat is not an object" not in skipped[0]  # the id and the error, never the content
