"""Figures survive SIGKILL: ``python bot.py`` against the fake Telegram (tests/fake_bot_api.py), killed at seeded
random moments and restarted on the same database and the same server, while officials log 200 figures.

Each figure: "/capnhat trong rung <v> ha", wait for the preview, press its "ok:<token>". A kill may land
anywhere: before the message is read, while the preview is written, between the figure's COMMIT and the
"Đã lưu." edit, or after. What the fake server had not seen confirmed (getUpdates ``offset``) is delivered
again to the next process; what it had, the inbox (handlers/inbox.py) handles again at start-up. An
official who gets no answer for a while still sends or presses again, as a person would, and the bot may
answer twice across a kill. Pressing the same button again is safe (the token makes it idempotent), and
that is what this test checks from the outside:

- every token the bot confirmed ("Đã lưu." or "đã được lưu trước đó" on the preview) is in the database
  exactly once, and nothing else is: set(tokens in the DB) == set(tokens confirmed), one row per token;
- "Đã lưu." (this press wrote it) is said at most once per token;
- each row holds the value and the official of the figure it was confirmed for.

The officials are 100 admin ids (ADMIN_IDS): the flood guard allows one person 10 updates in 10 s, and
200 figures from one person in a few seconds would be (rightly) slowed down. Up to LANES figures are in
flight at once, each from a different official, so a kill lands among several updates at different steps.
Kills come when the k-th figure is confirmed (k and a delay of a few hundredths of a second drawn from a
seeded generator); what is in flight at that moment varies from run to run, the invariants do not.
"""

from __future__ import annotations

import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from knowledge.text import format_number

from .fake_bot_api import Call, FakeBotAPI
from .test_e2e import guarded_env

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:DURABILITY-token"
SEED = 2024
FIGURES = 120
KILLS = 5
OFFICIALS = [910_000_000 + i for i in range(100)]
STARTUP = 30.0  # generous: a busy machine; it usually starts in about a second
RESEND = 1.2  # no answer this long after the bot is up again: the update was lost, the official repeats it
PER_STEP = 45.0  # give up on one figure (and fail, saying which) after this long
DEADLINE = 120.0
LANES = 40  # figures in flight at once, each from its own official
# An official reads the preview before pressing. Pressed within a second, the "Đã lưu." edit waits for the
# chat's one-message-a-second window (handlers/ratelimit.StrictRateLimiter), and as the Application handles
# one update at a time (no concurrent_updates), every other chat waits with it: the test would take minutes.
READING = 1.05
SAVED = "Đã lưu."
ALREADY = "đã được lưu trước đó"


def value_of(j: int) -> float:
    return (j + 1) / 100  # 0,01 … 2 ha: every figure's value is its own, so a mix-up shows


class Bot:
    """bot.py as a process, killed and restarted on the same database; every run's output kept."""

    def __init__(self, api: FakeBotAPI, tmp: Path) -> None:
        self.api = api
        self.tmp = tmp
        self.db = tmp / "durability.db"
        self.env = guarded_env(tmp, api.base_url, self.db, TELEGRAM_BOT_TOKEN=TOKEN,
                               ADMIN_IDS=",".join(map(str, OFFICIALS)), TELEGRAM_RATE_LIMIT="300",
                               LOG_LEVEL="WARNING")
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.kills = 0
        self.ready_at = 0.0
        self.starting = 0.0  # seconds spent starting, all runs
        self._err: IO[bytes] | None = None

    def start(self) -> None:
        self.runs += 1
        begun = time.monotonic()
        mark = self.api.mark()
        self._err = (self.tmp / f"run{self.runs}.stderr").open("wb")
        self.proc = subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._err)
        deadline = time.monotonic() + STARTUP
        while True:  # polling starts with deleteWebhook, after the menus of post_init
            try:
                self.api.wait_for("deleteWebhook", timeout=0.2, since=mark)
                break
            except TimeoutError:
                pass
            if self.proc.poll() is not None:
                self.fail(f"bot.py (run {self.runs}) exited during start-up")
            if time.monotonic() > deadline:
                self.fail(f"bot.py (run {self.runs}) did not start polling within {STARTUP:g} s")
        self.ready_at = time.monotonic()
        self.starting += self.ready_at - begun

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.kills += 1
        if self._err is not None:
            self._err.close()

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self._err is not None:
            self._err.close()

    def stderr(self) -> str:
        return "\n".join((self.tmp / f"run{n}.stderr").read_text(encoding="utf-8", errors="replace")
                         for n in range(1, self.runs + 1) if (self.tmp / f"run{n}.stderr").exists())

    def fail(self, why: str) -> None:
        tail = "\n".join(self.stderr().splitlines()[-30:]) or "(empty)"
        seen = [c for c in self.api.calls if c.method != "getUpdates"][-8:]
        pytest.fail(f"{why}\n--- last calls to the fake server ---\n{seen!r}\n--- bot.py stderr (all runs) ---\n"
                    f"{tail}", pytrace=False)


