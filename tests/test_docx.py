"""Word plans (knowledge/docx.py) and several documents at once (knowledge/kb.py).

A plan of another commune (xã Phú Lương) in the Cao Lâu plan's style is written here as a real .docx: python-docx
has no footnote API, so after saving, the zip gets a word/footnotes.xml part, its relationship, its content type
and footnote-reference runs in the citing paragraphs, as Word writes them. It is read alone, then with the
Cao Lâu plan; then the two real Lâm Đồng reports (a year and a quarter); then a damaged file.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from docx import Document as WordDocument
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from knowledge.answer import Reply
from knowledge.docx import docx_to_text
from knowledge.kb import KnowledgeBase, UnreadableSource, parse_source
from knowledge.rank import search
from knowledge.store import Store

ROOT = Path(__file__).resolve().parent.parent
CAO_LAU = ROOT / "data" / "ke-hoach-ptktxh-2024-xa-cao-lau.txt"
REPORTS = Path(__file__).resolve().parent / "fixtures"  # two real provincial reports, shipped with the tests
REPORT_2025 = REPORTS / "lam-dong-bao-cao-cchc-2025.docx"
REPORT_Q1_2026 = REPORTS / "lam-dong-bao-cao-cchc-quy-1-2026.docx"
needs_reports = pytest.mark.skipif(not (REPORT_2025.is_file() and REPORT_Q1_2026.is_file()),
                                   reason="the Lâm Đồng reports are not on this machine")

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
FOOTNOTES_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"

PHU_LUONG_NAME = "ke-hoach-ptktxh-2025-xa-phu-luong"
PHU_LUONG_LABEL = "Kế hoạch Phát triển kinh tế - xã hội năm 2025 xã Phú Lương"
CAO_LAU_LABEL = "Kế hoạch Phát triển kinh tế - xã hội năm 2024 xã Cao Lâu"

# The citing paragraph (a piece of it) and the footnote's text, by footnote number.
FOOTNOTES = {
    1: ("sản lượng lương thực có hạt đạt 1.874 tấn",
        "Diện tích lúa xuân 152,3 ha, năng suất 57 tạ/ha; diện tích lúa mùa 160,8 ha, năng suất 49,5 tạ/ha."),
    2: ("Tổng đàn trâu 215 con",
        "Tiêm phòng lở mồm long móng được 320 con trâu, bò; tiêm phòng dại cho chó, mèo được 412 con."),
    3: ("Tổng thu ngân sách xã năm 2024 đạt 9.850 triệu đồng",
        "Thu tại xã 1.260 triệu đồng; thu bổ sung từ ngân sách cấp trên 8.590 triệu đồng."),
}
RESULTS_TABLE = [
    ("Chỉ tiêu", "Kế hoạch", "Thực hiện"),
    ("Tỷ lệ hộ nghèo", "3,5%", "3,12%"),
    ("Tỷ lệ người dân tham gia bảo hiểm y tế", "95%", "96,4%"),
    ("Số thôn đạt chuẩn văn hóa", "12 thôn", "11/12 thôn"),
]
TARGETS = [
    "Tổng sản lượng lương thực có hạt đạt 1.900 tấn;",
    "Thu ngân sách trên địa bàn đạt 1.350 triệu đồng;",
    "Giảm tỷ lệ hộ nghèo xuống dưới 2,5%;",
    "Tỷ lệ người dân tham gia bảo hiểm y tế đạt 97%;",
    "Trồng mới 35 ha rừng tập trung.",
]


# -- the Word file --------------------------------------------------------------------------------------

def _cite(paragraph, number: int) -> None:
    """A footnote reference run, as Word writes it."""
    paragraph._p.append(parse_xml(
        f'<w:r {nsdecls("w")}><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr>'
        f'<w:footnoteReference w:id="{number}"/></w:r>'))


def _footnotes_part() -> bytes:
    notes = [
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>',
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
        "</w:footnote>",
    ]
    for number, (_, text) in FOOTNOTES.items():
        notes.append(
            f'<w:footnote w:id="{number}"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/></w:pPr>'
            '<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:footnote>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{W_NS}">'
            + "".join(notes) + "</w:footnotes>").encode("utf-8")


def _rewrite(path: Path, change) -> None:
    """Rewrite the .docx zip with ``change(parts)`` applied to its parts (name → bytes)."""
    with zipfile.ZipFile(path) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    change(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def _add_footnotes(parts: dict[str, bytes]) -> None:
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    rel = f'<Relationship Id="rIdFootnotes1" Type="{FOOTNOTES_REL}" Target="footnotes.xml"/>'
    parts["word/_rels/document.xml.rels"] = rels.replace("</Relationships>", rel + "</Relationships>").encode()
    types = parts["[Content_Types].xml"].decode("utf-8")
    override = f'<Override PartName="/word/footnotes.xml" ContentType="{FOOTNOTES_TYPE}"/>'
    parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode()
    parts["word/footnotes.xml"] = _footnotes_part()


def write_phu_luong_plan(path: Path) -> Path:
    """Xã Phú Lương's 2025 plan, in the conventions of the Cao Lâu plan."""
    doc = WordDocument()
    header = doc.add_table(rows=2, cols=2)
    header.cell(0, 0).text = "UBND XÃ PHÚ LƯƠNG"
    header.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    header.cell(0, 1).add_paragraph("Độc lập - Tự do - Hạnh phúc")
    header.cell(1, 0).text = "Số: 15/KH-UBND"
    header.cell(1, 1).text = "Phú Lương, ngày 10 tháng 01 năm 2025"
    add = doc.add_paragraph
    add("KẾ HOẠCH")
    add("Phát triển kinh tế - xã hội năm 2025 xã Phú Lương")
    add("Căn cứ Nghị quyết số 45/NQ-HĐND ngày 20/12/2024 của HĐND xã Phú Lương về kế hoạch phát triển "
        "kinh tế - xã hội năm 2025;")
    add("Ủy ban nhân dân xã xây dựng Kế hoạch phát triển kinh tế - xã hội năm 2025 như sau:")
    add("Phần I")
    add("ĐÁNH GIÁ TÌNH HÌNH THỰC HIỆN KẾ HOẠCH PHÁT TRIỂN KINH TẾ - XÃ HỘI NĂM 2024")
    add("I – NHỮNG KẾT QUẢ ĐẠT ĐƯỢC")
    add("1. Về kinh tế")
    add("1.1. Về sản xuất nông nghiệp")
    _cite(add("Tổng diện tích gieo trồng cả năm đạt 412,6 ha, sản lượng lương thực có hạt đạt 1.874 tấn, "
              "đạt 103,5% kế hoạch."), 1)
    livestock = add("- ")
    livestock.add_run("Về chăn nuôi").italic = True
    livestock.add_run(": Tổng đàn trâu 215 con, đàn bò 178 con, đàn lợn 2.340 con, đàn gia cầm 48.500 con.")
    _cite(livestock, 2)
    add("1.2. Thu, chi ngân sách")
    _cite(add("Tổng thu ngân sách xã năm 2024 đạt 9.850 triệu đồng, đạt 112% dự toán; tổng chi ngân sách "
              "9.120 triệu đồng."), 3)
    add("2. Về văn hóa - xã hội")
    add("Kết quả thực hiện một số chỉ tiêu xã hội năm 2024 như sau:")
    table = doc.add_table(rows=len(RESULTS_TABLE), cols=3)
    for r, row in enumerate(RESULTS_TABLE):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    add("Trạm y tế xã duy trì đạt Bộ tiêu chí quốc gia về y tế xã; khám, chữa bệnh cho 6.215 lượt người.")
    add("Phần II")
    add("MỤC TIÊU, NHIỆM VỤ VÀ GIẢI PHÁP PHÁT TRIỂN KINH TẾ - XÃ HỘI NĂM 2025")
    add("I – MỤC TIÊU VÀ CÁC CHỈ TIÊU CHỦ YẾU")
    add("1. Mục tiêu tổng quát")
    add("Phát triển kinh tế nông nghiệp theo hướng hàng hóa, giữ vững quốc phòng, an ninh.")
    add("2. Các chỉ tiêu chủ yếu năm 2025")
    for n, target in enumerate(TARGETS, start=1):
        add(f"{n}) {target}")
    add("II – NHIỆM VỤ VÀ GIẢI PHÁP")
    add("Giao các ngành chuyên môn xây dựng kế hoạch cụ thể, báo cáo kết quả định kỳ 6 tháng, năm./.")
    add("Nơi nhận:")
    add("- UBND huyện;")
    add("- Lưu: VP.")
    add("TM. ỦY BAN NHÂN DÂN")
    add("CHỦ TỊCH")
    add("Nguyễn Văn Bình")
    doc.save(str(path))
    _rewrite(path, _add_footnotes)
    return path


