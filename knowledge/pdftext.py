"""Text as communes' PDFs give it: glued syllables put apart, spaced letters put together, and the PDF reader.

Text extracted from a PDF loses spaces where a font draws a tone mark as a separate glyph ("hộnghèo",
"chỉtiêu", "vụĐông-Xuân") and gains them in letter-spaced headings ("U B N D"). A Vietnamese word is written
as syllables separated by spaces, and a syllable has one shape (initial consonant, one vowel group, final
consonant) and at most one tone mark: so a run of letters that is not one syllable but splits into several
is glued, and the split that the document itself writes most often elsewhere is the right one. No word list
is needed; the document is its own vocabulary.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

from .text import strip_marks

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_INITIALS = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx]"
# The vowel groups of Vietnamese rhymes, without diacritics (ươi → uoi, yêu → yeu, uyê → uye): those that end
# in a glide (ai, ao, ươi…) take no final consonant, the others may.
_OPEN_NUCLEI = "ieu|yeu|oai|oay|oeo|uay|uoi|uou|uyu|ai|ao|au|ay|eo|eu|iu|oi|ui|uu"
_NUCLEI = "uya|uye|ia|ie|oa|oe|oo|ua|ue|uo|uy|ya|ye|a|e|i|o|u|y"
_FINALS = "ch|ng|nh|[cmnpt]"
_SYLLABLE = re.compile(rf"(?:{_INITIALS})?(?:(?:{_OPEN_NUCLEI})|(?:{_NUCLEI})(?:{_FINALS})?)")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_] ){2,}[^\W\d_](?![^\W\d_])", re.UNICODE)
_GLUED_PUNCT = re.compile(r"(?<=[^\W\d_])([,;:])(?=[^\W\d_])", re.UNICODE)
# A run of letters and (ASCII) digits that mixes both; a number glued to a Vietnamese word is put apart.
_ALNUM = re.compile(r"(?:[^\W\d_]+[0-9]+|[0-9]+[^\W\d_]+)[^\W_]*", re.UNICODE)
_DIGITS = re.compile(r"([0-9]+)")
_PAGE_NUMBER = re.compile(r"\d{1,3}")
_FOOTNOTE_LINE = re.compile(r"^(\d{1,2})\s+([A-ZĐÀ-Ỹ(\"“].*)$")
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.\s|[IVXLC]{1,5}\s*[.–—-]\s)")
# What starts a paragraph of its own: a numbered or roman heading, a bullet, a footnote, a "Phần".
_STARTS_OWN = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.\s|[IVXLC]{1,5}\s*[.–—-]\s|[-+•*]\s?|[⁰¹²³⁴⁵⁶⁷⁸⁹]|Phần\s)")
# A text is taken for a PDF's when at least this many words, and this share of them, are glued or spaced.
_MIN_GLUED = 5
_GLUED_SHARE = 0.002


@lru_cache(maxsize=65536)
def is_syllable(word: str) -> bool:
    """One Vietnamese syllable: its letters have the shape of one, and it carries at most one tone mark."""
    tones = sum(ch in _TONE_MARKS for ch in unicodedata.normalize("NFD", word))
    return tones <= 1 and _SYLLABLE.fullmatch(strip_marks(word).lower()) is not None


def syllable_counts(text: str) -> Counter[str]:
    """How often the text writes each syllable (and each abbreviation) on its own: the vocabulary the splits
    are judged by."""
    return Counter(w if w.isupper() else w.lower() for w in _WORD.findall(text) if is_syllable(w) or w.isupper())


def split_glued(word: str, counts: Counter[str], spaced: bool = False) -> list[str] | None:
    """The syllables a glued word is made of ("hộnghèo" → ["hộ", "nghèo"]), or None when it is not glued.

    Abbreviations (capitals: "UBND", "MTTQVN") and words without a Vietnamese letter ("online") are left
    alone: their letters do not follow the syllable's shape, and no split would be safer than leaving them.
    ``spaced``: the word was letter-spaced ("U B N D x ã đ ã"), so it is surely several words, capitals
    included.
    """
    if len(word) < 3 or (word.isupper() and not spaced) or (word.isascii() and not spaced):
        return None
    if is_syllable(word):
        return None
    low = word.lower()
    # Two tone marks, or letter-spacing: surely several syllables, however they were glued ("Tiếpnhận"). With
    # one, a cut is taken only after a marked vowel, where PDFs drop the space ("hộ|nghèo", "vụ|Đông"), so that
    # loanwords and names ("Mắcca", "Kiốt", "VneID") keep their letters.
    anywhere = spaced or sum(ch in _TONE_MARKS for ch in unicodedata.normalize("NFD", word)) >= 2
    # A unigram model of the document's own syllables: each part costs its share of them, so a split into
    # more parts must be bought by more frequent ones ("dự Hôi", not "dự Hô i").
    total = math.log(sum(counts.values()) + 1.0)
    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}  # end → (score, cut points)
    for start in range(len(low)):
        if start not in best:
            continue
        score, cuts = best[start]
        for end in range(start + 1, min(len(low), start + 8) + 1):
            if end < len(low) and not anywhere and not _marked(low[end - 1]):
                continue
            piece = word[start:end]
            if is_syllable(piece):
                value = score + math.log(counts.get(piece.lower(), 0) + 0.1) - total
            elif piece.isupper() and len(piece) >= 2 and (spaced or start > 0):
                # an abbreviation glued on ("Đảng uỷUBND") or inside a spaced line ("U B N D x ã")
                value = score + math.log(counts.get(piece, 0) + 0.1) - total
            else:
                continue
            if end not in best or value > best[end][0]:
                best[end] = (value, [*cuts, end])
    if len(low) not in best:
        return None
    points = [0, *best[len(low)][1]]
    parts = [word[a:b] for a, b in itertools.pairwise(points)]
    return parts if len(parts) > 1 else None


def _marked(ch: str) -> bool:
    """A vowel with a diacritic: where a PDF's font drops the space after a syllable ("hộ|nghèo", "vụ|Đông").
    Only there is a cut taken, so that loanwords and names ("Mắcca", "Kiốt", "VneID") keep their letters."""
    return ch.lower() != "đ" and not ch.isascii() and ch.isalpha()


def repair(text: str) -> tuple[str, int]:
    """The text with glued syllables put apart and letter-spaced words joined; and how many words it changed.

    Only a text that shows the symptom is touched (a few glued words in every thousand): a plan typed in Word
    keeps every character as its author wrote it ("596.000đ", "01lượt"), a PDF's text is put right throughout.
    """
    text = unicodedata.normalize("NFC", text)
    counts = syllable_counts(text)
    words = _WORD.findall(text)
    glued = sum(1 for w in words if split_glued(w, counts)) + len(_SPACED.findall(text))
    if glued < max(_MIN_GLUED, _GLUED_SHARE * len(words)):
        return text, 0
    changed = 0

    def respace(m: re.Match[str]) -> str:
        nonlocal changed
        changed += 1
        joined = m.group(0).replace(" ", "")
        return " ".join(split_glued(joined, counts, spaced=True) or [joined])

    def split(m: re.Match[str]) -> str:
        nonlocal changed
        parts = split_glued(m.group(0), counts)
        if not parts:
            return m.group(0)
        changed += 1
        return " ".join(parts)

    text = _relayout(text)
    text = _SPACED.sub(respace, text)
    text = _ALNUM.sub(_unglue_number, text)  # "chỉ thị số06-CT/TU", "giải quyết96hồ sơ"
    text = _GLUED_PUNCT.sub(r"\1 ", text)  # "xã hội:Tiếp nhận,giải quyết"
    return _WORD.sub(split, text), changed


def respaced(text: str, counts: Counter[str]) -> str:
    """A piece of a damaged document's text as ``repair`` writes it ("97 hộnghèo" → "97 hộ nghèo"), judged by
    that document's syllable counts: what an answer quoting the repaired document says."""
    text = _ALNUM.sub(_unglue_number, unicodedata.normalize("NFC", text))
    text = _GLUED_PUNCT.sub(r"\1 ", text)
    return _WORD.sub(lambda m: " ".join(split_glued(m.group(0), counts) or [m.group(0)]), text)


