"""The first language comes from Telegram's language_code; an English question is answered in English."""

from __future__ import annotations

from .chat import texts
from .test_handlers import Chat


async def test_a_person_whose_telegram_is_in_english_is_greeted_in_english(kb, tmp_path):
    async with Chat(kb, tmp_path / "bot.db") as chat:
        [text] = texts(await chat.say("/start", user_id=7, language_code="en-GB"))[:1]
        assert "Hello" in text or "commune assistant" in text, text
        [text] = texts(await chat.say("xin chào", user_id=8, language_code="vi"))
        assert "Xin chào" in text


async def test_their_own_choice_wins_over_telegrams(kb, tmp_path):
    async with Chat(kb, tmp_path / "bot.db") as chat:
        chat.services.store.set_user_lang(9, "vi")
        [text] = texts(await chat.say("hello", user_id=9, language_code="en"))
        assert "Xin chào" in text


async def test_an_english_question_is_answered_in_english_throughout(kb, tmp_path):
    async with Chat(kb, tmp_path / "bot.db") as chat:
        [text] = texts(await chat.say("How many near-poor households were there in 2023?", user_id=10))
    assert "122/910" in text  # the document's own figure, as written
    assert "Result for 2023 · Source:" in text and "Nguồn" not in text


async def test_an_english_question_is_offered_english_questions(kb, tmp_path):
    """The suggestions of an English reply are the curated entries' English questions, where they have one;
    pressing one answers it (every way an entry is asked finds it)."""
    english = {q for e in kb.faq for q in e.questions if kb.lexicon.is_english(q.lower().split())}
    reply = kb.ask("During the pre-harvest lean period, how much rice relief was handed out?")
    assert reply.suggestions and all(s in english for s in reply.suggestions), reply.suggestions
    assert all(kb.faq_by_question.get(s) is not None for s in reply.suggestions)
    vietnamese = kb.ask("thời kỳ giáp hạt cứu trợ gạo được bao nhiêu")
    assert vietnamese.suggestions is not None and not set(vietnamese.suggestions) & english
