"""A fake Telegram Bot API HTTP server, for tests that run ``bot.py`` as a real process (tests/test_e2e.py).

Standard library only: a ``ThreadingHTTPServer`` on 127.0.0.1 (an ephemeral port) in a background thread. It
serves ``GET``/``POST /bot<token>/<method>`` the way Telegram does:

- parameters from the query string and the body, JSON (``application/json``), form-encoded
  (``application/x-www-form-urlencoded``) or ``multipart/form-data``. python-telegram-bot 22 (HTTPXRequest)
  posts a form: string values as they are, every other value JSON-encoded (``chat_id=42``,
  ``reply_markup={"inline_keyboard": …}``, ``commands=[…]``); a multipart form when it uploads a file. The
  server decodes each field back to its type, so a test reads ``params["chat_id"] == 42`` and
  ``params["reply_markup"]["inline_keyboard"]`` whatever the encoding was;
- ``getUpdates`` long-polls: it waits up to ``timeout`` seconds for updates, and keeps every update until a
  later call confirms it with ``offset`` (an answer lost on the way is sent again, as with Telegram);
- ``sendMessage`` (and the other ``send*``) answer with a Message whose ``message_id`` increases; the edit
  methods answer with the edited Message; the checks Telegram makes that a bot can get wrong are made here
  too (empty or over-long text, malformed HTML with ``parse_mode=HTML``, callback data over 64 bytes, an
  edit that changes nothing or targets an unknown message) and answered with Telegram's 400 errors;
- ``getMe``, ``deleteWebhook``, ``answerCallbackQuery``, ``setMyCommands``/``getMyCommands``/
  ``deleteMyCommands``, ``sendChatAction``, ``getWebhookInfo``, ``close``, ``logOut``; any other method
  answers ``{"ok": true, "result": true}``.

Every call is recorded (method, decoded parameters, result or error) in a thread-safe list. A test queues
updates with :meth:`FakeBotAPI.push_message` / :meth:`FakeBotAPI.push_callback` and waits for the bot's
replies with :meth:`FakeBotAPI.wait_for`. The token is checked when one is given, and appears only in the
URL path: it is never recorded, logged or printed (request logging is off).
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import itertools
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

try:
    from .telegram_html import html_errors
except ImportError:  # imported as a top-level module (tests/ on sys.path)
    from telegram_html import html_errors  # type: ignore[no-redef]

BOT_ID = 700000002
BOT_USERNAME = "troly_xa_e2e_bot"
BOT_NAME = "Trợ lý xã"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_POLL = 50.0  # Telegram caps a long poll at 50 s

# Bot API parameters whose type is String: a form value is taken as it is. Every other form value was
# JSON-encoded by the client (numbers, booleans, arrays, objects) and is decoded; one that is not JSON
# ("@channelusername" as chat_id) stays a string.
STRING_FIELDS = frozenset({
    "text", "caption", "parse_mode", "language_code", "callback_query_id", "inline_message_id", "action",
    "url", "secret_token", "ip_address", "name", "description", "short_description", "title", "emoji",
    "query", "business_connection_id", "message_effect_id", "sticker", "photo", "document", "audio", "video",
    "animation", "voice", "video_note", "thumbnail", "certificate", "custom_emoji_id", "address",
    "foursquare_id", "foursquare_type", "google_place_id", "google_place_type", "phone_number", "first_name",
    "last_name", "vcard", "question", "explanation", "explanation_parse_mode", "question_parse_mode",
    "result_id", "web_app_query_id", "shipping_query_id", "pre_checkout_query_id", "error_message",
    "payload", "provider_token", "currency", "start_parameter", "invite_link", "file_id",
})

_METHOD_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?>")


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": …, "description": …}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Call:
    """One request the bot made: the method, its decoded parameters, and what the server answered."""

    index: int
    method: str
    params: dict[str, Any]
    result: Any = None
    error: str | None = None  # the description of an error answer ("Bad Request: …"), else None
    files: dict[str, tuple[str | None, bytes]] = field(default_factory=dict)  # part name → (filename, bytes)
    at: float = 0.0  # time.monotonic() when the answer was ready
    wall: float = 0.0  # time.time() then: compared with times the bot keeps in its database

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" if len(repr(v)) <= 100 else f"{k}={repr(v)[:99]}…"
                          for k, v in self.params.items())
        state = f" error={self.error!r}" if self.error else ""
        return f"<Call #{self.index} {self.method}({shown}){state}>"

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """The inline buttons sent with this call, as (label, callback data or url)."""
        markup = self.params.get("reply_markup")
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        return [(b.get("text", ""), b.get("callback_data") or b.get("url") or "") for row in rows for b in row]


def decode_field(name: str, value: str) -> Any:
    """A form field as the type the Bot API gives it (see STRING_FIELDS)."""
    if name in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple[str | None, bytes]]]:
    """Parameters (and uploaded files) from a request body, whichever of Telegram's three encodings it uses."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return {}, {}
    if kind == "application/json":
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ApiError(400, "Bad Request: parameters must be a JSON object")
        return data, {}
    if kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        params: dict[str, Any] = {}
        files: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None or part.get_content_type() not in ("text/plain", "application/json"):
                files[name] = (filename, payload)
            else:
                charset = part.get_content_charset() or "utf-8"
                params[name] = decode_field(name, payload.decode(charset))
        return params, files
    # application/x-www-form-urlencoded, and what a client sends without a content type
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    return {k: decode_field(k, v) for k, v in pairs}, {}


