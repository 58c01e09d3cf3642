"""A ticket end to end: ``python bot.py`` behind the fake Telegram (tests/fake_bot_api.py), killed with SIGKILL
between any two steps and restarted on the same database and server.

The steps: a citizen asks what the plan does not say → the bot offers "Gửi câu hỏi cho cán bộ xã" → the citizen
presses it → the question, with its number, is posted in the officials' group → an official replies to the post
→ the citizen receives the answer, with who answered. One scenario per place a kill can land, each with its own
citizen, all on one database: before each reply is read, right after each step's update is pushed (the bot
may be mid-handling), after each of the bot's messages, while the answer's sendMessage is in flight (the server
got it and holds its answer), and after a failed delivery (a 500: the answer recorded, not delivered).

What is checked from the outside, for every scenario: the citizen receives the answer exactly once (the
server counts every sendMessage it got), the group got every question (at least once: a post cut short by a
kill is sent again, a copy being harmless), and the ticket is answered in the database. The in-flight
scenario is where a citizen's message could be lost rather than repeated: its row ends 'unknown', never sent
again (here it had arrived, so the count is still one). Two windows are measured and printed (``-s``): from
'sending' committed to the request at the server (a kill there loses a citizen's message), and from the
server's answer to 'sent' committed (a kill there repeats a post to the officials).
"""

from __future__ import annotations

import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

from .fake_bot_api import ApiError, Call, FakeBotAPI
from .test_e2e import guarded_env

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TICKETS-token"
ADMIN = 920_000_001
OFFICIAL = 920_000_002
OFFICIAL_NAME = "Chị Lan văn phòng"
GROUP = -100_777_000_111
QUESTION = "giá lợn hơi bây giờ bao nhiêu?"
STARTUP = 60.0
WAIT = 20.0
POST_MARK = "🎫 #"

# Where the kill lands, scenario by scenario (each its own citizen).
KILL_POINTS = [
    "after-question-pushed",   # the question may not even be read yet
    "after-offer",             # the offer is sent; nothing pressed
    "after-press-pushed",      # the press may be mid-handling: ticket written, post not sent…
    "after-post",              # the group has the question; nobody replied yet
    "after-reply-pushed",      # the reply may be mid-handling: answer recorded, not delivered…
    "after-answer",            # the citizen has the answer; the official's confirmation may not be out
    "answer-in-flight",        # the server got the answer and holds its response: the bot never hears back
    "answer-failed",           # the first delivery got a 500: recorded, pending; then the kill
]


class BotRuns:
    """bot.py as a process, killed and restarted on one database; each run's stderr kept."""

    def __init__(self, api: FakeBotAPI, tmp: Path) -> None:
        self.api, self.tmp = api, tmp
        self.db = tmp / "tickets.db"
        self.env = guarded_env(tmp, api.base_url, self.db, TELEGRAM_BOT_TOKEN=TOKEN, ADMIN_IDS=str(ADMIN),
                               TELEGRAM_RATE_LIMIT="300", LOG_LEVEL="INFO", LOG_SALT="tickets-e2e-salt")
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self._err: IO[bytes] | None = None

    def start(self) -> None:
        self.runs += 1
        mark = self.api.mark()
        self._err = (self.tmp / f"run{self.runs}.stderr").open("wb")
        self.proc = subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._err)
        self.wait("deleteWebhook", since=mark, timeout=STARTUP, what="start-up")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        if self._err is not None:
            self._err.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()

    def stderr(self) -> str:
        return "\n".join((self.tmp / f"run{n}.stderr").read_text(encoding="utf-8", errors="replace")
                         for n in range(1, self.runs + 1))

    def wait(self, method: str, predicate: Any = None, *, since: int, timeout: float = WAIT, what: str = "") -> Call:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.api.wait_for(method, predicate, timeout=0.3, since=since)
            except TimeoutError as err:
                seen = str(err)
            if self.proc is not None and self.proc.poll() is not None:
                self.fail(f"bot.py exited while waiting for {what or method}")
            if time.monotonic() > deadline:
                self.fail(f"waited {timeout:g} s for {what or method}: {seen[-1500:]}")

    def fail(self, why: str) -> None:
        tail = "\n".join(self.stderr().splitlines()[-30:])
        pytest.fail(f"{why}\n--- bot.py stderr (all runs) ---\n{tail}", pytrace=False)


