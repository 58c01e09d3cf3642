"""What a question asks: the kind of answer, about what, for which year and which of several neighbours.

A score over shared words finds the topic, not the figure. Knowing that "bao nhiêu hộ cận nghèo" wants a
count of households, of the near-poor (not the poor), from last year's results, lets the matcher refuse a
sentence that shares the words but holds a different figure.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .lexicon import Lexicon, Speller, accented_tokens
from .text import accent_key, fold, fold_word, nfc, normalize, number_key, strip_marks, tokens

MAX_QUESTION_CHARS = 600
_CASED_TOKEN = re.compile(r"\d+(?:[.,/]\d+)*|[^\W\d_]+\d*|%", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_TAIL_PARTICLES = {"a", "nhi", "vay", "the", "nhe", "ha", "day", "ah", "ko", "k", "hok", "khong"}


@dataclass
class Slot:
    """One thing the question names; matched when any alternative's words are in a sentence."""

    alts: list[tuple[str, ...]]
    known: bool
    is_number: bool = False
    framing: bool = False  # a measure word ("diện tích"): says what kind of figure, not which one
    accented: str | None = None  # the word as typed with diacritics, when it was: "dê" is not "để"
    focus: bool = False  # next to the question word ("tăng thêm bao nhiêu"): what is asked about
    compound: bool = False  # words the knowledge base writes together ("người cao tuổi"): one concept
    accents: tuple[str, ...] = ()  # a phrase's words with their diacritics, when typed or known: "khai tử"
    pos: int = -1  # where it stands in the question (its last word)
    weight: float = 0.0


@dataclass
class Query:
    """A question, understood."""

    text: str
    tokens: list[str]
    slots: list[Slot]
    bigrams: list[tuple[str, str]]
    types: set[str] = field(default_factory=set)
    counted: tuple[str, ...] | None = None
    counted_alts: list[tuple[str, ...]] = field(default_factory=list)
    share_counts: bool = False  # "Số hộ … là bao nhiêu?": a count of hộ, or the share of them ("85%")
    number_of: str | None = None  # "Số hộ nghèo …": a stock the document states the same way
    counted_word: str | None = None  # "bao nhiêu phòng học": a noun no counter group knows, to be found
    identity: bool = False  # "ai ký", "là ai", "tên là gì": a person's name is asked, not just "who" as an object
    identifier: bool = False  # "tờ trình số mấy", "số hiệu": a document's number, not a count
    contact: str | None = None  # "số điện thoại", "email", "website": a way to reach someone, not a figure
    stance_strict: bool = False  # "đừng lấy chỉ tiêu": the other stance was set aside in so many words
    set_aside: dict[int, set[int]] = field(default_factory=dict)  # contrast members set aside, by group
    units: set[tuple[str, ...]] = field(default_factory=set)  # from a measure word: "diện tích" → ha, m2
    total: bool = False
    stance: str | None = None
    years: set[int] = field(default_factory=set)
    years_explicit: bool = False
    contrasts: dict[int, set[int]] = field(default_factory=dict)
    school_years: list[tuple[str, ...]] = field(default_factory=list)
    year_spans: set[tuple[int, int]] = field(default_factory=set)  # "2024-2025": a school year, a crop year
    english: bool = False
    places: list[str] = field(default_factory=list)  # proper names after "xã", "huyện"…: "Thụy Hùng"
    communes: list[str] = field(default_factory=list)  # those after "xã", "phường": which commune is asked about
    names: list[str] = field(default_factory=list)  # capitalised words inside the question: "dân tộc Tày"
    unknown_owned: bool = False  # "Email của UBND xã …": what is asked about is a word the plans never use
    excluded: list[Slot] = field(default_factory=list)  # "Ngoài tuyển quân, …": named to be set aside

    @property
    def empty(self) -> bool:
        return not self.slots


def _find(toks: list[str], phrase: tuple[str, ...], used: set[int] | None = None) -> int:
    n = len(phrase)
    for i in range(len(toks) - n + 1):
        if tuple(toks[i : i + n]) == phrase and not (used and any(j in used for j in range(i, i + n))):
            return i
    return -1


MemberIndex = dict[str, list[tuple[int, int, tuple[str, ...]]]]  # first word → (length, member, phrase)