def visible_length(text: str, parse_mode: str | None) -> int:
    """The length Telegram checks: after HTML tags are removed and entities resolved (UTF-16 code units)."""
    if (parse_mode or "").upper() == "HTML":
        text = html.unescape(_TAG.sub("", text))
    return len(text.encode("utf-16-le")) // 2


class FakeBotAPI:
    """A Bot API server for one bot; use it as a context manager (or :meth:`start` / :meth:`close`).

    ``token``: the only token accepted (others get 401 Unauthorized); ``None`` accepts any.
    """

    def __init__(self, token: str | None = None, *, bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> None:
        self._token = token
        self.bot_id = bot_id
        self.username = username
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._pending: list[dict[str, Any]] = []  # updates not yet confirmed by an offset
        self._confirmed = 0  # the highest offset a getUpdates call has sent
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}  # (chat id, message id) → Message
        self._commands: dict[tuple[str, str], list[Any]] = {}  # (scope JSON, language code) → commands
        self._closing = False
        self.errors: list[BaseException] = []  # the server's own failures (never the bot's bad requests)
        # Faults a test sets: ``fail(method, params)`` may return an ApiError to answer instead (a 500 before
        # anything is sent); ``hold(method, params)`` may return seconds to wait, after the call is handled and
        # recorded, before answering (a message that arrived, whose answer the bot is still waiting for).
        self.fail: Callable[[str, dict[str, Any]], ApiError | None] | None = None
        self.hold: Callable[[str, dict[str, Any]], float] | None = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:  # no token here
        return f"<FakeBotAPI {self.base_url if self._httpd else '(stopped)'} calls={len(self._calls)}>"

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self) -> FakeBotAPI:
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()  # long polls return at once
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What TELEGRAM_BASE_URL should be: the client appends the token and the method."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what the bot did ------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def mark(self) -> int:
        """The index the next call will get: pass it as ``since`` to wait only for what comes after."""
        with self._lock:
            return len(self._calls)

    @property
    def confirmed_offset(self) -> int:
        """The highest ``offset`` the bot has sent to getUpdates: every update below it is confirmed."""
        with self._lock:
            return self._confirmed

    def wait_for(self, method: str, predicate: Callable[[Call], bool] | None = None, timeout: float = 10.0,
                 since: int = 0) -> Call:
        """The first call to ``method`` (from index ``since`` on) that satisfies ``predicate``; waits for it.

        Raises TimeoutError naming what did arrive, so a failing test says what the bot did instead.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            checked = since
            while True:
                for call in self._calls[checked:]:
                    if call.method.lower() == method.lower() and (predicate is None or predicate(call)):
                        return call
                checked = max(checked, len(self._calls))
                left = deadline - time.monotonic()
                if left <= 0 or self._closing:
                    seen = [c for c in self._calls[since:] if c.method != "getUpdates"]
                    raise TimeoutError(f"no {method} call matching the condition within {timeout:g} s; "
                                       f"calls since #{since} other than getUpdates: {seen[-12:]!r}")
                self._changed.wait(left)

    # -- feeding updates -------------------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``update_id`` is filled in when missing); returns it."""
        with self._changed:
            update.setdefault("update_id", next(self._update_ids))
            self._pending.append(update)
            self._changed.notify_all()
        return update

    def push_message(self, text: str, user_id: int = 1, chat_id: int | None = None, *, chat_type: str = "private",
                     first_name: str = "Dân", language_code: str = "vi",
                     entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A text message from a person (a leading /command gets its bot_command entity); returns the update."""
        chat: dict[str, Any] = {"id": chat_id if chat_id is not None else user_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = "Nhóm thôn"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "text": text,
            "from": {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code},
        }
        if entities is not None:
            message["entities"] = entities
        elif text.startswith("/"):
            length = len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.push_update({"message": message})

    def push_callback(self, data: str, user_id: int = 1, chat_id: int | None = None, *,
                      message_id: int | None = None, language_code: str = "vi") -> dict[str, Any]:
        """A press on an inline button of the bot's message ``message_id`` (default: its last one in the chat)."""
        chat_id = chat_id if chat_id is not None else user_id
        with self._lock:
            if message_id is None:
                ours = [mid for (cid, mid) in self._messages if cid == chat_id]
                message_id = max(ours) if ours else None
            message = self._messages.get((chat_id, message_id)) if message_id is not None else None
        if message is None:
            message = {"message_id": message_id or 1, "date": int(time.time()), "text": "…",
                       "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                       "from": self._me_short()}
        return self.push_update({"callback_query": {
            "id": str(next(self._callback_ids)), "chat_instance": f"ci{chat_id}", "data": data, "message": message,
            "from": {"id": user_id, "is_bot": False, "first_name": "Dân", "language_code": language_code},
        }})

    # -- serving -----------------------------------------------------------------------------------------
    def _token_ok(self, token: str) -> bool:
        return self._token is None or token == self._token

    def _record(self, method: str, params: dict[str, Any], files: dict[str, tuple[str | None, bytes]],
                result: Any, error: str | None) -> None:
        with self._changed:
            self._calls.append(Call(len(self._calls), method, params, result, error, files, time.monotonic(),
                                    time.time()))
            self._changed.notify_all()

    def dispatch(self, method: str, params: dict[str, Any], files: dict[str, tuple[str | None, bytes]]) -> Any:
        """Answer one call (raises ApiError for an error answer) and record it."""
        canonical = _METHODS.get(method.lower(), method)
        handler = getattr(self, f"_api_{canonical}", None)
        try:
            fault = self.fail(canonical, params) if self.fail is not None else None
            if fault is not None:
                raise fault
            result = handler(params) if handler is not None else True
        except ApiError as err:
            self._record(canonical, params, files, None, err.description)
            raise
        self._record(canonical, params, files, result, None)
        wait = self.hold(canonical, params) if self.hold is not None else 0.0
        if wait:
            time.sleep(wait)  # this request's thread only: the server goes on answering the others
        return result

    def _me_short(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": BOT_NAME, "username": self.username}

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._me_short(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_POLL)
        deadline = time.monotonic() + timeout
        with self._changed:
            if offset > 0:
                self._confirmed = max(self._confirmed, offset)
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            elif offset < 0:  # the last -offset updates; the earlier ones are forgotten
                self._pending = self._pending[offset:]
            while not self._pending and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return [json.loads(json.dumps(u)) for u in self._pending[:limit]]

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            with self._lock:
                self._pending.clear()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._pending)}

    def _check_text(self, text: Any, parse_mode: Any, limit: int, what: str) -> None:
        if not isinstance(text, str):
            raise ApiError(400, f"Bad Request: {what} must be a string")
        if str(parse_mode or "").upper() == "HTML":
            problems = html_errors(text)
            if problems:
                raise ApiError(400, f"Bad Request: can't parse entities: {problems[0]}")
        if visible_length(text, parse_mode) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")

    def _check_markup(self, markup: Any) -> Any:
        if markup in (None, ""):
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        return markup

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, int):
            return {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        return {"id": -1000000000001, "type": "channel", "username": str(chat_id).lstrip("@")}

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        markup = self._check_markup(params.get("reply_markup"))
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                                   "from": self._me_short(), **content}
        if markup:
            message["reply_markup"] = markup
        with self._lock:
            self._messages[(params["chat_id"], message["message_id"])] = message
        return message

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        if text is None or (isinstance(text, str) and not text.strip()):
            raise ApiError(400, "Bad Request: message text is empty")
        self._check_text(text, params.get("parse_mode"), MAX_TEXT, "message")
        return self._new_message(params, text=text)

    def _send_media(self, params: dict[str, Any], kind: str, content: Any) -> dict[str, Any]:
        caption = params.get("caption")
        if caption:
            self._check_text(caption, params.get("parse_mode"), MAX_CAPTION, "message caption")
        extra = {"caption": caption} if caption else {}
        return self._new_message(params, **{kind: content}, **extra)

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "photo", [{"file_id": "p1", "file_unique_id": "p1", "width": 1, "height": 1}])

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "document", {"file_id": "d1", "file_unique_id": "d1"})

    def _api_sendLocation(self, params: dict[str, Any]) -> dict[str, Any]:
        lat, lon = params.get("latitude"), params.get("longitude")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            raise ApiError(400, "Bad Request: wrong latitude or longitude")
        return self._new_message(params, location={"latitude": lat, "longitude": lon})

    def _edited(self, params: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        with self._lock:
            old = self._messages.get((chat_id, message_id))  # type: ignore[arg-type]
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        new = json.loads(json.dumps(old))
        change(new)
        if {k: v for k, v in new.items() if k != "edit_date"} == {k: v for k, v in old.items() if k != "edit_date"}:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        new["edit_date"] = int(time.time())
        with self._lock:
            self._messages[(chat_id, message_id)] = new  # type: ignore[index]
        return new

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        self._check_text(text, params.get("parse_mode"), MAX_TEXT, "message")
        markup = self._check_markup(params.get("reply_markup"))

        def change(message: dict[str, Any]) -> None:
            message["text"] = text
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup

        return self._edited(params, change)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        markup = self._check_markup(params.get("reply_markup"))

        def change(message: dict[str, Any]) -> None:
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup

        return self._edited(params, change)

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        with self._lock:
            self._commands[self._commands_key(params)] = commands
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[Any]:
        with self._lock:
            return list(self._commands.get(self._commands_key(params), []))

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._chat(params.get("chat_id"))
        return True

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_logOut(self, params: dict[str, Any]) -> bool:
        return True


_METHODS = {name[5:].lower(): name[5:] for name in dir(FakeBotAPI) if name.startswith("_api_")}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A restarted bot answering a burst opens dozens of connections at once; the default listen backlog (5)
    # overflows and the client reads a reset (httpx.ReadError) where Telegram would have answered.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: FakeBotAPI) -> None:
        self.api = api
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quietly: a client that hung up (a cancelled long poll) is normal; anything else is kept for tests."""
        err = sys.exc_info()[1]
        if err is not None and not isinstance(err, ConnectionError | TimeoutError):
            self.api.errors.append(err)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # The answer's headers and body go out as two writes; with Nagle's algorithm on, the second waits for
    # the client's delayed ACK (about 40 ms on Linux). Telegram's servers answer at once.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # the request line holds the token: log nothing
        return None

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        api = self.server.api
        url = urlsplit(self.path)
        body = self._body()
        match = _METHOD_PATH.match(url.path)
        if match is None:
            self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        if not api._token_ok(match["token"]):
            self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        try:
            params = {k: decode_field(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True)}
            body_params, files = parse_body(self.headers.get("Content-Type", ""), body)
            params.update(body_params)
            result = api.dispatch(match["method"], params, files)
        except ApiError as err:
            answer: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
            if err.parameters:
                answer["parameters"] = err.parameters
            self._answer(err.code, answer)
            return
        except (ValueError, UnicodeDecodeError) as err:
            self._answer(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {type(err).__name__}"})
            return
        self._answer(200, {"ok": True, "result": result})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (ConnectionError, TimeoutError):  # the client gave up (a cancelled long poll): nothing to do
            self.close_connection = True

