"""Telegram's limits, kept strictly: at most N messages in any one second overall, one a second per chat,
twenty a minute per group; a RetryAfter is obeyed.

python-telegram-bot's AIORateLimiter is a leaky bucket: it lets a burst through and then evens out, which
against a server that counts a strict one-second window draws a steady trickle of 429s. This one keeps a
sliding window of send times, so no window ever holds more than the limit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger("troly.ratelimit")

SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendMediaGroup", "copyMessage",
           "forwardMessage", "editMessageText", "editMessageReplyMarkup", "sendChatAction"}


class Window:
    """At most ``limit`` sends in any ``period`` seconds, each counted from the moment it starts until its
    answer is back: the server counts arrivals, which fall somewhere in between, so no window of arrivals
    can ever hold more than ``limit``, whatever the network's jitter."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.sends: list[list[float]] = []  # [last moment it was in flight]; at most ``limit`` of them
        self.lock = asyncio.Lock()

    async def take(self, clock: Callable[[], float] = time.monotonic) -> list[float]:
        """Wait for room; the returned cell is the send's: ``done`` stamps it when the answer is back."""
        async with self.lock:  # FIFO: waiters are served in arrival order
            while True:
                now = clock()
                self.sends = [c for c in self.sends if now - c[0] < self.period]
                if len(self.sends) < self.limit:
                    cell = [now]
                    self.sends.append(cell)
                    return cell
                await asyncio.sleep(self.period - (now - min(c[0] for c in self.sends)) + 0.001)

    @staticmethod
    def done(cell: list[float], clock: Callable[[], float] = time.monotonic) -> None:
        cell[0] = max(cell[0], clock())


def retry_seconds(err: RetryAfter) -> float:
    """How long Telegram asked us to wait (PTB 22 warns on reading it as an int: read it either way)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = err.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


Leaving = Callable[[], None]


class StrictRateLimiter(BaseRateLimiter[Leaving]):
    """Overall, per-chat and per-group sliding windows; ``max_retries`` RetryAfters are waited out.

    ``rate_limit_args`` (optional) is called once the waits are over, just before the request leaves: a ledger
    marks a message 'sending' there (handlers/tickets.py), so a process killed while the message waits for its
    chat's second leaves it 'pending', to be sent on the restart, instead of 'unknown' and never sent."""

    def __init__(self, overall_per_second: int = 30, chat_per_second: int = 1, group_per_minute: int = 20,
                 max_retries: int = 5) -> None:
        self.overall = Window(overall_per_second, 1.0)
        self.chat_per_second = chat_per_second
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self.chats: dict[int | str, Window] = {}
        self.retries = 0  # how many RetryAfters were waited out (benchmarks and tests read it)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat_window(self, chat_id: int | str) -> Window:
        window = self.chats.get(chat_id)
        if window is None:
            group = isinstance(chat_id, str) or chat_id < 0
            window = Window(self.group_per_minute, 60.0) if group else Window(self.chat_per_second, 1.0)
            if len(self.chats) > 50_000:  # forget idle chats now and then
                self.chats.clear()
            self.chats[chat_id] = window
        return window

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: Leaving | None) -> Any:
        limited = endpoint in SENDING
        chat_id = data.get("chat_id")
        for attempt in range(self.max_retries + 1):
            cells: list[list[float]] = []
            if limited:
                if chat_id is not None:
                    cells.append(await self._chat_window(int(chat_id) if str(chat_id).lstrip("-").isdigit()
                                                         else str(chat_id)).take())
                cells.append(await self.overall.take())
            if rate_limit_args is not None:
                rate_limit_args()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as err:
                if attempt >= self.max_retries:
                    raise
                self.retries += 1
                wait = retry_seconds(err)
                log.info("RetryAfter %.1f s on %s", wait, endpoint)
                await asyncio.sleep(wait)
            finally:
                for cell in cells:
                    Window.done(cell)
        raise AssertionError("unreachable")
