"""Tickets through the real Application (handlers/tickets.py, knowledge/tickets.py) on a real database: a question
the bot cannot answer handed to the officials' group, answered by a reply, delivered once; a phản ánh with a photo
and a location through its three statuses; strangers refused at every press and reply; HTML escaped; the privacy
rules (chat forgotten after 30 days, /xuat without chat ids). Only Telegram is faked (handlers/localapi.py)."""

from __future__ import annotations

import csv
import io
import shutil
import time

import pytest
from openpyxl import load_workbook
from telegram import Update
from telegram.ext import CallbackContext

import bot
from handlers import tickets as ticket_handlers
from handlers.common import Services
from handlers.localapi import BOT_ID, LocalBotAPI, callback_update, message_update
from knowledge.kb import KnowledgeBase
from knowledge.lexicon import DATA_DIR
from knowledge.store import Store
from knowledge.tickets import KEEP_CHAT_SECONDS, POST_MARK, TicketDesk

from .chat import buttons, texts

ADMIN = 42
OFFICIAL = 43
OFFICIAL_NAME = "Chị Lan, văn phòng"
CITIZEN = 7_123_457  # distinctive: a test can look for it in what officials read
OTHER_CITIZEN = 8_123_458
STRANGER = 99
GROUP = -1001234567
UNKNOWN_QUESTION = "giá lợn hơi bây giờ bao nhiêu?"
REFUSED = "chỉ dành cho cán bộ"