def ok_token(call: Call) -> str | None:
    return next((d[3:] for _, d in call.buttons if d.startswith("ok:")), None)


@pytest.fixture
def api():
    with FakeBotAPI(token=TOKEN) as server:
        yield server


@pytest.fixture
def bot(api, tmp_path):
    process = Bot(api, tmp_path)
    try:
        yield process
    finally:
        process.stop()  # always: a failed assertion must not leave a bot polling


@dataclass
class Figure:
    """One figure an official logs: sent, previewed, pressed, confirmed."""

    j: int
    user: int
    stage: str = "preview"  # then "reading" (the preview), "confirm", "done"
    since: int = 0  # the fake server's call index from which the bot's answer is looked for
    last: float = 0.0  # when the official last sent or pressed
    begun: float = 0.0
    token: str | None = None
    message_id: int | None = None
    press_at: float = 0.0

    @property
    def shown(self) -> str:
        return format_number(value_of(self.j))

    @property
    def command(self) -> str:
        return f"/capnhat trong rung {self.shown} ha"

    def answer(self, calls: list[Call]) -> Call | None:
        if self.stage not in ("preview", "confirm"):
            return None
        for call in calls[self.since:]:
            if call.error is not None or call.params.get("chat_id") != self.user:
                continue
            if self.stage == "preview" and call.method == "sendMessage" and ok_token(call) \
                    and f"thêm {self.shown} ha (" in call.text:
                return call
            if self.stage == "confirm" and call.method == "editMessageText" \
                    and call.params.get("message_id") == self.message_id \
                    and (call.text.startswith(SAVED) or ALREADY in call.text):
                return call
        return None


