"""/thutuc browses the procedure cards, /start's deep links open the place they name, /trogiup explains the bot
(issue 11, item 6): through the real Application and the in-process Bot API, with a real SQLite file."""

from __future__ import annotations

import pytest

from .chat import buttons, texts
from .telegram_html import html_errors
from .test_handlers import Chat


@pytest.fixture
async def chat(kb, tmp_path):
    async with Chat(kb, tmp_path / "bot.db") as c:
        yield c


async def test_thutuc_browses_cards_by_topic_down_to_a_whole_card_and_back(chat):
    calls = await chat.say("/thutuc")
    topics = buttons(calls)
    assert "Thủ tục hành chính" in texts(calls)[0]
    assert topics[0] == ("Hộ tịch", "pt:0") and all(d.startswith("pt:") for _, d in topics[:-1])
    assert topics[-1][1] == "br:thutuc"  # the plan's own answers about procedures stay one tap away
    down = await chat.press("pt:0")
    cards = buttons(down)
    assert down[-1]["method"] == "editMessageText" and ("Đăng ký khai sinh", "pc:khai_sinh") in cards
    assert cards[-1][1] == "pk"
    leaf = await chat.press("pc:khai_sinh")
    [text] = texts(leaf)
    assert text.startswith("<b>Đăng ký khai sinh</b>") and not html_errors(text)
    assert "Nộp ở đâu:" in text and "Hồ sơ:" in text and "Trực tuyến:" in text
    assert "Căn cứ pháp lý:" in text and "Luật Hộ tịch số 60/2014/QH13" in text
    assert text.rstrip().endswith("</i>") and "kiểm tra lần cuối ngày" in text.splitlines()[-1]
    assert ("⬅️ Quay lại", "pt:0") in buttons(leaf)
    assert buttons(await chat.press("pk")) == topics
    assert all(len(d.encode()) <= 64 for _, d in topics + cards + buttons(leaf))


async def test_the_plans_procedure_answers_are_still_reachable_from_thutuc(chat):
    plan = await chat.press("br:thutuc")
    faq_topics = buttons(plan)
    assert faq_topics[0][1].startswith("bt:thutuc:") and faq_topics[-1][1] == "pk"
    entries = buttons(await chat.press(faq_topics[0][1]))
    assert "«" in texts(await chat.press(entries[0][1]))[0]


async def test_thutuc_speaks_english_to_an_english_user(chat):
    calls = await chat.say("/procedures", language_code="en")
    assert "Administrative procedures" in texts(calls)[0]
    assert buttons(calls)[0][0].startswith("Civil status")
    cards = buttons(await chat.press("pt:0", language_code="en"))
    assert ("Birth registration", "pc:khai_sinh") in cards
    [text] = texts(await chat.press("pc:khai_sinh", language_code="en"))
    assert "Birth registration —" in text and "Legal basis:" in text and "Card last checked" in text


async def test_a_forged_card_or_topic_button_changes_nothing(chat):
    for data in ("pc:no_such_card", "pt:99", "pt:x", "pk:1"):
        [text] = texts(await chat.press(data))
        assert "không còn dùng được" in text


async def test_deep_link_to_a_card_opens_it(chat):
    calls = await chat.say("/start thutuc_khaisinh")
    [text] = texts(calls)
    assert text.startswith("<b>Đăng ký khai sinh</b>") and "Căn cứ pháp lý:" in text
    assert "Xin chào" not in text
    assert calls[-1]["method"] == "sendMessage"
    assert "<b>Đăng ký kết hôn</b>" in texts(await chat.say("/start thutuc_kethon"))[0]


async def test_deep_link_to_report_a_problem_says_how_and_whom(chat):
    [text] = texts(await chat.say("/start phananh"))
    assert "phản ánh" in text and "Bộ phận Một cửa, UBND xã Cao Lâu" in text


@pytest.mark.parametrize(("payload", "expected", "first_button"), [
    ("hoi_hotich", "Hộ tịch", "pc:khai_sinh"),
    ("hoi_datdai", "Đất đai", "pc:so_do"),
    ("hoi_thutuc", "Thủ tục hành chính", "pt:0"),
    ("hoi_trocap", "Trợ cấp", "bt:trocap:0"),
])
async def test_deep_link_to_a_topic_opens_its_menu(chat, payload, expected, first_button):
    calls = await chat.say(f"/start {payload}")
    assert expected in texts(calls)[0]
    assert buttons(calls)[0][1] == first_button


async def test_deep_link_to_the_targets(chat):
    assert "chỉ tiêu" in texts(await chat.say("/start hoi_chitieu"))[0].lower()


@pytest.mark.parametrize("payload", ["thutuc_khongco", "hoi_khongco", "xyz", "phananh_2"])
async def test_an_unknown_deep_link_is_the_normal_greeting(chat, payload):
    calls = await chat.say(f"/start {payload}")
    assert "Xin chào" in texts(calls)[0]
    assert len([b for b in buttons(calls) if b[1].startswith("ex:")]) == 5


async def test_the_welcome_has_no_internal_counts(chat):
    [text] = texts(await chat.say("/start"))
    assert " mục," not in text and " đoạn" not in text and "văn bản:" not in text
    [english] = texts(await chat.say("/start", user_id=5, language_code="en"))
    assert "sections" not in english and "passages" not in english


async def test_help_explains_use_and_is_not_the_welcome(chat):
    [welcome] = texts(await chat.say("/start"))
    calls = await chat.say("/trogiup")
    [text] = texts(calls)
    assert text != welcome and not html_errors(text)
    assert "Ví dụ" in text and "/thutuc" in text and "/chitieu" in text and "ghi mục" in text
    assert "Bộ phận Một cửa, UBND xã Cao Lâu" in text  # whom to contact
    assert not [b for b in buttons(calls) if b[1].startswith("ex:")]
    [english] = texts(await chat.say("/help", user_id=5, language_code="en"))
    assert "How to use" in english and "/procedures" in english