def find_members(toks: list[str], group: list[set[tuple[str, ...]]] | MemberIndex) -> set[int]:
    """Which members of a contrast group a token stream names; longer phrases mask the words inside.

    ``group`` may be given as its :func:`member_index`, made once, when many streams are checked against it.
    """
    index = group if isinstance(group, dict) else member_index(group)
    found: set[int] = set()
    taken: set[int] = set()
    matches: list[tuple[int, int, int]] = []  # (-length, start, member)
    for i, tok in enumerate(toks):
        for n, idx, phrase in index.get(tok, ()):
            if tuple(toks[i : i + n]) == phrase:
                matches.append((-n, i, idx))
    for neg_n, start, idx in sorted(matches):
        span = range(start, start - neg_n)
        if not any(j in taken for j in span):
            taken.update(span)
            found.add(idx)
    return found


def member_index(group: list[set[tuple[str, ...]]]) -> MemberIndex:
    """A contrast group's phrases by their first word."""
    return _member_index(tuple(frozenset(m) for m in group))


@lru_cache(maxsize=256)
def _member_index(group: tuple[frozenset[tuple[str, ...]], ...]) -> MemberIndex:
    index: MemberIndex = {}
    for idx, member in enumerate(group):
        for phrase in member:
            if phrase:
                index.setdefault(phrase[0], []).append((len(phrase), idx, phrase))
    return index


def analyze(question: str, lex: Lexicon, speller: Speller, plan_year: int | None) -> Query:
    """Read a question (any case, with or without diacritics, Telex, English) into a :class:`Query`.

    Named steps, in order, each reading what the ones before left: the words (repaired, English glossed),
    the names and places, the kinds of answer asked (whose words are consumed), what is counted and in which
    unit, the time, the things named (the slots), what is set aside, the neighbours the question picks."""
    r = _read_words(question, lex, speller)
    q = Query(text=r.text, tokens=r.toks, slots=[], bigrams=[], english=r.english)
    _names_and_places(r, q)
    _kinds_asked(r, q, lex, speller)
    _what_is_counted(r, q, lex, speller)
    _read_time(q, r.toks, r.accented if r.has_marks else None, lex, plan_year)
    _things_named(r, q, lex, speller)
    _what_is_set_aside(r, q, lex)
    _neighbours(r, q, lex)
    q.tokens = r.rest
    return q


@dataclass
class _Reading:
    """A question as the steps of ``analyze`` read it: its words as typed, folded and repaired, and what
    each step leaves for the next (the words a cue consumed, where a count was asked, what remains)."""

    original: str
    text: str
    cased: list[str]  # the words with their case ("Tày", "THCS"): names and abbreviations
    toks: list[str]  # folded, repaired, English glossed
    accented: list[str | None]  # each word with its diacritics, when typed with them (None: repaired)
    has_marks: bool
    english: bool
    used: set[int] = field(default_factory=set)  # words that said a kind of answer: not things named
    quantity_at: list[int] = field(default_factory=list)  # after each "bao nhiêu"
    asked_spans: list[tuple[int, int]] = field(default_factory=list)
    measured: set[int] = field(default_factory=set)  # measure words ("diện tích")
    rest: list[str] = field(default_factory=list)  # the words left once the kinds are read ("" where consumed)
    aside: list[str] = field(default_factory=list)  # the words of what is set aside ("trừ trường THPT ra")
    aside_things: list[str] = field(default_factory=list)


def _read_words(question: str, lex: Lexicon, speller: Speller) -> _Reading:
    """The question's words: NFC, folded, each unknown Vietnamese word repaired against the knowledge base's
    vocabulary; an English question glossed into the documents' words."""
    original = nfc(_CONTROL.sub(" ", question or ""))[:MAX_QUESTION_CHARS]
    text = normalize(original)
    cased = _CASED_TOKEN.findall(original)
    raw = accented_tokens(text)
    if len(cased) != len(raw):  # defensive: the two tokenisations agree on NFC text
        cased = raw
    has_marks = any(strip_marks(w) != w for w in raw)
    toks: list[str] = []
    accented: list[str | None] = []
    # English first: its words are not Vietnamese typos to repair ("last" is not "lát").
    looks_english = not has_marks and lex.is_english([fold_word(w) for w in raw])
    for word in raw:
        f = fold_word(word)
        acc: str | None = word
        if (f and f != "%" and not f[0].isdigit() and not speller.known(f) and f not in lex.stopwords
                and (f,) not in lex.colloquial and not looks_english):
            repaired = speller.repair(word)
            if repaired:
                f, acc = repaired, None
        toks.append(f)
        accented.append(acc)
    english = lex.is_english(toks)
    if english:
        toks, accented = lex.apply_glossary(toks)
        cased = list(toks)
    return _Reading(original=original, text=text, cased=cased, toks=toks, accented=accented,
                    has_marks=has_marks, english=english)


