"""knowledge/document.py: the real plan, and a second plan in the same conventions."""

from __future__ import annotations

import unicodedata

import pytest

from knowledge.document import Document, Passage, markers, parse_file, parse_text

BUDGET = "Tổng thu ngân sách xã là 9.439.014.295 đồng"


def by_key(doc: Document) -> dict[str, Passage]:
    return {p.key: p for p in doc.passages}


def containing(doc: Document, needle: str, kinds: tuple[str, ...] | None = None) -> list[Passage]:
    return [p for p in doc.passages if needle in p.text and (kinds is None or p.kind in kinds)]


def footnote_text(doc: Document, number: int) -> str:
    return "\n".join(p.text for p in doc.passages if p.kind == "footnote" and p.footnote_number == number)


def non_footnote_text(doc: Document) -> str:
    return "\n".join(p.text for p in doc.passages if p.kind != "footnote")


# -- the real plan: footnotes ---------------------------------------------------------------------


def test_all_fifteen_footnotes_found_and_attached(plan_doc):
    assert plan_doc.footnotes_found == 15
    assert plan_doc.footnotes_attached == 15


@pytest.mark.parametrize("number", range(1, 16))
def test_footnote_passage_attached_to_its_citing_passage(plan_doc, number):
    keys = by_key(plan_doc)
    notes = [p for p in plan_doc.passages if p.kind == "footnote" and p.footnote_number == number]
    assert notes, f"no passage for footnote {number}"
    order = [p.key for p in plan_doc.passages]
    for note in notes:
        assert note.text.strip()
        citer = keys.get(note.cited_by or "")
        assert citer is not None, f"footnote {number} cited by unknown passage {note.cited_by!r}"
        assert citer.kind in {"body", "target"}
        assert number in citer.footnotes
        assert note.text in citer.footnotes[number]
        assert order.index(note.key) > order.index(citer.key)  # shown after the passage that cites it
        assert note.section == citer.section and note.path == citer.path


def test_footnote_markers_are_stripped_from_text(plan_doc):
    for p in plan_doc.passages:
        assert markers(p.text) == [], p.key
        assert not any(ch in p.text for ch in "¹⁴⁵⁶⁷⁸⁹⁰"), p.key
    # m² and m³ are units, not footnotes: they stay.
    assert containing(plan_doc, "68.000m²")
    assert containing(plan_doc, "680 m³")
    # the sentence that cited ¹ still reads whole
    cited = containing(plan_doc, "diện tích gieo trồng trong năm đạt và vượt chỉ tiêu giao", ("body",))
    assert len(cited) == 1 and cited[0].text.endswith("chỉ tiêu giao.")
    assert 1 in cited[0].footnotes


def test_page_split_paragraph_is_rejoined(plan_doc):
    joined = "đầu tháng 12 xã được cấp 03 tấn xi măng thủy lợi, phân bổ cho 02 thôn"
    hits = containing(plan_doc, joined)
    assert len(hits) == 1
    (para,) = hits
    assert para.kind == "body"
    assert "Thủy lợi" in para.context
    assert para.text.endswith("(Còn Nàn: 2,2 tấn và Bản Đon: 0,8 tấn).")
    # the footnote lines that sat between the two halves stay out of it ...
    assert "Tiêm phòng LMLM được 130 con" not in para.text
    assert "Cấp cây phân tán" not in para.text
    # ... and the continuation stays out of the footnotes
    assert "xi măng thủy lợi" not in footnote_text(plan_doc, 3)
    assert "xi măng thủy lợi" not in footnote_text(plan_doc, 4)


def test_second_page_split_and_footnote_running_on(plan_doc):
    hits = containing(plan_doc, "02 Tiểu đội trưởng, 01 Khẩu đội trưởng")
    assert len(hits) == 1 and hits[0].kind == "body"
    assert "78/2015" not in hits[0].text
    note = footnote_text(plan_doc, 15)
    assert "Luật nghĩa vụ quân sự số 78/2015/QH13" in note
    assert note.startswith("Nghị định 137/2020/NĐ- CP")
    assert "quản lý cửa khẩu biên giới đất liền sửa đổi bổ sung ngày 16/6/2023." in note
    body = non_footnote_text(plan_doc)
    assert "Luật nghĩa vụ quân sự số 78/2015/QH13" not in body
    assert "các Nghị định, Thông tư hướng dẫn thi hành Luật Đất đai" not in body


# -- the real plan: targets, sections, metadata ------------------------------------------------------


def test_fifteen_targets(plan_doc):
    assert [t.number for t in plan_doc.targets] == list(range(1, 16))
    for t in plan_doc.targets:
        assert t.field.strip() and t.text.strip()
    target_passages = [p for p in plan_doc.passages if p.kind == "target"]
    assert sorted(p.target for p in target_passages) == list(range(1, 16))


