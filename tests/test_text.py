"""knowledge/text.py: normalisation, folding, tokens, numbers, Telex."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.text import (
    AmbiguousNumber,
    fold,
    format_number,
    nfc,
    normalize,
    parse_number,
    telex_decode,
    tokens,
)

SENTENCES = [
    "Tổng thu ngân sách xã là 9.439.014.295 đồng",
    "Số hộ nghèo, hộ cận nghèo năm 2023",
    "Người cao tuổi được trợ cấp xã hội hàng tháng",
    "Xi măng thủy lợi phân bổ cho thôn Còn Nàn",
    "Đường giao thông nông thôn, Ủy ban nhân dân xã Cao Lâu",
]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# -- NFC / NFD ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence", SENTENCES)
def test_nfd_and_nfc_meet_after_normalize_and_fold(sentence):
    decomposed = nfd(sentence)
    assert decomposed != sentence  # the test really feeds decomposed text
    assert normalize(decomposed) == normalize(sentence)
    assert fold(decomposed) == fold(sentence)
    assert tokens(decomposed) == tokens(sentence)
    assert unicodedata.is_normalized("NFC", normalize(decomposed))


# -- tone placement --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_style", "old_style"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("HOÀ", "hòa"),
        ("hoá", "hóa"),
        ("khoẻ", "khỏe"),
        ("uỷ ban", "ủy ban"),
        ("Thuỷ lợi", "thủy lợi"),
        ("qúy", "quý"),  # qu-: the tone goes on the vowel after it
        ("gìa", "già"),  # gi-: likewise
        ("hòang", "hoàng"),  # closed syllable: the tone goes on the last vowel
    ],
)
def test_old_and_new_tone_placement_meet(new_style, old_style):
    assert normalize(new_style) == normalize(old_style)
    assert fold(new_style) == fold(old_style)


def test_normalize_uses_the_traditional_placement_and_lower_case():
    assert normalize("HOÀ") == "hòa"
    assert normalize("  Thuỷ   LỢI ") == "thủy lợi"
    assert nfc("HOÀ") == "HÒA"  # nfc keeps case, for display


# -- fold ----------------------------------------------------------------------------------------


def test_fold_drops_diacritics_and_maps_d_stroke():
    assert fold("Đường đi") == "duong di"
    assert fold("ĐĂNG KÝ đất đai") == "dang ky dat dai"
    assert fold("Trợ cấp người cao tuổi") == "tro cap nguoi cao tuoi"
    assert fold("ơ ư ă â ê ô") == "o u a a e o"
    assert fold("68.000m²") == "68.000m2"


def test_tokens_keep_numbers_whole_and_percent():
    toks = tokens("Tổng thu 9.439.014.295 đồng, đạt 153,9% ngày 27/7 và 279,5ha")
    for expected in ("9.439.014.295", "153,9", "%", "27/7", "279,5", "ha", "dong", "tong"):
        assert expected in toks
    assert "9" not in toks and "439" not in toks


def test_tokens_final_y_variants_meet():
    assert tokens("học kỳ") == tokens("học kì")
    assert tokens("tỷ đồng") == tokens("tỉ đồng")


# -- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.105", 1105),
        ("279,5", 279.5),
        ("9.439.014.295", 9439014295),
        ("-3", -3),
        ("0", 0),
        ("1.000,5", 1000.5),
        (" 31.000 ", 31000),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["1.5", "1.34"])
def test_parse_number_ambiguous_dot(text):
    with pytest.raises(AmbiguousNumber):
        parse_number(text)


@pytest.mark.parametrize("text", ["abc", "", "   ", "1..2"])
def test_parse_number_rejects_non_numbers(text):
    with pytest.raises(ValueError) as info:
        parse_number(text)
    assert not isinstance(info.value, AmbiguousNumber)


@pytest.mark.parametrize(
    ("value", "text"),
    [(1105, "1.105"), (279.5, "279,5"), (0, "0"), (9439014295, "9.439.014.295"), (-3, "-3"),
     (1234567.89, "1.234.567,89"), (0.5, "0,5")],
)
def test_format_number(value, text):
    assert format_number(value) == text
    assert parse_number(text) == value


def test_format_number_small_negative_is_plain_zero():
    assert format_number(-0.001) == "0"


# -- Telex ----------------------------------------------------------------------------------------


def test_telex_decode_word_by_word():
    typed = "trowj caaps nguowif cao tuooir"
    decoded = [telex_decode(w) or w for w in typed.split()]
    assert " ".join(decoded) == "trợ cấp người cao tuổi"


def test_telex_dd_is_d_stroke():
    assert telex_decode("dd") == "đ"
    assert telex_decode("ddaats") == "đất"


@pytest.mark.parametrize("word", ["cao", "nha", "hoa", "thon", "ban", "hello", "a", "123", "x2"])
def test_telex_plain_words_pass_through(word):
    assert telex_decode(word) is None


# -- properties -----------------------------------------------------------------------------------

_VOWELS = "aăâeêioôơuưy"
_TONE_MARKS = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
_VIET_LETTERS = sorted(
    {unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONE_MARKS} | set("bcdđghklmnpqrstvx")
)
VIETNAMESE = st.text(alphabet=st.sampled_from(_VIET_LETTERS + [c.upper() for c in _VIET_LETTERS] + [" "]))


@given(st.text())
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize("text", ["AÒ\u0300", "İ\u031b"])
def test_normalize_idempotent_with_stray_marks(text):
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_fold_is_idempotent(text):
    once = fold(text)
    assert fold(once) == once


@given(st.text())
def test_fold_of_normalize_equals_fold(text):
    assert fold(normalize(text)) == fold(text)


@given(st.text())
def test_normalize_ignores_the_unicode_form(text):
    assert normalize(nfd(text)) == normalize(text)
    assert fold(nfd(text)) == fold(text)


@given(st.text())
def test_fold_output_has_no_combining_marks(text):
    assert all(unicodedata.combining(ch) == 0 for ch in fold(text))


@given(VIETNAMESE)
def test_fold_of_vietnamese_is_plain_ascii(text):
    folded = fold(text)
    assert folded.isascii()
    assert len(folded.replace(" ", "")) == len(text.replace(" ", ""))  # one letter for one letter


@given(st.text())
def test_tokens_never_raise(text):
    assert isinstance(tokens(text), list)


@given(st.integers(min_value=0, max_value=10**12))
def test_integers_round_trip(n):
    assert parse_number(format_number(n)) == n
    if n:
        assert parse_number(format_number(-n)) == -n


@given(st.integers(min_value=0, max_value=10**13), st.sampled_from([10, 100]))
def test_one_or_two_decimals_round_trip(units, scale):
    value = units / scale
    assert parse_number(format_number(value)) == value