def _names_and_places(r: _Reading, q: Query) -> None:
    """The places ("thôn Nà Thâm", "xã Cao Lâu") and names the question writes."""
    q.places = _places(r.cased)
    q.communes = _places(r.cased, _COMMUNE_WORDS)
    # A capitalised word after the first is a name ("người dân tộc Tày", "trường Kim Đồng"); all capitals
    # is an abbreviation, and a word after a sentence's end starts a sentence.
    q.names = [normalize(w) for i, w in enumerate(r.cased) if i and w[:1].isupper() and w.isalpha()
               and not w.isupper() and not re.search(rf"[.?!]\s+{re.escape(w)}\b", r.original)]


def _kinds_asked(r: _Reading, q: Query, lex: Lexicon, speller: Speller) -> None:
    """Kinds of answer wanted (a quantity, a percentage, a date, a name, yes or no…); the words that say so
    are consumed."""
    toks, accented = r.toks, r.accented
    present = set(toks)  # only cue phrases whose first word is in the question can match
    cues: dict[str, list[tuple[str, ...]]] = {}  # the phrases that said each kind
    for qtype, acc_phrase, folded_phrase in lex.question_types:
        if folded_phrase[0] not in present:
            continue
        if qtype == "yesno":
            continue
        if r.has_marks:
            pos = _find_aligned(toks, accented, acc_phrase, folded_phrase, r.used)
        else:
            pos = _find(toks, folded_phrase, r.used)
        if pos >= 0 and folded_phrase in lex.folded_ambiguous and _pairs_up(toks, pos, len(folded_phrase),
                                                                            speller.pairs):
            pos = -1  # "giá" is a price, unless it pairs up as in "đánh giá", "gia cầm", "gia đình"
        if pos >= 0:
            r.used.update(range(pos, pos + len(folded_phrase)))
            q.types.add(qtype)
            cues.setdefault(qtype, []).append(folded_phrase)
            r.asked_spans.append((pos, pos + len(folded_phrase)))
            if qtype == "quantity":
                r.quantity_at.append(pos + len(folded_phrase))
    _settle_kinds(q, toks, cues, r.quantity_at)
    if not q.types and any(_find(toks, p) >= 0 for p in lex.totals):
        q.types.add("quantity")  # "Tổng vốn đầu tư năm 2023?": a total is a figure
    tail = [t for t in toks if t not in _TAIL_PARTICLES and t != "?"]
    if (toks and toks[-1] in {"khong", "chua", "ko", "k", "hok"}) or (tail and tail[-1] in {"khong", "chua"}):
        q.types.add("yesno")
    if r.english and toks and toks[0] in {"is", "are", "does", "did", "will", "was", "were", "has"}:
        q.types.add("yesno")
    for at in r.quantity_at:  # "mấy cái chợ": a classifier after the count word only counts
        if at < len(toks) and (toks[at],) in lex.classifiers:
            r.used.add(at)


def _what_is_counted(r: _Reading, q: Query, lex: Lexicon, speller: Speller) -> None:
    """What a count counts ("bao nhiêu hộ": hộ), the unit a measure word asks for ("diện tích": ha), and
    whether a total is asked."""
    toks, quantity_at = r.toks, r.quantity_at
    # Two counts asked at once ("bao nhiêu thai phụ …, bao nhiêu trẻ …"): no single unit to insist on.
    single = len(quantity_at) - sum(tuple(toks[a - len(p):a]) == p for a in quantity_at for p in lex.totals) <= 1
    pairs = speller.pairs if r.english or not r.has_marks else ()
    q.counted = _counted_noun(toks, quantity_at, lex, pairs) if single else None
    q.number_of = next((toks[k + 1] for k, tk in enumerate(toks[:-1]) if tk == "so" and toks[k + 1]
                        and toks[k + 1] not in lex.stopwords), None)
    if (q.counted is None and single and "quantity" in q.types and quantity_at
            and all(t in lex.stopwords or t in _TAIL_PARTICLES or t == "?" for t in toks[max(quantity_at):])):
        # Nothing after "bao nhiêu": the thing counted is the one the question opens with ("Số hộ nghèo … là
        # bao nhiêu?", "hộ nghèo còn bao nhiêu?"): a count of hộ, or their share, not a sum of money.
        opening = q.number_of or next((t for t in toks[: min(quantity_at)] if t not in lex.stopwords), None)
        if opening and lex.counter_of((opening,)):
            q.counted = (opening,)
            q.share_counts = True
    if q.counted and len(q.counted) == 1:  # "bao nhiêu HS": học sinh or hồ sơ, whichever the sentence counts
        at = next((k for k, t in enumerate(toks) if (t,) == q.counted), -1)
        q.counted_alts = list(lex.abbreviations_caps.get(r.cased[at], [])) if at >= 0 and not r.english else []
    if q.counted is None and quantity_at and single:
        after = min(quantity_at)
        word = toks[after] if after < len(toks) else ""
        word = (lex.colloquial.get((word,)) or (word,))[0]
        measure_words = {t for m in lex.measures for t in m}
        if (word and not word[0].isdigit() and word not in lex.stopwords and word not in measure_words
                and (word,) not in lex.classifiers and speller.known(word)):
            q.counted_word = word  # ("mấy cái", "bao nhiêu đứa": a classifier counts, it names nothing)
    for word, units in lex.measures.items():
        pos = _find(toks, word, r.used)
        if pos >= 0:
            q.units |= units
            r.measured.update(range(pos, pos + len(word)))
    q.total = any(_find(toks, p) >= 0 for p in lex.totals)