@pytest.fixture(scope="module")
def plan_docx(tmp_path_factory) -> Path:
    return write_phu_luong_plan(tmp_path_factory.mktemp("docx") / f"{PHU_LUONG_NAME}.docx")


@pytest.fixture(scope="module")
def opened(tmp_path_factory, plan_docx):
    return KnowledgeBase.open(Store(tmp_path_factory.mktemp("one") / "kb.db"), [plan_docx])


@pytest.fixture(scope="module")
def plan_kb(opened) -> KnowledgeBase:
    return opened[0]


@pytest.fixture(scope="module")
def both_kb(tmp_path_factory, plan_docx) -> KnowledgeBase:
    kb, report = KnowledgeBase.open(Store(tmp_path_factory.mktemp("two") / "kb.db"), [CAO_LAU, plan_docx])
    assert report.documents == 2
    return kb


def answered(kb: KnowledgeBase, question: str) -> Reply:
    reply = kb.ask(question)
    assert reply.found and reply.kind == "answer", (question, reply)
    return reply


# -- the Word file itself ---------------------------------------------------------------------------------

def test_the_fixture_is_a_word_file_with_real_footnotes(plan_docx):
    with zipfile.ZipFile(plan_docx) as z:
        names = set(z.namelist())
        rels = z.read("word/_rels/document.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
        body = z.read("word/document.xml").decode()
        notes = z.read("word/footnotes.xml").decode()
    assert "word/footnotes.xml" in names
    assert FOOTNOTES_REL in rels and FOOTNOTES_TYPE in types
    assert sorted(re.findall(r'<w:footnoteReference w:id="(\d+)"/>', body)) == ["1", "2", "3"]
    assert 'w:type="separator" w:id="-1"' in notes and 'w:type="continuationSeparator" w:id="0"' in notes
    package = WordDocument(str(plan_docx)).part.package  # Word's own reader finds the part by its relationship
    assert any(str(p.partname) == "/word/footnotes.xml" for p in package.parts)


def test_text_form_has_header_lines_footnotes_after_their_paragraph_and_table_rows(plan_docx):
    lines = docx_to_text(plan_docx).splitlines()
    lines = [ln for ln in lines if ln]
    assert lines[:5] == ["UBND XÃ PHÚ LƯƠNG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                         "Số: 15/KH-UBND", "Phú Lương, ngày 10 tháng 01 năm 2025"]
    for number, (citing, note) in FOOTNOTES.items():
        marker = "¹²³"[number - 1]
        i = next(i for i, ln in enumerate(lines) if citing in ln)
        assert lines[i].endswith(marker), lines[i]
        assert lines[i + 1] == f"{marker} {note}"
    assert "- *Về chăn nuôi*: Tổng đàn trâu 215 con, đàn bò 178 con, đàn lợn 2.340 con, đàn gia cầm 48.500 con.²" \
        in lines
    assert "Chỉ tiêu: Tỷ lệ người dân tham gia bảo hiểm y tế; Kế hoạch: 95%; Thực hiện: 96,4%." in lines


# -- the Word plan alone ------------------------------------------------------------------------------------

def test_the_word_plan_builds_with_every_footnote_attached(opened):
    kb, report = opened
    assert report.documents == 1 and report.rebuilt
    assert report.footnotes_found == report.footnotes_attached == 3
    assert report.targets == 5
    [doc] = kb.documents
    assert doc.name == PHU_LUONG_NAME
    assert doc.title == "KẾ HOẠCH Phát triển kinh tế - xã hội năm 2025 xã Phú Lương"
    assert doc.meta["number"] == "15/KH-UBND"
    assert doc.meta["place_date"] == "Phú Lương, ngày 10 tháng 01 năm 2025"
    assert doc.meta["issuer"] == "UBND XÃ PHÚ LƯƠNG"  # the short form names the issuer too
    assert doc.meta["signer"] == "Nguyễn Văn Bình" and "CHỦ TỊCH" in doc.meta["signer_position"]
    assert doc.meta["recipients"] == "UBND huyện; Lưu: VP"
    assert kb.plan_year == 2025 and kb.stats()["commune"] == "xã Phú Lương"


def test_the_sections_follow_the_plans_headings(plan_kb):
    [doc] = plan_kb.documents
    assert doc.sections == [
        "Phần I. Đánh giá tình hình thực hiện kế hoạch phát triển kinh tế - xã hội năm 2024",
        "I. Những kết quả đạt được",
        "Mục 1. Về kinh tế",
        "Mục 1.1. Về sản xuất nông nghiệp",
        "Mục 1.2. Thu, chi ngân sách",
        "Mục 2. Về văn hóa - xã hội",
        "Phần II. Mục tiêu, nhiệm vụ và giải pháp phát triển kinh tế - xã hội năm 2025",
        "I. Mục tiêu và các chỉ tiêu chủ yếu",
        "Mục 1. Mục tiêu tổng quát",
        "Mục 2. Các chỉ tiêu chủ yếu năm 2025",
        "II. Nhiệm vụ và giải pháp",
    ]
    livestock = next(p for p in doc.passages if p.text.startswith("Tổng đàn trâu 215 con"))
    assert livestock.label == "Về chăn nuôi"  # the run-in "- *Về chăn nuôi*:" label
    assert livestock.path == ["Phần I", "I", "1. Về kinh tế", "1.1. Về sản xuất nông nghiệp"]
    assert livestock.year == 2024 and livestock.stance == "result"


@pytest.mark.parametrize("number", sorted(FOOTNOTES))
def test_each_footnote_is_attached_to_the_paragraph_citing_it(plan_kb, number):
    citing_text, note = FOOTNOTES[number]
    [doc] = plan_kb.documents
    [citer] = [p for p in doc.passages if citing_text in p.text and p.kind == "body"]
    assert citer.footnotes == {number: note}
    assert not re.search("[¹²³]", citer.text)  # the marker is gone from the text
    [passage] = [p for p in doc.passages if p.kind == "footnote" and p.footnote_number == number]
    assert passage.cited_by == citer.key and passage.text == note and passage.section == citer.section
    order = [p.key for p in doc.passages]
    assert order.index(passage.key) == order.index(citer.key) + 1
    whole = plan_kb.full_passage(passage.key)
    assert whole is not None and f"Chú thích {number}: {note}" in whole and citer.text in whole


def test_the_targets_are_found_with_their_figures(plan_kb):
    [doc] = plan_kb.documents
    assert [t.number for t in doc.targets] == [1, 2, 3, 4, 5]
    assert {t.field for t in doc.targets} == {"Các chỉ tiêu chủ yếu năm 2025"}
    assert [t.text for t in doc.targets] == [t.rstrip(";.") for t in TARGETS]
    figures = [(f.raw, f.unit) for t in doc.targets for f in t.figures]
    assert figures == [("1.900", "tấn"), ("1.350", "triệu đồng"), ("2,5", "%"), ("97", "%"), ("35", "ha")]
    targets = [p for p in doc.passages if p.kind == "target"]
    assert [p.target for p in targets] == [1, 2, 3, 4, 5]
    assert all(p.stance == "plan" and p.year == 2025 for p in targets)


def test_each_table_row_is_one_passage_under_its_section(plan_kb):
    [doc] = plan_kb.documents
    rows = [p for p in doc.passages if p.text.startswith("Chỉ tiêu:")]
    assert [p.text for p in rows] == [
        f"Chỉ tiêu: {name}; Kế hoạch: {plan}; Thực hiện: {done}." for name, plan, done in RESULTS_TABLE[1:]
    ]
    assert {p.section for p in rows} == {"Mục 2. Về văn hóa - xã hội"} and {p.year for p in rows} == {2024}


@pytest.mark.parametrize(("question", "row"), [
    ("Tỷ lệ người dân tham gia bảo hiểm y tế năm 2024 đạt bao nhiêu?", "bảo hiểm y tế"),
    ("Tỷ lệ hộ nghèo năm 2024 là bao nhiêu?", "Tỷ lệ hộ nghèo"),
    ("Có bao nhiêu thôn đạt chuẩn văn hóa?", "thôn đạt chuẩn văn hóa"),
])
def test_a_table_row_is_the_best_match_for_a_question_about_it(plan_kb, question, row):
    hits = search(plan_kb.index, plan_kb.understand(question))
    assert hits, question
    best = hits[0].segment.passage
    assert best.text.startswith("Chỉ tiêu:") and row in best.text, best.text


def test_a_table_row_question_is_answered_with_the_rows_figure(plan_kb):
    reply = answered(plan_kb, "Tỷ lệ người dân tham gia bảo hiểm y tế năm 2024 đạt bao nhiêu?")
    assert "96,4%" in reply.quote and reply.source == "Mục 2. Về văn hóa - xã hội"


@pytest.mark.parametrize(("question", "figure", "source"), [
    ("Tổng đàn trâu có bao nhiêu con?", "215 con", "Mục 1.1. Về sản xuất nông nghiệp"),
    ("dan lon co bao nhieu con", "2.340 con", "Mục 1.1. Về sản xuất nông nghiệp"),
    ("Năng suất lúa xuân đạt bao nhiêu?", "57 tạ/ha", "Mục 1.1. Về sản xuất nông nghiệp, chú thích 1"),
    ("tiêm phòng dại cho chó mèo được bao nhiêu con?", "412 con", "Mục 1.1. Về sản xuất nông nghiệp, chú thích 2"),
    ("Tổng thu ngân sách xã năm 2024 là bao nhiêu?", "9.850 triệu đồng", "Mục 1.2. Thu, chi ngân sách"),
    ("Tổng chi ngân sách năm 2024 là bao nhiêu?", "9.120 triệu đồng", "Mục 1.2. Thu, chi ngân sách"),
    ("Thu bổ sung từ ngân sách cấp trên bao nhiêu?", "8.590 triệu đồng",
     "Mục 1.2. Thu, chi ngân sách, chú thích 3"),
    ("khám chữa bệnh bao nhiêu lượt người?", "6.215 lượt", "Mục 2. Về văn hóa - xã hội"),
    ("Chỉ tiêu sản lượng lương thực năm 2025 là bao nhiêu?", "1.900 tấn",
     "Mục 2. Các chỉ tiêu chủ yếu năm 2025, chỉ tiêu 1"),
    ("Chỉ tiêu trồng rừng năm 2025 là bao nhiêu ha?", "35 ha", "Mục 2. Các chỉ tiêu chủ yếu năm 2025, chỉ tiêu 5"),
    ("Chủ tịch xã là ai?", "Nguyễn Văn Bình", "Thông tin văn bản"),
    ("Kế hoạch ban hành ngày nào?", "ngày 10 tháng 01 năm 2025", "Thông tin văn bản"),
])
def test_questions_are_answered_with_this_plans_figures_and_section(plan_kb, question, figure, source):
    reply = answered(plan_kb, question)
    assert figure in reply.quote, reply.quote
    assert reply.source == source  # one document: no document name in front of the section
    assert reply.passage_key and reply.passage_key.startswith(PHU_LUONG_NAME)
    for cao_lau in ("140 con", "595 con", "50 tạ/ha", "9.439.014.295", "1.105 tấn", "Hoàng Văn Điều"):
        assert cao_lau not in reply.quote


# -- the Word plan and the Cao Lâu plan together ---------------------------------------------------------------

def test_two_documents_build_together(both_kb):
    assert [d.name for d in both_kb.documents] == ["ke-hoach-ptktxh-2024-xa-cao-lau", PHU_LUONG_NAME]
    assert sum(d.footnotes_found for d in both_kb.documents) == 15 + 3
    assert all(d.footnotes_found == d.footnotes_attached for d in both_kb.documents)
    assert [len(d.targets) for d in both_kb.documents] == [15, 5]


@pytest.mark.parametrize(("question", "figure", "label"), [
    # Asked of one plan only: the answer names its document.
    ("Số hộ nghèo năm 2023 là bao nhiêu?", "81/910", CAO_LAU_LABEL),
    ("ho can ngheo con bao nhieu", "122/910", CAO_LAU_LABEL),
    ("Khám chữa bệnh cho bao nhiêu lượt người?", "6.215 lượt", PHU_LUONG_LABEL),
    ("Thu bổ sung từ ngân sách cấp trên bao nhiêu?", "8.590 triệu đồng", PHU_LUONG_LABEL),
    # The commune named.
    ("Tổng đàn trâu xã Phú Lương có bao nhiêu con?", "215 con", PHU_LUONG_LABEL),
    ("Tổng đàn trâu xã Cao Lâu có bao nhiêu con?", "140 con", CAO_LAU_LABEL),
    ("Xã Phú Lương có bao nhiêu con bò?", "178 con", PHU_LUONG_LABEL),
    ("Xã Cao Lâu có bao nhiêu con bò?", "Bò 66 con", CAO_LAU_LABEL),
    ("Chủ tịch xã Phú Lương là ai?", "Nguyễn Văn Bình", PHU_LUONG_LABEL),
    ("Chủ tịch xã Cao Lâu là ai?", "Hoàng Văn Điều", CAO_LAU_LABEL),
    ("Kế hoạch của xã Phú Lương ban hành ngày nào?", "ngày 10 tháng 01 năm 2025", PHU_LUONG_LABEL),
    # The year named: Cao Lâu reports 2023 and plans 2024, Phú Lương reports 2024 and plans 2025.
    ("Đàn trâu năm 2024 có bao nhiêu con?", "215 con", PHU_LUONG_LABEL),
    ("Đàn trâu năm 2023 có bao nhiêu con?", "140 con", CAO_LAU_LABEL),
    ("Tổng thu ngân sách xã năm 2024 là bao nhiêu?", "9.850 triệu đồng", PHU_LUONG_LABEL),
    ("Tổng thu ngân sách xã năm 2023 là bao nhiêu?", "9.439.014.295 đồng", CAO_LAU_LABEL),
    ("Chỉ tiêu sản lượng lương thực năm 2025 là bao nhiêu?", "1.900 tấn", PHU_LUONG_LABEL),
    ("Chỉ tiêu sản lượng lương thực năm 2024 là bao nhiêu?", "1.105 tấn", CAO_LAU_LABEL),
    pytest.param("Xã Cao Lâu tiêm phòng dại cho chó, mèo được bao nhiêu con?", "58 con", CAO_LAU_LABEL,
                 id="cao-lau-named-tiem-phong-dai"),
    pytest.param("cao lau tiem phong dai cho cho meo duoc bao nhieu con", "58 con", CAO_LAU_LABEL,
                 id="cao-lau-named-without-diacritics"),
    pytest.param("Năng suất lúa xuân năm 2024 đạt bao nhiêu?", "57 tạ/ha", PHU_LUONG_LABEL,
                 id="lua-xuan-2024-is-phu-luongs"),
])
def test_each_answer_names_its_document_and_a_named_commune_or_year_picks_it(both_kb, question, figure, label):
    reply = answered(both_kb, question)
    assert figure in reply.quote, (reply.source, reply.quote)
    assert reply.source and reply.source.startswith(f"{label} — "), reply.source
    other = PHU_LUONG_LABEL if label == CAO_LAU_LABEL else CAO_LAU_LABEL
    assert other not in reply.source


def test_a_third_commune_is_not_answered_from_either_plan(both_kb):
    reply = both_kb.ask("Xã Đồng Tâm có bao nhiêu con bò?")
    assert not reply.found


# -- the two real Lâm Đồng reports ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reports_kb(tmp_path_factory) -> KnowledgeBase:
    kb, report = KnowledgeBase.open(Store(tmp_path_factory.mktemp("reports") / "kb.db"),
                                    [REPORT_2025, REPORT_Q1_2026])
    assert report.documents == 2
    return kb


def _doc(kb: KnowledgeBase, path: Path):
    return next(d for d in kb.documents if d.name == path.stem)


@needs_reports
@pytest.mark.parametrize("path", [REPORT_2025, REPORT_Q1_2026], ids=["2025", "q1-2026"])
def test_a_real_report_builds_with_every_footnote_attached(tmp_path, path):
    kb, report = KnowledgeBase.open(Store(tmp_path / "kb.db"), [path])
    # 17/17 (2025) and 6/6 (quý I/2026) when this was written.
    assert report.footnotes_found == report.footnotes_attached > 0
    assert report.passages > 200 and report.sections > 10
    [doc] = kb.documents
    assert doc.title.startswith("BÁO CÁO Công tác cải cách hành chính")
    by_key = {p.key: p for p in doc.passages}
    notes = [p for p in doc.passages if p.kind == "footnote"]
    assert {p.footnote_number for p in notes} == set(range(1, report.footnotes_found + 1))
    for note in notes:
        citer = by_key[note.cited_by or ""]
        assert note.footnote_number in citer.footnotes and note.text in citer.footnotes[note.footnote_number]


@needs_reports
def test_the_reports_numbers_are_what_the_tests_ask_for():
    """The figures asked below, checked in the documents' own text first."""
    year = docx_to_text(REPORT_2025)
    quarter = docx_to_text(REPORT_Q1_2026)
    assert "Số hồ sơ giải quyết trước và đúng hạn là 193.457 (tỷ lệ 99,1%)" in year
    assert "Số hồ sơ giải quyết trước và đúng hạn là 120.088 (tỷ lệ 95,53%)" in quarter
    assert "95,53%" not in year and "(tỷ lệ 99,1%)" not in quarter
    # Table rows, only in the appendix tables.
    assert re.search(r"Số lượng phiếu khảo sát; .*25\.898\.", year) and "25.898" not in quarter
    assert re.search(r"Số lượng phiếu khảo sát; .*9\.458\.", quarter) and "9.458" not in year


@needs_reports
@pytest.mark.parametrize(("question", "figure", "period"), [
    ("Tỷ lệ hồ sơ giải quyết đúng hạn năm 2025 là bao nhiêu?", "99,1%", "năm 2025"),
    ("Tỷ lệ hồ sơ giải quyết đúng hạn quý I/2026 là bao nhiêu?", "95,53%", "quý I năm 2026"),
    ("Tỷ lệ hồ sơ giải quyết đúng hạn quý 1 năm 2026 là bao nhiêu?", "95,53%", "quý I năm 2026"),
    ("ty le ho so giai quyet dung han nam 2025", "99,1%", "năm 2025"),
])
def test_the_period_in_the_question_picks_the_report(reports_kb, question, figure, period):
    reply = answered(reports_kb, question)
    assert figure in reply.quote, reply.quote
    assert reply.source and reply.source.startswith(f"Báo cáo Công tác cải cách hành chính {period} — "), \
        reply.source


@needs_reports
@pytest.mark.parametrize(("question", "path", "figure"), [
    ("Số lượng phiếu khảo sát năm 2025 là bao nhiêu?", REPORT_2025, "25.898"),
    ("Số lượng phiếu khảo sát quý I/2026 là bao nhiêu?", REPORT_Q1_2026, "9.458"),
], ids=["2025", "q1-2026"])
def test_a_report_table_row_is_reached_by_a_question(reports_kb, question, path, figure):
    reply = answered(reports_kb, question)
    row = reports_kb.passage(reply.passage_key or "")
    assert row is not None and row.doc == path.stem
    assert "Số lượng phiếu khảo sát" in row.text and figure in row.text
    whole = reports_kb.full_passage(row.key)
    assert whole is not None and figure in whole  # the "Xem đầy đủ" button shows the figure


@needs_reports
def test_a_report_table_row_answer_quotes_its_figure(reports_kb):
    reply = answered(reports_kb, "Số lượng phiếu khảo sát quý I/2026 là bao nhiêu?")
    assert "9.458" in reply.quote, reply.quote


# -- a damaged file ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [
    b"This is not a Word file.\n" * 20,
    b"",
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    b"PK\x03\x04" + b"\x00" * 60,  # the zip signature and nothing after it
], ids=["text", "empty", "pdf", "zip-header-only"])
def test_a_damaged_docx_is_unreadable_source(tmp_path, content):
    path = tmp_path / "ke-hoach.docx"
    path.write_bytes(content)
    with pytest.raises(UnreadableSource) as err:
        parse_source(path)
    assert err.value.path == path
    with pytest.raises(UnreadableSource):
        KnowledgeBase.open(Store(tmp_path / "kb.db"), [path])