def _unglue_number(m: re.Match[str]) -> str:
    pieces = _DIGITS.split(m.group(0))  # "quyết96hồsơ" → ["quyết", "96", "hồsơ"]
    if not any(any(_marked(ch) for ch in p) for p in pieces if not p.isdecimal()):
        return m.group(0)  # "H5N1", "m2", "5ha": no Vietnamese word glued to a number
    return " ".join(p for p in pieces if p)


def _relayout(text: str) -> str:
    """A PDF's lines as the paragraphs they were: page numbers dropped, footnotes marked, wrapped lines joined.

    - A line that is only a number is a page number.
    - Footnotes lose their superscript: "4 Trong đó, diện tích …" at the foot of a page, numbered in turn
      from 1, is footnote 4 (written with a superscript again, as the plan reader expects).
    - A line that fills the page's width ran on: the next line continues it, unless that line starts
      something of its own (a numbered heading, a bullet, a footnote).
    """
    lines = [ln.strip() for ln in text.split("\n")]
    widths = sorted(len(ln) for ln in lines if ln)
    full = 0.8 * widths[int(0.9 * (len(widths) - 1))] if widths else 0
    out: list[str] = []
    expected = 1
    joinable = False
    for line in lines:
        if not line or _PAGE_NUMBER.fullmatch(line):
            joinable = joinable and bool(line)
            continue
        note = _FOOTNOTE_LINE.match(line)
        if note and int(note.group(1)) in (expected, expected + 1):
            expected = int(note.group(1)) + 1
            line = note.group(1).translate(_SUPERSCRIPT) + " " + note.group(2)
            out.append(line)
        elif joinable and out and not _STARTS_OWN.match(line) and not (
                _HEADING.match(out[-1]) and line[:1].isupper()):  # a heading's line, then its paragraph
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
        joinable = len(line) >= full and not line.endswith((".", "!", "?", ":"))
    return _restore_marks("\n".join(out), expected - 1)


def _restore_marks(text: str, notes: int) -> str:
    """A footnote's mark in the body, a digit glued to the word it follows ("thu nộp về xã1;", "(KH)5."),
    written as a superscript again, the first such digit before its footnote."""
    for n in range(1, notes + 1):
        note = text.find(str(n).translate(_SUPERSCRIPT) + " ")
        if note < 0:
            continue
        marks = list(re.finditer(rf"(?:(?<=[^\W\d_])|(?<=\))){n}(?=[\s;,.:)]|$)", text[:note]))
        if marks:
            m = marks[-1]
            text = text[: m.start()] + str(n).translate(_SUPERSCRIPT) + text[m.end() :]
    return text


class ScannedPdf(ValueError):
    """A PDF whose pages are pictures: there is no text to read without OCR."""


def pdf_to_text(path: Path) -> str:
    """The text of a PDF's pages, in order, lines as the PDF lays them out (pypdf: pure Python, maintained)."""
    from pypdf import PdfReader  # imported here: only a PDF source needs it
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"not a readable PDF: {path}") from err
    text = "\n".join(pages)
    if len(_WORD.findall(text)) < 20 * max(1, len(pages)) // 4:
        raise ScannedPdf(str(path))
    return text