def _stop_positions(r: _Reading, lex: Lexicon) -> set[int]:
    """Where the question's stop phrases are ("cho biết", "hiện nay"): words that only shape it."""
    toks, accented = r.toks, r.accented
    present = set(toks)
    phrase_stop: set[int] = set()
    for acc_phrase, folded_phrase in lex.stop_phrases:
        if folded_phrase[0] not in present:
            continue
        start = 0
        while True:
            if r.has_marks:
                pos = _find_aligned(toks[start:], accented[start:], acc_phrase, folded_phrase, set())
            else:
                pos = _find(toks[start:], folded_phrase)
            if pos < 0:
                break
            phrase_stop.update(range(start + pos, start + pos + len(folded_phrase)))
            start += pos + len(folded_phrase)
    return phrase_stop


def _things_named(r: _Reading, q: Query, lex: Lexicon, speller: Speller) -> None:
    """What remains names things (the slots): everyday words gain the documents' words, abbreviations their
    full forms, words that only shape the question drop out; neighbouring words make the bigrams."""
    toks, accented, english, has_marks = r.toks, r.accented, r.english, r.has_marks
    phrase_stop = _stop_positions(r, lex)

    def is_stop(i: int) -> bool:
        t = toks[i]
        if i in phrase_stop:
            return True
        if english and t in lex.stopwords_en:
            return True
        acc = accented[i]
        if has_marks and acc is not None:
            return acc in lex.stopwords_accented
        if t not in lex.stopwords:
            return False
        # Without diacritics "so" is số (a stop word) but also sơ in "hồ sơ": keep what pairs up.
        prev = toks[i - 1] if i > 0 else ""
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        return (prev, t) not in speller.bigrams and (t, nxt) not in speller.bigrams

    rest = r.rest
    content: list[int] = []  # indices into rest of content words, for bigrams
    longest = max((len(k) for k in lex.colloquial), default=0)
    i = 0
    while i < len(toks):
        if i in r.used:
            rest.append("")
            i += 1
            continue
        if english and (span := _glossary_span(toks, i, lex, r.used)) is not None:
            # "training" read as đào tạo, and as bồi dưỡng or tập huấn: whichever the document writes
            alts = lex.glossary_alts[span]
            q.slots.append(Slot(alts=alts, known=any(speller.known(t) for a in alts for t in a)))
            for t in span:
                content.append(len(rest))
                rest.append(t)
            i += len(span)
            continue
        key = None
        for n in range(min(longest, len(toks) - i), 0, -1):
            span = tuple(toks[i : i + n])
            if span in lex.colloquial and not any(j in r.used for j in range(i, i + n)):
                nxt = toks[i + n] if i + n < len(toks) else ""
                if span[-1].isdigit() and nxt and lex.counter_of((nxt,)):
                    continue  # "được cấp 3 tấn" is an allocation, not "cấp 3" (upper-secondary school)
                key = span
                break
        if key is not None:
            alts = lex.colloquial_alts.get(key) or [lex.colloquial[key]]
            if _written(key, speller) and key not in alts:
                # Expansion adds the document's word; it does not take away the asker's: a plan that writes
                # "đàn heo" is found by "heo" as well as by "lợn".
                alts = [key, *alts]
            q.slots.append(Slot(alts=alts, known=any(speller.known(t) for a in alts for t in a),
                                accents=lex.colloquial_accents.get(key, ()) if len(alts) == 1 else ()))
            for t in lex.colloquial[key]:
                content.append(len(rest))
                rest.append(t)
            i += len(key)
            continue
        t = toks[i]
        caps = lex.abbreviations_caps.get(r.cased[i]) if not english else None
        if (caps is None and not english and r.cased[i].isupper() and (t,) not in lex.abbreviations
                and not speller.known(t) and (spelt := speller.initialism(t)) is not None):
            caps = [spelt]  # "ĐTC" where the plan writes "đầu tư công": its own shorthand, read from its words
        if caps and all(a in lex.stop_phrase_set for a in caps):  # "KH 2024": the plan itself, a framing word
            rest.append(t)
            i += 1
            continue
        if caps:
            measure = next((lex.measures[a] for a in caps if a in lex.measures), None)
            if measure:  # "DT trồng rừng" = the area of planted forest: a figure in ha
                q.units |= measure
            q.slots.append(Slot(alts=[(t,), *caps], known=True, framing=measure is not None))
            content.append(len(rest))
            rest.append(t)
            i += 1
            continue
        stop = is_stop(i) or not t or t == "%"
        rest.append(t)
        i += 1
        if stop:
            continue
        if t[0].isdigit():
            if not re.fullmatch(r"20\d\d", t):
                q.slots.append(Slot(alts=[(number_key(t),)], known=True, is_number=True))
            continue
        if len(t) == 1 and not _pairs_up(toks, i - 1, 1, speller.pairs):
            continue  # a stray letter, unless it is half of a word pair ("y tế", "học kỳ I")
        alts = [(t,)]
        expanded = lex.abbreviations.get((t,))
        if expanded:
            alts.append(expanded)
        known = speller.known(t) or any(all(speller.known(x) for x in a) for a in alts[1:])
        acc = accented[i - 1] if has_marks or english else None
        q.slots.append(Slot(alts=alts, known=known, framing=(i - 1) in r.measured,
                            accented=accent_key(acc) if acc else None,
                            focus=any(a - 2 <= i - 1 < b + 2 for a, b in r.asked_spans), pos=len(rest) - 1))
        content.append(len(rest) - 1)
    for a, b in itertools.pairwise(content):
        if b == a + 1:
            q.bigrams.append((rest[a], rest[b]))
    # A classifier asked for ("mấy đứa", "bao nhiêu con") is checked as a unit, not matched as a word.
    q.slots = [s for s in q.slots if not (q.counted and s.alts[0] == q.counted and q.counted in lex.classifiers)]
    q.slots = _compounds(q.slots, speller)


