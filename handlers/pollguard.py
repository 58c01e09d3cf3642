"""Long polling that an unreadable update cannot stop.

python-telegram-bot parses a whole ``getUpdates`` batch at once; when one update cannot be parsed (a field
of a kind the library does not expect), the batch is dropped, the offset does not move, and the next poll
fetches the same batch at once: about 4,000 polls a minute, and nobody's messages are read again. This
request wraps the one ``getUpdates`` goes through and puts a bare ``{"update_id": N}`` in place of each
update that does not parse, with one log line (its id and the error, never its content). The bare update
reaches no handler, and the offset moves past it as Telegram expects. Errors the Bot API reports, or a
body that is not JSON at all, still reach PTB's retry loop, which backs off (1 s, then ×1.5 up to 30 s).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

log = logging.getLogger("troly.polling")


def readable(raw: Any) -> dict[str, Any] | None:
    """The update as sent if it parses, a bare one with its id if it does not, None if it has no id."""
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        log.warning("skipped an update without an id")
        return None
    try:
        Update.de_json(raw, None)
    except Exception as err:  # whatever the parser raises on data it does not expect: skip this one only
        log.warning("update=%d skipped: it could not be read (%s)", raw["update_id"], type(err).__name__)
        return {"update_id": raw["update_id"]}
    return raw


class UpdatesGuard(BaseRequest):
    """A request for ``getUpdates`` that repairs a batch holding updates the library cannot parse."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        code, payload = await self.inner.do_request(url, method, request_data, read_timeout=read_timeout,
                                                    write_timeout=write_timeout, connect_timeout=connect_timeout,
                                                    pool_timeout=pool_timeout)
        if code != 200 or not url.endswith("/getUpdates"):
            return code, payload
        try:
            body = json.loads(payload)
        except ValueError:
            return code, payload  # PTB reports it as a TelegramError, and its loop backs off
        if not isinstance(body, dict) or not isinstance(body.get("result"), list):
            return code, payload
        kept = [u for u in map(readable, body["result"]) if u is not None]
        if kept == body["result"]:
            return code, payload
        body["result"] = kept
        return code, json.dumps(body).encode()
