"""knowledge/acts.py: conversation acts are told from questions, which must still reach the engine."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.acts import ACTS, detect, load
from knowledge.lexicon import DATA_DIR
from knowledge.text import strip_marks

GREETINGS = [
    "xin chào",
    "Xin chào!",
    "chào bạn",
    "Chào bạn ạ",
    "chào ad",
    "chào bot nhé",
    "chao ban",
    "xin chao",
    "XIN CHÀO",
    "chào buổi sáng",
    "chao buoi toi a",
    "chào anh Tuấn",
    "chào cả nhà",
    "alo",
    "alô alô",
    "a lô",
    "hello",
    "Hello!!!",
    "hellooo",
    "helo",
    "hi",
    "hi there",
    "hey",
    "good morning",
    "Good evening bot",
    "ad ơi",
    "bot ơi",
    "bạn ơi",
    "xinchao",
    "chaof banj",
    "Chào bạn, tôi là Lan",
    "chào bạn, bạn khỏe không?",
    "how are you?",
    "👋",
]

THANKS = [
    "cảm ơn",
    "cảm ơn nhé",
    "cám ơn nhé",
    "cam on",
    "cam on ban nhieu",
    "cảm ơn bot nhiều",
    "cảm ơn bạn nhiều lắm ạ",
    "Cảm ơn ạ ạ",
    "CẢM ƠN!!!",
    "em cảm ơn ạ",
    "xin cảm ơn",
    "camon",
    "cảm ơn anh Tuấn nhiều",
    "cảm ơn bạn đã giúp",
    "cảm ơn bạn đã trả lời nhé",
    "ok cảm ơn",
    "dạ vâng cảm ơn ạ",
    "thank you",
    "Thanks!",
    "thanks a lot",
    "thank you so much for your help",
    "thx",
    "tks",
    "tks ad",
    "ty",
    "thnaks",
    "🙏",
    "cảm ơn 🙏",
    "hihi cảm ơn",
]

GOODBYES = [
    "tạm biệt",
    "tam biet nhe",
    "tạm biệt bạn nhé",
    "bye",
    "bye bye",
    "byeee",
    "bai nhé",
    "bái bai",
    "ok bye",
    "cảm ơn, tạm biệt",
    "thôi chào bạn nhé",
    "hẹn gặp lại",
    "chúc ngủ ngon",
    "goodbye",
    "see you later",
    "good night!",
]

ABOUT_BOT = [
    "bạn là ai",
    "bạn là ai?",
    "ban la ai vay",
    "bot là gì",
    "bạn làm được gì?",
    "ban lam duoc gi",
    "bạn có thể làm gì",
    "em là người hay máy",
    "em la nguoi hay may",
    "bạn là người thật à?",
    "bạn tên gì",
    "chào bạn, bạn là ai?",
    "tôi có thể hỏi gì",
    "hướng dẫn sử dụng",
    "help",
    "who are you?",
    "What can you do?",
    "are you a bot?",
    "what is this bot",
    "người thật à?",
    "bạn là người thật hay bot vậy",
]

ACKS = [
    "ok",
    "OK",
    "oke",
    "okeee",
    "okie",
    "okay",
    "ok nhé",
    "ok ạ",
    "ừ",
    "ừm",
    "uh",
    "vâng",
    "vâng ạ",
    "dạ",
    "dạ vâng",
    "được rồi",
    "duoc roi",
    "đc",
    "hiểu rồi",
    "tôi hiểu rồi",
    "rõ rồi ạ",
    "good",
    "great",
    "got it",
    "i see",
    "tuyệt vời",
    "👍",
    "👍👍",
    "ok 👍",
    "ạ",
]

EMOJI = [
    ":))",
    ":)",
    "=))",
    ":D",
    ":v",
    "<3",
    "^^",
    "T_T",
    "hihi",
    "hi hi",
    "haha",
    "hahaha",
    "hehe",
    "kkk",
    "lol",
    "😂😂",
    "❤️",
    "...",
    "???",
    "!!!",
    "[sticker]",
]

PERSON = [
    "muốn nói chuyện với người thật",
    "tôi muốn nói chuyện với người thật",
    "toi muon noi chuyen voi nguoi that",
    "cho tôi gặp người trực",
    "cho tôi gặp cán bộ được không ạ?",
    "gặp cán bộ",
    "cho gặp cán bộ xã",
    "tôi cần gặp cán bộ xã",
    "tôi muốn nói chuyện với cán bộ xã về việc đất đai",
    "em muốn liên hệ với cán bộ phụ trách",
    "tôi cần báo một việc",
    "toi can bao mot viec",
    "tôi có việc cần báo",
    "chào bạn, tôi muốn gặp người thật",
    "người thật",
    "ad đâu rồi",
    "talk to a human",
    "I want to talk to a person",
    "I'd like to speak to a real person please",
    "can I talk to an officer?",
    "connect me to a human",
    "human please",
    "Tôi muốn nói chuyện với người thật, không phải máy",
    "I want to speak with the commune chairman",
]

COMPLAINTS = [
    "tôi muốn phản ánh",
    "toi muon phan anh",
    "tôi muốn phản ánh việc đường thôn bị sạt lở",
    "tôi muốn khiếu nại",
    "Tôi muốn khiếu nại về việc cấp đất",
    "chúng tôi kiến nghị xã sửa đường",
    "phản ánh",
    "đường thôn tôi bị sạt lở",
    "duong thon toi bi sat lo",
    "nhà tôi bị ngập mấy hôm nay rồi",
    "đèn đường thôn 3 bị hỏng mấy hôm nay mà không ai sửa",
    "xóm tôi mất điện từ hôm qua",
    "bot trả lời sai rồi",
    "bot tra loi sai roi",
    "sai rồi",
    "trả lời linh tinh",
    "không đúng",
    "I want to complain",
    "I would like to make a complaint about the road",
    "the road in my village is flooded",
    "wrong answer",
    "tôi đề nghị xã sửa đường",
]

QUESTIONS = [
    # greeting or thanks, then a question
    "chào bạn, hộ nghèo còn bao nhiêu?",
    "chao ban, ho ngheo con bao nhieu",
    "xin chào, cho hỏi tổng thu ngân sách năm 2023",
    "hello, how many poor households are there?",
    "hi, what is the budget target for 2024?",
    "cảm ơn, vậy còn hộ cận nghèo?",
    "cam on, con ho can ngheo thi sao",
    "thanks, and the rice yield?",
    "ok, còn chỉ tiêu năm 2024?",
    "vâng, thế còn trường mầm non?",
    # words that contain an act's word
    "chào mừng ngày quốc khánh 2/9 tổ chức ở đâu",
    "chào mừng ngày thành lập Đảng có những hoạt động gì",
    "hi vọng năm 2024 thu ngân sách đạt bao nhiêu",
    "hội nghị cảm ơn các nhà tài trợ tổ chức ngày nào",
    "chương trình tri ân, cảm ơn người có công được bao nhiêu suất quà",
    "thư cảm ơn của xã gửi ai",
    "ok không phải là chỉ tiêu, số thực hiện là bao nhiêu",
    # questions about officials, phone numbers, procedures
    "cán bộ xã có bao nhiêu người?",
    "can bo xa co bao nhieu nguoi",
    "cho hỏi số điện thoại cán bộ tư pháp",
    "số điện thoại của ủy ban xã là gì",
    "tôi muốn gặp cán bộ địa chính thì đến đâu?",
    "tôi muốn khiếu nại thì làm thế nào?",
    "khiếu nại đất đai nộp hồ sơ ở đâu",
    "làm giấy khai sinh ở đâu",
    "lam giay khai sinh can giay to gi",
    "thủ tục đăng ký kết hôn",
    "chủ tịch xã tên là gì",
    "ai là người ký kế hoạch",
    "bạn biết gì về hộ nghèo",
    "kiến nghị của cử tri năm 2023",
    # figures, without diacritics too
    "so ho ngheo nam 2023",
    "ty le ho ngheo",
    "dien tich lua vu xuan bao nhieu ha",
    "số hộ bị ngập lụt năm 2023",
    "bao nhiêu hộ bị sạt lở đất",
    "how many households were flooded in 2023?",
    "is the road to Còn Nàn broken?",
    "xi măng thủy lợi thôn Còn Nàn được bao nhiêu tấn",
    "đường thôn tôi bị sạt lở thì xã có hỗ trợ không?",
    "nhà tôi bị ngập thì được hỗ trợ gì",
    "tổng thu ngân sách",
    "bao nhiêu",
    "khiếu nại",
    "tôi muốn gặp cán bộ, số điện thoại là gì",
    "cho em xin sđt cán bộ tư pháp với",
    "làm sao để gặp chủ tịch xã",
    "how can I contact an officer?",
    "who can I talk to about land?",
    "tôi muốn phản ánh, sao thôn tôi không được chia xi măng?",
    "tôi bị mất giấy khai sinh",
    "nhân viên y tế xã có bao nhiêu người",
    "chào cờ đầu tuần",
    "hello kitty",
]

CASES = (
    [(m, "greeting") for m in GREETINGS]
    + [(m, "thanks") for m in THANKS]
    + [(m, "goodbye") for m in GOODBYES]
    + [(m, "about_bot") for m in ABOUT_BOT]
    + [(m, "ack") for m in ACKS]
    + [(m, "emoji") for m in EMOJI]
    + [(m, "person") for m in PERSON]
    + [(m, "complaint") for m in COMPLAINTS]
    + [(m, None) for m in QUESTIONS]
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(("message", "act"), CASES)
def test_detect(message, act):
    assert detect(message) == act


@pytest.mark.parametrize(("message", "act"), CASES)
def test_nfd_input_reads_the_same(message, act):
    assert detect(nfd(message)) == act


SMALL_TALK = GREETINGS + THANKS + GOODBYES + ABOUT_BOT + ACKS


@pytest.mark.parametrize("message", SMALL_TALK)
def test_small_talk_without_diacritics_or_in_upper_case(message):
    act = detect(message)
    assert detect(strip_marks(message)) == act
    if not any(ch.isupper() for ch in message):  # a name needs its capital
        assert detect(message.upper()) == act


@pytest.mark.parametrize("message", QUESTIONS)
def test_questions_stay_questions_without_diacritics(message):
    assert detect(strip_marks(message)) is None


def test_the_lists_are_large_enough():
    vi_en_small_talk = GREETINGS + THANKS + GOODBYES + ABOUT_BOT + ACKS + EMOJI
    assert len(vi_en_small_talk) >= 40
    assert len(QUESTIONS) >= 25
    assert {act for _, act in CASES} == {*ACTS, None}


def test_empty_and_blank_messages_are_not_acts():
    assert detect("") is None
    assert detect("   \n\t") is None


def test_the_data_file_is_read_once():
    path = DATA_DIR / "acts.yaml"
    assert load(path) is load(path)


def test_a_commune_folder_without_its_own_file_uses_the_shared_one(tmp_path):
    assert detect("cảm ơn nhé", data_dir=tmp_path) == "thanks"


TOPICS = ["hộ nghèo", "ho can ngheo", "thu ngân sách", "lúa vụ xuân", "trường mầm non", "poor households"]
ASKS = ["bao nhiêu?", "bao nhieu", "ở đâu", "khi nào?", "thế nào", "là gì", "how many?", "when?"]


@given(
    st.sampled_from(GREETINGS + THANKS + ACKS),
    st.sampled_from([", ", " ", "! ", ". ", " ạ, "]),
    st.sampled_from(TOPICS),
    st.sampled_from(ASKS),
)
def test_small_talk_then_a_question_is_a_question(opening, joint, topic, ask):
    assert detect(f"{opening}{joint}{topic} {ask}") is None


@given(st.text())
def test_detect_never_raises(text):
    assert detect(text) in (*ACTS, None)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_detect_is_the_same_for_nfc_and_nfd(text):
    assert detect(nfd(text)) == detect(unicodedata.normalize("NFC", text))
