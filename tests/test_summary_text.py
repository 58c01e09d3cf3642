"""The daily summary as subscribers read it (issue 13 item 6): an announcement's words escaped once, not twice,
and a summary longer than Telegram's 4,096 characters delivered in pieces instead of failing for everyone."""

from __future__ import annotations

from telegram.constants import MessageLimit

from . import test_broadcast
from .test_broadcast import OFFICIAL, SUBSCRIBERS, local, subscribe

kb, registry, make_bot = test_broadcast.kb, test_broadcast.registry, test_broadcast.make_bot  # the same fixtures


async def announce(b, text: str) -> None:
    await b.say(f"/thongbao {text}", user_id=OFFICIAL)
    confirm, _ = b.buttons()
    await b.press(confirm, user_id=OFFICIAL)
    await b.settle()


async def test_an_announcement_is_escaped_once_in_the_summary(make_bot):
    b = await make_bot()
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    subscribe(b.store, *SUBSCRIBERS)
    await announce(b, "Họp <b>khẩn</b> & mang CCCD")
    b.now = local(2024, 3, 5, 7, 0)
    await b.tick()
    summary = b.api.messages(11)[-1]
    assert "Họp &lt;b&gt;khẩn&lt;/b&gt; &amp; mang CCCD" in summary, summary
    assert "&amp;lt;" not in summary and "&lt;b&gt;Thông báo" not in summary and "📢" not in summary


async def test_an_announcement_sent_before_bodies_were_kept_reads_back_as_words(make_bot):
    b = await make_bot()
    b.store.create_broadcast("announcement", {"vi": "📢 <b>Thông báo của UBND xã</b>\nCắt điện &amp; nước",
                                              "en": "x"})
    assert b.store.announcements_since(0) == ["Cắt điện & nước"]


async def test_a_summary_longer_than_a_message_arrives_in_pieces(make_bot):
    b = await make_bot()
    b.store.set_role(OFFICIAL, "official", "Cán bộ", None)
    subscribe(b.store, *SUBSCRIBERS)
    for n in range(3):
        await announce(b, f"Thông báo số {n}: " + "lịch tiêm phòng cho trẻ em thôn Nà Chuông; " * 60)
    b.now = local(2024, 3, 5, 7, 0)
    before = len(b.api.messages())
    already = {chat: len(b.api.messages(chat)) for chat, _ in SUBSCRIBERS}
    await b.tick()
    sent = b.api.messages()[before:]
    assert all(len(t) <= MessageLimit.MAX_TEXT_LENGTH for t in sent), [len(t) for t in sent]
    [summary_id] = [r[0] for r in b.store.db.execute("SELECT id FROM broadcasts WHERE kind = 'summary'")]
    assert {d["state"] for d in b.store.deliveries(summary_id)} == {"sent"}
    for chat, lang in SUBSCRIBERS:
        mine = b.api.messages(chat)[already[chat]:]
        assert len(mine) >= 2, (chat, [len(t) for t in mine])
        whole = "\n".join(mine)
        assert all(f"Thông báo số {n}" in whole for n in range(3))
        assert whole.startswith("<b>Tóm tắt ngày" if lang == "vi" else "<b>Summary for")
        assert ("/huydangky" if lang == "vi" else "/unsubscribe") in mine[-1]
