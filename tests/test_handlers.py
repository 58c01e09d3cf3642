"""The real Application, handlers and database, with Telegram's servers replaced by an in-process Bot API
(handlers.localapi) that records every call. Updates go through ``Application.process_update``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.constants import MessageLimit

import bot
from handlers.common import Services, split_html
from handlers.localapi import BOT_ID, BOT_USERNAME, LocalBotAPI, callback_update, message_update
from knowledge.kb import KnowledgeBase
from knowledge.store import Store

from .chat import buttons, texts
from .telegram_html import html_errors

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def kb(tmp_path_factory, plan_path) -> KnowledgeBase:
    kb, _ = KnowledgeBase.open(Store(tmp_path_factory.mktemp("kb") / "kb.db"), [plan_path])
    return kb


class Chat:
    """A conversation with the bot: send messages and press buttons, read what it sent."""

    def __init__(self, kb: KnowledgeBase, db: Path) -> None:
        self.api = LocalBotAPI()
        self.services = Services(kb=kb, store=Store(db), admin_ids=frozenset())
        self.app = bot.build_application(self.services, "0:test", request=self.api)

    async def __aenter__(self) -> Chat:
        await self.app.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()

    async def say(self, text: str, **kwargs) -> list[dict]:
        return await self._process(message_update(self.api, text, **kwargs))

    async def press(self, data: str, **kwargs) -> list[dict]:
        return await self._process(callback_update(self.api, data, **kwargs))

    async def _process(self, data: dict) -> list[dict]:
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(data, self.app.bot))
        return [{"method": c.method, **c.params} for c in self.api.calls[before:]]




@pytest.fixture
async def chat(kb, tmp_path):
    async with Chat(kb, tmp_path / "bot.db") as c:
        yield c


async def test_start_greets_and_offers_examples(chat):
    calls = await chat.say("/start")
    [text] = texts(calls)
    assert "Trợ lý xã" in text and "xã Cao Lâu" in text
    examples = [b for b in buttons(calls) if b[1].startswith("ex:")]
    assert len(examples) == 5
    answer = await chat.press(examples[0][1])
    assert "81/910" in texts(answer)[0]  # "Số hộ nghèo năm 2023 là bao nhiêu?"


async def test_question_without_diacritics_is_answered_with_its_source(chat):
    calls = await chat.say("ho can ngheo con bao nhieu")
    [text] = texts(calls)
    assert "122/910" in text and "Nguồn: Mục 2.4." in text
    assert not html_errors(text)
    full = [d for _, d in buttons(calls) if d.startswith("full:")]
    assert full, buttons(calls)
    whole = texts(await chat.press(full[0]))[0]
    assert "Toàn văn" in whole and "81/910" in whole


async def test_full_passage_includes_its_footnote(chat):
    calls = await chat.say("Năng suất lúa xuân đạt bao nhiêu tạ/ha?")
    assert "50 tạ/ha" in texts(calls)[0]
    full = next(d for _, d in buttons(calls) if d.startswith("full:"))
    whole = texts(await chat.press(full))[0]
    assert "Tổng diện tích gieo trồng" in whole and "Chú thích 2" in whole


async def test_unclear_question_offers_suggestions_that_answer(chat):
    calls = await chat.say("đất đai")
    assert "Có phải bạn muốn hỏi" in texts(calls)[0]
    offered = [d for _, d in buttons(calls) if d.startswith("faq:")]
    assert 1 <= len(offered) <= 3
    answer = texts(await chat.press(offered[0]))[0]
    assert "Nguồn:" in answer


async def test_unknown_question_is_honest(chat):
    [text] = texts(await chat.say("giá lợn hơi hôm nay bao nhiêu?"))
    assert "Xin lỗi" in text or "chưa tìm được câu trả lời chắc chắn" in text
    [text] = texts(await chat.say("cách nấu phở bò ngon"))
    assert "Xin lỗi" in text and "/trocap" in text


async def test_subsidies_browse_down_and_back(chat):
    calls = await chat.say("/trocap")
    topics = buttons(calls)
    assert topics and all(d.startswith("bt:trocap:") for _, d in topics)
    down = await chat.press(topics[0][1])
    entries = buttons(down)
    assert down[-1]["method"] == "editMessageText" and entries[-1][1] == "br:trocap"
    leaf = await chat.press(entries[0][1])
    text = texts(leaf)[0]
    assert "«" in text and "Nguồn:" in text and not html_errors(text)
    back = next(d for _, d in buttons(leaf) if d.startswith("bt:"))
    assert buttons(await chat.press(back)) == entries
    assert buttons(await chat.press("br:trocap")) == topics
    assert all(len(d.encode()) <= 64 for _, d in topics + entries + buttons(leaf))


async def test_procedures_browse(chat):
    calls = await chat.say("/thutuc")
    assert "Thủ tục" in texts(calls)[0] and buttons(calls)


async def test_targets_lists_the_fifteen(chat):
    [text] = texts(await chat.say("/chitieu"))
    assert len(re.findall(r"^\d+\) ", text, re.MULTILINE)) == 15
    assert "1.105 tấn" in text and "Lĩnh vực kinh tế" in text


async def test_language_is_kept_per_person(chat):
    await chat.say("/ngonngu")
    [switched] = texts(await chat.press("lang:en"))
    assert "English" in switched
    [answer] = texts(await chat.say("How many buffalo does the commune have?"))
    assert "140 con" in answer and "Source:" in answer
    [other] = texts(await chat.say("ho can ngheo con bao nhieu", user_id=2))
    assert "Nguồn:" in other  # someone else still gets Vietnamese
    assert chat.services.store.user_lang(1) == "en"


async def test_group_messages_are_answered_only_when_addressed(chat):
    group = {"chat_id": -100, "chat_type": "supergroup"}
    assert texts(await chat.say("ho can ngheo con bao nhieu", **group)) == []
    mention = f"@{BOT_USERNAME} ho can ngheo con bao nhieu"
    entities = [{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}]
    assert "122/910" in texts(await chat.say(mention, entities=entities, **group))[0]
    assert "122/910" in texts(await chat.say("/hoi ho can ngheo con bao nhieu", **group))[0]
    reply_to = {"message_id": 5, "date": 0, "chat": {"id": -100, "type": "supergroup"}, "text": "…",
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý xã"}}
    assert "122/910" in texts(await chat.say("ho can ngheo con bao nhieu", reply_to=reply_to, **group))[0]


async def test_a_flood_gets_one_notice(chat):
    sent = [texts(await chat.say(f"ho ngheo {i}")) for i in range(14)]
    answered = [s for s in sent[:10] if s]
    assert len(answered) == 10
    notices = [s for s in sent[10:] if s]
    assert notices == [["Bạn gửi nhanh quá, xin đợi vài giây rồi hỏi tiếp nhé."]]
    assert texts(await chat.say("ho ngheo", user_id=3))  # others are not slowed down


async def test_stickers_and_empty_captions_get_a_polite_note(chat):
    sticker = message_update(chat.api, "", user_id=4)
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
                                     "is_animated": False, "is_video": False, "type": "regular"}
    calls = await chat._process(sticker)
    assert "chỉ đọc được tin nhắn chữ" in texts(calls)[0]
    photo = message_update(chat.api, "", user_id=4)
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    photo["message"]["caption"] = ""
    assert texts(await chat._process(photo))


async def test_errors_reach_the_log_not_the_chat(chat, caplog, monkeypatch):
    def broken(question: str):
        raise RuntimeError("boom")

    monkeypatch.setattr(chat.services.kb, "ask", broken)
    [text] = texts(await chat.say("ho ngheo"))
    assert "Xin lỗi, đã có lỗi" in text and "boom" not in text and "Traceback" not in text
    assert any("boom" in r.getMessage() or (r.exc_info and "boom" in str(r.exc_info[1])) for r in caplog.records)


async def test_command_menus_are_registered_per_language(chat):
    await bot.post_init(chat.app)
    menus = [c.params for c in chat.api.sent("setMyCommands")]
    assert len(menus) == 2
    english = next(m for m in menus if m.get("language_code") == "en")
    names = {c["command"] for c in json.loads(english["commands"]) if True} if isinstance(english["commands"], str) \
        else {c["command"] for c in english["commands"]}
    assert {"help", "targets", "subsidies", "procedures", "language", "ask"} <= names


hostile = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="<>&\"'*_`[]()~#|\\/ abcđẫ", max_size=120),
    st.sampled_from(["<b>x</b><script>alert(1)</script>", "**bold** _i_ `code` [a](http://x)", "&amp; &lt; & <",
                     "x" * 10_000, "hộ nghèo " * 1200, "\u202e\u200b\ufeff", "\x00\x07", ""]),
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile)
async def test_hostile_text_gets_valid_html_never_an_exception(kb, tmp_path, text):
    async with Chat(kb, tmp_path / "hostile.db") as c:
        calls = await c.say(text or " ", user_id=9)
        for sent in texts(calls):
            assert len(sent) <= MessageLimit.MAX_TEXT_LENGTH
            assert not html_errors(sent), (text, sent)
        assert not any("Traceback" in s for s in texts(calls))


def test_split_html_keeps_pieces_under_the_limit_and_whole():
    text = "\n".join([f"<b>Mục {i}</b> " + "chữ &amp; số " * 40 for i in range(40)]) + "\n" + "x" * 9000
    pieces = split_html(text)
    assert len(pieces) > 1 and all(len(p) <= MessageLimit.MAX_TEXT_LENGTH for p in pieces)
    assert all(not html_errors(p) for p in pieces)
    assert "".join(p.replace("\n", "") for p in pieces) == text.replace("\n", "")


def test_locales_have_the_same_keys_and_every_key_used_exists():
    vi = yaml.safe_load((ROOT / "locales" / "vi.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((ROOT / "locales" / "en.yaml").read_text(encoding="utf-8"))
    assert set(vi) == set(en)
    code = "\n".join(p.read_text(encoding="utf-8") for d in ("bot.py", "handlers", "knowledge")
                     for p in ([ROOT / d] if d.endswith(".py") else (ROOT / d).glob("*.py")))
    used = set(re.findall(r"""\b(?:tr|t)\((?:lang, |value, |[a-z_]+, )?["']([a-z_]+\.[a-z_0-9]+)["']""", code))
    used |= {f"examples.{i}" for i in range(1, 6)}
    assert used, "no locale keys found in the code"
    assert used <= set(vi), used - set(vi)
