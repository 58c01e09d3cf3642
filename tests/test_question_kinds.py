"""The kind of answer a question wants, when its words pull several ways (rules general to Vietnamese
questions, checked on a document the engine was not written for: Công Hải's monthly report, as a PDF gave it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.kb import KnowledgeBase
from knowledge.store import Store

REPORT = Path(__file__).resolve().parent / "fixtures" / "corpus" / "cong-hai-bc-thang02-2026.txt"
RESOLUTION = Path(__file__).resolve().parent / "fixtures" / "corpus" / "cong-hai-nq05-phuong-huong-2026.txt"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> KnowledgeBase:
    return KnowledgeBase.open(Store(tmp_path_factory.mktemp("r") / "kb.db"), [REPORT])[0]


@pytest.fixture(scope="module")
def resolution(tmp_path_factory) -> KnowledgeBase:
    return KnowledgeBase.open(Store(tmp_path_factory.mktemp("n") / "kb.db"), [RESOLUTION])[0]


def answer(kb: KnowledgeBase, question: str) -> str:
    reply = kb.ask(question)
    assert reply.found, (question, reply)
    return kb.render(reply)


def test_which_resolution_is_asked_not_a_sum_of_money(report):
    # "kinh phí" names what it is about; "nghị quyết nào" is what is asked
    assert "311/NQ-CP" in answer(report, "giáo viên được hỗ trợ kinh phí đào tạo nâng chuẩn theo nghị quyết nào?")


def test_who_as_an_object_is_not_a_persons_name(report, resolution):
    assert "quần chúng" in answer(report, "đảng uỷ chú trọng bồi dưỡng ai để phát triển đảng?")
    assert "toàn dân" in answer(resolution, "nghị quyết kêu gọi ai phát huy thành tựu?")


def test_a_classifier_counts_and_names_nothing(report):
    assert "03 hồ sơ" in answer(report, "hồ sơ giải quyết trễ hạn mấy cái?")


def test_a_signer_is_a_person_not_a_time_stamp(report, resolution):
    assert "Nguyễn Đăng Quang" in answer(report, "ai ký báo cáo này?")
    assert "Vũ Thị Thuỳ Trang" in answer(resolution, "ai ký nghị quyết?")


def test_a_title_written_as_a_sentence_gives_the_documents_number_and_year(resolution):
    assert "05-NQ/ĐU" in answer(resolution, "nghị quyết này số mấy?")
    assert "5.746 con" in answer(resolution, "đàn heo phấn đấu đạt bao nhiêu con?")  # the plan writes "heo", not "lợn"


def test_a_footnote_a_pdf_left_unmarked_still_answers(report):
    assert "591,7 ha" in answer(report, "diện tích gieo trồng vụ Đông Xuân 2025-2026 là bao nhiêu ha?")


PLAN = Path(__file__).resolve().parent.parent / "data" / "ke-hoach-ptktxh-2024-xa-cao-lau.txt"


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> KnowledgeBase:
    return KnowledgeBase.open(Store(tmp_path_factory.mktemp("p") / "kb.db"), [PLAN])[0]


@pytest.mark.parametrize("question", ["thôn Pò Pháy còn bao nhiêu hộ nghèo", "thon po phay con bao nhieu ho ngheo"])
def test_a_village_asked_about_is_not_answered_with_the_communes_total(plan, question):
    assert not plan.ask(question).found  # the plan gives the commune's poor households, not Pò Pháy's


def test_a_village_the_sentence_names_is_answered(plan):
    assert "Còn Nàn 43 tấn" in answer(plan, "thôn Còn Nàn được phân bổ bao nhiêu tấn xi măng giao thông đầu năm?")


@pytest.mark.parametrize("question", ["cho xin số điện thoại của chủ tịch xã", "sđt ubnd xã là số mấy", "email của xã"])
def test_a_phone_number_is_not_a_sentence_about_smartphones(plan, question):
    reply = plan.ask(question)
    assert not reply.found and reply.kind == "contact", reply  # the office's contact, not configured here
    assert "Bộ phận Một cửa, UBND xã Cao Lâu" in plan.render(reply)


# -- what the question sets aside ---------------------------------------------------------------------

@pytest.mark.parametrize(("question", "expected", "not_expected"), [
    ("dien tich lua nam 2023 khong ke vu mua", "88,1 ha", "148,6"),  # without diacritics
    ("diện tích lúa năm 2023 không kể vụ mùa là bao nhiêu ha", "88,1 ha", "148,6"),  # the neighbour not quoted
    ("what was the rice area in 2023 excluding the spring crop", "148,6 ha", "88,1"),  # in English
    ("hộ nghèo, không tính cận nghèo, còn bao nhiêu hộ", "81/910", None),  # "nghèo" is asked as well
])
def test_what_is_set_aside_is_not_the_answer(plan, question, expected, not_expected):
    text = answer(plan, question)
    assert expected in text, text
    if not_expected:
        assert not_expected not in text, text


def test_a_stance_set_aside_in_so_many_words_is_not_the_answer(plan):
    # the plan has the 2024 target (1.105 tấn) and a 2023 result worded otherwise: the target must not answer
    reply = plan.ask("tổng sản lượng lương thực có hạt không phải chỉ tiêu mà kết quả đạt được là bao nhiêu")
    assert "1.105" not in plan.render(reply)


def test_a_word_that_looks_like_a_marker_sets_nothing_aside(plan):
    assert "30 lượt" in answer(plan, "trạm y tế có bao nhiêu ca điều trị nội trú năm ngoái")  # "nội trú", not "trừ"


def test_a_sum_that_follows_its_item_is_quoted_with_it(report):
    # "…cho 63 thân nhân…, số tiền 1.400.000 đồng/thân nhân liệt sĩ; tổng số tiền: 88.200.000 đồng;"
    text = answer(report, "tiền thờ cúng liệt sĩ chi bao nhiêu")
    assert "1.400.000" in text and "88.200.000" in text, text


def test_besides_adds_to_what_it_names_rather_than_excluding_it(plan):
    assert "Hồi, Thông" in answer(plan, "ngoài cây hồi, kế hoạch năm 2024 ưu tiên phát triển loại rừng nào")


def test_the_term_of_a_congress_is_not_a_signature(plan):
    assert "nhiệm kỳ 2020 – 2025" in answer(plan, "nghị quyết đại hội đảng bộ xã nhiệm kỳ nào")  # kỳ, not ký


def test_how_often_is_not_a_procedure(plan):
    assert "6 tháng" in answer(plan, "bao lâu thì sơ kết kế hoạch")


def test_one_figure_for_both_is_not_the_figure_of_one_set_apart(plan):
    # the plan's 2024 target is "giảm tỷ lệ hộ nghèo, cận nghèo 10,84%": one figure for both
    reply = plan.ask("chỉ tiêu tỷ lệ hộ nghèo năm 2024, không gộp cận nghèo")
    assert "10,84" not in plan.render(reply) or not reply.found


@pytest.mark.parametrize("said, offset", [("năm rồi", -1), ("năm vừa rồi", -1), ("năm kia", -2), ("năm sau", 0),
                                          ("sang năm", 0), ("năm ngoái", -1)])
def test_relative_years_as_people_say_them(plan, said, offset):
    """"năm rồi" is last year, as "năm ngoái" is; "sang năm" the plan's year, as "năm tới" is."""
    query = plan.understand(f"đàn trâu {said} có bao nhiêu con")
    assert query.years == {plan.plan_year + offset}


def test_an_english_question_about_the_document_gets_its_signature_in_english(report):
    """"Who signed the report": the kind of document named in English; the source says what it is in English."""
    reply = report.ask("Who signed the February 2026 monthly report?")
    text = report.render(reply, "en")
    assert reply.found and "Nguyễn Đăng Quang" in text
    assert "the document's header and signature" in text and "Thông tin văn bản" not in text


def test_another_season_span_is_another_seasons_figure(report):
    """"vụ đông xuân 2024-2025" asked; the report gives the 2025-2026 crop only: not an answer."""
    assert "591,7 ha" in answer(report, "vụ đông xuân 2025-2026 xã gieo trồng được bao nhiêu ha")
    reply = report.ask("vụ đông xuân 2024-2025 xã gieo trồng được bao nhiêu ha")
    assert not reply.found or "591,7" not in report.render(reply)