class Commune:
    """The bot with an admin, an official, citizens and the officials' group."""

    def __init__(self, services: Services) -> None:
        self.api = LocalBotAPI()
        self.services = services
        services.flood_limit = 10**6
        self.app = bot.build_application(services, "0:test", request=self.api)

    @property
    def store(self) -> Store:
        return self.services.store

    async def __aenter__(self) -> Commune:
        await self.app.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()

    async def process(self, data: dict) -> list[dict]:
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(data, self.app.bot))
        return [{"method": c.method, "message_id": c.message_id, **c.params} for c in self.api.calls[before:]]

    async def say(self, text: str, user: int, chat: int | None = None, **kwargs) -> list[dict]:
        chat_type = "private" if chat is None or chat > 0 else "supergroup"
        return await self.process(message_update(self.api, text, user_id=user, chat_id=chat, chat_type=chat_type,
                                                 **kwargs))

    async def press(self, data: str, user: int, chat: int | None = None) -> list[dict]:
        update = callback_update(self.api, data, user_id=user, chat_id=chat)
        if chat is not None and chat < 0:
            update["callback_query"]["message"]["chat"]["type"] = "supergroup"
        return await self.process(update)

    async def reply_to(self, post: dict, text: str, user: int, first_name: str = "Lan") -> list[dict]:
        """``user`` replies in the post's chat to the bot's message ``post`` (a call the bot made)."""
        chat = int(post["chat_id"])
        replied = {"message_id": post["message_id"], "date": int(time.time()), "text": post.get("text", ""),
                   "chat": {"id": chat, "type": "supergroup" if chat < 0 else "private"},
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý xã"}}
        return await self.say(text, user, chat=chat if chat < 0 else None, reply_to=replied, first_name=first_name)

    async def media(self, user: int, photo: str | None = None, location: tuple[float, float] | None = None,
                    caption: str | None = None) -> list[dict]:
        update = message_update(self.api, "x", user_id=user)
        message = update["message"]
        del message["text"]
        if photo:
            message["photo"] = [{"file_id": f"{photo}-small", "file_unique_id": "s", "width": 90, "height": 90},
                                {"file_id": photo, "file_unique_id": "b", "width": 1280, "height": 960}]
        if caption:
            message["caption"] = caption
        if location:
            message["location"] = {"latitude": location[0], "longitude": location[1]}
        return await self.process(update)

    async def ticket_from_unknown_question(self, question: str = UNKNOWN_QUESTION) -> tuple[int, dict]:
        """A citizen's unanswered question handed over: (its ticket number, the post in the officials' group)."""
        asked = await self.say(question, CITIZEN)
        offer = [d for _, d in buttons(asked) if d.startswith("tq:")]
        assert offer, buttons(asked)
        sent = await self.press(offer[0], CITIZEN)
        posts = [c for c in sent if c["method"] == "sendMessage" and c["chat_id"] == GROUP]
        assert len(posts) == 1, sent
        ticket_id = int(posts[0]["text"].removeprefix(POST_MARK).split()[0])
        assert f"số <b>{ticket_id}</b>" in texts(sent)[-1]
        return ticket_id, posts[0]


def to(calls: list[dict], chat: int) -> list[dict]:
    return [c for c in calls if c.get("chat_id") == chat and c["method"].startswith("send")]


@pytest.fixture
async def commune(plan_path, tmp_path):
    store = Store(tmp_path / "bot.db")
    kb, _ = KnowledgeBase.open(store, [plan_path])
    kb.teach(store.curated())
    async with Commune(Services(kb=kb, store=store, admin_ids=frozenset({ADMIN}))) as c:
        c.store.set_role(OFFICIAL, "official", OFFICIAL_NAME, ADMIN)
        [text] = texts(await c.say("/nhomcanbo", ADMIN, chat=GROUP))
        assert "nhóm này" in text
        yield c


async def test_an_unanswered_question_reaches_the_group_and_its_answer_comes_back_once(commune):
    ticket_id, post = await commune.ticket_from_unknown_question()
    assert UNKNOWN_QUESTION in post["text"] and "✍️ Trả lời" in [label for label, _ in buttons([post])]
    assert str(CITIZEN) not in post["text"]  # the officials read the question, not who asked
    answered = await commune.reply_to(post, "Giá lợn hơi tuần này khoảng 62.000 đồng/kg.", OFFICIAL)
    [answer] = to(answered, CITIZEN)
    assert f"câu hỏi số {ticket_id}" in answer["text"] and "62.000 đồng/kg" in answer["text"]
    assert OFFICIAL_NAME in answer["text"] and UNKNOWN_QUESTION in answer["text"]
    assert "Đã ghi câu trả lời" in texts(to(answered, GROUP))[0]
    ticket = commune.store.ticket(ticket_id)
    assert ticket is not None and ticket.status == "answered"
    assert [e.kind for e in commune.store.ticket_events(ticket_id)] == ["answer"]
    [track] = texts(await commune.say("/theodoi", CITIZEN))
    assert f"#{ticket_id}" in track and "đã trả lời" in track and "62.000 đồng/kg" in track


async def test_a_replayed_reply_is_not_answered_twice(commune):
    _, post = await commune.ticket_from_unknown_question()
    replied = {"message_id": post["message_id"], "date": 0, "text": post["text"],
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý xã"},
               "chat": {"id": GROUP, "type": "supergroup"}}
    update = message_update(commune.api, "Khoảng 62.000 đồng/kg.", user_id=OFFICIAL, chat_id=GROUP,
                            chat_type="supergroup", reply_to=replied)
    first = await commune.process(update)
    second = await commune.process(update)  # the inbox replays an update a crash cut short
    assert len(to(first, CITIZEN)) == 1 and to(second, CITIZEN) == []
    assert "đã được ghi trước đó" in texts(second)[0]
    assert commune.store.outbox_counts() == {"sent": 2}  # the post and the answer, each once


async def test_a_second_press_of_the_offer_sends_the_question_once(commune):
    asked = await commune.say(UNKNOWN_QUESTION, CITIZEN)
    [offer] = [d for _, d in buttons(asked) if d.startswith("tq:")]
    first = await commune.press(offer, CITIZEN)
    second = await commune.press(offer, CITIZEN)
    assert len(to(first, GROUP)) == 1 and to(second, GROUP) == []
    assert "đã được gửi rồi" in texts(second)[0]
    assert len(commune.store.all_tickets()) == 1


async def test_only_the_asker_hands_over_their_question(commune):
    asked = await commune.say(UNKNOWN_QUESTION, CITIZEN)
    [offer] = [d for _, d in buttons(asked) if d.startswith("tq:")]
    [text] = texts(await commune.press(offer, OTHER_CITIZEN))
    assert "của người khác" in text and commune.store.all_tickets() == []


async def test_a_stranger_can_neither_read_nor_answer_tickets(commune):
    ticket_id, post = await commune.ticket_from_unknown_question()
    # In the officials' group, a member who is not an official replies to the post: refused, nothing sent.
    replied = await commune.reply_to(post, "Tôi trả lời bừa", STRANGER)
    assert to(replied, CITIZEN) == [] and REFUSED in texts(replied)[0]
    for data in (f"ta:{ticket_id}", f"tw:{ticket_id}:done", "tt:1"):
        pressed = await commune.press(data, STRANGER, chat=GROUP)
        assert REFUSED in texts(pressed)[0] and to(pressed, CITIZEN) == [], data
    [listing] = texts(await commune.say("/hoidap", STRANGER))
    assert REFUSED in listing and UNKNOWN_QUESTION not in listing
    assert commune.store.ticket_events(ticket_id) == []
    refusals = [r["action"] for r in commune.store.audit_log() if r["user_id"] == STRANGER and not r["allowed"]]
    assert {"hoidap:answer", "hoidap:ta", "hoidap:tw", "hoidap:tt", "hoidap"} <= set(refusals)


async def test_an_official_removed_since_cannot_answer(commune):
    _, post = await commune.ticket_from_unknown_question()
    commune.store.set_role(OFFICIAL, None, None, ADMIN)
    replied = await commune.reply_to(post, "Trả lời", OFFICIAL)
    assert to(replied, CITIZEN) == [] and REFUSED in texts(replied)[0]


async def test_an_answer_with_html_is_escaped(commune):
    _, post = await commune.ticket_from_unknown_question("<b>giá</b> lợn & gà bao nhiêu?")
    assert "&lt;b&gt;giá&lt;/b&gt; lợn &amp; gà" in post["text"]
    answered = await commune.reply_to(post, '<a href="http://x">bấm</a> & <script>', OFFICIAL,
                                      first_name="<i>Lan</i>")
    [answer] = to(answered, CITIZEN)
    assert '&lt;a href="http://x"&gt;bấm&lt;/a&gt; &amp; &lt;script&gt;' in answer["text"]
    assert "<a " not in answer["text"] and "<script>" not in answer["text"]


async def test_the_answer_button_then_a_typed_answer(commune):
    ticket_id, _ = await commune.ticket_from_unknown_question()
    [listing] = texts(await commune.say("/hoidap", OFFICIAL))
    assert f"#{ticket_id}" in listing and UNKNOWN_QUESTION in listing and "0 ngày" in listing
    prompt = await commune.press(f"ta:{ticket_id}", OFFICIAL)
    assert "gõ câu trả lời" in texts(prompt)[0]
    answered = await commune.say("Khoảng 62.000 đồng/kg.", OFFICIAL)
    assert len(to(answered, CITIZEN)) == 1
    assert texts(await commune.say("/hoidap", OFFICIAL)) == ["Không có câu hỏi hay phản ánh nào đang chờ."]


async def test_an_answer_kept_as_a_taught_answer_answers_the_next_asker(commune):
    question = "chợ phiên Cao Lâu họp vào những ngày nào?"
    assert not commune.services.kb.ask(question).found
    _, post = await commune.ticket_from_unknown_question(question)
    answered = await commune.reply_to(post, "Chợ phiên họp vào các ngày 5, 10, 15, 20, 25 và 30 âm lịch.", OFFICIAL)
    [keep] = [d for _, d in buttons(answered) if d.startswith("tt:")]
    assert "Đã lưu thành câu hỏi đáp" in texts(await commune.press(keep, OFFICIAL, chat=GROUP))[0]
    assert "đã được lưu thành câu hỏi đáp rồi" in texts(await commune.press(keep, OFFICIAL, chat=GROUP))[0]
    [reply] = texts(await commune.say(question, OTHER_CITIZEN))
    assert "ngày 5, 10, 15" in reply
    assert len(commune.store.curated()) == 1


async def test_a_report_with_a_photo_and_a_location_through_its_three_statuses(commune):
    begun = await commune.say("/phananh", CITIZEN)
    assert "Phản ánh" in texts(begun)[0]
    await commune.say("Đèn đường ở cổng chợ Bản Vàng bị hỏng <3 tuần", CITIZEN)
    await commune.media(CITIZEN, photo="PHOTO-FILE-ID", caption="ảnh cột đèn")
    so_far = await commune.media(CITIZEN, location=(21.905, 106.765))
    assert "nội dung ✓ · ảnh ✓ · vị trí ✓" in texts(so_far)[0]
    [send] = [d for _, d in buttons(so_far) if d.startswith("rs:")]
    sent = await commune.press(send, CITIZEN)
    assert "Đã nhận phản ánh số" in texts(sent)[-1] and "đã nhận" in texts(sent)[-1]
    posts = to(sent, GROUP)
    assert [c["method"] for c in posts] == ["sendMessage", "sendPhoto", "sendLocation"]
    assert "Bản Vàng bị hỏng &lt;3 tuần\nảnh cột đèn" in posts[0]["text"] and "21.90500, 106.76500" in posts[0]["text"]
    assert posts[1]["photo"] == "PHOTO-FILE-ID" and posts[2]["latitude"] == 21.905
    [ticket] = commune.store.all_tickets()
    assert (ticket.kind, ticket.status, ticket.photo) == ("report", "received", "PHOTO-FILE-ID")
    listed = await commune.say("/hoidap", OFFICIAL)
    assert "Phản ánh" in texts(listed)[0] and "đã nhận" in texts(listed)[0]
    assert [d for _, d in buttons(listed)] == [f"ta:{ticket.id}", f"tw:{ticket.id}:in_progress",
                                               f"tw:{ticket.id}:done"]
    told = []
    for status, word in (("in_progress", "đang xử lý"), ("done", "đã xong")):
        moved = await commune.press(f"tw:{ticket.id}:{status}", OFFICIAL, chat=GROUP)
        [message] = to(moved, CITIZEN)
        assert f"Phản ánh số {ticket.id}" in message["text"] and word in message["text"]
        assert OFFICIAL_NAME in message["text"]
        told.append(word)
    again = await commune.press(f"tw:{ticket.id}:done", OFFICIAL, chat=GROUP)
    assert to(again, CITIZEN) == [] and "đã ở trạng thái này" in texts(again)[0]
    back = await commune.press(f"tw:{ticket.id}:in_progress", OFFICIAL, chat=GROUP)
    assert to(back, CITIZEN) == [] and "chỉ đi tiếp" in texts(back)[0]
    [track] = texts(await commune.say("/theodoi", CITIZEN))
    assert f"#{ticket.id}" in track and "đã xong" in track
    assert texts(await commune.say("/hoidap", OFFICIAL)) == ["Không có câu hỏi hay phản ánh nào đang chờ."]


async def test_a_report_can_be_replied_to_on_its_photo_too(commune):
    await commune.say("/phananh Rác đổ bừa ở đầu cầu Còn Nàn", CITIZEN)
    so_far = await commune.media(CITIZEN, photo="RAC")
    [send] = [d for _, d in buttons(so_far) if d.startswith("rs:")]
    posts = to(await commune.press(send, CITIZEN), GROUP)
    photo = next(c for c in posts if c["method"] == "sendPhoto")
    answered = await commune.reply_to({**photo, "text": photo["caption"]}, "Tuần này thôn sẽ dọn.", OFFICIAL)
    [message] = to(answered, CITIZEN)
    assert "phản ánh số" in message["text"] and "Tuần này thôn sẽ dọn." in message["text"]
    assert commune.store.all_tickets()[0].status == "received"  # a message, not a status


async def test_an_empty_report_is_refused_politely_and_huy_leaves(commune):
    begun = await commune.say("/phananh", CITIZEN)
    [send] = [d for _, d in buttons(begun) if d.startswith("rs:")]
    assert "chưa có nội dung" in texts(await commune.press(send, CITIZEN))[0]
    assert texts(await commune.say("/huy", CITIZEN)) == ["Đã thôi, không gửi gì."]
    [reply] = texts(await commune.say("hộ nghèo còn bao nhiêu", CITIZEN))  # a question again, not a draft
    assert "81/910" in reply
    assert commune.store.all_tickets() == []


async def test_a_request_for_a_person_and_a_thumbs_down_offer_a_ticket(commune):
    asked = await commune.say("tôi muốn gặp cán bộ xã", CITIZEN)
    assert ("📨 Gửi câu hỏi cho cán bộ xã", "tn:") in buttons(asked)
    answered = await commune.say("hộ nghèo còn bao nhiêu", CITIZEN)
    [down] = [d for label, d in buttons(answered) if label == "👎"]
    offered = await commune.press(down, CITIZEN)
    assert ("📨 Gửi câu hỏi cho cán bộ xã", "tn:") in buttons(offered)
    assert "gõ câu hỏi" in texts(await commune.press("tn:", CITIZEN))[0]
    sent = await commune.say("Hộ cận nghèo năm 2024 có được hỗ trợ BHYT không?", CITIZEN)
    [post] = to(sent, GROUP)
    assert "hỗ trợ BHYT" in post["text"]
    assert "Đã gửi câu hỏi số" in texts(to(sent, CITIZEN))[-1]


async def test_without_an_officials_group_each_official_gets_it_privately(commune):
    [text] = texts(await commune.say("/nhomcanbo -", ADMIN))
    assert "riêng cho từng cán bộ" in text
    asked = await commune.say(UNKNOWN_QUESTION, CITIZEN)
    [offer] = [d for _, d in buttons(asked) if d.startswith("tq:")]
    sent = await commune.press(offer, CITIZEN)
    assert len(to(sent, OFFICIAL)) == 1 and len(to(sent, ADMIN)) == 1 and to(sent, GROUP) == []
    [post] = to(sent, OFFICIAL)
    answered = await commune.reply_to(post, "Khoảng 62.000 đồng/kg.", OFFICIAL)
    assert len(to(answered, CITIZEN)) == 1


async def test_only_an_admin_sets_the_officials_group(commune):
    [text] = texts(await commune.say("/nhomcanbo", OFFICIAL, chat=-100999))
    assert "quản trị" in text or REFUSED in text
    _, post = await commune.ticket_from_unknown_question()  # still the admin's group
    assert post["chat_id"] == GROUP


async def test_closed_tickets_forget_their_chat_after_30_days_and_the_export_has_no_chat(commune):
    ticket_id, post = await commune.ticket_from_unknown_question()
    await commune.reply_to(post, "Khoảng 62.000 đồng/kg.", OFFICIAL)
    open_id, _ = await commune.ticket_from_unknown_question("giá phân bón ở chợ bây giờ thế nào?")
    desk = TicketDesk(commune.store)
    assert desk.forget(time.time() + KEEP_CHAT_SECONDS - 60) == 0
    assert desk.forget(time.time() + KEEP_CHAT_SECONDS + 60) == 1
    assert commune.store.ticket(ticket_id).chat_id is None  # type: ignore[union-attr]
    assert commune.store.ticket(open_id).chat_id == CITIZEN  # type: ignore[union-attr]
    assert commune.store.tickets_of_chat(CITIZEN)[0].id == open_id
    files = {}
    for c in await commune.say("/xuat", OFFICIAL):
        for name, content in (c.get("_files") or {}).values():
            files[str(name)] = content if isinstance(content, bytes) else content.read()
    [tickets_csv] = [content for name, content in files.items() if name.startswith("phan-anh-")]
    rows = list(csv.reader(io.StringIO(tickets_csv.decode("utf-8-sig"))))
    assert len(rows) == 3 and not any("chat" in h.lower() or "trò chuyện" in h for h in rows[0])
    assert all(str(CITIZEN) not in cell for row in rows for cell in row[1:])
    assert UNKNOWN_QUESTION in {row[rows[0].index("Nội dung")] for row in rows[1:]}
    [workbook] = [content for name, content in files.items() if name.endswith(".xlsx")]
    book = load_workbook(io.BytesIO(workbook), read_only=True)
    assert "Phản ánh – câu hỏi" in book.sheetnames


async def test_the_officials_daily_count_goes_once(commune):
    await commune.ticket_from_unknown_question()
    day = commune.services.clock().astimezone(ticket_handlers.TZ).date().isoformat()
    commune.store.create_broadcast("summary", {"vi": "x", "en": "x"}, day=day)
    before = len(commune.api.calls)
    await ticket_handlers.tick(CallbackContext(commune.app))
    await ticket_handlers.tick(CallbackContext(commune.app))
    digests = [c for c in commune.api.calls[before:] if "Tóm tắt cho cán bộ" in str(c.params.get("text"))]
    assert len(digests) == 1 and digests[0].params["chat_id"] == GROUP
    assert "1 câu hỏi và 0 phản ánh" in digests[0].params["text"]


async def test_a_message_in_flight_at_a_crash_is_never_sent_again(commune):
    """The ledger: a row 'sending' when the process died becomes 'unknown' at start-up and is not re-sent."""
    ticket_id, _ = await commune.ticket_from_unknown_question()
    store = commune.store
    desk = TicketDesk(store)
    desk.answer(ticket_id, "Khoảng 62.000 đồng/kg.", OFFICIAL, OFFICIAL_NAME, "reply:test:1")
    [item] = store.outbox_pending()
    store.outbox_mark(item.id, "sending", attempt=True)  # the call went out; then SIGKILL
    assert store.outbox_recover(again=ticket_handlers.AT_LEAST_ONCE) == (0, 1)
    sent = await ticket_handlers.courier(commune.app).run(commune.app.bot)
    assert sent == 0 and store.outbox_item(item.id).state == "unknown"  # type: ignore[union-attr]
    [track] = texts(await commune.say("/theodoi", CITIZEN))
    assert "62.000 đồng/kg" in track  # the answer is still the citizen's to read


async def test_the_officials_group_from_commune_yaml(plan_path, tmp_path):
    """commune.yaml's officials_chat, when an admin has set none by chat."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("*.pdf", "*.docx"))
    config = (data / "commune.yaml").read_text(encoding="utf-8")
    assert 'officials_chat: ""' in config  # empty as shipped
    (data / "commune.yaml").write_text(config.replace('officials_chat: ""', 'officials_chat: "-1005550001"'),
                                       encoding="utf-8")
    store = Store(tmp_path / "bot.db")
    kb, _ = KnowledgeBase.open(store, [plan_path], data_dir=data)
    async with Commune(Services(kb=kb, store=store, admin_ids=frozenset({ADMIN}))) as c:
        asked = await c.say(UNKNOWN_QUESTION, CITIZEN)
        [offer] = [d for _, d in buttons(asked) if d.startswith("tq:")]
        sent = await c.press(offer, CITIZEN)
        assert len(to(sent, -1005550001)) == 1 and to(sent, ADMIN) == []
        assert "-1005550001" in texts(await c.say("/nhomcanbo", ADMIN))[0]


async def test_a_complaint_and_the_qr_link_begin_a_report(commune):
    asked = await commune.say("đường thôn tôi bị sạt lở", CITIZEN)
    assert ("📝 Gửi phản ánh cho cán bộ xã", "rp:") in buttons(asked)
    assert "Gửi phản ánh" in texts(await commune.press("rp:", CITIZEN))[0]
    linked = await commune.say("/start phananh", OTHER_CITIZEN)
    [text] = texts(linked)
    assert "Phản ánh – kiến nghị" in text and "Bộ phận Một cửa" in text
    [send] = [d for _, d in buttons(linked) if d.startswith("rs:")]
    await commune.say("Rác ở đầu cầu", OTHER_CITIZEN)
    sent = await commune.press(send, OTHER_CITIZEN)
    assert len(to(sent, GROUP)) == 1 and "Rác ở đầu cầu" in to(sent, GROUP)[0]["text"]


async def test_a_post_in_flight_at_a_crash_is_sent_again(commune):
    """A post to the officials lost in a crash would leave the question unseen: it is sent again (a second copy
    of the same number is harmless: either answers it)."""
    asked = await commune.say(UNKNOWN_QUESTION, CITIZEN)
    [offer] = [d for _, d in buttons(asked) if d.startswith("tq:")]
    ticket, _ = TicketDesk(commune.store).ask(CITIZEN, "vi", UNKNOWN_QUESTION, f"offer:{offer[3:]}",
                                              ticket_handlers.ticket_recipients(commune.services))
    [post] = commune.store.outbox_pending()
    commune.store.outbox_mark(post.id, "sending", attempt=True)  # the request was cut by SIGKILL
    assert commune.store.outbox_recover(again=ticket_handlers.AT_LEAST_ONCE) == (1, 0)
    before = len(commune.api.calls)
    assert await ticket_handlers.courier(commune.app).run(commune.app.bot) == 1
    [sent] = commune.api.calls[before:]
    assert sent.params["chat_id"] == GROUP and sent.params["text"].startswith(f"{POST_MARK}{ticket.id} ")