@pytest.fixture
def api():
    with FakeBotAPI(token=TOKEN) as server:
        yield server


@pytest.fixture
def runs(api, tmp_path):
    process = BotRuns(api, tmp_path)
    try:
        yield process
    finally:
        process.stop()


def to_chat(chat: int, needle: str = "") -> Any:
    return lambda c: c.params.get("chat_id") == chat and needle in c.text


def push_reply(api: FakeBotAPI, post: Call, text: str, user: int) -> None:
    """``user`` replies in the group to the bot's post (Telegram puts the replied-to message in the update)."""
    api.push_update({"message": {
        "message_id": 10_000 + len(api.calls), "date": int(time.time()), "text": text,
        "chat": {"id": GROUP, "type": "supergroup", "title": "Cán bộ xã"},
        "from": {"id": user, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
        "reply_to_message": post.result,
    }})


def scenario(runs: BotRuns, api: FakeBotAPI, n: int, kill_at: str) -> int:
    """One citizen's question to its answer, killed once at ``kill_at``; the citizen's id."""
    citizen = 930_000_000 + n
    answer = f"Trả lời {n}: khoảng 62.000 đồng/kg."

    def kill_here(point: str, pause: float = 0.0) -> None:
        if point == kill_at:
            time.sleep(pause)
            runs.kill()
            runs.start()

    mark = api.mark()
    api.push_message(QUESTION, user_id=citizen)
    kill_here("after-question-pushed", 0.05)
    offer = runs.wait("sendMessage", lambda c: to_chat(citizen)(c) and any(d.startswith("tq:") for _, d in c.buttons),
                      since=mark, what=f"#{n} the offer")
    kill_here("after-offer")
    [data] = [d for _, d in offer.buttons if d.startswith("tq:")]
    mark = api.mark()
    api.push_callback(data, user_id=citizen, message_id=offer.result["message_id"])
    kill_here("after-press-pushed", 0.05)
    post = runs.wait("sendMessage", lambda c: to_chat(GROUP, QUESTION)(c) and c.text.startswith(POST_MARK),
                     since=mark, what=f"#{n} the post")
    posts_before = [c for c in api.calls_to("sendMessage") if to_chat(GROUP, QUESTION)(c)
                    and c.result and c.result["message_id"] == post.result["message_id"]]
    assert len(posts_before) == 1
    kill_here("after-post")
    if kill_at == "answer-in-flight":
        api.hold = lambda method, params: 3.0 if params.get("chat_id") == citizen and answer in str(
            params.get("text")) else 0.0
    if kill_at == "answer-failed":
        failed: list[int] = []

        def fail_once(method: str, params: dict) -> ApiError | None:
            if params.get("chat_id") == citizen and answer in str(params.get("text")) and not failed:
                failed.append(1)
                return ApiError(500, "Internal Server Error")
            return None

        api.fail = fail_once
    mark = api.mark()
    push_reply(api, post, answer, OFFICIAL)
    kill_here("after-reply-pushed")  # at once: between the push and the answer's own call, never inside it
    if kill_at in ("answer-in-flight", "answer-failed"):
        runs.wait("sendMessage", to_chat(citizen, answer), since=mark, what=f"#{n} the answer's first try")
        if kill_at == "answer-failed":  # the 500 is answered; the row goes back to pending
            time.sleep(0.3)
        kill_here(kill_at)
        api.hold = api.fail = None
    delivered = runs.wait("sendMessage", lambda c: to_chat(citizen, answer)(c) and c.error is None, since=0,
                          what=f"#{n} the answer")
    assert "câu hỏi số" in delivered.text and OFFICIAL_NAME in delivered.text
    kill_here("after-answer")
    return citizen


def test_a_ticket_is_answered_exactly_once_across_sigkill_between_any_two_steps(runs, api, capsys):
    runs.start()
    mark = api.mark()
    api.push_message(f"/canbo them {OFFICIAL} {OFFICIAL_NAME}", user_id=ADMIN)
    runs.wait("sendMessage", to_chat(ADMIN, "Đã thêm cán bộ"), since=mark, what="the official added")
    mark = api.mark()
    api.push_message("/nhomcanbo", user_id=ADMIN, chat_id=GROUP, chat_type="supergroup")
    runs.wait("sendMessage", to_chat(GROUP, "nhóm này"), since=mark, what="the officials' group set")
    citizens = {point: scenario(runs, api, n, point) for n, point in enumerate(KILL_POINTS)}
    time.sleep(1.5)  # anything a last restart would still send (it must not) has time to arrive
    assert runs.runs == 1 + len(KILL_POINTS)

    for n, (point, citizen) in enumerate(citizens.items()):
        answer = f"Trả lời {n}: khoảng 62.000 đồng/kg."
        got = [c for c in api.calls_to("sendMessage") if to_chat(citizen, answer)(c) and c.error is None]
        assert len(got) == 1, f"{point}: the citizen got the answer {len(got)} times"
    # Every ticket reached the group; a post cut short by a kill is sent again (at least once: a copy is harmless).
    posts = [c for c in api.calls_to("sendMessage") if to_chat(GROUP, QUESTION)(c) and c.text.startswith(POST_MARK)
             and c.error is None]
    numbers = [c.text.removeprefix(POST_MARK).split()[0] for c in posts]
    assert len(set(numbers)) == len(KILL_POINTS), numbers
    with capsys.disabled():
        print(f"\n[tickets e2e] posts to the group: {len(numbers)} for {len(set(numbers))} tickets")

    db = sqlite3.connect(runs.db)
    rows = db.execute("SELECT status, chat_id FROM tickets ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["answered"] * len(KILL_POINTS)
    states = dict(db.execute("SELECT o.chat_id, o.state FROM ticket_outbox o WHERE o.purpose = 'answer'").fetchall())
    assert states[citizens["answer-in-flight"]] == "unknown"  # in flight at the kill: never sent again
    # Killed as the answer reached the server, the bot may not have heard back: 'unknown' too, and not re-sent.
    assert states[citizens["after-answer"]] in ("sent", "unknown")
    assert all(states[c] == "sent" for p, c in citizens.items() if p not in ("answer-in-flight", "after-answer"))
    # The window in which a kill could lose a message: 'sending' committed → the request at the server.
    sending = dict(db.execute("SELECT chat_id, sending_at FROM ticket_outbox WHERE purpose = 'answer'").fetchall())
    windows = []
    for n, citizen in enumerate(citizens.values()):
        answer = f"Trả lời {n}: khoảng 62.000 đồng/kg."
        last = [c for c in api.calls_to("sendMessage") if to_chat(citizen, answer)(c)][-1]
        windows.append(last.wall - sending[citizen])
    sent_posts = db.execute("SELECT message_id, sent_at FROM ticket_outbox WHERE purpose = 'post' AND state = 'sent'"
                            " AND chat_id = ?", [GROUP]).fetchall()
    by_id = {c.result["message_id"]: c for c in posts if c.result}
    repeats = [sent_at - by_id[mid].wall for mid, sent_at in sent_posts if mid in by_id]
    db.close()
    with capsys.disabled():
        print(f"\n[tickets e2e] server → 'sent' (posts), ms: median {statistics.median(repeats) * 1000:.1f},"
              f" max {max(repeats) * 1000:.1f} over {len(repeats)} posts")
        print(f"\n[tickets e2e] 'sending' → server, ms: median {statistics.median(windows) * 1000:.1f},"
              f" max {max(windows) * 1000:.1f} over {len(windows)} answers")
    assert max(windows) < 2.0
    # The logs name people by a keyed hash: no citizen's id, no question, no answer in them.
    logs = runs.stderr()
    assert all(str(c) not in logs for c in citizens.values())
    assert QUESTION not in logs and "62.000" not in logs
