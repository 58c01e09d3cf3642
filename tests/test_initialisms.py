"""An abbreviation no lexicon lists is read from the document's own words (``Speller.initialism``).

Every commune writes its own shorthand ("ĐTC" for đầu tư công, "TĐC" for tái định cư); no list can hold
them all, but a document that writes the words often enough says what its letters stand for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.kb import KnowledgeBase
from knowledge.store import Store

PLAN = """KẾ HOẠCH
Phát triển kinh tế - xã hội năm 2025 xã Hòa Sơn

I. KẾT QUẢ NĂM 2024
1. Về đầu tư công
Năm 2024 xã được giao kế hoạch vốn đầu tư công 12.500 triệu đồng; giải ngân vốn đầu tư công đạt 87,4% kế hoạch.
Các dự án đầu tư công chuyển tiếp được bố trí đủ vốn.
2. Về tái định cư
Khu tái định cư thôn Đồng Mới đã bàn giao 42 lô cho các hộ dân; khu tái định cư thôn Nà Pá còn 15 lô chưa giao.
Công tác tái định cư được thực hiện công khai.
3. Về dân số
Dân số toàn xã có 6.120 người.
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> KnowledgeBase:
    folder = tmp_path_factory.mktemp("plan")
    source = folder / "ke-hoach-xa-hoa-son-2025.txt"
    source.write_text(PLAN, encoding="utf-8")
    kb, _ = KnowledgeBase.open(Store(Path(folder) / "kb.db"), [source])
    return kb


def test_an_unlisted_abbreviation_is_spelt_out_from_the_documents_words(kb):
    assert kb.speller.initialism("dtc") == ("dau", "tu", "cong")
    assert kb.speller.initialism("tdc") == ("tai", "dinh", "cu")


def test_the_question_with_the_abbreviation_gets_the_sentence_that_writes_it_out(kb):
    reply = kb.ask("Giải ngân vốn ĐTC đạt bao nhiêu % kế hoạch?")
    assert reply.found and "87,4%" in kb.render(reply)
    reply = kb.ask("khu TĐC thôn Đồng Mới bàn giao bao nhiêu lô")
    assert reply.found and "42 lô" in kb.render(reply)


def test_letters_the_documents_do_not_write_out_stay_unknown(kb):
    assert kb.speller.initialism("xyz") is None
    assert kb.speller.initialism("dtm") is None  # no run of words spells it three times
    assert not kb.ask("Xã có bao nhiêu ĐTM?").found
