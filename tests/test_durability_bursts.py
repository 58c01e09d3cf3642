"""No message lost across SIGKILL (issue 13 item 8): ``python bot.py`` against the fake Telegram, bursts of 50
questions from 50 different people, killed at a seeded random moment inside each burst (a burst takes
about half a second to answer) and restarted on the same database and server, ten times; each burst comes
once the restarted bot has answered what the kill cut short.

Before the inbox (handlers/inbox.py), python-telegram-bot confirmed a batch with its next getUpdates,
before handling it, and a kill in that window lost the batch's unanswered messages (up to 40 % of a
burst). Now each update is in the database before it is confirmed, and the restart handles what the kill
cut short. What is checked from the outside:

- every person gets a reply, and it answers their question;
- nobody gets two replies within one run, nor three in all: a second reply only ever comes after a kill
  that landed between the first reply going out and its update being marked done (Telegram has no
  idempotency key, so exactly once cannot be promised there; see handlers/inbox.py for why a repeat is
  chosen over a loss), and those stay a small share of the whole;
- the inbox ends with nothing left to handle.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import defaultdict
from pathlib import Path

from .fake_bot_api import Call, FakeBotAPI
from .test_durability import TOKEN, Bot

SEED = 1313
TRIALS = 10
BURST = 50
FIRST_USER = 930_000_000
QUESTIONS = [("Số hộ nghèo năm 2023 là bao nhiêu?", "81"), ("Tổng thu ngân sách xã năm 2023?", "26.994"),
             ("Chỉ tiêu trồng rừng mới năm 2024?", "50"), ("xin chào", "Trợ lý xã")]
ANSWERED = 60.0


def replies(api: FakeBotAPI) -> dict[int, list[Call]]:
    out: dict[int, list[Call]] = defaultdict(list)
    for call in api.calls_to("sendMessage"):
        if call.error is None:
            out[int(call.params.get("chat_id"))].append(call)
    return out


def unfinished(db: Path) -> int:
    """Updates in the inbox not yet marked done (handled again at the next start)."""
    if not db.exists():
        return 0
    check = sqlite3.connect(db, timeout=5)
    try:
        return check.execute("SELECT COUNT(*) FROM inbox WHERE state = 'new'").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is still being made
        return 1
    finally:
        check.close()


def wait_for_replies(api: FakeBotAPI, asked: dict[int, tuple[str, str]], db: Path) -> None:
    """Every question answered, and what the restart handled again marked done: the next burst (and its kill)
    comes once the bot has finished what the last kill cut short, as the module's docstring says. A kill
    landing on an update the restart is still handling again would be a second kill in its window, a third
    reply; one kill per window is what this test measures."""
    deadline = time.monotonic() + ANSWERED
    while time.monotonic() < deadline:
        if all(replies(api).get(u) for u in asked) and not unfinished(db):
            return
        time.sleep(0.05)


def test_bursts_killed_at_random_moments_lose_no_message(tmp_path) -> None:
    rng = random.Random(SEED)
    asked: dict[int, tuple[str, str]] = {}
    kills: list[tuple[float, float]] = []  # (just before the kill, polling again after the restart)
    with FakeBotAPI(token=TOKEN) as api:
        bot = Bot(api, tmp_path)
        try:
            bot.start()
            for trial in range(TRIALS):
                for i in range(BURST):
                    user = FIRST_USER + trial * BURST + i
                    asked[user] = QUESTIONS[(trial + i) % len(QUESTIONS)]
                    api.push_message(asked[user][0], user)
                time.sleep(rng.uniform(0.0, 0.7))  # somewhere in the burst: fetched, stored, answered, confirmed
                killed = time.monotonic()
                bot.restart()
                kills.append((killed, bot.ready_at))
                wait_for_replies(api, asked, tmp_path / "durability.db")
            time.sleep(1.0)  # anything sent again would arrive by now
            got = replies(api)
        finally:
            bot.stop()
    missing = sorted(u for u in asked if not got.get(u))
    assert not missing, f"{len(missing)} of {len(asked)} never answered (after {bot.kills} kills): {missing[:10]}"
    wrong = [u for u, (_, expected) in asked.items() if expected not in got[u][0].text]
    assert not wrong, [(u, asked[u][0], got[u][0].text[:80]) for u in wrong[:5]]
    repeated = {u: calls for u, calls in got.items() if u in asked and len(calls) > 1}
    def run(at: float) -> int:  # which process answered: the runs are separated by each restart's readiness
        return sum(ready <= at for _, ready in kills)

    for user, calls in repeated.items():
        assert len(calls) == 2, (user, calls)
        assert run(calls[0].at) < run(calls[1].at), f"{user} answered twice by one process: {calls}"
    assert len(repeated) <= 0.05 * len(asked), f"{len(repeated)} answered twice: {sorted(repeated)[:10]}"
    check = sqlite3.connect(tmp_path / "durability.db")
    left = check.execute("SELECT COUNT(*) FROM inbox WHERE state = 'new'").fetchone()[0]
    check.close()
    assert left == 0 and bot.kills == TRIALS
