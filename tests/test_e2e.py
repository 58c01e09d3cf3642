"""``python bot.py`` as it runs in production, against a fake Telegram (tests/fake_bot_api.py) over real HTTP.

Everything is real except Telegram's servers: the process, the environment variables it reads
(TELEGRAM_BOT_TOKEN, TELEGRAM_BASE_URL, BOT_DB, LOG_LEVEL), python-telegram-bot's HTTP client, rate limiter
and long polling, the handlers and the database. One conversation: /start, a question without
diacritics, the "whole passage" button, /ngonngu → English, an English question; then SIGTERM.

On SIGTERM: ``Application.run_polling`` installs handlers for SIGINT, SIGTERM and SIGABRT that raise
SystemExit inside its event loop; it catches that, stops the updater (one last getUpdates with timeout 0
confirms every fetched update), stops and shuts down the application, and returns normally. ``bot.py``
then returns 0 from ``main``, so the exit status is 0, not -15. (A SIGTERM that arrives before
run_polling has installed its handlers, while the knowledge base is still loading, kills the process
with the default action: -15. The test signals only after the conversation, so 0 is what it expects.)

The child process may reach nothing but 127.0.0.1: proxy variables are removed, and a ``sitecustomize``
written to a temporary directory on its PYTHONPATH refuses (and reports on stderr) any connection or name
lookup for another host.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, NoReturn

import pytest

from .fake_bot_api import Call, FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token"
SECRET = "TEST-token"  # the part of the token that must never reach a log
USER = 987654321  # distinctive, so the logs can be searched for it too
STARTUP = 30.0  # generous: the machine may be busy with the CLI tests' processes
REPLY = 15.0
GUARD_MARK = "E2E-NETWORK-GUARD"

# Loaded by the child at start-up (site imports ``sitecustomize`` from PYTHONPATH): no host but loopback.
NETWORK_GUARD = f'''\
import socket
import sys

_LOCAL = {{"127.0.0.1", "::1", "localhost"}}
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _refuse(host):
    sys.stderr.write("{GUARD_MARK}: refused a connection to %r\\n" % (host,))
    sys.stderr.flush()
    raise ConnectionRefusedError("{GUARD_MARK}: only 127.0.0.1 is reachable in this test")


def _checked(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL:
        _refuse(address[0])


def connect(self, address):
    _checked(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _checked(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name not in _LOCAL:
        _refuse(name)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
'''

# What the child must not inherit: another bot's settings, and any way out to the network.
SCRUBBED = {"TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL", "WEBHOOK_URL", "PORT", "BOT_SOURCE", "BOT_DB", "ADMIN_IDS",
            "DAILY_SUMMARY_TIME", "PYTHONPATH", "PYTHONSTARTUP", "SSL_CERT_FILE"}


def guarded_env(tmp: Path, base_url: str, db: Path, **extra: str) -> dict[str, str]:
    """The environment for ``python bot.py`` in a test: the token and the fake server, a scrubbed copy of
    ours (no proxies, none of the bot's own settings) and the guard that keeps it on 127.0.0.1."""
    guard = tmp / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED and "proxy" not in k.lower()}
    env.update({
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": base_url, "BOT_DB": str(db),
        "LOG_LEVEL": "INFO", "PYTHONPATH": str(guard), "PYTHONUNBUFFERED": "1",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    })
    env.update(extra)
    return env


