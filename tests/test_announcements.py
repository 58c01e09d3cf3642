"""Announcements as officials type them (issue 12 item 7), through the real Application, ledger and deliverer
(test_broadcast's in-process Bot API that can say no, a fresh database file per test).

What is proven: line breaks and the official's bold/italic (Telegram entities, UTF-16 offsets) arrive as HTML,
everything else escaped; the preview is the very message subscribers get; /thongbao thôn A, B: … reaches only
the subscribers who told those villages (at /dangky or /thon), an untargeted one everyone; a photo or a file
with "/thongbao …" as its caption goes out by its file_id, exactly once per subscriber through the ledger.
"""

from __future__ import annotations

import asyncio
import json
import time

import bot
from handlers.broadcast import DELIVERER, Deliverer
from handlers.localapi import file_update, message_update
from handlers.ratelimit import StrictRateLimiter
from knowledge.announcements import Span, render_html

from .test_broadcast import GROUP, GROUP_ADMIN, MEMBER, OFFICIAL, RefusingAPI, kb, make_bot, registry, subscribe

__all__ = ["kb", "make_bot", "registry"]  # the fixtures, shared with test_broadcast

HEADER = "📢 <b>Thông báo của UBND xã</b>\n"
SUBSCRIBERS = ((11, "vi"), (12, "en"), (13, "vi"), (GROUP, "vi"))


def u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str, **marks: tuple[str, str]) -> list[dict]:
    """The entities Telegram sends for ``text``: its command, and each (kind, fragment) marked."""
    out = [{"type": "bot_command", "offset": 0, "length": u16(text.split()[0])}]
    for kind, fragment in marks.values():
        out.append({"type": kind, "offset": u16(text[: text.index(fragment)]), "length": u16(fragment)})
    return out


async def staffed(make_bot, **kwargs):
    b = await make_bot(**kwargs)
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    subscribe(b.store, *SUBSCRIBERS)
    return b


async def announce(b, text: str, entities: list[dict] | None = None) -> list[str]:
    return await b._process(message_update(b.api, text, OFFICIAL, entities=entities))


def received(b, fragment: str) -> dict[int, int]:
    """How many messages (texts or captions) holding ``fragment`` each subscriber got (not the official)."""
    out: dict[int, int] = {}
    for c in b.api.calls:
        chat = int(c.params.get("chat_id") or 0)
        shown = str(c.params.get("text") or c.params.get("caption"))
        if c.method in ("sendMessage", "sendPhoto", "sendDocument") and chat != OFFICIAL and fragment in shown:
            out[chat] = out.get(chat, 0) + 1
    return out


# -- formatting -----------------------------------------------------------------------------------------

async def test_line_breaks_and_the_officials_bold_and_italic_arrive_as_typed_the_rest_escaped(make_bot):
    b = await staffed(make_bot)
    text = "/thongbao 🎉 Họp dân thôn\n<b>không phải thẻ</b> & <script>\nMang theo CCCD"
    entities = entities_for(text, a=("bold", "Họp dân"), b=("italic", "Mang theo"))
    [shown, preview] = await announce(b, text, entities)
    body = ("🎉 <b>Họp dân</b> thôn\n&lt;b&gt;không phải thẻ&lt;/b&gt; &amp; &lt;script&gt;\n"
            "<i>Mang theo</i> CCCD")
    assert shown == HEADER + body, "the preview is exactly the subscribers' message"
    assert "Sẽ gửi tới 4 người/nhóm đã đăng ký." in preview
    [confirm, _] = b.buttons()
    await b.press(confirm, user_id=OFFICIAL)
    await b.settle()
    assert b.api.messages(11)[-1] == HEADER + body
    assert b.api.messages(12)[-1] == "📢 <b>Announcement from the commune</b>\n" + body
    # The daily summary quotes the plain words, not the HTML.
    assert b.store.announcements_since(0) == [text.removeprefix("/thongbao ")]


def test_overlapping_or_unknown_spans_still_give_well_nested_safe_html():
    assert render_html("abcdef", [Span("bold", 0, 4), Span("italic", 2, 4)]) == "<b>ab<i>cd</i></b><i>ef</i>"
    assert render_html("a<b>", [Span("mention", 0, 1), Span("bold", 5, 3)]) == "a&lt;b&gt;"
    link = render_html("xem đây", [Span("text_link", 4, 3, 'https://x.vn/?a=1&b="2"'),
                                   Span("text_link", 0, 3, "javascript:alert(1)")])
    assert link == 'xem <a href="https://x.vn/?a=1&amp;b=&quot;2&quot;">đây</a>'


