"""Learning from what people ask, through the real Application (handlers/teaching.py): questions nobody could
answer (/chuatraloi), answers officials teach (/themhoidap, /suahoidap, /xoahoidap), /xuat's hoidap.csv, a
restart, strangers refused, and the 👍/👎 under answers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from telegram import Update

import bot
from handlers.common import Services, short_key
from handlers.localapi import LocalBotAPI, callback_update, message_update
from knowledge.kb import KnowledgeBase
from knowledge.store import Store

from .chat import buttons, texts
from .exported import csv_header_and_rows, named, sheet_rows, workbook

CURATED_HEADER = ["Số TT", "Các cách hỏi", "Câu trả lời", "Đoạn văn bản", "Người soạn", "Tạo lúc", "Sửa lúc", "Xóa lúc"]

ADMIN = 42
OFFICIAL = 43
CITIZENS = (7, 8, 9)
STRANGER = 99

ASKED = ["trường mầm non có mấy điểm trường?",  # the plan does not say: three wordings of one question
         "Trường mầm non có bao nhiêu điểm trường?",
         "truong mam non co may diem truong"]
TAUGHT_QUESTIONS = "Trường mầm non có mấy điểm trường?\nTrường mầm non có bao nhiêu điểm trường?"
TAUGHT_ANSWER = "Trường Mầm non xã Cao Lâu có 4 điểm trường: điểm chính ở thôn Còn Nàn và 3 điểm lẻ."
NEW_ANSWER = "Từ năm học 2024 – 2025, Trường Mầm non xã Cao Lâu có 5 điểm trường."
OFFICIALS_WORD = "Cán bộ xã trả lời"
REFUSED = "Lệnh này chỉ dành cho cán bộ, công chức xã."


class Desk:
    """The bot with an admin, an official and citizens: send messages, press buttons, read what it sent."""

    def __init__(self, services: Services) -> None:
        self.api = LocalBotAPI()
        self.services = services
        services.flood_limit = 10**6  # a scripted conversation is not a flood
        self.app = bot.build_application(services, "0:test", request=self.api)

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def kb(self) -> KnowledgeBase:
        return self.services.kb

    async def __aenter__(self) -> Desk:
        await self.app.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()

    async def say(self, text: str, user: int) -> list[dict]:
        return await self._process(message_update(self.api, text, user_id=user))

    async def press(self, data: str, user: int) -> list[dict]:
        return await self._process(callback_update(self.api, data, user_id=user))

    async def _process(self, data: dict) -> list[dict]:
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(data, self.app.bot))
        return [{"method": c.method, **c.params} for c in self.api.calls[before:]]

    async def text(self, text: str, user: int) -> str:
        sent = texts(await self.say(text, user))
        assert len(sent) == 1, sent
        return sent[0]

    async def teach(self, questions: str = TAUGHT_QUESTIONS, answer: str = TAUGHT_ANSWER, pick: str = "tp:-",
                    user: int = OFFICIAL) -> str:
        """/themhoidap through its three steps; the text the bot ends with."""
        assert "mỗi dòng một cách hỏi" in await self.text("/themhoidap", user)
        assert "gõ câu trả lời" in await self.text(questions, user)
        offered = await self.say(answer, user)
        assert "dựa vào đoạn nào" in texts(offered)[0]
        choices = [d for _, d in buttons(offered)]
        assert choices[-1] == "tp:-" and all(d.startswith("tp:") for d in choices)
        saved = await self.press(pick, user)
        [done] = texts(saved)
        assert saved[-1]["method"] == "editMessageText"
        return done




def uploads(calls: list[dict]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for c in calls:
        for name, content in (c.get("_files") or {}).values():
            out[str(name)] = content if isinstance(content, bytes) else content.read()
    return out


def audited(store: Store, user: int) -> list[tuple[str, int]]:
    return [(row["action"], row["allowed"]) for row in store.audit_log() if row["user_id"] == user]


def open_services(plan_path: Path, db: Path) -> Services:
    """What start-up builds: the knowledge base from the plan (cached in the database) and the taught answers."""
    store = Store(db)
    kb, _ = KnowledgeBase.open(store, [plan_path])
    kb.teach(store.curated())
    return Services(kb=kb, store=store, admin_ids=frozenset({ADMIN}))


@pytest.fixture
async def desk(plan_path, tmp_path):
    async with Desk(open_services(plan_path, tmp_path / "bot.db")) as d:  # a fresh KB: teaching changes it
        d.store.set_role(OFFICIAL, "official", "Cán bộ văn phòng", ADMIN)
        yield d


async def ask_unanswered(desk: Desk) -> None:
    for question, user in zip(ASKED, CITIZENS):
        reply = await desk.text(question, user)
        assert "Nguồn:" not in reply, reply  # not answered: an apology or suggestions
        assert "Xin lỗi" in reply or "chưa tìm được câu trả lời chắc chắn" in reply


# -- /chuatraloi ---------------------------------------------------------------------------------------------

async def test_unanswered_questions_are_grouped_by_similarity_with_their_count(desk):
    await ask_unanswered(desk)
    await desk.say("giá lợn hơi hôm nay bao nhiêu?", CITIZENS[0])
    await desk.say("???", CITIZENS[0])  # nothing asked: not recorded
    assert len(desk.store.unanswered_since(0)) == 4
    listing = await desk.text("/chuatraloi", OFFICIAL)
    lines = listing.splitlines()
    assert lines[0] == "<b>Câu hỏi chưa trả lời được (30 ngày qua)</b>"
    assert lines[1] == f"3× {ASKED[0]}"  # the most asked first, in the words it was first asked
    assert lines[2] == "1× giá lợn hơi hôm nay bao nhiêu?"
    assert "/themhoidap" in listing and "👎" not in listing
    assert await desk.text("/unanswered", ADMIN) == listing  # the English alias, for the admin too


async def test_chuatraloi_with_nothing_recorded(desk):
    listing = await desk.text("/chuatraloi", OFFICIAL)
    assert "Không có câu hỏi nào." in listing


# -- /themhoidap ---------------------------------------------------------------------------------------------

async def test_a_taught_answer_answers_the_question_and_resolves_the_recorded_ones(desk):
    await ask_unanswered(desk)
    done = await desk.teach()
    assert done == ("Đã lưu câu hỏi đáp số 1; bot trả lời được ngay. 3 câu hỏi đã ghi nhận trước đây nay có "
                    "câu trả lời.")
    assert desk.store.unanswered_since(0) == []  # the three are marked resolved
    for question in [*ASKED, "Trường mầm non có mấy điểm trường vậy?"]:
        reply = await desk.text(question, CITIZENS[1])
        assert TAUGHT_ANSWER in reply and f"Nguồn: {OFFICIALS_WORD}" in reply, (question, reply)
    [row] = desk.store.curated()
    assert row["questions"] == TAUGHT_QUESTIONS.splitlines()
    assert (row["answer"], row["passage_key"], row["created_by"]) == (TAUGHT_ANSWER, None, OFFICIAL)
    assert ("faq-add", 1) in audited(desk.store, OFFICIAL)
    listing = await desk.text("/chuatraloi", OFFICIAL)
    assert "Không có câu hỏi nào." in listing and "mầm non" not in listing


async def test_a_taught_answer_resting_on_a_passage_names_its_section(desk):
    await ask_unanswered(desk)
    assert "mỗi dòng một cách hỏi" in await desk.text("/addfaq", ADMIN)  # the English alias, by the admin
    assert "gõ câu trả lời" in await desk.text(TAUGHT_QUESTIONS, ADMIN)
    offered = await desk.say(TAUGHT_ANSWER, ADMIN)
    choices = buttons(offered)
    assert 2 <= len(choices) <= 4 and choices[-1] == ("Không gắn đoạn nào (cán bộ xã trả lời)", "tp:-")
    label, data = choices[0]  # the passage most like the answer
    assert data == "tp:0"
    [done] = texts(await desk.press(data, ADMIN))
    assert done.startswith("Đã lưu câu hỏi đáp số 1") and "3 câu hỏi" in done
    [row] = desk.store.curated()
    passage = desk.kb.passage(row["passage_key"])
    assert passage is not None and passage.text.startswith(label.rstrip("…")) and "Mầm non" in passage.text
    calls = await desk.say(ASKED[2], CITIZENS[2])
    [reply] = texts(calls)
    assert TAUGHT_ANSWER in reply and f"Nguồn: {passage.section}" in reply
    assert passage.section != OFFICIALS_WORD
    full = next(d for _, d in buttons(calls) if d.startswith("full:"))
    assert passage.text in texts(await desk.press(full, CITIZENS[2]))[0]  # "Xem đầy đủ": the passage it rests on


@pytest.mark.parametrize(("question", "answer"), [
    ("Khi nào xã đạt chuẩn nông thôn mới?",
     "Theo kế hoạch, xã phấn đấu đạt chuẩn nông thôn mới trong năm 2024, đạt 19/19 tiêu chí."),
    ("Trường mầm non có mấy điểm trường?", "Trường Mầm non xã Cao Lâu có bốn điểm trường."),
    ("Xã có chợ không?", "Xã có chợ Ba Sơn, đã được đầu tư sửa chữa mới."),
], ids=["when", "number-in-words", "one-common-word"])
async def test_a_taught_answer_answers_the_question_it_was_taught_for(desk, question, answer):
    assert "Nguồn:" not in await desk.text(question, CITIZENS[0])
    done = await desk.teach(question, answer)
    reply = await desk.text(question, CITIZENS[0])
    assert answer in reply and f"Nguồn: {OFFICIALS_WORD}" in reply, reply
    assert "1 câu hỏi đã ghi nhận trước đây nay có câu trả lời" in done  # the one asked before


async def test_huy_leaves_the_teaching_conversation_without_saving(desk):
    await desk.say("/themhoidap", OFFICIAL)
    await desk.say(TAUGHT_QUESTIONS, OFFICIAL)
    assert texts(await desk.say("/huy", OFFICIAL))
    assert desk.store.curated() == []
    reply = await desk.text(TAUGHT_ANSWER, OFFICIAL)  # now an ordinary message: a question, not an answer
    assert "Đã lưu" not in reply and desk.store.curated() == []


async def test_a_taught_answer_survives_a_restart(plan_path, tmp_path):
    db = tmp_path / "bot.db"
    async with Desk(open_services(plan_path, db)) as first:
        first.store.set_role(OFFICIAL, "official", None, ADMIN)
        await first.teach()
        first_kb = first.kb
    async with Desk(open_services(plan_path, db)) as again:  # a new Application on the same database
        assert again.kb is not first_kb
        reply = await again.text(ASKED[2], CITIZENS[0])
        assert TAUGHT_ANSWER in reply and f"Nguồn: {OFFICIALS_WORD}" in reply


async def test_a_taught_answer_survives_a_restart_through_bot_open_services(plan_path, tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_DB", str(tmp_path / "bot.db"))
    monkeypatch.setenv("BOT_SOURCE", str(plan_path))
    monkeypatch.setenv("ADMIN_IDS", str(ADMIN))
    async with Desk(bot.open_services(bot.sources_from_env(None))) as first:
        await first.teach(user=ADMIN)
    async with Desk(bot.open_services(bot.sources_from_env(None))) as again:
        assert TAUGHT_ANSWER in await again.text(ASKED[0], CITIZENS[0])


async def test_the_taught_answer_is_in_the_export(desk):
    await desk.teach()
    files = uploads(await desk.say("/xuat", OFFICIAL))
    header, rows = csv_header_and_rows(named(files, "hoi-dap-", ".csv"))
    assert header == CURATED_HEADER and len(rows) == 1
    [row] = rows
    assert row["Số TT"] == "1" and row["Các cách hỏi"] == " | ".join(TAUGHT_QUESTIONS.splitlines())
    assert (row["Câu trả lời"], row["Đoạn văn bản"], row["Xóa lúc"]) == (TAUGHT_ANSWER, "", "")
    assert re.fullmatch(r"\d\d/\d\d/20\d\d \d\d:\d\d", row["Tạo lúc"])  # local time, written out
    book = workbook(named(files, "troly-xa-", ".xlsx"))
    sheet_header, sheet = sheet_rows(book["Hỏi đáp"])
    assert sheet_header == CURATED_HEADER and sheet[0]["Câu trả lời"] == TAUGHT_ANSWER
    assert isinstance(sheet[0]["Tạo lúc"], dt.datetime)  # a date, not its text

    await desk.say("/xoahoidap 1", OFFICIAL)
    files = uploads(await desk.say("/xuat", OFFICIAL))
    _, rows = csv_header_and_rows(named(files, "hoi-dap-", ".csv"))
    assert len(rows) == 1 and rows[0]["Xóa lúc"]  # kept, marked removed


# -- /suahoidap, /xoahoidap ----------------------------------------------------------------------------------

async def test_edit_gives_the_new_answer_and_remove_stops_answering(desk):
    await desk.teach()
    usage = await desk.text("/suahoidap", OFFICIAL)
    assert "/suahoidap &lt;số&gt;" in usage and "1: Trường mầm non có mấy điểm trường?" in usage
    assert await desk.text(f"/suahoidap 1 {NEW_ANSWER}", OFFICIAL) == "Đã sửa câu hỏi đáp số 1."
    reply = await desk.text(ASKED[0], CITIZENS[0])
    assert NEW_ANSWER in reply and "4 điểm trường" not in reply
    assert await desk.text("/suahoidap 7 gì đó", OFFICIAL) == "Không có câu hỏi đáp số 7."

    assert "/xoahoidap &lt;số&gt;" in await desk.text("/xoahoidap", OFFICIAL)
    assert await desk.text("/xoahoidap 1", OFFICIAL) == "Đã xóa câu hỏi đáp số 1."
    reply = await desk.text(ASKED[0], CITIZENS[0])
    assert "Nguồn:" not in reply and NEW_ANSWER not in reply
    assert [r["question"] for r in desk.store.unanswered_since(0)] == [ASKED[0]]  # recorded again
    assert desk.store.curated() == [] and len(desk.store.curated(include_removed=True)) == 1
    assert await desk.text("/xoahoidap 1", OFFICIAL) == "Không có câu hỏi đáp số 1."
    actions = audited(desk.store, OFFICIAL)
    assert ("faq-edit", 1) in actions and ("faq-edit", 0) in actions
    assert ("faq-remove", 1) in actions and ("faq-remove", 0) in actions


async def test_a_stranger_cannot_list_teach_edit_or_remove(desk):
    await desk.teach()
    await desk.say("giá lợn hơi hôm nay bao nhiêu?", CITIZENS[0])  # something /chuatraloi would list
    for command, action in (("/chuatraloi", "chuatraloi"), ("/themhoidap", "themhoidap"),
                            ("/suahoidap 1 Trường không có điểm lẻ.", "suahoidap"), ("/xoahoidap 1", "xoahoidap")):
        calls = await desk.say(command, STRANGER)
        assert texts(calls) and texts(calls)[0].startswith(REFUSED), (command, texts(calls))
        assert "Câu hỏi chưa trả lời" not in texts(calls)[0]
        assert (action, 0) in audited(desk.store, STRANGER)
    # /themhoidap did not open a conversation: the stranger's next lines are questions, and a button does nothing.
    assert "Bây giờ gõ câu trả lời" not in await desk.text("Xã có bao nhiêu người?", STRANGER)
    await desk.say("Xã có 5.000 người.", STRANGER)
    await desk.press("tp:-", STRANGER)
    [row] = desk.store.curated()
    assert row["answer"] == TAUGHT_ANSWER and row["id"] == 1  # unchanged, and nothing added
    assert TAUGHT_ANSWER in await desk.text(ASKED[0], CITIZENS[0])


# -- 👍/👎 -----------------------------------------------------------------------------------------------------

async def rate(desk: Desk, question: str, votes: dict[int, str]) -> str:
    """Ask, then press 👍 ("1") or 👎 ("0") under the answer as each user; the answer's passage key."""
    calls = await desk.say(question, CITIZENS[0])
    data = {d.split(":")[1]: d for _, d in buttons(calls) if d.startswith("fb:")}
    assert set(data) == {"0", "1"}, buttons(calls)
    for user, vote in votes.items():
        pressed = await desk.press(data[vote], user)
        thanks = [c for c in pressed if c["method"] == "answerCallbackQuery"]
        assert thanks and thanks[0].get("text") == "Cảm ơn bạn đã đánh giá!"
    key = desk.kb.ask(question).passage_key
    assert key and data["0"] == f"fb:0:{short_key(key)}"
    return key


