"""Vietnamese text: normalisation, folding, tokens, numbers and Telex.

Everything the matcher compares goes through :func:`fold`, so the document and a question typed on a
cheap phone (NFD, old tone placement, no diacritics, upper case) meet in one form. The original text is
never changed for display: quotes keep the document's own spelling and numbers.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Combining tone marks (the five Vietnamese tones) and vowel-quality marks, as NFD leaves them.
_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_TONE_BY_KEY = {v: k for k, v in _TONES.items()}
_QUALITY = {"\u0302", "\u0306", "\u031b"}  # circumflex, breve, horn
_VOWELS = set("aeiouy")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_WORD_SPLIT = re.compile(r"([^\W_]+)", re.UNICODE)


class AmbiguousNumber(ValueError):
    """A number like ``1.5`` that a Vietnamese reader could take as 15 or as 1,5."""


def nfc(text: str) -> str:
    """NFC with one tone placement (the traditional "hòa", "thủy" the plans use), so both spellings meet."""
    text = unicodedata.normalize("NFC", text or "")
    if text.isascii():  # no tone marks to move
        return text
    parts = _WORD_SPLIT.split(text)  # separators and words alternate: every odd item is a word
    parts[1::2] = map(_retone_word, parts[1::2])
    return unicodedata.normalize("NFC", "".join(parts))


@lru_cache(maxsize=65536)
def _retone_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    tone = None
    letters: list[str] = []
    for ch in decomposed:
        if ch in _TONES:
            tone = ch
        else:
            letters.append(ch)
    if tone is None:
        return word
    base = unicodedata.normalize("NFC", "".join(letters))
    pos = _tone_position(base)
    if pos is None:
        return word
    out = base[: pos + 1] + tone + base[pos + 1 :]
    return unicodedata.normalize("NFC", out)


def _tone_position(syllable: str) -> int | None:
    """Index of the vowel that carries the tone, by the traditional rule."""
    plain = unicodedata.normalize("NFD", syllable)
    # Map each NFC character to (base letter lower, has quality mark).
    chars: list[tuple[str, bool]] = []
    for ch in syllable:
        d = unicodedata.normalize("NFD", ch)
        chars.append((d[0].lower(), any(c in _QUALITY for c in d[1:])))
    del plain
    vowel_idx = [i for i, (c, _) in enumerate(chars) if c in _VOWELS]
    if not vowel_idx:
        return None
    lower = "".join(c for c, _ in chars)
    # "qu" and "gi" before another vowel: the u / i belongs to the consonant.
    if len(vowel_idx) > 1 and (lower.startswith("qu") or lower.startswith("gi")):
        vowel_idx = vowel_idx[1:]
    marked = [i for i in vowel_idx if chars[i][1]]
    if marked:
        return marked[-1]  # ươ → ơ, and any single marked vowel
    # The vowel cluster is the run of vowels; a consonant after it means the tone goes on its last vowel.
    first = vowel_idx[0]
    run = [first]
    for i in vowel_idx[1:]:
        if i == run[-1] + 1:
            run.append(i)
    closed = run[-1] + 1 < len(chars)
    if len(run) == 1:
        return run[0]
    if closed:
        return run[-1]
    if len(run) == 2:
        return run[0]
    return run[1]


def normalize(text: str) -> str:
    """NFC, canonical tone placement, lower case, single spaces."""
    return " ".join(nfc(nfc(text).lower()).split())  # lower() can decompose ("İ"): compose again


def _strip_table() -> dict[int, str]:
    """Every precomposed Latin letter → its base letter (one table lookup per character instead of NFD)."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0x00C0, 0x2000):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii():
            table[code] = base
    for code in range(0x0300, 0x0370):  # combining marks left over from NFD input
        table[code] = ""
    return table


_STRIP = _strip_table()


def strip_marks(text: str) -> str:
    """Remove every diacritic; đ → d, which Unicode decomposition leaves alone."""
    return unicodedata.normalize("NFC", text).translate(_STRIP)


def fold(text: str) -> str:
    """The matching form: lower case, no diacritics, ² as a digit (m² = m2), single spaces."""
    text = unicodedata.normalize("NFC", text or "").replace("²", "2").replace("³", "3")
    return " ".join(strip_marks(text).lower().split())


# A token is a number (with Vietnamese separators, dates and fractions) or a run of letters/digits.
_TOKEN = re.compile(r"\d+(?:[.,/]\d+)*|[^\W\d_]+\d*|%", re.UNICODE)


_FINAL_Y = re.compile(r"^([bcdghklmnpqrstvx]+)y$")


def tokens(text: str) -> list[str]:
    """Folded tokens of ``text``; numbers are kept whole ("9.439.014.295", "279,5", "27/7"), "%" is one.

    A final y after a consonant folds to i: "kỳ"/"kì", "sỹ"/"sĩ", "tỷ"/"tỉ" are spelling variants.
    """
    return [fold_word(tok, folded=True) for tok in _TOKEN.findall(fold(text))]


