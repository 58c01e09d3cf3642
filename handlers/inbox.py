"""Nothing lost on a crash: every update is in the database before Telegram is told it arrived.

python-telegram-bot confirms a batch of updates with its next ``getUpdates``, before they are handled; a
SIGKILL in that window lost the batch (70 of 400 messages in eight trials). The Application's update queue
is this :class:`Inbox`: putting an update in it first commits its JSON to the ``inbox`` table, keyed by
``update_id``, and the Updater puts the whole batch before it polls again (which is the confirmation), as
PTB's webhook handler puts an update before it answers Telegram 200. The update processor
(handlers/ordering.py) marks the row done once the update's handling has finished, replies sent. At
start-up, before polling, the rows not done are handled again, oldest first; Telegram delivering again
what it was never told had arrived finds the row and is not handled twice. A row whose handling began
``MAX_REPLAYS`` times again without finishing is abandoned (it may be what kills the process).

Replies are at least once, not exactly once: Telegram has no idempotency key, so an update whose reply
had gone out when the process died, before its row was marked done, is answered again on the restart.
The other choice (mark it before the reply, never repeat it) loses as many replies as this repeats, in
the same window (tests/test_durability_bursts.py measured both), and a repeated answer, preview or
"Đã lưu." is harmless where a lost one is not: confirming a figure or an announcement is idempotent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time

from telegram import Bot, Update
from telegram.error import NetworkError

from knowledge.store import Store

log = logging.getLogger("troly.inbox")
MAX_REPLAYS = 5  # begun this many times again, each cut short: give up on it
KEEP_SECONDS = 7 * 24 * 3600  # handled rows are kept a week, then pruned (at start-up, and as it runs)
PRUNE_EVERY = 1000  # updates handled between two prunings while the bot runs


class Inbox(asyncio.Queue):
    """The Application's update queue, writing each update to the database before it is queued."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self._replayed: set[int] = set()  # queued again at start-up, not yet begun
        self._handled = 0  # since the last pruning

    async def put(self, item: object) -> None:
        """Store, then queue. When the database cannot take it (locked, disk full) this raises a NetworkError:
        the Updater then neither confirms the batch nor dies, its retry loop backs off and fetches the batch
        again, and the updates already stored are found and not queued twice."""
        if isinstance(item, Update):
            try:
                new = self.store.inbox_add(item.update_id, json.dumps(item.to_dict(), ensure_ascii=False))
            except sqlite3.Error as err:
                log.error("update=%d could not be stored (%s): not confirmed, fetched again", item.update_id, err)
                raise NetworkError(f"the inbox could not store an update: {err}") from err
            if not new:
                log.info("update=%d is in the inbox already: not handled twice", item.update_id)
                return
        await super().put(item)

    def starting(self, update: object) -> None:
        """A replayed update's handling begins: that is what counts towards MAX_REPLAYS (not being queued, or
        a process killed before it got this far would use up an update's replays without trying it)."""
        if isinstance(update, Update) and update.update_id in self._replayed:
            self._replayed.discard(update.update_id)
            self.store.inbox_begun(update.update_id)

    def done(self, update: object) -> None:
        """Its handling has finished (replies sent, or an error reported): a restart does not replay it."""
        if isinstance(update, Update):
            self.store.inbox_done(update.update_id)
            self._handled += 1
            if self._handled >= PRUNE_EVERY:  # a bot that runs for months does not keep every update
                self._handled = 0
                self.store.inbox_prune(time.time() - KEEP_SECONDS)

    async def replay(self, bot: Bot) -> int:
        """At start-up, before polling: queue the updates whose handling a crash cut short, oldest first."""
        self.store.inbox_prune(time.time() - KEEP_SECONDS)
        replayed = 0
        for update_id, raw, attempts in self.store.inbox_undone():
            if attempts >= MAX_REPLAYS:
                log.warning("update=%d abandoned after %d replays", update_id, attempts)
                self.store.inbox_abandon(update_id)
                continue
            self._replayed.add(update_id)
            await super().put(Update.de_json(json.loads(raw), bot))
            replayed += 1
        if replayed:
            log.warning("%d updates cut short by the last stop are handled again", replayed)
        return replayed
