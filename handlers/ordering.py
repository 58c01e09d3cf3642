"""Updates from different chats are handled side by side; those from one chat, one after another.

python-telegram-bot handles updates one at a time by default, so one chat's wait (Telegram's one message a
second per chat, kept by the rate limiter; an export of four files) holds up every other chat. Handling all
updates at once would break what needs order within a chat: /capnhat's guided conversation, a preview and
its confirmation. A lock per chat gives both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatProcessor(BaseUpdateProcessor):
    """At most ``max_concurrent`` updates at once, never two from the same chat (or person)."""

    def __init__(self, max_concurrent: int = 64, on_start: Callable[[object], None] | None = None,
                 on_done: Callable[[object], None] | None = None) -> None:
        super().__init__(max_concurrent)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}  # per chat: its lock, how many hold or wait
        # Told when an update's handling begins and when it has finished (the inbox counts and marks them).
        self._on_start, self._on_done = on_start, on_done

    @staticmethod
    def _key(update: object) -> object:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return ("chat", update.effective_chat.id)
            if update.effective_user is not None:
                return ("user", update.effective_user.id)
        return ("other", None)  # updates without a chat (polls, inline queries): one at a time

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        key = self._key(update)
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                if self._on_start is not None:
                    self._on_start(update)
                await coroutine
                if self._on_done is not None:  # not when cancelled at a stop: the restart handles it again
                    self._on_done(update)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]  # no one else holds or waits: forget the chat
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
