"""Every answer says what it is — a result, a target, a task — and of which year, beside its section."""

from __future__ import annotations

import pytest

from .chat import texts
from .test_handlers import Chat


@pytest.mark.parametrize(("question", "label"), [
    ("ho can ngheo con bao nhieu", "Kết quả năm 2023 · Nguồn: Mục 2.4."),
    ("chỉ tiêu trồng rừng mới năm 2024 là bao nhiêu ha", "Chỉ tiêu năm 2024 · Nguồn:"),
    ("Tổng thu ngân sách xã năm 2023?", "Kết quả năm 2023 · Nguồn:"),
])
def test_the_answer_says_whether_it_is_a_result_or_a_target(kb, question, label):
    reply = kb.ask(question)
    assert reply.found and label in kb.render(reply), kb.render(reply)


def test_in_english_too(kb):
    reply = kb.ask("How many near-poor households were there in 2023?")
    assert reply.found and "Result for 2023 · Source:" in kb.render(reply), kb.render(reply)


async def test_the_chat_shows_it_beside_the_source(kb, tmp_path):
    async with Chat(kb, tmp_path / "bot.db") as chat:
        [text] = texts(await chat.say("ho can ngheo con bao nhieu"))
    assert "<i>Kết quả năm 2023 · Nguồn: Mục 2.4." in text


def test_a_typed_question_gets_the_curated_answer_in_plain_words_with_its_quote(kb):
    entry = next(e for e in kb.faq if e.answer != e.quote and e.kind == "subsidy")
    # typed as people type: no diacritics, lower case
    from knowledge.text import fold

    reply = kb.ask(fold(entry.questions[0]))
    assert reply.found and reply.faq_id == entry.id, (entry.questions[0], reply)
    text = kb.render(reply)
    assert text.startswith(entry.answer) and f"«{reply.quote}»" in text


async def test_the_chat_shows_the_curated_answer_as_the_browse_menu_does(kb, tmp_path):
    entry = next(e for e in kb.faq if e.answer != e.quote and e.kind == "subsidy")
    async with Chat(kb, tmp_path / "bot.db") as chat:
        [text] = texts(await chat.say(entry.questions[0]))
    assert entry.answer.split(",")[0] in text and "«" in text