def test_target_figures(plan_doc):
    first, second = plan_doc.targets[0], plan_doc.targets[1]
    assert first.field == "Lĩnh vực kinh tế"
    assert first.text == "Tổng sản lượng lương thực có hạt 1.105 tấn"
    assert [(f.raw, f.unit) for f in first.figures] == [("1.105", "tấn")]
    assert [(f.raw, f.unit) for f in second.figures] == [("600", "con"), ("600", "con"), ("31.000", "con")]
    twelve = plan_doc.targets[11]
    assert [(f.raw, f.unit) for f in twelve.figures] == [("19/19", "tiêu chí")]


def test_budget_passage_section(plan_doc):
    (budget,) = containing(plan_doc, BUDGET)
    assert budget.kind == "body"
    assert budget.path == ["Phần I", "I", "1. Về kinh tế", "1.4. Thu, chi ngân sách"]
    assert budget.section == "Mục 1.4. Thu, chi ngân sách"
    assert budget.year == 2023 and budget.stance == "result"
    assert "Mục 1.4. Thu, chi ngân sách" in plan_doc.sections


def test_header_and_signature_are_metadata(plan_doc):
    meta = plan_doc.meta
    assert "number" in meta and meta["number"].endswith("KH-UBND")
    assert meta["place_date"].startswith("Cao Lâu, ngày")
    assert meta["signer"] == "Hoàng Văn Điều"
    assert plan_doc.title.startswith("KẾ HOẠCH") and "2024" in plan_doc.title
    body = [p for p in plan_doc.passages if p.kind != "meta"]
    for p in body:
        for needle in ("Nơi nhận", "Phòng TC-KH, NN&PTNT huyện", "UB MTTQVN xã", "Lưu: VP", "Hoàng Văn Điều",
                       "Số: /KH-UBND", "Cao Lâu, ngày tháng 03"):
            assert needle not in p.text, (p.key, needle)
    meta_passages = [p for p in plan_doc.passages if p.kind == "meta"]
    assert any("Hoàng Văn Điều" in p.text for p in meta_passages)


def test_run_in_label_becomes_context(plan_doc):
    (herd,) = [p for p in plan_doc.passages if p.text.startswith("Tổng đàn Trâu hiện còn 140 con")]
    assert "Về chăn nuôi" in herd.context
    (forest,) = containing(plan_doc, "Trong năm trồng được 50,5 ha rừng")
    assert "Về lâm nghiệp" in forest.context


def test_parts_carry_year_and_stance(plan_doc):
    part_one = [p for p in plan_doc.passages if p.path[:1] == ["Phần I"] and p.kind == "body"]
    assert part_one and all(p.year == 2023 and p.stance == "result" for p in part_one)
    targets = [p for p in plan_doc.passages if p.kind == "target"]
    assert targets and all(p.year == 2024 and p.stance == "plan" for p in targets)
    assert all(p.path[:2] == ["Phần II", "II"] for p in targets)


def test_every_passage_has_its_place(plan_doc):
    keys = [p.key for p in plan_doc.passages]
    assert len(keys) == len(set(keys))
    for p in plan_doc.passages:
        assert p.text.strip(), p.key
        assert p.section and p.path, p.key
        assert p.kind in {"body", "footnote", "target", "meta"}


def test_parse_file_equals_parse_text(plan_path, plan_doc):
    assert parse_text(plan_path.read_text(encoding="utf-8"), name=plan_path.stem) == plan_doc
    assert parse_file(plan_path) == plan_doc


def test_windows_line_endings_parse_the_same(plan_path, plan_doc):
    crlf = plan_path.read_text(encoding="utf-8").replace("\n", "\r\n")
    assert parse_text(crlf, name=plan_path.stem) == plan_doc


def test_utf8_bom_file_parses_the_same(tmp_path, plan_path, plan_doc):
    """Notepad and Word save "UTF-8 with BOM": the BOM is not text."""
    bom = tmp_path / plan_path.name
    bom.write_bytes(b"\xef\xbb\xbf" + plan_path.read_bytes())
    assert parse_file(bom) == plan_doc
    assert parse_text("\ufeff" + plan_path.read_text(encoding="utf-8"), name=plan_path.stem) == plan_doc


def test_nfd_source_parses_the_same(plan_path, plan_doc):
    decomposed = unicodedata.normalize("NFD", plan_path.read_text(encoding="utf-8"))
    doc = parse_text(decomposed, name=plan_path.stem)
    assert doc.meta.get("number") == plan_doc.meta["number"]
    nfc = [(unicodedata.normalize("NFC", p.text), [unicodedata.normalize("NFC", c) for c in p.path])
           for p in doc.passages]
    assert nfc == [(p.text, p.path) for p in plan_doc.passages]