def _what_is_set_aside(r: _Reading, q: Query, lex: Lexicon) -> None:
    """What the question sets aside ("trừ trường THPT ra", "đừng lấy chỉ tiêu", "không kể vụ mùa"): its
    things leave the slots for ``excluded``, a stance or a year set aside is not the one asked."""
    # (English: what it sets aside, in the plan's words)
    r.aside, r.aside_things = _set_aside(" ".join(r.toks) if r.english else r.text)
    aside, aside_things = r.aside, r.aside_things
    if aside:
        keep = []
        outside = Counter(r.rest) - Counter(aside)  # "hộ nghèo, không tính cận nghèo": "nghèo" is asked as well
        for slot in q.slots:
            (q.excluded if all(t in aside and not outside[t] for t in slot.alts[0]) else keep).append(slot)
        q.slots = keep
        if aside[0] in _BESIDES:  # "ngoài hồi và thông, … loại rừng nào": besides them, so the answer may name them
            q.excluded = []
        # "đừng lấy chỉ tiêu", "không phải kế hoạch": the stance set aside is not the one asked
        set_aside_stance = {kind for kind, phrases in lex.stance.items()
                            if any(_find(aside_things, folded) >= 0 for _, folded in phrases)}
        if set_aside_stance in ({"plan"}, {"result"}):
            q.stance = "result" if set_aside_stance == {"plan"} else "plan"
            q.stance_strict = True
            # the stance words set aside name no topic: a result sentence "đạt 100% chỉ tiêu" is not excluded
            stance_words = {t for phrases in lex.stance.values() for _, f in phrases for t in f}
            q.excluded = [x for x in q.excluded if not set(x.alts[0]) <= stance_words]
        for year in [y for y in q.years if str(y) in aside and str(y) not in outside]:
            q.years.discard(year)  # "không phải kết quả năm 2023": that year is not the one asked
        q.years_explicit = q.years_explicit and bool(q.years)
    for key, value in lex.abbreviations.items():  # multi-word abbreviations ("kt xh")
        if len(key) > 1 and _find(r.rest, key) >= 0:
            q.slots.append(Slot(alts=[key, value], known=True))