def test_figures_survive_sigkill_at_random_moments(api: FakeBotAPI, bot: Bot) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    # Kill when the k-th figure has been confirmed, a random few hundredths of a second later (other
    # figures are in flight then: sent, being previewed, pressed, being written).
    kills = sorted((k, rng.uniform(0.0, 0.25)) for k in rng.sample(range(5, FIGURES - 2 * LANES), KILLS))
    queue = list(range(FIGURES))
    flight: list[Figure] = []
    intended: dict[str, tuple[int, int]] = {}  # token → (figure number, official)
    repeats: Counter[str] = Counter()
    confirmed = 0
    kill_at: float | None = None
    bot.start()

    while queue or flight or kills or kill_at is not None:
        now = time.monotonic()
        if now - started > DEADLINE:
            bot.fail(f"{confirmed} of {FIGURES} figures confirmed after {DEADLINE:g} s; in flight: {flight!r}")
        busy = {f.user for f in flight}
        while queue and len(flight) < LANES and OFFICIALS[queue[0] % len(OFFICIALS)] not in busy:
            j = queue.pop(0)
            figure = Figure(j, OFFICIALS[j % len(OFFICIALS)], since=api.mark(), last=now, begun=now)
            api.push_message(figure.command, figure.user)
            flight.append(figure)
            busy.add(figure.user)

        calls = api.calls
        for figure in flight:
            answer = figure.answer(calls)
            if figure.stage == "reading":
                if now >= figure.press_at:
                    figure.stage, figure.since, figure.last = "confirm", api.mark(), now
                    api.push_callback(f"ok:{figure.token}", figure.user, message_id=figure.message_id)
                continue
            if answer is not None and figure.stage == "preview":
                figure.token, figure.message_id = ok_token(answer), answer.result["message_id"]
                intended[figure.token] = (figure.j, figure.user)  # type: ignore[index]
                figure.stage, figure.press_at = "reading", answer.at + READING
            elif answer is not None:
                figure.stage = "done"
                confirmed += 1
            elif now - max(figure.last, bot.ready_at) > RESEND:  # no answer: the update was lost; do it again
                figure.last = now
                repeats[figure.stage] += 1
                if figure.stage == "preview":
                    api.push_message(figure.command, figure.user)
                else:
                    api.push_callback(f"ok:{figure.token}", figure.user, message_id=figure.message_id)
            if figure.stage != "done" and now - figure.begun > PER_STEP:
                bot.fail(f"figure {figure.j} ({figure.shown} ha, official {figure.user}) stuck at {figure.stage} "
                         f"for {PER_STEP:g} s")
        flight = [f for f in flight if f.stage != "done"]

        if kills and confirmed >= kills[0][0] and kill_at is None:
            kill_at = time.monotonic() + kills.pop(0)[1]
        if kill_at is not None and time.monotonic() >= kill_at:
            kill_at = None
            bot.restart()
        time.sleep(0.005)

    elapsed = time.monotonic() - started
    bot.stop()

    # What the bot said, from the fake server's record: each preview's token by its message, then the edits.
    previews: dict[tuple[int, int], str] = {}
    said: dict[str, list[str]] = {}
    for call in api.calls:
        if call.method == "sendMessage" and call.error is None and ok_token(call):
            previews[(call.params["chat_id"], call.result["message_id"])] = ok_token(call)  # type: ignore[assignment]
        if call.method == "editMessageText" and call.error is None and (
                call.text.startswith(SAVED) or ALREADY in call.text):
            token = previews.get((call.params["chat_id"], call.params["message_id"]))
            assert token is not None, f"a confirmation of a message that was no preview: {call!r}"
            said.setdefault(token, []).append(SAVED if call.text.startswith(SAVED) else ALREADY)

    with sqlite3.connect(bot.db) as check:
        rows = check.execute("SELECT request, value, user_id, undone_at FROM figures").fetchall()
        pending_states = Counter(s for (s,) in check.execute("SELECT state FROM pending"))
    per_token = Counter(r[0] for r in rows)

    assert [t for t, n in per_token.items() if n > 1] == [], "a token has more than one figure"
    assert set(per_token) == set(said), (
        f"in the DB but never confirmed: {sorted(set(per_token) - set(said))}; "
        f"confirmed but not in the DB: {sorted(set(said) - set(per_token))}")
    assert set(said) == set(intended) and len(rows) == FIGURES
    assert [t for t, words in said.items() if words.count(SAVED) > 1] == [], "'Đã lưu.' said twice for one token"
    for request, value, user_id, undone_at in rows:
        j, user = intended[request]
        assert (value, user_id, undone_at) == (pytest.approx(value_of(j)), user, None), (request, j)
    assert pending_states["done"] == FIGURES and pending_states["cancelled"] == 0
    assert sum(r[1] for r in rows) == pytest.approx(sum(value_of(j) for j in range(FIGURES)))

    assert bot.kills == KILLS and bot.runs == KILLS + 1
    logs = bot.stderr()
    assert not re.search(r"IntegrityError|database is locked|database disk image is malformed", logs), logs[-3000:]
    assert api.errors == []
    refused = [c for c in api.calls if c.error and "message is not modified" not in c.error]
    # A request the kill cut short (headers sent, body not) reaches the server with no parameters at all.
    truncated = [c for c in refused if not c.params]
    assert [c for c in refused if c.params] == [] and len(truncated) <= KILLS, refused
    print(f"{FIGURES} figures, {bot.kills} kills, repeated {dict(repeats)}, "
          f"'already saved' {sum(w.count(ALREADY) for w in said.values())}, "
          f"unpressed previews {len(previews) - FIGURES}, {elapsed:.1f} s ({bot.starting:.1f} s starting)")
