"""Text as PDFs give it: glued syllables, spaced letters, .pdf sources, scanned PDFs."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from knowledge.kb import KnowledgeBase, UnreadableSource, parse_source
from knowledge.pdftext import is_syllable, repair
from knowledge.store import Store

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "data" / "ke-hoach-ptktxh-2024-xa-cao-lau.txt"

# Lines as a PDF's text layer gives them: a space lost after a syllable with a tone mark, a heading
# letter-spaced, a number glued to the word before it.
GLUED = """ỦY BAN NHÂN DÂN XÃ TÂN HÒA
BÁO CÁO tình hình thực hiện nhiệm vụ tháng 02 năm 2026
1. Nông nghiệp
Diện tích gieo trồng vụĐông-Xuân 2025-2026 đạt 591,7 ha, trong đó lúa 515,5 ha.
Thực hiện Chỉ thịsố06-CT/TU vềviệc tăng cường công tác giảm nghèo.
2. Xã hội
Số hộnghèo còn 45 hộ, chiếm tỷ lệ 4,2%; trao quà cho 97 hộnghèo, sốtiền 38,8triệu đồng.
U B N D x ã đ ã t i ế p n h ậ n 390 hồsơ thủ tục hành chính, đềxuất bổsung nhân sự.
Cây Mắcca và phần mềm VneID vẫn giữ nguyên tên.
"""


def test_a_syllable_has_one_shape_and_one_tone():
    assert all(is_syllable(w) for w in ["người", "nghiêng", "khuya", "quyết", "giữ", "khuỷu", "tuổi", "hồ"])
    assert not any(is_syllable(w) for w in ["hộnghèo", "hồsơ", "giấych", "chỉtiêu"])


def test_glued_words_are_put_apart_and_spaced_letters_joined():
    text, changed = repair(GLUED)
    assert "hộ nghèo" in text and "hồ sơ" in text and "số tiền 38,8 triệu" in text
    assert "vụ Đông-Xuân" in text
    assert "Chỉ thị số 06-CT/TU về việc" in text
    assert "UBND xã đã tiếp nhận 390" in text
    assert "đề xuất bổ sung" in text
    assert "Mắcca" in text and "VneID" in text  # a loanword and a name keep their letters
    assert changed >= 10


def test_a_plan_typed_in_word_is_left_as_its_author_wrote_it():
    original = PLAN.read_text(encoding="utf-8")
    text, changed = repair(original)
    assert changed == 0
    assert "596.000đ" in text and "01lượt" in text


def _pdf(path: Path, lines: list[str], image: bool = False) -> Path:
    matplotlib.rcParams["pdf.fonttype"] = 42  # embedded TrueType: the text layer keeps Vietnamese letters
    fig = plt.figure(figsize=(8.27, 11.69))
    if image:
        fig.figimage([[0.1, 0.9], [0.5, 0.3]] * 50, resize=False)
    for i, line in enumerate(lines):
        fig.text(0.05, 0.95 - i * 0.03, line, fontsize=9)
    fig.savefig(path)
    plt.close(fig)
    return path


def test_a_pdf_source_is_read_and_put_right(tmp_path):
    pdf = _pdf(tmp_path / "bao-cao.pdf", GLUED.splitlines())
    doc = parse_source(pdf)
    text = " ".join(p.text for p in doc.passages)
    assert "hộ nghèo còn 45 hộ" in text
    assert doc.repaired >= 10
    kb, report = KnowledgeBase.open(Store(tmp_path / "kb.db"), [pdf])
    assert report.repaired >= 10
    reply = kb.ask("số hộ nghèo còn bao nhiêu")
    assert reply.found and "45 hộ" in reply.quote


def test_a_scanned_pdf_is_refused_with_its_reason(tmp_path):
    pdf = _pdf(tmp_path / "scan.pdf", [], image=True)
    with pytest.raises(UnreadableSource) as err:
        parse_source(pdf)
    assert err.value.scanned


def test_a_damaged_pdf_is_unreadable_not_a_crash(tmp_path):
    bad = tmp_path / "hong.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really a pdf")
    with pytest.raises(UnreadableSource) as err:
        parse_source(bad)
    assert not err.value.scanned
