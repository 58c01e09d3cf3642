"""The first stage of answering: conversation acts and procedure questions never get a plan quote."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from knowledge.kb import KnowledgeBase
from knowledge.store import Store

from .chat import texts
from .test_handlers import Chat

# Small talk in both languages, as people type it: never a quote of the plan.
SMALL_TALK = [
    "xin chào", "Xin chào!", "chào bạn", "chào ad", "chao ban", "alo", "hello", "hi", "Hi there", "chào buổi sáng",
    "cảm ơn", "cảm ơn nhé", "cám ơn bạn nhiều", "cam on nhe", "thanks", "thank you", "tks", "thank you so much",
    "tạm biệt", "bye", "bye bye", "goodbye", "bạn là ai", "ban la ai", "bạn làm được gì", "who are you",
    "what can you do", "ok", "oke", "vâng", "dạ", "ừ", "được rồi", "hiểu rồi", "👍", "🙂", ":))", "haha", "hihi",
    "okay thanks", "cảm ơn bot nhiều ạ", "good morning",
]
HANDOFF = [
    "muốn nói chuyện với người thật", "cho tôi gặp cán bộ", "tôi muốn phản ánh", "tôi muốn khiếu nại",
    "talk to a human", "I want to talk to a person", "tôi cần báo một việc",
]
# Procedure questions in every style: a card answers, and never a statistic of the plan
# ("Khai sinh được 51 trường hợp").
PROCEDURES = [
    ("làm giấy khai sinh ở đâu", "khai_sinh"), ("lam giay khai sinh can gi", "khai_sinh"),
    ("đăng ký khai sinh cho con cần giấy tờ gì", "khai_sinh"), ("how do I register a birth", "khai_sinh"),
    ("đăng ký kết hôn ở đâu", "ket_hon"), ("cưới vợ cần giấy tờ gì", "ket_hon"),
    ("dang ky ket hon can nhung gi", "ket_hon"), ("where can I register a marriage", "ket_hon"),
    ("làm giấy chứng tử cho bố ở đâu", "khai_tu"), ("đăng ký khai tử cần giấy tờ gì", "khai_tu"),
    ("xin cấp sổ đỏ thì nộp ở đâu", "so_do"), ("làm sổ đỏ cần những giấy tờ gì", "so_do"),
    ("lam so do o dau", "so_do"), ("làm căn cước mất bao lâu", "can_cuoc"),
    ("lệ phí làm căn cước bao nhiêu", "can_cuoc"),
    ("đăng ký tạm trú ở đâu", "tam_tru"), ("làm thế nào để đăng ký thường trú", "thuong_tru"),
    ("vay vốn ngân hàng chính sách cần gì", "vay_von_nhcsxh"),
    ("xin xác nhận tình trạng hôn nhân ở đâu", "xac_nhan_hon_nhan"),
    ("chứng thực bản sao ở đâu", "chung_thuc_ban_sao"),
]


@pytest.mark.parametrize("message", SMALL_TALK)
def test_small_talk_is_never_a_plan_quote(kb, message):
    reply = kb.ask(message)
    assert reply.kind == "smalltalk" and not reply.found, (message, reply)
    assert not reply.quote and reply.source is None
    assert "Nguồn" not in kb.render(reply) and "Source" not in kb.render(reply)


@pytest.mark.parametrize("message", HANDOFF)
def test_a_request_for_a_person_gets_the_office_from_the_configuration(kb, message):
    reply = kb.ask(message)
    assert reply.kind == "handoff" and not reply.found, (message, reply)
    text = kb.render(reply)
    assert "Bộ phận Một cửa, UBND xã Cao Lâu" in text  # data/commune.yaml's office
    # no phone number is configured, and the bot says so (in the asker's language)
    assert "chưa được cấu hình" in text or "not configured" in text


@pytest.mark.parametrize(("question", "card"), PROCEDURES)
def test_a_procedure_question_gets_its_card_with_the_legal_basis(kb, question, card):
    reply = kb.ask(question)
    assert reply.kind == "procedure" and reply.found and reply.card_id == card, (question, reply)
    assert reply.source and any(word in reply.source for word in ("Luật", "Nghị định", "Quyết định", "Thông tư"))
    text = kb.render(reply)
    assert "kiểm tra lần cuối" in text or "last checked" in text
    assert "trường hợp" not in text  # not "Khai sinh được 51 trường hợp"


@pytest.mark.parametrize("question", ["cho hỏi thủ tục làm hộ chiếu thế nào", "làm giấy phép lái xe cần giấy tờ gì",
                                      "thu tuc xin giay phep xay dung"])
def test_a_procedure_without_a_card_is_not_answered_with_a_statistic(kb, question):
    reply = kb.ask(question)
    assert not reply.found and reply.procedure, (question, reply)
    assert "Bộ phận Một cửa" in kb.render(reply)


def test_the_part_asked_comes_first(kb):
    where = kb.render(kb.ask("làm giấy khai sinh ở đâu"))
    papers = kb.render(kb.ask("làm giấy khai sinh cần giấy tờ gì"))
    assert where.splitlines()[1].startswith("Nộp ở đâu") and papers.splitlines()[1].startswith("Hồ sơ")
    assert len(where) < 600


def test_english_gets_the_card_in_english(kb):
    text = kb.render(kb.ask("how do I register a birth"))
    assert text.startswith("Birth registration") and "Where to submit" in text and "Source:" in text


@pytest.mark.parametrize(("question", "expected"), [
    ("chào bạn, hộ nghèo còn bao nhiêu?", "81/910"),
    ("cảm ơn, vậy hộ cận nghèo còn bao nhiêu?", "122/910"),
    ("năm 2023 xã đăng ký khai sinh được bao nhiêu trường hợp", "51 trường hợp"),
])
def test_a_question_after_a_greeting_or_about_a_count_is_still_answered(kb, question, expected):
    reply = kb.ask(question)
    assert reply.found and expected in kb.render(reply), (question, reply)


async def test_small_talk_is_not_logged_as_unanswered(kb, tmp_path):
    async with Chat(kb, tmp_path / "bot.db") as chat:
        [text] = texts(await chat.say("cảm ơn nhé"))
        assert "Không có gì" in text
        [text] = texts(await chat.say("làm giấy khai sinh ở đâu"))
        assert "Đăng ký khai sinh" in text and "Nguồn:" in text
        await chat.say("giá lợn hơi hôm nay bao nhiêu?")
        logged = [row["question"] for row in chat.services.store.unanswered_since(time.time() - 60)]
    assert logged == ["giá lợn hơi hôm nay bao nhiêu?"]


def test_the_ask_protocol_says_which_kind_of_reply(tmp_path, monkeypatch):
    import bot

    monkeypatch.setenv("BOT_DB", str(tmp_path / "ask.db"))
    kb, _ = bot.open_kb(bot.sources_from_env(None))
    kinds = {q: bot.reply_json(kb, q)["kind"] for q in ("xin chào", "làm giấy khai sinh ở đâu", "tôi muốn khiếu nại")}
    assert kinds == {"xin chào": "smalltalk", "làm giấy khai sinh ở đâu": "procedure", "tôi muốn khiếu nại": "handoff"}
    assert json.dumps(bot.reply_json(kb, "xin chào"), ensure_ascii=False)


def test_another_communes_plan_does_not_send_people_to_this_communes_office(tmp_path):
    other = Path(__file__).resolve().parent / "fixtures" / "corpus" / "cong-hai-nq05-phuong-huong-2026.txt"
    kb, _ = KnowledgeBase.open(Store(tmp_path / "kb.db"), [other])  # data/commune.yaml is Cao Lâu's
    text = kb.render(kb.ask("tôi muốn gặp cán bộ"))
    assert "Cao Lâu" not in text and "Bộ phận Một cửa" in text