# -- villages -----------------------------------------------------------------------------------------

async def test_a_subscriber_tells_their_village_at_dangky_or_with_thon(make_bot):
    b = await make_bot()
    [done] = await b.say("/dangky", user_id=31)
    assert "Đã đăng ký" in done and "Bạn ở thôn nào?" in done
    villages = b.buttons()
    assert villages[:2] == ["sv:0", "sv:1"] and villages[-1] == "sv:-" and len(villages) == 11
    [saved] = await b.press("sv:1", user_id=31)
    assert "thôn <b>Bản Vàng</b>" in saved and b.store.subscriber_village(31) == "Bản Vàng"
    [again] = await b.say("/dangky", user_id=31)
    assert "Bạn ở thôn nào?" not in again, "asked once, not at every /dangky"
    [current] = await b.say("/thon", user_id=31)
    assert "Thôn của bạn: <b>Bản Vàng</b>" in current
    [cleared] = await b.press("sv:-", user_id=31)
    assert "bỏ chọn thôn" in cleared and b.store.subscriber_village(31) is None
    [forged] = await b.press("sv:99", user_id=31)
    assert "không còn dùng được" in forged
    [first] = await b.say("/thon", user_id=32)
    assert "chưa đăng ký" in first and not b.store.is_subscribed(32)


async def test_in_a_group_only_its_admins_set_its_village(make_bot):
    b = await make_bot(api=RefusingAPI(admins={GROUP: {GROUP_ADMIN}}))
    group = {"chat_id": GROUP, "chat_type": "supergroup"}
    await b.say("/dangky", user_id=GROUP_ADMIN, **group)
    pressed = await b.press("sv:0", user_id=MEMBER, chat_id=GROUP, chat_type="supergroup")
    assert "chỉ quản trị viên của nhóm" in pressed[0] and b.store.subscriber_village(GROUP) is None
    await b.press("sv:0", user_id=GROUP_ADMIN, chat_id=GROUP, chat_type="supergroup")
    assert b.store.subscriber_village(GROUP) == "Còn Nàn"


async def test_an_announcement_for_some_villages_reaches_only_their_subscribers(make_bot):
    b = await staffed(make_bot)
    b.store.set_subscriber_village(11, "Còn Nàn")
    b.store.set_subscriber_village(12, "Bản Vàng")
    b.store.set_subscriber_village(GROUP, "Còn Nàn")
    [shown, preview] = await announce(b, "/thongbao thôn con nan: Cắt điện sáng mai\nTừ 7h đến 11h")
    assert shown == HEADER + "Cắt điện sáng mai\nTừ 7h đến 11h"
    assert "Sẽ gửi tới 2 người/nhóm đã đăng ký ở thôn Còn Nàn." in preview
    await b.press(b.buttons()[0], user_id=OFFICIAL)
    await b.settle()
    assert received(b, "Cắt điện") == {11: 1, GROUP: 1}
    assert b.store.announcements_since(0) == [], "nor in everyone's daily summary"

    await announce(b, "/thongbao Thôn Còn Nàn và Bản Vàng: Tiêm phòng")
    await b.press(b.buttons()[0], user_id=OFFICIAL)
    await announce(b, "/thongbao Họp toàn xã")  # untargeted: everyone, told their village or not
    await b.press(b.buttons()[0], user_id=OFFICIAL)
    await b.settle()
    assert received(b, "Tiêm phòng") == {11: 1, 12: 1, GROUP: 1}
    assert received(b, "Họp toàn xã") == {11: 1, 12: 1, 13: 1, GROUP: 1}


async def test_a_village_the_commune_does_not_have_is_refused_and_nothing_is_pending(make_bot):
    b = await staffed(make_bot)
    [refused] = await announce(b, "/thongbao thôn Bản Von: Họp dân")
    assert "Xã không có thôn «Bản Von»" in refused and "Còn Nàn, Bản Vàng" in refused
    assert b.store.db.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 0


# -- a photo or a file ----------------------------------------------------------------------------------