_FINAL_Y_ACCENTED = re.compile(r"^([bcdđghklmnpqrstvx]+)([yýỳỷỹỵ])$")
_Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")


@lru_cache(maxsize=65536)
def accent_key(word: str) -> str:
    """A word with its diacritics, in one spelling: "Kỳ" → "kì", "hoà" → "hòa" (for accent-aware matching)."""
    w = normalize(word)
    m = _FINAL_Y_ACCENTED.match(w)
    return m.group(1) + m.group(2).translate(_Y_TO_I) if m else w


@lru_cache(maxsize=65536)
def fold_word(word: str, folded: bool = False) -> str:
    """One word in matching form (see :func:`tokens`)."""
    return _FINAL_Y.sub(r"\1i", word if folded else fold(word))


def number_key(token: str) -> str:
    """A comparable key for a number token: "1.105" and "1105" meet, "09" and "9" meet."""
    if "/" in token:
        return "/".join(p.lstrip("0") or "0" for p in token.split("/"))
    try:
        value = parse_number(token)
    except (ValueError, AmbiguousNumber):
        return token
    return format_number(value).replace(".", "")


_GROUPED = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_DECIMAL = re.compile(r"^\d+(?:,\d+)?$")
_DOT_DECIMAL_ONLY = re.compile(r"^\d+\.\d{1,2}$|^\d+\.\d{4,}$")


def parse_number(text: str) -> float:
    """Parse a Vietnamese number: "." groups thousands, "," is the decimal mark.

    "1.105" → 1105, "279,5" → 279.5, "9.439.014.295" → 9439014295. A dot that cannot be a thousands
    separator ("1.5", "1.34") is ambiguous: the writer may have meant a decimal, so ask rather than guess.
    """
    s = (text or "").strip().replace(" ", "")
    s = s.removeprefix("+")
    negative = s.startswith("-")
    if negative:
        s = s[1:]
    if not s:
        raise ValueError("empty number")
    if _GROUPED.match(s):
        value = float(s.replace(".", "").replace(",", "."))
    elif _DECIMAL.match(s):
        value = float(s.replace(",", "."))
    elif _DOT_DECIMAL_ONLY.match(s):
        raise AmbiguousNumber(text)
    else:
        raise ValueError(f"not a number: {text!r}")
    return -value if negative else value


def format_number(value: float, decimals: int | None = None) -> str:
    """Print a number the Vietnamese way: 1105 → "1.105", 279.5 → "279,5"."""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    if round(value, decimals) == 0:
        value = 0.0  # no "-0"
    text = f"{abs(value):,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return ("-" if value < 0 else "") + text


# --- Telex typed with the input method off -------------------------------------------------------

_TELEX_TONE_KEYS = set("sfrxj")
_TELEX_DOUBLE = {"aa": "â", "ee": "ê", "oo": "ô", "dd": "đ"}
_TELEX_W = {"a": "ă", "o": "ơ", "u": "ư"}


def telex_decode(word: str) -> str | None:
    """Decode one word typed in Telex without the input method ("nguowif" → "người").

    Returns None when the word shows no Telex keys, so plain words pass through untouched.
    """
    w = word.lower()
    if not w.isalpha() or len(w) < 2:
        return None
    tone = None
    if w[-1] in _TELEX_TONE_KEYS and any(c in _VOWELS for c in w[:-1]):
        tone, w = w[-1], w[:-1]
    out: list[str] = []
    i = 0
    changed = tone is not None
    while i < len(w):
        pair = w[i : i + 2]
        if pair in _TELEX_DOUBLE:
            out.append(_TELEX_DOUBLE[pair])
            i += 2
            changed = True
            continue
        ch = w[i]
        if ch == "w":
            # "uow" → "ươ"; otherwise w marks the vowel before it, or stands for ư.
            if len(out) >= 2 and out[-1] == "o" and out[-2] == "u":
                out[-2:] = ["ư", "ơ"]
            elif out and out[-1] in _TELEX_W:
                out[-1] = _TELEX_W[out[-1]]
            else:
                out.append("ư")
            changed = True
            i += 1
            continue
        if ch in _TELEX_TONE_KEYS and tone is None and out and any(c in "aeiouyâêôăơư" for c in out):
            # A tone key typed in the middle ("tojan"): rare, only when the rest stays a syllable.
            rest = w[i + 1 :]
            if rest and all(c not in _VOWELS for c in rest):
                tone = ch
                changed = True
                i += 1
                continue
        out.append(ch)
        i += 1
    if not changed:
        return None
    base = "".join(out)
    if tone and tone != "z":
        pos = _tone_position(base)
        if pos is None:
            return None
        base = unicodedata.normalize("NFC", base[: pos + 1] + _TONE_BY_KEY[tone] + base[pos + 1 :])
    return unicodedata.normalize("NFC", base)


def superscript_digits(text: str) -> str:
    """"¹⁵" → "15"."""
    return text.translate(_SUPERSCRIPTS)