class BotProcess:
    """``python bot.py`` with its output in files (a pipe nobody reads could block it)."""

    def __init__(self, base_url: str, tmp: Path) -> None:
        env = guarded_env(tmp, base_url, tmp / "e2e.db")
        self.stdout_path, self.stderr_path = tmp / "bot.stdout", tmp / "bot.stderr"
        self._out: IO[bytes] = self.stdout_path.open("wb")
        self._err: IO[bytes] = self.stderr_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)

    def logs(self) -> str:
        self._out.flush()
        self._err.flush()
        return (self.stdout_path.read_text(encoding="utf-8", errors="replace")
                + self.stderr_path.read_text(encoding="utf-8", errors="replace"))

    def stderr_tail(self, lines: int = 40) -> str:
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:]) or "(empty)"

    def fail(self, why: str) -> NoReturn:
        state = "running" if self.proc.poll() is None else f"exited with {self.proc.returncode}"
        pytest.fail(f"{why}\n--- bot.py ({state}), last lines of stderr ---\n{self.stderr_tail()}", pytrace=False)

    def wait_for(self, api: FakeBotAPI, method: str, predicate: Callable[[Call], bool] | None = None, *,
                 since: int, timeout: float = REPLY, what: str = "") -> Call:
        """``api.wait_for`` in short slices, failing at once (with the process's stderr) if the bot exits."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return api.wait_for(method, predicate, timeout=min(0.5, max(deadline - time.monotonic(), 0.01)),
                                    since=since)
            except TimeoutError as err:
                seen = str(err).partition("; ")[2]
            if self.proc.poll() is not None:
                self.fail(f"bot.py exited while waiting for {what or method}; {seen}")
            if time.monotonic() >= deadline:
                self.fail(f"waited {timeout:g} s for {what or method} ({method}); {seen}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._out.close()
        self._err.close()


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(token=TOKEN) as server:
        yield server


@pytest.fixture
def bot(api: FakeBotAPI, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(api.base_url, tmp_path)
    try:
        yield process
    finally:
        process.stop()  # always: a failed assertion must not leave a bot polling


def to_user(text: str | None = None, *more: str) -> Callable[[Call], bool]:
    """A call addressed to USER whose text holds every one of the given fragments."""
    wanted = [t for t in (text, *more) if t]
    return lambda c: c.params.get("chat_id") == USER and all(w in c.text for w in wanted)


def command_names(call: Call) -> set[str]:
    return {c["command"] for c in call.params["commands"]}


def test_conversation_over_http_then_sigterm(api: FakeBotAPI, bot: BotProcess) -> None:
    started = time.monotonic()
    # Start-up: getMe, both command menus (post_init), then polling begins with deleteWebhook.
    bot.wait_for(api, "deleteWebhook", since=0, timeout=STARTUP, what="polling to start (deleteWebhook)")
    menus = api.calls_to("setMyCommands")
    assert [c.error for c in menus] == [None, None], menus
    vietnamese = next(c for c in menus if not c.params.get("language_code"))
    english = next(c for c in menus if c.params.get("language_code") == "en")
    assert {"start", "trogiup", "hoi", "chitieu", "trocap", "thutuc", "ngonngu"} <= command_names(vietnamese)
    assert {"help", "ask", "targets", "subsidies", "procedures", "language"} <= command_names(english)
    assert api.calls_to("getMe"), "the bot never introduced itself"

    # /start: the greeting, with example questions as buttons.
    mark = api.mark()
    api.push_message("/start", USER)
    greeting = bot.wait_for(api, "sendMessage", to_user("Trợ lý xã"), since=mark, what="the /start greeting")
    assert greeting.params.get("parse_mode") == "HTML"
    examples = [data for _, data in greeting.buttons if data.startswith("ex:")]
    assert examples == [f"ex:{i}" for i in range(1, 6)], greeting.buttons

    # A question typed without diacritics: the answer, its source, and a "whole passage" button.
    mark = api.mark()
    api.push_message("ho can ngheo con bao nhieu", USER)
    answer = bot.wait_for(api, "sendMessage", to_user("122/910"), since=mark, what="the answer with 122/910")
    assert "Nguồn: Mục 2.4." in answer.text, answer.text
    full = next((data for _, data in answer.buttons if data.startswith("full:")), None)
    assert full is not None, answer.buttons

    mark = api.mark()
    api.push_callback(full, USER, message_id=answer.result["message_id"])
    bot.wait_for(api, "answerCallbackQuery", since=mark, what="the button press to be acknowledged")
    whole = bot.wait_for(api, "sendMessage", to_user("Toàn văn"), since=mark, what="the whole passage")
    assert "81/910" in whole.text and "122/910" in whole.text, whole.text
    assert whole.text.split("\n", 1)[1] not in answer.text  # the whole passage: more than the first reply showed

    # /ngonngu, then English: the language message is edited in place.
    mark = api.mark()
    api.push_message("/ngonngu", USER)
    choose = bot.wait_for(api, "sendMessage", to_user(), since=mark, what="the language choice")
    assert ("English", "lang:en") in choose.buttons, choose.buttons
    mark = api.mark()
    api.push_callback("lang:en", USER, message_id=choose.result["message_id"])
    switched = bot.wait_for(api, "editMessageText", to_user("English"), since=mark, what="the switch to English")
    assert switched.params["message_id"] == choose.result["message_id"]

    mark = api.mark()
    last_update_id = api.push_message("How many buffalo does the commune have?", USER,
                                      language_code="en")["update_id"]
    english_answer = bot.wait_for(api, "sendMessage", to_user("140 con"), since=mark, what="the English answer")
    assert "Source:" in english_answer.text, english_answer.text

    # Telegram accepted everything the bot sent (HTML, lengths, buttons, edits).
    assert [c for c in api.calls if c.error] == []
    conversation = time.monotonic() - started

    # SIGTERM: a graceful stop, exit status 0 (see the module docstring), well within 5 s.
    bot.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    try:
        returncode = bot.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        bot.fail("bot.py did not exit within 5 s of SIGTERM")
    stopped = time.monotonic() - signalled
    if returncode != 0:
        bot.fail(f"bot.py exited with {returncode} after SIGTERM, expected 0")

    # On the way out it confirmed every update it had fetched: a restart would not answer them again.
    cleanup = api.calls_to("getUpdates")[-1]
    assert cleanup.params.get("timeout") == 0, cleanup
    assert api.confirmed_offset == last_update_id + 1, (api.confirmed_offset, last_update_id)
    assert api.errors == []

    logs = bot.logs()
    assert SECRET not in logs, "the bot's token appears in its output"
    assert str(USER) not in logs, "a user id appears in the logs (they should name people by a hash)"
    assert GUARD_MARK not in logs, "bot.py tried to reach a host other than 127.0.0.1"
    assert "Traceback" not in logs, bot.stderr_tail()
    assert re.search(r"INFO troly\.updates: user=[0-9a-f]{10} question", logs), "no INFO log line per update"
    print(f"conversation {conversation:.2f} s, stop {stopped:.2f} s")


def test_a_rejected_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    """Telegram answers 401 to a revoked or mistyped token: one clear line, exit 2, and no token anywhere."""
    with FakeBotAPI(token="123456:ANOTHER-token") as other:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=other.base_url, BOT_DB=str(tmp_path / "t.db"),
                   LOG_LEVEL="INFO")
        done = subprocess.run([sys.executable, str(ROOT / "bot.py")], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "@BotFather" in done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
