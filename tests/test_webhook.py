"""``python bot.py`` with WEBHOOK_URL, behind the fake Telegram delivering by webhook (issue 13 item 11).

Webhook mode used not to start (python-telegram-bot's [webhooks] extra, tornado, was missing), and its URL
path was made of the token: 32 of its 35 secret characters in every proxy's access log. Now the path and
the ``secret_token`` are random (WEBHOOK_PATH / WEBHOOK_SECRET, else made once and kept in the database),
Telegram is told them by setWebhook, and an update POSTed without the secret is refused. The fake server
below does what Telegram does: after setWebhook it POSTs each pushed update to the URL with the
X-Telegram-Bot-Api-Secret-Token header, and retries until it is answered 200.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from knowledge.store import Store

from .fake_bot_api import FakeBotAPI
from .test_e2e import TOKEN, guarded_env

ROOT = Path(__file__).resolve().parent.parent
STARTUP = 30.0
USER = 424242
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, never through a proxy


class WebhookBotAPI(FakeBotAPI):
    """The fake Telegram, delivering by webhook once setWebhook has named a URL."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.webhook: dict[str, Any] = {}
        self.delivered: list[int] = []
        self._deliverer: threading.Thread | None = None

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        with self._changed:
            self.webhook = dict(params)
            self._changed.notify_all()
        if self._deliverer is None:
            self._deliverer = threading.Thread(target=self._deliver, name="fake-webhook", daemon=True)
            self._deliverer.start()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._pending)}

    def _deliver(self) -> None:
        while not self._closing:
            with self._changed:
                while not self._pending and not self._closing:
                    self._changed.wait(0.2)
                if self._closing:
                    return
                update, url, secret = self._pending[0], self.webhook["url"], self.webhook.get("secret_token", "")
            if post(url, update, secret) == 200:
                with self._changed:
                    self._pending.pop(0)
                    self.delivered.append(update["update_id"])
                    self._changed.notify_all()
            else:
                time.sleep(0.2)  # Telegram retries too


def post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
    try:
        with DIRECT.open(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhook_mode_serves_with_a_random_path_and_secret(tmp_path):
    port = free_port()
    db = tmp_path / "webhook.db"
    with WebhookBotAPI(token=TOKEN) as api:
        env = guarded_env(tmp_path, api.base_url, db, WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
                          WEBHOOK_LISTEN="127.0.0.1", PORT=str(port))
        err = (tmp_path / "bot.stderr").open("wb")
        proc = subprocess.Popen([sys.executable, "bot.py"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            call = api.wait_for("setWebhook", timeout=STARTUP)
            url, secret = call.params["url"], call.params.get("secret_token") or ""
            path = url.removeprefix(f"http://127.0.0.1:{port}/hook/")
            assert url.startswith(f"http://127.0.0.1:{port}/hook/") and len(path) >= 32, url
            assert len(secret) >= 32 and secret != path
            token_secret = TOKEN.split(":", 1)[1]
            for chunk in {token_secret[i:i + 6] for i in range(len(token_secret) - 5)}:
                assert chunk not in url and chunk not in secret, chunk
            # Telegram's delivery: an update POSTed with the secret is answered
            mark = api.mark()
            start = api.push_message("/start", USER)
            reply = api.wait_for("sendMessage", lambda c: c.params.get("chat_id") == USER, timeout=20, since=mark)
            assert "Trợ lý xã" in reply.text
            # a forger without the secret (or with a wrong one) is refused, and nothing is handled
            forged = {"update_id": 10**6, "message": {"message_id": 1, "date": int(time.time()), "text": "/start",
                                                      "chat": {"id": 666, "type": "private"},
                                                      "from": {"id": 666, "is_bot": False, "first_name": "K"},
                                                      "entities": [{"type": "bot_command", "offset": 0,
                                                                    "length": 6}]}}
            assert post(url, forged, None) == 403 and post(url, forged, "wrong") == 403
            assert post(f"http://127.0.0.1:{port}/hook/{token_secret}", forged, secret) == 404
            time.sleep(0.5)
            assert not [c for c in api.calls_to("sendMessage") if c.params.get("chat_id") == 666]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            err.close()
    store = Store(db)  # what a restart will use: the same path and secret
    assert (store.get_meta("webhook_path"), store.get_meta("webhook_secret")) == (path, secret)
    # delivered by webhook, stored (before Telegram was answered 200) and handled; the forgery never stored
    assert store.inbox_counts() == {"done": 1} and api.delivered == [start["update_id"]]
    store.close()
    log = (tmp_path / "bot.stderr").read_text(encoding="utf-8", errors="replace")
    assert path not in log and secret not in log and token_secret not in log, log[-2000:]