def _neighbours(r: _Reading, q: Query, lex: Lexicon) -> None:
    """The neighbours the question picks: spring or summer crop, poor or near-poor, which school, which
    semester (the words typed as well as the plan's words they became: "trễ hạn" is a neighbour as typed),
    less those set aside; and whether it asks about something the knowledge base never names."""
    rest, aside, aside_things = r.rest, r.aside, r.aside_things
    probe = rest + [t for sy in q.school_years for t in sy]
    besides = bool(aside) and aside[0] in _BESIDES
    for gi, group in enumerate(lex.contrasts):
        members = find_members(probe, group)
        if members and aside:
            dropped = find_members(aside_things, group)
            members -= dropped  # "không kể vụ mùa": that one is not wanted
            if dropped and members and not besides:
                q.set_aside[gi] = dropped  # "tỷ lệ hộ nghèo, không gộp cận nghèo": a figure of both is not it
        if members:
            q.contrasts[gi] = members
    # "X của Y": X is what the question asks about; when the knowledge base never uses that word, no
    # sentence can hold it, whatever else (Y) they share.
    q.unknown_owned = any(s.pos + 1 < len(rest) and rest[s.pos + 1] == "cua" and not s.known
                          for s in q.slots if s.pos >= 0)


def _glossary_span(toks: list[str], i: int, lex: Lexicon, used: set[int]) -> tuple[str, ...] | None:
    """The longest English term's first reading at ``i`` that has other readings (``Lexicon.glossary_alts``)."""
    longest = max((len(k) for k in lex.glossary_alts), default=0)
    for n in range(min(longest, len(toks) - i), 0, -1):
        span = tuple(toks[i : i + n])
        if span in lex.glossary_alts and not any(j in used for j in range(i, i + n)):
            return span
    return None


_INTERROGATIVE = {"bao", "may", "nhieu", "bn", "nhiu", "how", "what", "which", "gi", "nao"}
_IDENTITY = [("la", "ai"), ("ai", "la"), ("ai", "ki"), ("ten", "la", "gi"), ("ten", "gi"), ("ho", "ten"),
             ("who", "is"), ("who", "signed"), ("who", "was"), ("whose", "name"), ("who", "heads")]
_CONTACTS = {
    "phone": [("so", "dien", "thoai"), ("sdt",), ("dien", "thoai", "lien", "he"), ("duong", "day", "nong"),
              ("hotline",), ("phone", "number"), ("telephone",)],
    "email": [("email",), ("e", "mail"), ("thu", "dien", "tu")],
    "web": [("website",), ("trang", "web"), ("dia", "chi", "web")],
}
_IDENTIFIER = [("so", "may"), ("so", "bao", "nhieu"), ("so", "hieu"), ("so", "gi"), ("so", "nao"), ("what", "number")]


def _settle_kinds(q: Query, toks: list[str], cues: dict[str, list[tuple[str, ...]]], quantity_at: list[int]) -> None:
    """Which kind of answer the question wants, when its cue words pull several ways.

    - "… kinh phí đào tạo theo nghị quyết nào": asks which resolution; "kinh phí" only names what it is about.
      A kind said by a noun alone ("kinh phí", "số lượng", "tỷ lệ") gives way to "nào" / "gì".
    - "mấy mảng nào" asks which ones, not how many.
    - "tờ trình số mấy", "số hiệu" asks a document's number: any number answers it, not a count of things.
    - "ai" as an object ("kêu gọi ai") asks who in general; only "là ai", "ai ký", "tên là gì" ask a name.
    """
    if "which" in q.types:
        for kind in ("money", "quantity", "percent"):
            if kind in q.types and not any(set(p) & _INTERROGATIVE for p in cues.get(kind, [])):
                q.types.discard(kind)
        if "quantity" in q.types and all(p in {("may",), ("nhieu",)} for p in cues.get("quantity", [])):
            q.types.discard("quantity")
    if any(_find(toks, p) >= 0 for p in _IDENTIFIER):
        q.identifier = True
        q.types.discard("quantity")
    if "who" in q.types:
        q.identity = any(_find(toks, p) >= 0 for p in _IDENTITY)
    q.contact = next((kind for kind, phrases in _CONTACTS.items() if any(_find(toks, p) >= 0 for p in phrases)), None)
    if q.contact:
        q.types -= {"quantity", "which"}  # "số điện thoại … là số mấy": a phone number, not a count
    if "quantity" not in q.types:
        quantity_at.clear()