async def test_a_photo_with_the_command_as_caption_goes_out_by_file_id_exactly_once(make_bot):
    b = await staffed(make_bot)
    update = file_update(b.api, "photo", content=b"\x89PNG", caption="/thongbao Lịch tiêm phòng\n<tháng 3>",
                         user_id=OFFICIAL)
    file_id = update["message"]["photo"][-1]["file_id"]
    await b._process(update)
    photo = [c for c in b.api.calls if c.method == "sendPhoto"]
    assert [(int(c.params["chat_id"]), c.params["photo"], c.params["caption"]) for c in photo] == [
        (OFFICIAL, file_id, HEADER + "Lịch tiêm phòng\n&lt;tháng 3&gt;")], "previewed as it will be sent"
    confirm, _ = b.buttons()
    await asyncio.gather(*(b.press(confirm, user_id=OFFICIAL) for _ in range(3)))  # a triple tap
    await b.settle()
    sent = [c for c in b.api.calls if c.method == "sendPhoto" and int(c.params["chat_id"]) != OFFICIAL]
    assert sorted(int(c.params["chat_id"]) for c in sent) == sorted(chat for chat, _ in SUBSCRIBERS)
    assert {c.params["photo"] for c in sent} == {file_id} and not any("_files" in c.params for c in sent)
    assert b.store.delivery_counts() == {"sent": 4}
    [stored] = b.store.db.execute("SELECT attachment FROM broadcasts").fetchone()
    assert json.loads(stored) == {"kind": "photo", "file_id": file_id}
    assert [c for c in b.api.calls if c.method in ("getFile", "download")] == [], "the file is never fetched"


async def test_a_file_with_the_command_as_caption_is_an_announcement_not_an_import(make_bot):
    b = await staffed(make_bot)
    update = file_update(b.api, "document", content=b"%PDF", file_name="lich.xlsx", caption="/thongbao Lịch trực",
                         user_id=OFFICIAL)
    await b._process(update)
    confirm, _ = b.buttons()
    assert confirm.startswith("an:")
    await b.press(confirm, user_id=OFFICIAL)
    await b.settle()
    docs = [c for c in b.api.calls if c.method == "sendDocument"]
    assert len(docs) == 1 + len(SUBSCRIBERS)
    assert {c.params["document"] for c in docs} == {update["message"]["document"]["file_id"]}


async def test_a_caption_without_its_command_entity_still_loses_the_command(make_bot):
    b = await staffed(make_bot)
    await b._process(file_update(b.api, "photo", caption="/thongbao Họp dân", caption_entities=[], user_id=OFFICIAL))
    [photo] = [c for c in b.api.calls if c.method == "sendPhoto"]
    assert photo.params["caption"] == HEADER + "Họp dân"


async def test_a_caption_too_long_for_telegram_is_refused_with_the_limit(make_bot):
    b = await staffed(make_bot)
    await b._process(file_update(b.api, "photo", caption="/thongbao " + "a" * 1010, user_id=OFFICIAL))
    [refused] = b.api.messages(OFFICIAL)[-1:]
    assert "dài quá" in refused and "1024" in refused
    assert not [c for c in b.api.calls if c.method == "sendPhoto"]


async def test_a_stranger_cannot_announce_with_a_photo(make_bot):
    b = await staffed(make_bot)
    await b._process(file_update(b.api, "photo", caption="/thongbao Tin giả", user_id=MEMBER))
    assert "chỉ dành cho cán bộ" in b.api.messages(MEMBER)[-1]
    assert not [c for c in b.api.calls if c.method == "sendPhoto"]


class TimedAPI(RefusingAPI):
    """RefusingAPI, also noting when each sendPhoto reached it and how many were in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.photo_times: list[float] = []
        self.photos_in_flight = 0
        self.photo_peak = 0

    async def _api_sendPhoto(self, params: dict) -> dict:
        self.photos_in_flight += 1
        self.photo_peak = max(self.photo_peak, self.photos_in_flight)
        self.photo_times.append(time.monotonic())
        try:
            await asyncio.sleep(0.005)
            return await super()._api_sendPhoto(params)
        finally:
            self.photos_in_flight -= 1


async def test_a_photo_announcement_keeps_to_the_rate_limit_one_send_at_a_time(make_bot):
    b = await make_bot(start=False, api=TimedAPI())
    b.app = bot.build_application(b.services, "0:test", request=b.api,
                                  rate_limiter=StrictRateLimiter(overall_per_second=20))
    b.app.bot_data[DELIVERER] = Deliverer(b.services, backoff=0.0005)
    await b.start()
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    subscribe(b.store, *((100 + n, "vi") for n in range(45)))
    await b._process(file_update(b.api, "photo", caption="/thongbao Lịch tiêm phòng", user_id=OFFICIAL))
    await b.press(b.buttons()[0], user_id=OFFICIAL)
    await b.settle(timeout=20)
    times = b.api.photo_times[1:]  # after the official's preview
    assert len(times) == 45 and b.store.delivery_counts() == {"sent": 45}
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 20
    assert b.api.photo_peak == 1
