"""A Bot API server in this process: the console chat and the tests talk to the real Application through it.

python-telegram-bot sends every Bot API call through a ``BaseRequest``. This one answers them here instead
of over the network: it hands the Application the updates put in its queue (``getUpdates``), records
what the bot sends (``sendMessage``, ``editMessageText``, …) and answers like Telegram would. The whole
stack above it — Application, handlers, filters, callback queries — is the real one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_ID = 700000001
BOT_USERNAME = "troly_xa_bot"


@dataclass
class Sent:
    """One call the bot made."""

    method: str
    params: dict[str, Any]
    message_id: int | None = None


@dataclass
class LocalBotAPI(BaseRequest):
    """An in-memory Bot API. ``on_send`` sees every message the bot sends or edits (the console prints)."""

    on_send: Callable[[Sent], None] | None = None
    calls: list[Sent] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # file_id → content, for getFile and its download
    updates: asyncio.Queue | None = None
    poll_timeout: float = 1.0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- BaseRequest -------------------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        return self.poll_timeout + 1

    async def initialize(self) -> None:
        if self.updates is None:
            self.updates = asyncio.Queue()

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        if "/file/bot" in url:  # a download of what getFile named: documents/<file_id>
            content = self.files.get(name)
            if content is None:
                return 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
            self.calls.append(Sent("download", {"file_id": name}))
            return 200, content
        params = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            # Uploads (a chart, an export) arrive as multipart parts: keep their names and bytes.
            params["_files"] = {key: (part[0], part[1]) for key, part in request_data.multipart_data.items()}
        handler = getattr(self, f"_api_{name}", None)
        result = await handler(params) if handler else True
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -- feeding updates ---------------------------------------------------------------------------
    def next_update_id(self) -> int:
        return next(self._update_ids)

    async def push(self, update: dict[str, Any]) -> None:
        if self.updates is None:
            self.updates = asyncio.Queue()
        await self.updates.put(update)

    def sent(self, method: str | None = None) -> list[Sent]:
        return [c for c in self.calls if method is None or c.method == method]

    # -- the Bot API methods the bot uses ----------------------------------------------------------
    async def _api_getMe(self, params: dict) -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý xã", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_getUpdates(self, params: dict) -> list:
        assert self.updates is not None
        timeout = min(float(params.get("timeout") or 0), self.poll_timeout)
        out = []
        try:
            out.append(await asyncio.wait_for(self.updates.get(), timeout=timeout or 0.05))
        except TimeoutError:
            return []
        while not self.updates.empty():
            out.append(self.updates.get_nowait())
        return out

    async def _api_sendMessage(self, params: dict) -> dict:
        return self._message("sendMessage", params)

    async def _api_sendPhoto(self, params: dict) -> dict:
        return self._message("sendPhoto", params)

    async def _api_sendDocument(self, params: dict) -> dict:
        return self._message("sendDocument", params)

    async def _api_sendLocation(self, params: dict) -> dict:
        return self._message("sendLocation", params)

    async def _api_editMessageText(self, params: dict) -> dict:
        return self._message("editMessageText", params, message_id=int(params.get("message_id") or 0))

    async def _api_editMessageReplyMarkup(self, params: dict) -> dict:
        return self._message("editMessageReplyMarkup", params, message_id=int(params.get("message_id") or 0))

    def _message(self, method: str, params: dict, message_id: int | None = None) -> dict:
        mid = message_id or next(self._ids)
        sent = Sent(method, dict(params), mid)
        self.calls.append(sent)
        if self.on_send:
            self.on_send(sent)
        chat_id = params.get("chat_id")
        return {"message_id": mid, "date": int(time.time()), "chat": {"id": int(chat_id or 0), "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý xã", "username": BOT_USERNAME},
                "text": params.get("text", "")}

    async def _api_getFile(self, params: dict) -> dict:
        file_id = str(params.get("file_id"))
        self.calls.append(Sent("getFile", dict(params)))
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"documents/{file_id}"}

    async def _api_answerCallbackQuery(self, params: dict) -> bool:
        self.calls.append(Sent("answerCallbackQuery", dict(params)))
        return True

    async def _api_setMyCommands(self, params: dict) -> bool:
        self.calls.append(Sent("setMyCommands", dict(params)))
        return True

    async def _api_deleteWebhook(self, params: dict) -> bool:
        return True

    async def _api_getChatMember(self, params: dict) -> dict:
        return {"status": "member", "user": {"id": int(params.get("user_id") or 0), "is_bot": False,
                                             "first_name": "?"}}


def message_update(api: LocalBotAPI, text: str, user_id: int = 1, chat_id: int | None = None,
                   chat_type: str = "private", first_name: str = "Dân", language_code: str = "vi",
                   entities: list[dict] | None = None, reply_to: dict | None = None) -> dict:
    """The JSON Telegram would send for a text message."""
    chat = {"id": chat_id if chat_id is not None else user_id, "type": chat_type}
    if chat_type != "private":
        chat["title"] = "Nhóm thôn"
    message: dict[str, Any] = {
        "message_id": next(api._ids), "date": int(time.time()), "chat": chat, "text": text,
        "from": {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code},
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if entities:
        message["entities"] = entities
    if reply_to:
        message["reply_to_message"] = reply_to
    return {"update_id": api.next_update_id(), "message": message}


def file_update(api: LocalBotAPI, kind: str, *, content: bytes = b"", file_name: str | None = None,
                mime_type: str | None = None, caption: str | None = None, user_id: int = 1,
                chat_type: str = "private", caption_entities: list[dict] | None = None,
                file_size: int | None = None) -> dict:
    """The JSON Telegram would send for a document (``kind`` "document") or a photo ("photo"), its bytes kept
    so the bot can download them (getFile)."""
    file_id = f"F{next(api._ids)}"
    api.files[file_id] = content
    update = message_update(api, "", user_id, chat_type=chat_type)
    message = update["message"]
    del message["text"]
    size = len(content) if file_size is None else file_size
    if kind == "photo":
        message["photo"] = [{"file_id": f"{file_id}s", "file_unique_id": f"u{file_id}s", "width": 90, "height": 90},
                            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800, "height": 600,
                             "file_size": size}]
    else:
        message["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size,
                               **({"file_name": file_name} if file_name else {}),
                               **({"mime_type": mime_type} if mime_type else {})}
    if caption is not None:
        message["caption"] = caption
        if caption_entities is not None:
            message["caption_entities"] = caption_entities
        elif caption.startswith("/"):
            message["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(caption.split()[0])}]
    return update


def callback_update(api: LocalBotAPI, data: str, user_id: int = 1, chat_id: int | None = None,
                    message_id: int = 1, language_code: str = "vi", chat_type: str = "private") -> dict:
    """The JSON Telegram would send when a button is pressed."""
    chat = {"id": chat_id if chat_id is not None else user_id, "type": chat_type}
    return {"update_id": api.next_update_id(), "callback_query": {
        "id": str(next(api._ids)), "chat_instance": "1", "data": data,
        "from": {"id": user_id, "is_bot": False, "first_name": "Dân", "language_code": language_code},
        "message": {"message_id": message_id, "date": int(time.time()), "chat": chat, "text": "…",
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý xã"}},
    }}