def _written(phrase: tuple[str, ...], speller: Speller) -> bool:
    """Does the knowledge base write this phrase itself: a word it uses, or words it writes side by side?"""
    if len(phrase) == 1:
        return speller.known(phrase[0])
    return all(pair in speller.pairs for pair in itertools.pairwise(phrase))


def _read_time(q: Query, toks: list[str], accented: list[str | None] | None, lex: Lexicon,
               plan_year: int | None) -> None:
    """Which year (explicit, or relative to the plan's year), which school year, results or plan."""
    for phrase, offset in lex.relative_years.items():
        if plan_year and _find(toks, phrase) >= 0:
            q.years.add(plan_year + offset)
    for phrase, offset in lex.relative_school_years.items():
        if plan_year and _find(toks, phrase) >= 0:
            y = plan_year + offset
            q.school_years.append(("nam", "hoc", str(y - 1), str(y)))
    explicit = [int(t) for t in toks if re.fullmatch(r"20\d\d", t)]
    # "2022-2023" names a school year, not a calendar year.
    pairs = {(int(a), int(b)) for a, b in itertools.pairwise(toks) if re.fullmatch(r"20\d\d", a)
             and re.fullmatch(r"20\d\d", b) and int(b) == int(a) + 1}
    in_pairs = {y for p in pairs for y in p}
    for y in explicit:
        if y not in in_pairs:
            q.years.add(y)
            q.years_explicit = True
    for a, b in sorted(pairs):
        q.school_years.append(("nam", "hoc", str(a), str(b)))
    q.year_spans = pairs
    def hits(kind: str) -> int:
        found = 0
        for acc_phrase, folded_phrase in lex.stance.get(kind, []):
            if folded_phrase[0] not in toks:
                continue
            if accented is not None:
                found += _find_aligned(toks, accented, acc_phrase, folded_phrase, set()) >= 0
            else:
                found += _find(toks, folded_phrase) >= 0
        return found

    plan_hits, result_hits = hits("plan"), hits("result")
    if plan_hits > result_hits:
        q.stance = "plan"
    elif result_hits > plan_hits:
        q.stance = "result"


# What sets a thing aside, and where its scope ends ("trừ trường THPT ra", "không kể vụ mùa, …",
# "lấy số thực hiện, đừng lấy chỉ tiêu"), matched on the folded question so that it holds without diacritics.
_ASIDE = re.compile(
    r"\b(?:ngoai|tru|khong ke|khong tinh|khong gop|ko gop|k gop|ko tinh|chua ke|dung lay|khong lay|ko lay"
    r"|chu khong phai|khong phai la|khong phai|bo qua|besides|except|excluding|not including|apart from|rather than"
    r"|instead of|other than|not counting)\s+(.+?)\s*(?=[,.;?!]|\bra\b|\bma\b|\bcon\b|\bthi\b|\bchi\b|$)")


_BESIDES = {"ngoai", "besides", "apart"}  # markers that add to what is set aside rather than exclude it
_ASIDE_MARKED = re.compile(
    r"\b(?:ngoài(?! ra)|trừ|không kể|không tính|không gộp|ko gộp|k gộp|ko tính|chưa kể|đừng lấy|không lấy|ko lấy"
    r"|chứ không phải|không phải là|không phải|bỏ qua|besides|except|excluding|not including|apart from|rather than"
    r"|instead of|other than|not counting)\s+(.+?)\s*(?=[,.;?!]|\bra\b|\bmà\b|\bcòn\b|\bthì\b|\bchỉ\b|$)")


def _set_aside(text: str) -> tuple[list[str], list[str]]:
    """What the question names only to exclude it: the words with their markers ("ngoài tuyển quân" →
    [ngoai, tuyen, quan], none of them to be matched) and the things set aside alone ([tuyen, quan])."""
    marked = strip_marks(text) != text  # typed with diacritics: "nội trú" is not "trừ", "năm ngoái" not "ngoài"
    folded = fold(text)
    words: list[str] = []
    things: list[str] = []
    for m in (_ASIDE_MARKED if marked else _ASIDE).finditer(text if marked else folded):
        if not marked and (m.group(0).startswith("ngoai ra") or folded[: m.start()].endswith("nam ")):
            continue  # "ngoài ra" (besides that) and "năm ngoái" (last year) set nothing aside
        words.extend(tokens(m.group(0)))
        things.extend(tokens(m.group(1)))
    return words, things