async def test_thumbs_are_recorded_and_the_least_helpful_answers_are_listed(desk):
    poor = await rate(desk, "ho can ngheo con bao nhieu", {7: "0", 8: "0", 9: "0"})
    mixed = await rate(desk, "Tổng đàn trâu có bao nhiêu con?", {7: "0", 8: "1", 9: "1"})
    liked = await rate(desk, "Chỉ tiêu sản lượng lương thực năm 2024 là bao nhiêu?", {7: "1", 8: "1"})
    assert desk.store.least_helpful(0) == [(poor, 3, 0), (mixed, 1, 2)]  # only answers with a 👎, most first
    rows = desk.store.db.execute("SELECT asker, passage_key, helpful FROM feedback ORDER BY id").fetchall()
    assert [(key, helpful) for _, key, helpful in rows] == [
        (poor, 0), (poor, 0), (poor, 0), (mixed, 0), (mixed, 1), (mixed, 1), (liked, 1), (liked, 1)]
    assert len({asker for asker, _, _ in rows}) == 3 and not {"7", "8", "9"} & {a for a, _, _ in rows}  # hashed
    listing = await desk.text("/chuatraloi", OFFICIAL)
    assert "Câu trả lời bị đánh giá 👎 nhiều nhất" in listing
    first = f"👎3 👍0 — {desk.kb.passage(poor).section}"
    second = f"👎1 👍2 — {desk.kb.passage(mixed).section}"
    assert first in listing and second in listing and listing.index(first) < listing.index(second)
    assert desk.kb.passage(liked).section not in listing.split("👎 nhiều nhất")[1]


async def test_one_person_has_one_vote_per_answer(desk):
    key = await rate(desk, "ho can ngheo con bao nhieu", {7: "0"})
    await rate(desk, "ho can ngheo con bao nhieu", {7: "0"})
    assert desk.store.least_helpful(0) == [(key, 1, 0)]  # pressed twice: still one 👎
    await rate(desk, "ho can ngheo con bao nhieu", {7: "1"})
    assert desk.store.least_helpful(0) == []  # changed their mind: the 👍 replaced it


async def test_a_thumb_under_a_taught_answer_is_recorded_against_it(desk):
    await desk.teach()
    key = await rate(desk, ASKED[0], {8: "0"})
    assert key == "taught:1"
    assert desk.store.least_helpful(0) == [("taught:1", 1, 0)]
    assert f"👎1 👍0 — {OFFICIALS_WORD}" in await desk.text("/chuatraloi", OFFICIAL)
