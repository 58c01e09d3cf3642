"""A stricter fake Telegram for the broadcast tests and benchmark: flood control, server errors, blocked chats.

:class:`LimitedBotAPI` is :class:`tests.fake_bot_api.FakeBotAPI` (HTTP on 127.0.0.1, every call recorded)
with what a broadcast meets on the real Telegram:

- **flood control**: at most ``rate`` sending calls (sendMessage, sendPhoto, sendDocument, editMessageText,
  editMessageReplyMarkup) in any ``window`` seconds, counted when each request arrives, strictly (a sliding
  window of arrival times, not a bucket). One more is answered ``429 Too Many Requests: retry after N`` with
  ``parameters.retry_after = N``, as Telegram does; a refused call does not count towards the window;
- **server errors**: a share ``error_rate`` of the sendMessage calls (drawn from a seeded generator, so a run
  is reproducible) is answered with a 5xx and is *not* delivered;
- **blocked chats**: a fixed share ``blocked_share`` of the chats (chosen by a hash of the chat id: the same
  chats on every run and every restart) answer ``403 Forbidden: bot was blocked by the user``;
- **group admins** for ``getChatMember``: ``admins`` maps a chat id to the user ids that are its
  administrators (``owners``: its creators); everyone else is a plain member;
- **latency** (optional): every sending call is answered ``latency`` seconds late, as a far-away server is.

``faulty`` limits the 5xx and 403 rules to some chats (a test's citizen is then not refused by chance);
flood control applies to every chat. Every refusal is still recorded as a call, with its error.

:class:`ScaledRateLimiter` is the bot's StrictRateLimiter on a faster clock, for tests and benchmarks that
run Telegram's limits ``scale`` times faster: the overall window stays one second (its limit is what the
caller says, e.g. 300 for 30 × 10) and the per-chat windows are ``scale`` times shorter (one message per
0.1 s instead of per second in a private chat, twenty per 6 s instead of per minute in a group).
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

from handlers.ratelimit import StrictRateLimiter, Window

try:
    from .fake_bot_api import ApiError, Call, FakeBotAPI
except ImportError:  # imported as a top-level module (bench/, or tests/ on sys.path)
    from fake_bot_api import ApiError, Call, FakeBotAPI  # type: ignore[no-redef]

LIMITED = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"})
BLOCKED = "Forbidden: bot was blocked by the user"
SERVER_ERRORS = ((500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable"))


def chat_share(chat_id: Any, salt: str = "blocked") -> float:
    """A number in [0, 1) fixed for a chat id: the same on every run."""
    return (zlib.crc32(f"{salt}:{chat_id}".encode()) % 10_000) / 10_000


class LimitedBotAPI(FakeBotAPI):
    """A FakeBotAPI with Telegram's flood control, 5xx errors, blocked chats and group admins (see above)."""

    def __init__(self, token: str | None = None, *, rate: int | None = 30, window: float = 1.0,
                 retry_after: int = 1, error_rate: float = 0.0, blocked_share: float = 0.0,
                 faulty: Callable[[Any], bool] | None = None, seed: int = 0, latency: float = 0.0,
                 admins: dict[int, Iterable[int]] | None = None, owners: dict[int, Iterable[int]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(token, **kwargs)
        self.rate = rate
        self.window = window
        self.retry_after = retry_after
        self.error_rate = error_rate
        self.blocked_share = blocked_share
        self.faulty = faulty or (lambda chat_id: True)
        self.latency = latency
        self.admins = {chat: set(users) for chat, users in (admins or {}).items()}
        self.owners = {chat: set(users) for chat, users in (owners or {}).items()}
        self._random = random.Random(seed)
        self._limits = threading.Lock()
        self._arrivals: deque[float] = deque()
        self.counts: Counter[str] = Counter()  # "accepted", "429", "5xx", "403"
        self.peak = 0  # the most sending calls seen in one window

    # -- the rules ---------------------------------------------------------------------------------------
    def is_blocked(self, chat_id: Any) -> bool:
        """Whether this chat has blocked the bot (a fixed share of the chats, the same on every run)."""
        return bool(self.faulty(chat_id)) and chat_share(chat_id) < self.blocked_share

    def _flood_control(self) -> None:
        if self.rate is None:
            return
        now = time.monotonic()
        with self._limits:
            while self._arrivals and now - self._arrivals[0] >= self.window:
                self._arrivals.popleft()
            if len(self._arrivals) >= self.rate:
                self.counts["429"] += 1
                raise ApiError(429, f"Too Many Requests: retry after {self.retry_after}",
                               {"retry_after": self.retry_after})
            self._arrivals.append(now)
            self.counts["accepted"] += 1
            self.peak = max(self.peak, len(self._arrivals))

    def _faults(self, params: dict[str, Any]) -> None:
        chat_id = params.get("chat_id")
        if not self.faulty(chat_id):
            return
        with self._limits:
            fail = self.error_rate > 0 and self._random.random() < self.error_rate
            code, description = self._random.choice(SERVER_ERRORS)
        if fail:
            self.counts["5xx"] += 1
            raise ApiError(code, description)
        if self.is_blocked(chat_id):
            self.counts["403"] += 1
            raise ApiError(403, BLOCKED)

    def _limited(self, method: str, params: dict[str, Any], answer: Callable[[dict[str, Any]], Any]) -> Any:
        if self.latency:
            time.sleep(self.latency)
        self._flood_control()
        if method == "sendMessage":
            self._faults(params)
        elif self.is_blocked(params.get("chat_id")):
            raise ApiError(403, BLOCKED)
        return answer(params)

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._limited("sendMessage", params, super()._api_sendMessage)

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._limited("sendPhoto", params, super()._api_sendPhoto)

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._limited("sendDocument", params, super()._api_sendDocument)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._limited("editMessageText", params, super()._api_editMessageText)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._limited("editMessageReplyMarkup", params, super()._api_editMessageReplyMarkup)

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = params.get("chat_id"), int(params.get("user_id") or 0)
        user = {"id": user_id, "is_bot": False, "first_name": "Người dùng"}
        if user_id in self.owners.get(chat_id, ()):  # type: ignore[arg-type]
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in self.admins.get(chat_id, ()):  # type: ignore[arg-type]
            return {"status": "administrator", "user": user, **ADMIN_RIGHTS}
        return {"status": "member", "user": user}

    # -- reading what happened -----------------------------------------------------------------------
    def delivered(self, predicate: Callable[[Call], bool] | None = None) -> Counter[Any]:
        """Successful sendMessage calls per chat id (those ``predicate`` accepts)."""
        return Counter(c.params.get("chat_id") for c in self.calls_to("sendMessage")
                       if c.error is None and (predicate is None or predicate(c)))

    def refused(self, prefix: str, predicate: Callable[[Call], bool] | None = None) -> Counter[Any]:
        """sendMessage calls per chat id whose error starts with ``prefix`` ("Too Many", "Forbidden", …)."""
        return Counter(c.params.get("chat_id") for c in self.calls_to("sendMessage")
                       if c.error is not None and c.error.startswith(prefix)
                       and (predicate is None or predicate(c)))


class ScaledRateLimiter(StrictRateLimiter):
    """StrictRateLimiter whose per-chat windows are ``scale`` times shorter (see the module docstring)."""

    def __init__(self, overall_per_second: int, scale: float, **kwargs: Any) -> None:
        super().__init__(overall_per_second=overall_per_second, **kwargs)
        self.scale = scale

    def _chat_window(self, chat_id: int | str) -> Window:
        window = self.chats.get(chat_id)
        if window is None:
            group = isinstance(chat_id, str) or chat_id < 0
            window = Window(self.group_per_minute, 60.0 / self.scale) if group \
                else Window(self.chat_per_second, 1.0 / self.scale)
            self.chats[chat_id] = window
        return window


ADMIN_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
    "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
    "can_change_info": True, "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
    "can_delete_stories": False,
}