def test_a_truncated_docx_is_unreadable_source(tmp_path, plan_docx):
    path = tmp_path / "cut.docx"
    data = plan_docx.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableSource):
        parse_source(path)


def test_a_zip_that_is_not_a_word_file_is_unreadable_source(tmp_path):
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "not a document")
    with pytest.raises(UnreadableSource):
        parse_source(path)


@pytest.mark.parametrize("part", ["word/document.xml", "word/footnotes.xml"])
def test_a_docx_with_a_cut_xml_part_is_unreadable_source(tmp_path, plan_docx, part):
    path = tmp_path / "half-saved.docx"
    path.write_bytes(plan_docx.read_bytes())
    _rewrite(path, lambda parts: parts.__setitem__(part, parts[part][: len(parts[part]) // 2]))
    with pytest.raises(UnreadableSource):
        parse_source(path)


def test_a_header_of_two_rows_under_merged_cells_labels_each_figure(tmp_path):
    """"Kết quả" spans "Đơn vị tính" and "Số liệu": each figure is labelled with its own column, a header's
    aside in parentheses is left out, and a header naming a year is still a header."""
    doc = WordDocument()
    doc.add_paragraph("Phụ lục")
    table = doc.add_table(rows=4, cols=3)
    table.cell(0, 0).text = "Chỉ tiêu (dùng cho báo cáo năm)"
    table.cell(0, 1).merge(table.cell(0, 2)).text = "Kết quả năm 2025"
    table.cell(1, 1).text, table.cell(1, 2).text = "Đơn vị tính", "Số liệu"
    table.cell(2, 0).text, table.cell(2, 1).text, table.cell(2, 2).text = "Tỷ lệ hồ sơ đúng hạn", "%", "99,10"
    table.cell(3, 0).text, table.cell(3, 1).text, table.cell(3, 2).text = "Số phiếu khảo sát", "Phiếu", "25.898"
    path = tmp_path / "merged.docx"
    doc.save(str(path))
    lines = docx_to_text(path).splitlines()
    assert "Chỉ tiêu: Tỷ lệ hồ sơ đúng hạn; Kết quả năm 2025 Đơn vị tính: %; Kết quả năm 2025 Số liệu: 99,10." \
        in lines, lines
    assert not any("Đơn vị tính" in line and "Tỷ lệ" not in line and "phiếu" not in line for line in lines), lines
