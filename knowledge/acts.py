"""Conversation acts: the messages that are not questions about the commune.

"xin chào", "cảm ơn nhé", "ok", ":))" must get a short reply of their own, never a plan sentence, and a
request for a person or a complaint must be recognised before the engine tries to answer it. The rule
that decides: an act is the *whole* message, give or take particles, address words, names and
punctuation; a message that greets and then asks something is a question ("chào bạn, hộ nghèo còn bao
nhiêu?"). Requests for a person and complaints may go on ("tôi muốn nói chuyện với cán bộ về việc đất
đai"): they are recognised by their request phrase, unless what follows asks something. A report of a
problem ("đường thôn tôi bị sạt lở") is a complaint when someone it happens to says it and it asks
nothing. When in doubt the answer is None: a real question must reach the engine.

Every phrase lives in ``data/acts.yaml`` (shared by every commune); this module only reads it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .lexicon import DATA_DIR, accented_tokens, data_file, load_yaml
from .text import accent_key, fold, telex_decode, tokens

ACTS = ("greeting", "thanks", "goodbye", "about_bot", "ack", "emoji", "person", "complaint")

_MAX_ACT_WORDS = 40  # a whole-message act is short; longer messages are only read for requests
_LAUGH = "\x00laugh"  # the word a laughter token stands for once recognised
_REPEATS = re.compile(r"(.)\1+")

# Segment kinds of a message read as an act.
_ACT, _PARTICLE, _ADDRESS, _TAIL, _INTRO, _NAME = "act", "particle", "address", "tail", "intro", "name"
_NAMEABLE = {_ADDRESS, _INTRO, _NAME}  # a capitalised word after these is a name ("chào anh Tuấn")


@dataclass(frozen=True)
class Word:
    """One word of a message: its matching form, its accented form and whether it was capitalised."""

    fold: str
    accented: str
    capital: bool

    @property
    def marked(self) -> bool:
        return self.accented != self.fold


Phrase = tuple[str, ...]
AccentPhrase = tuple[tuple[str, str], ...]  # (folded, accent key) per word
AccentPhrases = dict[str, tuple[AccentPhrase, ...]]  # by their first folded word, longest first


@dataclass(frozen=True)
class ActData:
    """``data/acts.yaml``, folded once."""

    priority: tuple[str, ...]
    segments: dict[Phrase, tuple[tuple[str, str | None], ...]]  # phrase → (kind, act) readings
    longest: int
    vocabulary: frozenset[str]
    glue: frozenset[str]  # words a glued word may be made of ("camon" = "cam" + "on"): act words only
    squeezed: dict[str, str]  # "helo" → "hello": vocabulary by its letters with repeats collapsed
    fuzzy: tuple[str, ...]
    laughter: tuple[re.Pattern[str], ...]
    emoticons: re.Pattern[str]
    emoji_acts: dict[str, str]
    leads: tuple[Phrase, ...]
    subjects: tuple[Phrase, ...]
    modals: tuple[Phrase, ...]
    person_verbs: tuple[Phrase, ...]
    person_links: tuple[Phrase, ...]
    person_articles: tuple[Phrase, ...]
    person_targets: tuple[Phrase, ...]
    person_no_target: tuple[Phrase, ...]
    person_alone: tuple[Phrase, ...]
    complaint_verbs: tuple[Phrase, ...]
    complaint_fixed: tuple[Phrase, ...]
    softeners: tuple[Phrase, ...]  # what may end a request without asking: polite tails, particles, names
    interrogatives: AccentPhrases
    not_interrogative: AccentPhrases
    contact_words: AccentPhrases
    problems: AccentPhrases
    markers: AccentPhrases
    figure_heads: AccentPhrases


def _squeeze(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


def _phrases(items: Iterable[object] | None) -> tuple[Phrase, ...]:
    """Folded phrases, longest first (so "cán bộ xã" is tried before "cán bộ")."""
    found = {tuple(tokens(str(item))) for item in items or ()}
    found.discard(())
    return tuple(sorted(found, key=lambda p: (-len(p), p)))


def _accent_phrases(items: Iterable[object] | None) -> AccentPhrases:
    """Phrases that keep their diacritics, so that a word typed with them must have the same ("mấy" ≠ "máy")."""
    found: dict[str, set[AccentPhrase]] = {}
    for item in items or ():
        folded, accented = tokens(str(item)), accented_tokens(str(item))
        if folded and len(folded) == len(accented):
            found.setdefault(folded[0], set()).add(tuple((f, accent_key(a)) for f, a in zip(folded, accented)))
    return {first: tuple(sorted(group, key=lambda p: (-len(p), p))) for first, group in found.items()}


@lru_cache(maxsize=8)
def load(path: Path) -> ActData:
    """Read and fold one acts file (cached: the file is read once per process)."""
    raw = load_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("acts"), dict):
        raise ValueError(f"{path}: expected a mapping with an 'acts' section")
    readings: dict[Phrase, set[tuple[str, str | None]]] = {}

    def add(items: Iterable[object] | None, kind: str, act: str | None = None) -> None:
        for phrase in _phrases(items):
            readings.setdefault(phrase, set()).add((kind, act))

    for act, items in raw["acts"].items():
        if act not in ACTS:
            raise ValueError(f"{path}: unknown act {act!r}")
        add(items, _ACT, act)
    readings[(_LAUGH,)] = {(_ACT, "emoji")}
    add(raw.get("particles"), _PARTICLE)
    add(raw.get("addresses"), _ADDRESS)
    add(raw.get("tails"), _TAIL)
    add(raw.get("intros"), _INTRO)
    # An act reading before a filler one: "ừ" (ack) is not "u" (you), "à" is not "a" (anh).
    segments = {p: tuple(sorted(r, key=lambda kr: (kr[0] != _ACT, kr))) for p, r in readings.items()}

    request, report = raw.get("request") or {}, raw.get("report") or {}
    person, complaint = request.get("person") or {}, request.get("complaint") or {}
    leads, subjects, modals = (_phrases(request.get(k)) for k in ("leads", "subjects", "modals"))
    person_parts = {k: _phrases(person.get(k)) for k in person}
    complaint_parts = {k: _phrases(complaint.get(k)) for k in complaint}
    vocabulary = {w for p in segments for w in p}
    for group in (leads, subjects, modals, *person_parts.values(), *complaint_parts.values()):
        vocabulary.update(w for p in group for w in p)
    glue = frozenset(w for p, r in readings.items() for w in p if len(w) >= 2 and any(k == _ACT for k, _ in r))
    vocabulary.discard(_LAUGH)
    squeezed: dict[str, str] = {}
    for word in sorted(vocabulary, key=lambda w: (len(w), w)):
        squeezed.setdefault(_squeeze(word), word)
    order = tuple(raw.get("priority") or ACTS)
    if set(order) != set(ACTS):
        raise ValueError(f"{path}: priority must list every act once: {ACTS}")
    return ActData(
        priority=order,
        segments=segments,
        longest=max(len(p) for p in segments),
        vocabulary=frozenset(vocabulary),
        glue=glue - {_LAUGH},
        squeezed=squeezed,
        fuzzy=tuple(sorted({fold(str(w)) for w in raw.get("fuzzy") or ()})),
        laughter=tuple(re.compile(str(p)) for p in raw.get("laughter") or ()),
        emoticons=re.compile("|".join(f"(?:{p})" for p in raw.get("emoticons") or ()) or r"(?!x)x"),
        emoji_acts={unicodedata.normalize("NFC", str(k)): str(v) for k, v in (raw.get("emoji_acts") or {}).items()},
        leads=leads,
        subjects=subjects,
        modals=modals,
        person_verbs=person_parts.get("verbs", ()),
        person_links=person_parts.get("links", ()),
        person_articles=person_parts.get("articles", ()),
        person_targets=person_parts.get("targets", ()),
        person_no_target=person_parts.get("verbs_no_target", ()),
        person_alone=person_parts.get("verbs_alone", ()),
        complaint_verbs=complaint_parts.get("verbs", ()),
        complaint_fixed=complaint_parts.get("fixed", ()),
        softeners=_phrases(
            [*(request.get("polite_tail") or ()), *(raw.get("particles") or ()), *(raw.get("addresses") or ())]
        ),
        interrogatives=_accent_phrases(raw.get("interrogatives")),
        not_interrogative=_accent_phrases(raw.get("not_interrogative")),
        contact_words=_accent_phrases(raw.get("contact_words")),
        problems=_accent_phrases(report.get("problems")),
        markers=_accent_phrases(report.get("markers")),
        figure_heads=_accent_phrases(report.get("figure_heads")),
    )


def detect(text: str, data_dir: Path = DATA_DIR) -> str | None:
    """The conversation act of a chat message, or None when it is (or may be) a question to answer.

    One of ``ACTS``: "greeting", "thanks", "goodbye", "about_bot", "ack", "emoji", "person", "complaint".
    """
    if not isinstance(text, str):
        return None
    data = load(data_file(Path(data_dir), "acts.yaml"))
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        return None
    plain = data.emoticons.sub(" ", text)
    words = _words(plain, data)
    if not words:  # only emoji, emoticons and punctuation
        meant = {act for ch, act in data.emoji_acts.items() if ch in text}
        return _first(meant, data) or "emoji"
    if len(words) <= _MAX_ACT_WORDS:
        whole = _whole(words, data)
        if whole is not None:
            return whole
    request = _request(words, data)
    if request is not None:
        return request
    if "?" not in plain and _reports_problem(words, data):
        return "complaint"
    return None


# --- reading the words ---------------------------------------------------------------------------


def _words(text: str, data: ActData) -> list[Word]:
    """The message's words in matching form, with typos repaired against the acts' own vocabulary."""
    all_caps = not any(ch.islower() for ch in text)
    out: list[Word] = []
    for chunk in text.split():
        folded, accented = tokens(chunk), accented_tokens(chunk)
        if len(accented) != len(folded):  # the two tokenisers disagree on an odd character: no accents
            accented = folded
        first_letter = next((ch for ch in chunk if ch.isalpha()), "")
        for i, (f, a) in enumerate(zip(folded, accented)):
            capital = i == 0 and first_letter.isupper() and not all_caps
            for repaired in _repair(f, data, capital):
                out.append(Word(repaired, a if repaired == f else repaired, capital))
                capital = False
    return out


def _repair(word: str, data: ActData, capital: bool = False) -> list[str]:
    """A word as the acts' vocabulary knows it: itself, laughter, doubled letters, Telex, a typo, glued.

    A capitalised word may be a name: it is only ever read as it is, or with its letters undoubled.
    """
    if word in data.vocabulary:
        return [word]
    if any(p.fullmatch(word) for p in data.laughter):
        return [_LAUGH]
    squeezed = _squeeze(word)
    if squeezed != word and squeezed in data.squeezed:  # "okkk", "byeee"; but "p" is not "pp"
        return [data.squeezed[squeezed]]
    if capital:
        return [word]
    decoded = telex_decode(word)
    if decoded is not None:
        decoded_words = tokens(decoded)
        if len(decoded_words) == 1 and decoded_words[0] in data.vocabulary:
            return decoded_words
    if len(word) >= 4 and data.fuzzy:
        hit = process.extractOne(word, data.fuzzy, scorer=OSA.distance, score_cutoff=1)
        if hit is not None:
            return [hit[0]]
    glued = _unglue(word, data.glue) if len(word) >= 5 else None
    return glued or [word]


def _unglue(word: str, vocabulary: frozenset[str], parts: int = 3) -> list[str] | None:
    """A glued word ("camon" → "cam", "on") cut into vocabulary words of two letters or more."""
    if parts == 0 or len(word) < 4:
        return None  # parts of two letters or more: "dau" is not "d" + "a" + "u"
    for cut in range(len(word) - 2, 1, -1):
        head, rest = word[:cut], word[cut:]
        if head not in vocabulary:
            continue
        if rest in vocabulary:
            return [head, rest]
        more = _unglue(rest, vocabulary, parts - 1)
        if more:
            return [head, *more]
    return None


# --- the whole message as an act -----------------------------------------------------------------


def _readings(words: list[Word], i: int, after_nameable: bool, data: ActData) -> Iterator[tuple[int, str, str | None]]:
    """Every segment that can start at word ``i``: (length, kind, act)."""
    for length in range(min(data.longest, len(words) - i), 0, -1):
        phrase = tuple(w.fold for w in words[i : i + length])
        for kind, act in data.segments.get(phrase, ()):
            yield length, kind, act
    if after_nameable and words[i].capital:
        yield 1, _NAME, None


@dataclass(frozen=True)
class _Reading:
    """One way to read a message as segments."""

    segments: int
    fillers: int
    acts: frozenset[str]
    kinds: frozenset[str]

    @property
    def cost(self) -> tuple[int, int]:
        return self.segments, self.fillers


def _whole(words: list[Word], data: ActData) -> str | None:
    """The act the whole message is, if every word belongs to an act phrase or to what may surround one."""
    n = len(words)
    # The cheapest reading of words[i:] (fewest segments, then fewest fillers), by (i, may a name follow).
    best: dict[tuple[int, bool], _Reading | None] = {}

    def solve(i: int, nameable: bool) -> _Reading | None:
        if i == n:
            return _Reading(0, 0, frozenset(), frozenset())
        key = (i, nameable)
        if key in best:
            return best[key]
        found: _Reading | None = None
        for length, kind, act in _readings(words, i, nameable, data):
            rest = solve(i + length, kind in _NAMEABLE)
            if rest is None:
                continue
            candidate = _Reading(
                rest.segments + 1,
                rest.fillers + (kind != _ACT),
                rest.acts | {act} if act else rest.acts,
                rest.kinds | {kind},
            )
            if found is None or candidate.cost < found.cost:
                found = candidate
        best[key] = found
        return found

    reading = solve(0, False)
    if reading is None:
        return None
    if reading.acts:
        return _first(set(reading.acts), data)
    kinds = reading.kinds
    if _ADDRESS in kinds or any(w.fold == "oi" for w in words):
        return "greeting"  # "bot ơi", "ad ơi": calling for attention
    if kinds <= {_PARTICLE}:
        return "ack"  # "ạ", "nhé"
    return None  # an introduction or a tail alone says nothing


def _first(acts: set[str], data: ActData) -> str | None:
    return next((a for a in data.priority if a in acts), None)


# --- requests for a person, complaints -----------------------------------------------------------


def _starts(words: list[Word], i: int, phrases: tuple[Phrase, ...]) -> Iterator[int]:
    """Ends of every phrase of ``phrases`` found at word ``i``, longest first."""
    for phrase in phrases:
        end = i + len(phrase)
        if end <= len(words) and all(words[i + k].fold == w for k, w in enumerate(phrase)):
            yield end


def _prefix_ends(words: list[Word], data: ActData) -> list[int]:
    """Where a request may begin: at the start, or after greetings, thanks, particles and names."""
    reachable, stack = {0}, [(0, False)]
    seen: set[tuple[int, bool]] = set()
    while stack:
        i, nameable = stack.pop()
        if (i, nameable) in seen or i >= len(words) or i > _MAX_ACT_WORDS:
            continue
        seen.add((i, nameable))
        for length, kind, act in _readings(words, i, nameable, data):
            if kind == _ACT and act not in ("greeting", "thanks", "ack", "emoji"):
                continue
            reachable.add(i + length)
            stack.append((i + length, kind in _NAMEABLE))
    return sorted(reachable)


def _request(words: list[Word], data: ActData) -> str | None:
    """A request for a person or a complaint, in its own words, that asks nothing else."""
    last = _strip_tail(words, len(words), data)
    for start in _prefix_ends(words, data):
        asks: bool | None = None
        for act, end, strong in _request_phrases(words, start, last, data):
            if not strong and last - end > 2:
                continue
            if asks is None:  # the whole request, not only what follows: "báo" is also "bao" of "bao nhiêu"
                asks = _asks(words[start:], data, request=True)
            if not asks:
                return act
    return None


def _request_phrases(words: list[Word], i: int, last: int, data: ActData) -> Iterator[tuple[str, int, bool]]:
    """(act, end, strong) for every request phrase at word ``i``; strong ones may be followed by more.

    ``last`` is where the message ends without its polite tail.
    """
    openings: list[tuple[int, bool, bool]] = [(i, False, False)]  # (end, has lead or modal, has subject)
    openings += [(end, True, True) for end in _starts(words, i, data.leads)]
    openings += [(end, False, True) for end in _starts(words, i, data.subjects)]
    with_modals: list[tuple[int, bool, bool]] = []
    for end, strong, subject in openings:
        with_modals.append((end, strong, subject))
        frontier = [end]
        for _ in range(3):  # "muốn được", "rất muốn", "có việc cần"
            frontier = [e for f in frontier for e in _starts(words, f, data.modals)]
            with_modals += [(e, True, subject) for e in frontier]
    for end, strong, subject in with_modals:
        for verb_end in _starts(words, end, data.person_verbs):
            for target_end in _targets(words, verb_end, data):
                yield "person", target_end, strong
        for verb_end in _starts(words, end, data.person_no_target):
            yield "person", verb_end, strong
        if not (strong or subject):  # "kiến nghị của cử tri" alone is a topic, "tôi kiến nghị" a complaint
            continue
        for verb_end in _starts(words, end, data.person_alone):
            if last <= verb_end:
                yield "person", verb_end, strong
        for verb_end in _starts(words, end, data.complaint_fixed):
            yield "complaint", verb_end, True
        for verb_end in _starts(words, end, data.complaint_verbs):
            yield "complaint", verb_end, True


def _targets(words: list[Word], i: int, data: ActData) -> Iterator[int]:
    """Ends of "[link] [article…] target" at word ``i`` ("với người thật", "to a real person")."""
    starts = [i, *_starts(words, i, data.person_links)]
    for start in list(starts):
        frontier = [start]
        for _ in range(2):
            frontier = [e for f in frontier for e in _starts(words, f, data.person_articles)]
            starts += frontier
    for start in starts:
        yield from _starts(words, start, data.person_targets)


def _strip_tail(words: list[Word], end: int, data: ActData) -> int:
    """Where ``words[:end]`` ends once what only softens a request is cut off ("…, được không ạ", "please")."""
    changed = True
    while end > 0 and changed:
        changed = False
        for phrase in data.softeners:
            n = len(phrase)
            if n <= end and all(words[end - n + k].fold == w for k, w in enumerate(phrase)):
                end, changed = end - n, True
                break
    return end


# --- questions and reports -----------------------------------------------------------------------


def _matches(words: list[Word], i: int, phrase: AccentPhrase) -> bool:
    """Whether ``phrase`` is at word ``i``; a word typed with diacritics must have the phrase's."""
    if i + len(phrase) > len(words):
        return False
    for k, (folded, key) in enumerate(phrase):
        word = words[i + k]
        if word.fold != folded or (word.marked and accent_key(word.accented) != key):
            return False
    return True


