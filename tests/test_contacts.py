"""The commune's contacts (issue 11, item 2): "số điện thoại / giờ làm việc / ở đâu / gặp ai" questions get the
configured contact or an honest "not configured" with the office, never a plan quote; an admin changes a
contact by chat (/lienhe), stored in the database and read over commune.yaml's."""

from __future__ import annotations

import pytest
import yaml

from knowledge.kb import CONTACT_KEYS, KnowledgeBase
from knowledge.lexicon import DATA_DIR
from knowledge.store import Store

from .chat import texts
from .test_handlers import Chat

OFFICE = "Bộ phận Một cửa, UBND xã Cao Lâu"


@pytest.fixture(scope="module")
def module_kb(tmp_path_factory, plan_path) -> KnowledgeBase:
    kb, _ = KnowledgeBase.open(Store(tmp_path_factory.mktemp("kb") / "kb.db"), [plan_path])
    return kb


@pytest.fixture
def kb(module_kb):
    module_kb.set_contacts({})
    yield module_kb
    module_kb.set_contacts({})  # a test's /lienhe must not leak into the next


@pytest.fixture
async def chat(kb, tmp_path):
    async with Chat(kb, tmp_path / "bot.db") as c:
        c.services.admin_ids = frozenset({42})
        yield c


def test_commune_yaml_has_every_contact_key_and_invents_none():
    commune = yaml.safe_load((DATA_DIR / "commune.yaml").read_text(encoding="utf-8"))
    for key in CONTACT_KEYS:
        assert key in commune and commune[key] == "", key  # the real commune's facts are unknown


@pytest.mark.parametrize(("question", "asked"), [
    ("giờ làm việc của xã", "giờ làm việc"),
    ("gio lam viec cua ubnd xa", "giờ làm việc"),
    ("một cửa mở mấy giờ", "giờ làm việc"),
    ("ubnd xã ở đâu", "địa chỉ trụ sở"),
    ("trụ sở ubnd xã ở đâu", "địa chỉ trụ sở"),
    ("số điện thoại của xã", "số điện thoại"),
    ("sđt ubnd xã là số mấy", "số điện thoại"),
    ("email của xã", "e-mail"),
    ("gặp ai để làm sổ đỏ", "cán bộ địa chính"),
    ("muốn đăng ký khai sinh thì hỏi ai", "tư pháp – hộ tịch"),
    ("đường vào thôn bị sạt thì báo ai", "Bộ phận Một cửa"),
])
def test_an_office_question_gets_an_honest_not_configured_with_the_office(kb, question, asked):
    reply = kb.ask(question)
    assert reply.kind == "contact" and not reply.found, reply
    text = kb.render(reply)
    assert "chưa được cấu hình" in text and asked in text and OFFICE in text, text
    assert "Mục" not in text  # never a sentence of the plan


def test_a_configured_contact_answers_and_counts_as_found(kb):
    kb.set_contacts({"hours": "sáng 7h00–11h30, chiều 13h30–17h00", "land": "Ông A, công chức địa chính, 0912"})
    reply = kb.ask("giờ làm việc của xã")
    assert reply.found and reply.kind == "contact" and reply.source == "commune.yaml"
    text = kb.render(reply)
    assert "giờ làm việc sáng 7h00–11h30, chiều 13h30–17h00" in text and "chưa được cấu hình" not in text
    assert "Ông A, công chức địa chính, 0912" in kb.render(kb.ask("gặp ai để làm sổ đỏ"))
    assert "giờ làm việc sáng 7h00" in kb.contact("vi")  # every "I don't know" now gives it too
    english = kb.render(kb.ask("what are the office hours of the commune"), "en")
    assert "opening hours sáng 7h00" in english


@pytest.mark.parametrize("question", ["đăng ký kết hôn ở đâu", "làm giấy khai sinh ở xã ở đâu"])
def test_where_to_submit_a_procedure_is_still_its_card(kb, question):
    assert kb.ask(question).kind == "procedure"


def test_a_question_about_phones_in_the_plan_is_not_a_contact_question(kb):
    assert kb.ask("xã có bao nhiêu người dùng điện thoại thông minh").kind != "contact"
    assert kb.ask("địa chỉ trang đường dây nóng của tỉnh là gì").kind != "contact"  # the province's, in a plan
    assert kb.ask("ho ngheo con bao nhieu").kind == "answer"


def test_the_store_keeps_contacts_and_the_knowledge_base_reads_them_at_open(tmp_path, plan_path):
    store = Store(tmp_path / "c.db")
    store.set_contact("phone", "0205 123 456", by=42)
    store.set_contact("email", "x@example.org", by=42)
    store.set_contact("email", None, by=42)
    assert store.contacts() == {"phone": "0205 123 456"}
    assert any(row["action"] == "lienhe" and row["user_id"] == 42 for row in store.audit_log())
    kb, _ = KnowledgeBase.open(store, [plan_path])
    assert kb.contact_value("phone") == "0205 123 456" and "điện thoại 0205 123 456" in kb.contact("vi")


async def test_lienhe_is_for_admins_only(chat):
    [text] = texts(await chat.say("/lienhe phone 0205 999", user_id=7))
    assert "chỉ dành cho" in text
    assert chat.services.store.contacts() == {}


async def test_an_admin_sets_a_contact_by_chat_and_the_bot_answers_with_it(chat):
    [text] = texts(await chat.say("/lienhe phone 0205 3 868 999", user_id=42))
    assert "Đã lưu phone: 0205 3 868 999" in text
    assert chat.services.store.contacts() == {"phone": "0205 3 868 999"}
    [answer] = texts(await chat.say("số điện thoại của xã", user_id=7))
    assert "điện thoại 0205 3 868 999" in answer and "chưa được cấu hình số điện thoại" not in answer
    [listing] = texts(await chat.say("/lienhe", user_id=42))
    assert "0205 3 868 999" in listing and "(đặt qua /lienhe)" in listing and "hours" in listing
    [cleared] = texts(await chat.say("/lienhe phone -", user_id=42))
    assert "commune.yaml" in cleared and chat.services.store.contacts() == {}
    assert "chưa được cấu hình" in texts(await chat.say("số điện thoại của xã", user_id=7))[0]


@pytest.mark.parametrize(("command", "expected"), [
    ("/lienhe fax 123", "Không có mục «fax»"),
    ("/lienhe phone", "Cách dùng"),
    ("/lienhe address " + "x" * 301, "dài quá"),
])
async def test_lienhe_refuses_an_unknown_key_or_a_bad_value(chat, command, expected):
    [text] = texts(await chat.say(command, user_id=42))
    assert expected in text
    assert chat.services.store.contacts() == {}


async def test_a_value_with_html_is_shown_escaped(chat):
    await chat.say("/lienhe one_stop <b>tầng 1</b>", user_id=42)
    [answer] = texts(await chat.say("gặp ai để hỏi việc này", user_id=7))
    assert "&lt;b&gt;tầng 1&lt;/b&gt;" in answer
