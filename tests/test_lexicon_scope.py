"""One plan's wording reaches only that plan's questions (issue 10, item 8).

synonyms.yaml, glossary.yaml and cues.yaml serve every commune; a document's own names, spellings and
phrases live in its ``*-lexicon.yaml`` and are merged only when that document is loaded. These tests open
real knowledge bases (the Cao Lâu plan, a Công Hải resolution) and read the shared files as data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.kb import KnowledgeBase
from knowledge.lexicon import DATA_DIR, Lexicon, accented_tokens
from knowledge.store import Store
from knowledge.text import tokens

ROOT = Path(__file__).resolve().parent.parent
CAO_LAU = ROOT / "data" / "ke-hoach-ptktxh-2024-xa-cao-lau.txt"
CONG_HAI = ROOT / "tests" / "fixtures" / "corpus" / "cong-hai-nq05-phuong-huong-2026.txt"
SHARED = ("synonyms.yaml", "glossary.yaml", "cues.yaml")


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(tokens(text))


@pytest.fixture(scope="module")
def cao_lau(tmp_path_factory) -> Lexicon:
    kb, _ = KnowledgeBase.open(Store(tmp_path_factory.mktemp("cao-lau") / "kb.db"), [CAO_LAU])
    return kb.lexicon


@pytest.fixture(scope="module")
def cong_hai(tmp_path_factory) -> Lexicon:
    kb, _ = KnowledgeBase.open(Store(tmp_path_factory.mktemp("cong-hai") / "kb.db"), [CONG_HAI])
    return kb.lexicon


def test_the_plans_lexicon_names_its_source_file():
    own = yaml.safe_load((DATA_DIR / "cao-lau-lexicon.yaml").read_text(encoding="utf-8"))
    assert own["document"] == CAO_LAU.stem


def test_the_plans_own_words_are_merged_when_it_is_loaded(cao_lau):
    assert cao_lau.glossary[_phrase("market")] == _phrase("chợ ba sơn")
    assert cao_lau.colloquial[_phrase("bệnh viện")] == _phrase("cơ sở y tế")
    assert cao_lau.colloquial[_phrase("suất")] == _phrase("xuất")  # the plan writes "20 xuất"
    assert _phrase("nđ116") in cao_lau.abbreviations
    assert cao_lau.counter_of(_phrase("xuất")) is cao_lau.counter_of(_phrase("suất")) is not None
    assert any(_phrase("quyết định 49") in member for group in cao_lau.contrasts for member in group)


def test_another_plan_loaded_alone_gets_only_the_shared_words(cong_hai):
    assert cong_hai.glossary[_phrase("market")] == _phrase("chợ")
    assert cong_hai.glossary[_phrase("hospital")] == _phrase("bệnh viện")
    for cao_lau_only in ("bệnh viện", "suất", "mắc ca", "băng rôn", "cài app", "lũ lụt"):
        assert _phrase(cao_lau_only) not in cong_hai.colloquial, cao_lau_only
    assert _phrase("nđ116") not in cong_hai.abbreviations
    assert cong_hai.counter_of(_phrase("xuất")) is None
    assert not any(_phrase("quyết định 49") in member for group in cong_hai.contrasts for member in group)
    # the shared words themselves are all there
    assert cong_hai.colloquial[_phrase("heo")] == _phrase("lợn")
    assert cong_hai.abbreviations[_phrase("ubnd")] == _phrase("ủy ban nhân dân")


def test_both_plans_loaded_together_read_cao_lau_with_its_words(tmp_path):
    kb, _ = KnowledgeBase.open(Store(tmp_path / "kb.db"), [CAO_LAU, CONG_HAI])
    assert kb.lexicon.glossary[_phrase("market")] == _phrase("chợ ba sơn")


def test_a_communes_folder_lexicon_is_merged_only_for_its_document(tmp_path):
    (tmp_path / "xa-mau-lexicon.yaml").write_text(
        "document: ke-hoach-xa-mau-2025\n"
        "colloquial:\n  heo: heo rừng\n  chợ phiên: chợ trung tâm\n"
        "terms:\n  market: chợ trung tâm\n"
        "counters:\n  - members: [con, đầu con, cá thể]\n"
        "stopwords: [kính gửi]\n",
        encoding="utf-8",
    )
    shared = Lexicon.load(tmp_path)
    assert _phrase("chợ phiên") not in shared.colloquial
    assert shared.glossary[_phrase("market")] == _phrase("chợ")

    own = Lexicon.load(tmp_path, ["ke-hoach-xa-mau-2025"])
    assert own.colloquial[_phrase("chợ phiên")] == _phrase("chợ trung tâm")
    assert own.colloquial[_phrase("heo")] == _phrase("heo rừng")  # the document's entry replaces the shared one
    assert own.glossary[_phrase("market")] == _phrase("chợ trung tâm")
    assert own.counter_of(_phrase("cá thể")) is own.counter_of(_phrase("con"))  # joins the shared group
    assert "kinh gui" in own.stopwords and "la" in own.stopwords  # the list grows
    assert _phrase("bệnh viện") not in own.colloquial  # Cao Lâu's file is not this document's


def test_a_document_lexicon_without_its_document_or_with_a_misspelt_section_is_refused(tmp_path):
    (tmp_path / "a-lexicon.yaml").write_text("colloquial:\n  heo: lợn\n", encoding="utf-8")
    with pytest.raises(ValueError, match="document"):
        Lexicon.load(tmp_path, ["anything"])
    (tmp_path / "a-lexicon.yaml").write_text("document: x\ncolloquail:\n  heo: lợn\n", encoding="utf-8")
    with pytest.raises(ValueError, match="colloquail"):
        Lexicon.load(tmp_path, ["x"])


# -- the shared files ---------------------------------------------------------------------------------------

def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)] if value is not None else []


def _shared_entries() -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for name in SHARED:
        data = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
        out += [(f"{name}: {s}", tuple(accented_tokens(s))) for s in _strings(data)]
    return out


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    return any(words[i : i + len(phrase)] == phrase for i in range(len(words) - len(phrase) + 1))


def test_no_shared_entry_names_a_place_of_the_cao_lau_plan():
    commune = yaml.safe_load((DATA_DIR / "commune.yaml").read_text(encoding="utf-8"))
    names = ["Ba Sơn", "Cao Lâu", "Cao Lộc", *commune["villages"], "Nà Bó", "Nà Pheo", "Nà Luộc", "Nà Hộc",
             "Đoàn Kinh tế 338", "Xứ Lạng"]
    entries = _shared_entries()
    assert len(entries) > 3000  # the files were read
    for name in names:
        phrase = tuple(accented_tokens(name))
        found = [where for where, words in entries if _contains(words, phrase)]
        assert not found, (name, found)


def test_no_shared_entry_carries_the_cao_lau_plans_spelling():
    # The plan's own spellings: "xuất" for a portion, "băng zôn", "mắcca", "VietGarp", "quả sớ", "VinGrup".
    for spelling in ("xuất quà", "mỗi xuất", "băng zôn", "mắcca", "vietgarp", "quả sớ", "vingrup"):
        phrase = tuple(accented_tokens(spelling))
        found = [where for where, words in _shared_entries() if _contains(words, phrase)]
        assert not found, (spelling, found)