# -- a second plan, written here, in the same conventions -------------------------------------------

TAN_HOA = """\
ỦY BAN NHÂN DÂN
XÃ TÂN HÒA

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: 12/KH-UBND

Tân Hòa, ngày 15 tháng 01 năm 2025

KẾ HOẠCH **Phát triển kinh tế - xã hội năm 2025 xã Tân Hòa**

Căn cứ Nghị quyết số 45/NQ-HĐND ngày 20/12/2024 của HĐND xã Tân Hòa về kế hoạch phát triển kinh tế - xã hội năm 2025;

Ủy ban nhân dân xã Tân Hòa xây dựng Kế hoạch phát triển kinh tế - xã hội năm 2025 như sau:

Phần I

ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN KẾ HOẠCH NĂM 2024

I – KẾT QUẢ ĐẠT ĐƯỢC

1. Lĩnh vực kinh tế

1.1. Sản xuất nông nghiệp và thủy sản

- *Về trồng trọt*: Tổng diện tích gieo trồng cả năm đạt 412,6 ha, tăng 3,2% so với năm 2023¹.

Sản lượng lương thực có hạt cả năm đạt 2.287 tấn, năng suất lúa bình quân 58,4 tạ/ha.

- *Về thủy sản*: Diện tích nuôi trồng thủy sản 37,5 ha, sản lượng cá thương phẩm đạt 96 tấn².

Xã tổ chức 04 lớp tập huấn kỹ thuật nuôi cá lồng cho 160 lượt hộ dân, cấp 2.400 con cá giống cho 12 hộ nghèo \
tại thôn Đồng Sen, đến tháng 11 các hộ đã thu hoạch lứa cá đầu tiên với sản lượng

¹Trong đó: lúa chiêm xuân 180,4 ha, lúa mùa 175,2 ha, ngô đông 57 ha.

² Cá rô phi đơn tính 58 tấn, cá trắm cỏ 23 tấn, các loại cá khác 15 tấn.

bình quân 1,2 tấn mỗi hộ, thu nhập tăng gấp đôi so với trồng lúa.

1.2. Thu, chi ngân sách: Tổng thu ngân sách xã Tân Hòa là 5.120.500.000 đồng, đạt 104,5% dự toán huyện giao³. \
Chi ngân sách xã là 4.870.000.000 đồng.

³ Thu phí, lệ phí 86.000.000 đồng; thu từ quỹ đất công ích 142.000.000 đồng; thu bổ sung cân đối từ ngân sách \
huyện 4.892.500.000 đồng; các khoản thu khác gồm thu phạt vi phạm hành chính,

2. Lĩnh vực văn hóa - xã hội

2.1. Giáo dục: Trường Mầm non Tân Hòa có 9 nhóm lớp với 231 trẻ, trường Tiểu học có 15 lớp với 412 học sinh⁴.

tiền cho thuê ki ốt chợ và đóng góp tự nguyện của nhân dân.

⁴ Tỷ lệ học sinh hoàn thành chương trình tiểu học đạt 100%.

2.2. Y tế: Trạm Y tế xã khám bệnh cho 3.140 lượt người, tỷ lệ người dân tham gia bảo hiểm y tế đạt 93,6%.

Phần II

MỤC TIÊU, NHIỆM VỤ VÀ GIẢI PHÁP NĂM 2025

I – MỤC TIÊU VÀ CÁC CHỈ TIÊU CHỦ YẾU

1. Mục tiêu tổng quát

Phát triển kinh tế nông nghiệp gắn với xây dựng nông thôn mới nâng cao, giữ vững an ninh trật tự.

2. Các chỉ tiêu chủ yếu năm 2025

1) Tổng sản lượng lương thực có hạt 2.350 tấn;
2) Diện tích nuôi trồng thủy sản 40 ha, sản lượng cá 105 tấn;
3) Thu ngân sách trên địa bàn 350.000.000 đồng;
4) Tỷ lệ hộ nghèo giảm còn 2,5%;
5) Tỷ lệ người dân tham gia bảo hiểm y tế đạt 95%.

II – NHIỆM VỤ VÀ GIẢI PHÁP CHỦ YẾU

1. Chỉ đạo sản xuất vụ chiêm xuân đúng khung thời vụ, mở rộng diện tích nuôi cá lồng tại thôn Đồng Sen.

Nơi nhận:
- UBND huyện Tân Lập;
- Thường trực Đảng ủy, HĐND xã;
- Lưu: VP.

TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH

Nguyễn Thị Lan
"""


@pytest.fixture(scope="module")
def tan_hoa() -> Document:
    return parse_text(TAN_HOA, name="tan-hoa")