def _at(words: list[Word], i: int, phrases: AccentPhrases) -> Iterator[AccentPhrase]:
    """The phrases of ``phrases`` found at word ``i``."""
    return (p for p in phrases.get(words[i].fold, ()) if _matches(words, i, p))


def _find(words: list[Word], phrases: AccentPhrases, skip: set[int] | None = None) -> bool:
    """Whether any of ``phrases`` occurs (not starting inside ``skip``)."""
    return any(next(_at(words, i, phrases), None) for i in range(len(words)) if not (skip and i in skip))


def _covered(words: list[Word], phrases: AccentPhrases) -> set[int]:
    """Positions inside any occurrence of ``phrases``."""
    return {k for i in range(len(words)) for p in _at(words, i, phrases) for k in range(i, i + len(p))}


def _asks(words: list[Word], data: ActData, request: bool = False) -> bool:
    """Whether the words ask something: a question word, a request for contact details, or "… không?"."""
    idioms = _covered(words, data.not_interrogative)
    if _find(words, data.interrogatives, skip=idioms) or _find(words, data.contact_words):
        return True
    return not request and bool(words) and words[-1].fold in ("khong", "ko", "chua", "ha")


def _reports_problem(words: list[Word], data: ActData) -> bool:
    """A problem ("đường thôn tôi bị sạt lở") said by someone it happens to, or while it lasts."""
    if next(_at(words, 0, data.figure_heads), None):
        return False
    if not _find(words, data.problems) or not _find(words, data.markers):
        return False
    return not _asks(words, data)