def _compounds(slots: list[Slot], speller: Speller) -> list[Slot]:
    """Join neighbouring words the knowledge base writes together into one slot that matches as a phrase.

    Vietnamese writes a word as several syllables; "người cao tuổi" is one concept, and a sentence with
    "người" in one place and "cao" in another ("bao cao su … 102 người") does not name it.
    """
    out: list[Slot] = []
    for slot in slots:
        prev = out[-1] if out else None
        if (prev is not None and slot.pos == prev.pos + 1 and slot.pos >= 0 and not slot.is_number
                and not prev.is_number and slot.known and prev.known and len(slot.alts) == 1
                and len(prev.alts) == 1 and len(prev.alts[0]) < 4
                and speller.pair_counts.get((prev.alts[0][-1], slot.alts[0][0]), 0) >= 2):
            joined = prev.alts[0] + slot.alts[0]
            accents = (prev.accents or ((prev.accented,) if prev.accented else ())) + (
                (slot.accented,) if slot.accented else ())
            out[-1] = Slot(alts=[joined], known=True, compound=True, pos=slot.pos,
                           focus=prev.focus or slot.focus, framing=prev.framing and slot.framing,
                           accents=accents if len(accents) == len(joined) else ())
            continue
        out.append(slot)
    return out


_PLACE_WORDS = {"xã", "huyện", "tỉnh", "thôn", "bản", "phường", "thị"}


_COMMUNE_WORDS = {"xã", "phường"}


def _places(cased: list[str], words: set[str] = _PLACE_WORDS) -> list[str]:
    """Capitalised names after a place word ("xã Thụy Hùng" → "thụy hùng"), as the asker typed them."""
    out: list[str] = []
    i = 0
    while i < len(cased):
        if cased[i].lower() in words:
            j = i + 1
            name: list[str] = []
            # A name is capitalised, not shouted: in "TỔNG THU NGÂN SÁCH XÃ NĂM 2023" nothing is a name.
            while (j < len(cased) and cased[j][:1].isupper() and cased[j].isalpha() and len(name) < 3
                   and not (cased[j].isupper() and len(cased[j]) > 1)):
                name.append(cased[j])
                j += 1
            if name:
                out.append(normalize(" ".join(name)))
            i = j
        else:
            i += 1
    return out


def _pairs_up(toks: list[str], pos: int, n: int, bigrams: set[tuple[str, str]]) -> bool:
    prev = toks[pos - 1] if pos > 0 else ""
    nxt = toks[pos + n] if pos + n < len(toks) else ""
    return (prev, toks[pos]) in bigrams or (toks[pos + n - 1], nxt) in bigrams


def _find_aligned(toks: list[str], accented: list[str | None], acc_phrase: tuple[str, ...],
                  folded_phrase: tuple[str, ...], used: set[int]) -> int:
    """Find a cue with its diacritics where the question has them (a repaired word compares folded)."""
    n = len(folded_phrase)
    for i in range(len(toks) - n + 1):
        if any(j in used for j in range(i, i + n)):
            continue
        ok = True
        for k in range(n):
            acc = accented[i + k]
            if acc is None or not acc_phrase or len(acc_phrase) != n:
                ok = toks[i + k] == folded_phrase[k]
            else:
                ok = acc == acc_phrase[k]
            if not ok:
                break
        if ok:
            return i
    return -1


def _counted_noun(toks: list[str], quantity_at: list[int], lex: Lexicon,
                  pairs: Any = ()) -> tuple[str, ...] | None:
    """The unit a count question asks in: "bao nhiêu hộ" → hộ; "tổng số người … là bao nhiêu" → người."""
    starts: list[int] = sorted(quantity_at)
    for i, t in enumerate(toks[:-1]):
        if t == "so" and (i == 0 or toks[i - 1] in {"tong", "co", "la", "cac"}):
            starts.append(i + 1)
    for start in starts:
        for n in (3, 2, 1):
            phrase = tuple(toks[start : start + n])
            if n == 1 and start + 1 < len(toks) and (toks[start], toks[start + 1]) in pairs:
                continue  # "hỗ trợ", not "hộ": the word is half of a longer one
            phrase = lex.colloquial.get(phrase, phrase)  # "mét vuông" → m², an area, not a length
            if len(phrase) >= 1 and lex.counter_of(phrase):
                return phrase
    return None