def test_second_plan_footnotes_all_attached(tan_hoa):
    assert tan_hoa.footnotes_found == 4
    assert tan_hoa.footnotes_attached == 4
    keys = by_key(tan_hoa)
    for n in range(1, 5):
        notes = [p for p in tan_hoa.passages if p.kind == "footnote" and p.footnote_number == n]
        assert notes, n
        for note in notes:
            assert n in keys[note.cited_by].footnotes
    for p in tan_hoa.passages:
        assert markers(p.text) == [], p.key
    assert footnote_text(tan_hoa, 1) == "Trong đó: lúa chiêm xuân 180,4 ha, lúa mùa 175,2 ha, ngô đông 57 ha."
    (crops,) = containing(tan_hoa, "Tổng diện tích gieo trồng cả năm đạt 412,6 ha")
    assert crops.footnotes[1].startswith("Trong đó: lúa chiêm xuân")


def test_second_plan_split_paragraph_rejoined(tan_hoa):
    joined = "thu hoạch lứa cá đầu tiên với sản lượng bình quân 1,2 tấn mỗi hộ"
    hits = containing(tan_hoa, joined)
    assert len(hits) == 1 and hits[0].kind == "body"
    assert hits[0].text.endswith("so với trồng lúa.")
    assert "rô phi" not in hits[0].text and "chiêm xuân 180,4" not in hits[0].text
    assert "bình quân 1,2 tấn" not in footnote_text(tan_hoa, 2)


def test_second_plan_footnote_running_on_past_the_body(tan_hoa):
    note = footnote_text(tan_hoa, 3)
    assert note.startswith("Thu phí, lệ phí 86.000.000 đồng")
    assert note.endswith("tiền cho thuê ki ốt chợ và đóng góp tự nguyện của nhân dân.")
    assert "ki ốt chợ" not in non_footnote_text(tan_hoa)
    (school,) = containing(tan_hoa, "Trường Mầm non Tân Hòa có 9 nhóm lớp")
    assert school.text.endswith("412 học sinh.")
    assert 4 in school.footnotes


def test_second_plan_sections_and_context(tan_hoa):
    (budget,) = containing(tan_hoa, "Tổng thu ngân sách xã Tân Hòa là 5.120.500.000 đồng")
    assert budget.path == ["Phần I", "I", "1. Lĩnh vực kinh tế", "1.2. Thu, chi ngân sách"]
    assert budget.section == "Mục 1.2. Thu, chi ngân sách"
    assert budget.year == 2024 and budget.stance == "result"
    (crops,) = containing(tan_hoa, "Tổng diện tích gieo trồng cả năm")
    assert crops.context == ["Về trồng trọt"]
    (fish,) = containing(tan_hoa, "Diện tích nuôi trồng thủy sản 37,5 ha", ("body",))
    assert fish.context == ["Về thủy sản"]
    assert "Mục 2.2. Y tế" in tan_hoa.sections
    assert tan_hoa.sections[0].startswith("Phần I")


def test_second_plan_targets(tan_hoa):
    assert [t.number for t in tan_hoa.targets] == [1, 2, 3, 4, 5]
    assert all(t.field == "Các chỉ tiêu chủ yếu năm 2025" for t in tan_hoa.targets)
    assert [(f.raw, f.unit) for f in tan_hoa.targets[0].figures] == [("2.350", "tấn")]
    assert [(f.raw, f.unit) for f in tan_hoa.targets[1].figures] == [("40", "ha"), ("105", "tấn")]
    assert [(f.raw, f.unit) for f in tan_hoa.targets[3].figures] == [("2,5", "%")]
    targets = [p for p in tan_hoa.passages if p.kind == "target"]
    assert [p.target for p in targets] == [1, 2, 3, 4, 5]
    assert all(p.year == 2025 and p.stance == "plan" for p in targets)


def test_second_plan_header_and_signature(tan_hoa):
    assert tan_hoa.meta["number"] == "12/KH-UBND"
    assert tan_hoa.meta["place_date"] == "Tân Hòa, ngày 15 tháng 01 năm 2025"
    assert tan_hoa.meta["signer"] == "Nguyễn Thị Lan"
    assert "UBND huyện Tân Lập" in tan_hoa.meta["recipients"]
    assert tan_hoa.title == "KẾ HOẠCH Phát triển kinh tế - xã hội năm 2025 xã Tân Hòa"
    for p in tan_hoa.passages:
        if p.kind == "meta":
            continue
        for needle in ("Nơi nhận", "UBND huyện Tân Lập", "Lưu: VP", "Nguyễn Thị Lan", "12/KH-UBND",
                       "CỘNG HÒA", "Độc lập - Tự do"):
            assert needle not in p.text, (p.key, needle)
