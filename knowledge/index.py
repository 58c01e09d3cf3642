"""Retrieve: passages cut into sentences, an inverted index over their words, and the question weighed.

``weigh`` gives each thing the question names its weight here (rare words matter more, words the knowledge
base never uses count against a match); ``candidates`` are the sentences that cover most of it, cheaply,
for ``knowledge.rank`` to score in full. Every number is the ``Ranking`` policy's (``data/policy.yaml``).

Sized for a hundred plans in one process (~40,000 sentences): the postings are arrays of two-byte ids and
the first stage is a handful of numpy additions over all sentences, however common the words; a sentence
keeps offsets into its passage's text and its words as one string, and points at sets it shares (the
headings of a paragraph, which are the same in every plan drawn from one template; the plan's title; the
previous sentence). Sets are made only for the few dozen candidates a question scores in full.
"""

from __future__ import annotations

import itertools
import math
import re
import sys
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import TypeVar

import numpy as np

from .document import Passage
from .lexicon import Lexicon, accented_tokens
from .policy import Ranking
from .question import Query, Slot, find_members, member_index
from .text import accent_key, fold, fold_word, number_key, tokens

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\dA-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴ\"“(])")
_RATIO = re.compile(r"(?<![\d/.,])(\d+)/(\d+)(?![\d/])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:/\d+(?:[.,]\d+)*)?")
_NAME = re.compile(r"\b[A-ZĐ][a-zà-ỹđ]+(?:\s+[A-ZĐ][a-zà-ỹđ]+){2,3}\b")
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng
_LINKING = {"la", "duoc", "dat", "co", "gom", "khoang", "tren", "hon", "con", "chi"}
_MONEY_UNITS = {"dong", "d", "trieu", "ti", "000d", "vnd"}  # "tỷ" folds to "ti", like "kỳ" to "ki"


RUN_SCAN = 400  # sentences read to count a run of words (``count_run``)
_NO_MEMBERS: Mapping[int, frozenset[int]] = MappingProxyType({})
_Shared = TypeVar("_Shared", frozenset, tuple)


@dataclass(slots=True)
class Segment:
    """A sentence (or clause) of a passage: the unit that answers.

    A hundred plans make some 40,000 of these, so each holds only what cannot be shared or cheaply recomputed:
    where it is in its passage's text, its words as one string (a set is built for the few dozen candidates a
    question scores in full), and references to what it shares with its neighbours (headings, the previous
    sentence, the passage's accents, the plan's title). Its figures are read again when a question needs
    them (``numbers``).
    """

    id: int
    passage: Passage
    order: int  # position inside the passage
    start: int  # where its words are in the passage's text (after the lead-in of a ;-list item)
    end: int
    words: str  # its tokens, space-separated (one string is smaller than a tuple of them): see ``toks``
    context: frozenset[str]  # headings and leads, shared by the paragraph's sentences (not the plan's title)
    years: frozenset[int]
    has_percent: bool
    has_money: bool
    has_date: bool
    has_name: bool
    members: Mapping[int, frozenset[int]] = field(default_factory=lambda: _NO_MEMBERS)
    context_members: Mapping[int, frozenset[int]] = field(default_factory=lambda: _NO_MEMBERS)
    own: tuple[str, ...] = ()  # a curated question's content words
    prev: str = ""  # the previous sentence's words (the same string, not a copy)
    accents: tuple[str, ...] = ()  # its words with diacritics (accent_key), text and context
    title_words: frozenset[str] = frozenset()  # its plan's title, when several plans are loaded (shared)
    title_accents: tuple[str, ...] = ()
    head: str = ""  # the lead-in of a ;-list this item belongs to
    head_toks: tuple[str, ...] = ()

    @property
    def toks(self) -> list[str]:
        """Its matching tokens (folded, abbreviations followed by their full forms)."""
        return self.words.split()

    @property
    def text(self) -> str:
        """What is shown: the document's own characters; a list item after the first with "…" after its lead-in."""
        item = self.passage.text[self.start : self.end]
        if not self.head:
            return item
        return f"{self.head} … {item}" if self.order else f"{self.head} {item}"

    @property
    def sentence(self) -> str:
        """The text the figures are read from: a list item with its lead-in, without the "…" shown."""
        item = self.passage.text[self.start : self.end]
        return f"{self.head} {item}" if self.head else item

    @property
    def numbers(self) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
        """(key, words after, words before) for each figure: read when asked (the few dozen candidates of a
        question), not kept for every sentence."""
        return _recent_numbers(self.sentence)


@dataclass
class Hit:
    """A scored candidate."""

    segment: Segment
    score: float
    coverage: float
    fits: bool  # holds the kind of answer asked
    reasons: list[str] = field(default_factory=list)


def split_sentences(text: str) -> list[tuple[str, str]]:
    """(head, item) pairs: sentences, and the items of a ;-list, keeping the document's own characters.

    A list introduced by a colon ("đã phân bổ cho các thôn: Còn Nàn 43 tấn; Bản Vàng 31 tấn; …") keeps
    its lead-in as the head of every item, so "Bản Vàng 31 tấn" still says what the 31 tấn are.
    """
    out: list[tuple[str, str]] = []
    for sentence in _sentences(text):
        if not sentence:
            continue
        clauses = [c.strip() for c in _split_outside_parens(sentence) if c.strip()]
        if len(clauses) > 1 and all(":" in c for c in clauses):
            # "Chỉ tiêu: Tỷ lệ hộ nghèo; Kế hoạch: 3,5%; Thực hiện: 3,12%" (a table row): each cell is
            # labelled, and the row's name and its figures only mean something together.
            out.append(("", sentence))
        elif len(clauses) > 1 and ":" in clauses[0]:
            cut = clauses[0].index(":") + 1
            if not any(":" in c for c in clauses[1:]):
                # "Kết quả xếp loại: Tổng số … là 35 người: HTXS 9/35; HTTNV 24/35": the items carry no
                # label of their own, so everything up to the last colon leads them in.
                cut = clauses[0].rindex(":") + 1
            head = clauses[0][:cut]
            items = [clauses[0][cut:].strip(), *clauses[1:]]
            out.extend((head, item) for item in items if item)
        else:
            out.extend(("", c) for c in clauses)
    return out or [("", text)]


def _sentences(text: str) -> list[str]:
    """Split at ". " before a capital, but not after an abbreviation ("TM. ỦY BAN", "TP. Lạng Sơn")."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        before = text[start : m.start()].split()
        last = before[-1] if before else ""
        if re.fullmatch(r"[A-ZĐ][A-Za-zĐđ]{0,2}\.", last):
            continue
        out.append(text[start : m.start()].strip())
        start = m.end()
    out.append(text[start:].strip())
    return [s for s in out if s]


def _split_outside_parens(sentence: str) -> list[str]:
    """Split at "; " except inside parentheses ("(01 khuyết tật nhẹ; 02 khuyết tật đặc biệt nặng)")."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(sentence):
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == ";" and depth == 0:
            out.append(sentence[start : i + 1])
            start = i + 1
    out.append(sentence[start:])
    return out


def _has_ratio(text: str) -> bool:
    """"18/20 đơn", "62/62 trẻ": a part of a whole (not "45/2020", a document number, nor a date)."""
    for m in _RATIO.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if 0 < b < 1900 and a <= b:
            return True
    return False


def _numbers(text: str) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """(key, three words after, three words before) for each figure of ``text``."""
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        after = tuple(tokens(text[m.end() : m.end() + 30]))[:3]
        before_text = text[max(0, m.start() - 40) : m.start()]
        before_toks = tokens(before_text)
        while before_toks and before_toks[-1] in _LINKING:  # "học sinh là 325", "được khoảng 160"
            before_toks.pop()
        before = tuple(before_toks)[-3:]
        out.append((number_key(raw), after, before))
        if "/" in raw:  # "638/790 hộ": the parts count too
            for part in raw.split("/"):
                out.append((number_key(part), after, before))
    return tuple(out)


# The candidates of the last few questions: a question's figures are read once, not once per check.
_recent_numbers = lru_cache(maxsize=1024)(_numbers)


class Postings:
    """Word → the ids of the segments that have it, ascending: every list in one array, so that a hundred plans'
    mentions cost two bytes each, not an object each."""

    def __init__(self, counts: dict[str, int], size: int) -> None:
        """Room for ``counts[word]`` ids of each word; ``size``: how many segments there are (ids are below)."""
        self._slot = {sys.intern(word): i for i, word in enumerate(counts)}
        self._bounds = array("q", [0, *itertools.accumulate(counts.values())])
        # The smallest type that holds every id: two bytes a mention up to 65,536 segments (some 150 plans).
        small = size <= 2**16
        self._ids = array("H" if small else "i", [0]) * self._bounds[-1]
        self.ids = np.frombuffer(self._ids, dtype=np.uint16 if small else np.int32)  # the same memory

    @classmethod
    def of(cls, segments: list[Segment], words_of: Callable[[Segment], set[str]]) -> Postings:
        """Two passes over the segments, counting then filling: arrays of exactly the size needed are all the
        memory postings take (growing a list per word would leave its discarded copies behind)."""
        counts: Counter[str] = Counter()
        for seg in segments:
            counts.update(words_of(seg))
        postings = cls(counts, len(segments))
        slot, ids, end = postings._slot, postings._ids, array("q", postings._bounds[:-1])
        for seg in segments:
            for word in words_of(seg):
                i = slot[word]
                ids[end[i]] = seg.id
                end[i] += 1
        return postings

    def __contains__(self, word: str) -> bool:
        return word in self._slot

    def counts(self) -> Iterator[tuple[str, int]]:
        """Each word with the number of segments listed for it."""
        bounds = self._bounds
        return ((word, bounds[i + 1] - bounds[i]) for word, i in self._slot.items())

    def get(self, word: str) -> np.ndarray | None:
        i = self._slot.get(word)
        return None if i is None else self.ids[self._bounds[i] : self._bounds[i + 1]]


def _own_words(seg: Segment) -> set[str]:
    return set(seg.words.split())


def _near_words(seg: Segment) -> set[str]:
    """What a segment's headings and lead-in, its previous sentence and its plan's title say, and it does not."""
    own = seg.words.split()
    return seg.context.union(seg.title_words, seg.prev.split()).difference(own)


class Index:
    """All segments of a knowledge base, with document frequencies and postings (see :class:`Postings`)."""

    def __init__(self, passages: list[Passage], lex: Lexicon, identity: set[str] | None = None,
                 doc_titles: dict[str, str] | None = None, periods: set[int] | None = None,
                 ranking: Ranking | None = None) -> None:
        self.lex = lex
        self.ranking = ranking or Ranking()
        # The years the documents' titles name ("năm 2025 và phương hướng năm 2026"): their own periods, which
        # their sections may speak of without naming them. A question about another year needs a sentence
        # that names it or stands under a heading that does.
        self.periods = periods or set()
        # With several documents, each passage's context includes its document's title, so a question naming
        # a commune, a year or a quarter ("quý I/2026") leans towards the document that names it. The title's
        # words are kept once per document, apart from the headings, so that a hundred copies of one plan
        # share their headings' sets.
        self.doc_titles = doc_titles or {}
        self.doc_words: dict[str, frozenset[str]] = {}
        self.doc_accents: dict[str, tuple[str, ...]] = {}
        for doc, title in self.doc_titles.items():
            title_toks = _interned(self.lex.expand_abbreviations(tokens(title)))
            self.doc_words[doc] = frozenset(title_toks)
            self.doc_accents[doc] = tuple(sorted(set(
                accent_key(w) for w in accented_tokens(title) if not w[0].isdigit()
            ) | self.lex.expansion_accents(title_toks)))
        # Words naming the document itself (its title: "kế hoạch phát triển kinh tế - xã hội … xã Cao Lâu"):
        # every answer is about them, so a question naming them says little about which sentence answers.
        self.identity = identity or set()
        self._contrasts = [(gi, member_index(g)) for gi, g in enumerate(lex.contrasts)]
        self.segments: list[Segment] = []
        self._first: dict[str, int] = {}  # passage key → its first segment (a passage's segments are consecutive)
        self._interned: dict[object, object] = {}
        self.vocabulary: Counter[str] = Counter()
        # Folded word pairs in which a word that folds like a stop word is not one ("hồ sơ" vs "số"):
        # without diacritics, "ho so" keeps its "so".
        self.bigrams: set[tuple[str, str]] = set()
        self.pairs: Counter[tuple[str, str]] = Counter()  # folded word pairs of the knowledge base
        self.accents: set[str] = set()  # every word of the knowledge base with its diacritics
        self._by_fold: dict[str, list[str]] | None = None  # those words by their folded form, made when needed
        for accents in self.doc_accents.values():
            self.accents.update(accents)
        for passage in passages:
            self._add_passage(passage)
        # word → the segments that say it; word → those whose headings, lead-in, previous sentence or plan
        # title say it (and not the segment itself)
        self.postings = Postings.of(self.segments, _own_words)
        self.ctx_postings = Postings.of(self.segments, _near_words)
        n = max(1, len(self.segments))
        r = self.ranking
        self.idf = {t: min(r.idf_cap, math.log((n + 1) / (df + 0.5))) for t, df in self.postings.counts()}
        # The words a question's words may be repaired to: the knowledge base's and the lexicon's.
        self.vocabulary.update(_lexicon_words(lex))
        self.max_idf = r.idf_cap
        self.rare = min(r.idf_cap, math.log((n + 1) / 0.5)) / 2  # half the rarest word's weight, for this size

    def information(self, query: Query) -> float:
        """How many things the question names that are not commonplace here (a word as rare as half the
        rarest counts 1); relative to the knowledge base, so a two-page plan is judged by its own words."""
        return sum(min(1.0, s.weight / self.rare) for s in query.slots) + (1.0 if query.counted else 0.0)

    def _add_passage(self, passage: Passage) -> None:
        if passage.kind == "faq":
            self._add_curated(passage)
            return
        own_text = " ".join(passage.titles + passage.context + [passage.section])
        title = self.doc_titles.get(passage.doc, "")
        ctx_text = f"{own_text} {title}"
        own_ctx_toks = _interned(self.lex.expand_abbreviations(tokens(own_text)))
        ctx_toks = own_ctx_toks + _interned(self.lex.expand_abbreviations(tokens(title))) if title else own_ctx_toks
        # The years its headings name ("Đánh giá … năm 2023"); the plan's title year only when they name none,
        # or a 2023 result in the 2024 plan would count as a 2024 figure.
        ctx_years = {int(y) for y in re.findall(r"\b(20\d\d)\b", own_text)} or \
            {int(y) for y in re.findall(r"\b(20\d\d)\b", ctx_text)}
        if passage.year:
            ctx_years.add(passage.year)
        ctx_members = self._members(ctx_toks)
        label = passage.label.rstrip(": ")
        # The header's lines (title, number, place and date) answer together: "ban hành ngày nào, số mấy".
        pieces = [("", passage.text)] if passage.kind == "meta" else split_sentences(passage.text)
        sentences = [f"{head} {item}" if head else item for head, item in pieces]
        # The label is the paragraph's subject, as if run in: "Trường Tiểu học: Tổng số học sinh là 325".
        all_toks = [self.lex.expand_abbreviations(tokens(f"{label}: {s}" if label else s)) for s in sentences]
        # Shared, not copied, so that a hundred plans fit in memory: the headings and leads (one set per
        # paragraph, the same set for the same headings in another plan) and the previous sentence's words.
        context = self._shared(frozenset(own_ctx_toks))
        doc_words = self.doc_words.get(passage.doc, frozenset())
        previous = ""
        accents = self._shared(tuple(sorted(set(
            accent_key(w) for w in accented_tokens(" ".join([label, passage.text, own_text])) if not w[0].isdigit()
        ) | self.lex.expansion_accents(own_ctx_toks) | self.lex.expansion_accents([t for ts in all_toks for t in ts]))))
        heads: dict[str, tuple[str, ...]] = {}
        cursor = 0
        for order, ((head, item), sentence, toks) in enumerate(zip(pieces, sentences, all_toks)):
            start = passage.text.find(item, cursor)  # the pieces are the text's own characters, in order
            cursor = start + len(item)
            folded = fold(sentence)
            numbers = _numbers(sentence)
            toks = _interned(toks)
            words = " ".join(toks)
            seg = Segment(
                id=len(self.segments),
                passage=passage,
                order=order,
                start=start,
                end=start + len(item),
                words=words,
                context=context,
                prev=previous,
                years=self._shared(frozenset({int(y) for y in re.findall(r"\b(20\d\d)\b", sentence)} | ctx_years)),
                has_percent="%" in sentence or _has_ratio(sentence) or "phan tram" in folded,
                has_money=any(after[:1] and after[0] in _MONEY_UNITS for _, after, _ in numbers)
                or bool(re.search(r"\d000đ|\d đ\b", sentence)),
                has_date=bool(re.search(r"\d{1,2}/\d{1,2}/\d{4}|\bngày\b|\btháng\b", sentence)),
                has_name=bool(_NAME.search(sentence)),
                members=self._members(toks),
                context_members=ctx_members,
                accents=accents,
                title_words=doc_words,
                title_accents=self.doc_accents.get(passage.doc, ()),
                head=head,
                head_toks=heads.setdefault(head, tuple(tokens(head)) if head else ()),
            )
            self._register(seg, toks, ctx_toks)
            self._note_readings(sentence)
            previous = words

    def _members(self, toks: list[str]) -> Mapping[int, frozenset[int]]:
        """Which words of each contrast group (xuân/mùa, học kỳ I/II, …) these words name; most name none,
        and the rest name one of a few combinations, so each combination is one shared mapping."""
        present = set(toks)
        found = tuple((gi, frozenset(m)) for gi, g in self._contrasts
                      if not g.keys().isdisjoint(present) and (m := find_members(toks, g)))
        if not found:
            return _NO_MEMBERS
        if found not in self._interned:
            self._interned[found] = MappingProxyType(dict(found))
        return self._interned[found]  # type: ignore[return-value]

    def _shared(self, items: _Shared) -> _Shared:
        """One object for equal sets (the same headings over many paragraphs, the same plan in many communes)."""
        return self._interned.setdefault(items, items)  # type: ignore[return-value]

    def _note_readings(self, sentence: str) -> None:
        accented = accented_tokens(sentence)
        folded = [fold_word(w) for w in accented]
        stop_f, stop_a = self.lex.stopwords, self.lex.stopwords_accented
        for i, (a, f) in enumerate(zip(accented, folded)):
            if f in stop_f and a not in stop_a:
                if i > 0:
                    self.bigrams.add((folded[i - 1], f))
                if i + 1 < len(folded):
                    self.bigrams.add((f, folded[i + 1]))

    def _add_curated(self, passage: Passage) -> None:
        """A curated answer: one segment per question variant, matched like a sentence, shown as the quote.

        The quote and the curated answer are its context; the variant's own words must also be in the
        question (see ``_score``), so a curated question matches only questions that ask the same thing.
        """
        *questions, answer = passage.context
        text = passage.text
        ctx_toks = _interned(self.lex.expand_abbreviations(tokens(" ".join([text, answer, *passage.titles]))))
        context = frozenset(ctx_toks)
        numbers = _numbers(text)
        for order, question in enumerate(questions):
            toks = _interned(self.lex.expand_abbreviations(tokens(question)))
            seg = Segment(
                id=len(self.segments), passage=passage, order=order, start=0, end=len(text),
                words=" ".join(toks),
                context=context,
                years=frozenset({int(y) for y in re.findall(r"\b(20\d\d)\b", text)}
                                | ({passage.year} if passage.year else set())),
                has_percent="%" in text or _has_ratio(text),
                has_money=any(after[:1] and after[0] in _MONEY_UNITS for _, after, _ in numbers),
                has_date=bool(re.search(r"\d{1,2}/\d{1,2}/\d{4}|\bngày\b|\btháng\b", text)),
                has_name=bool(_NAME.search(text)),
                members=self._members(toks + tokens(text)),
                own=tuple(t for t in toks if t not in self.lex.stopwords and not t[0].isdigit()),
                accents=tuple(sorted({accent_key(w) for w in accented_tokens(" ".join([question, text, answer]))}
                                     | self.lex.expansion_accents(toks))),
            )
            self._register(seg, toks, ctx_toks)

    def _register(self, seg: Segment, toks: list[str], ctx_toks: list[str]) -> None:
        """Add a segment, and its words to the vocabulary and word pairs the speller repairs questions to."""
        self.accents.update(seg.accents)
        self.pairs.update(set(itertools.pairwise(toks)))
        self.segments.append(seg)
        self._first.setdefault(seg.passage.key, seg.id)
        self.vocabulary.update(toks)
        self.vocabulary.update(ctx_toks)

    def count_run(self, run: tuple[str, ...]) -> int:
        """How many sentences write these words one after another (of the first ``RUN_SCAN`` that have them all)."""
        ids: np.ndarray | None = None
        for w in set(run):
            have = self.postings.get(w)
            if have is None:
                return 0
            ids = have if ids is None else np.intersect1d(ids, have)
            if not len(ids):
                return 0
        n = len(run)
        assert ids is not None
        return sum(any(tuple(toks[i : i + n]) == run for i in range(len(toks) - n + 1))
                   for toks in (self.segments[sid].toks for sid in ids[:RUN_SCAN].tolist()))

    def segments_of(self, passage_key: str) -> list[Segment]:
        """The sentences of one passage (or the question variants of one curated answer), in order."""
        first = self._first.get(passage_key)
        if first is None:
            return []
        end = first
        while end < len(self.segments) and self.segments[end].passage.key == passage_key:
            end += 1
        return self.segments[first:end]

    # -- scoring ---------------------------------------------------------------------------------
    def weigh(self, query: Query) -> Query:
        """The question with each slot weighed: rare words matter more; unknown words count against a match.

        A stage of its own (understand → weigh → retrieve): it returns a new Query and leaves the one it was
        given as the reader made it."""
        return replace(query, slots=[self._weighed(slot, query.english) for slot in query.slots])

    def _weighed(self, slot: Slot, english: bool) -> Slot:
        r = self.ranking
        accented, alts, known = slot.accented, slot.alts, slot.known
        if accented and accented not in self.accents and len(alts) == 1:
            misspelt = self._spelt_as(accented)
            if misspelt is not None:  # "ngừoi" for "người": the same tone, a vowel's hook misplaced
                accented = misspelt
            else:
                # Typed with diacritics and not a word of the knowledge base ("Tày" where it only has "tây",
                # another tone): unknown, whatever it folds to.
                alts, known = [("\x00" + accented,)], False
        best = 0.0
        for alt in alts:
            weights = [self.idf[t] for t in alt if t in self.idf]
            if weights:
                best = max(best, max(weights) * (r.compound_factor if slot.compound else 1.0))
        if slot.is_number:
            best = best or self.max_idf * 0.5
        if not best:  # a word the knowledge base never uses: the question is partly about something else
            best = r.unknown_weight_en if english else r.unknown_weight
        elif self._names_the_document(slot):
            best *= r.identity_factor
        if slot.framing:
            best *= r.framing_factor
        if slot.focus:
            best *= r.focus_factor
        return replace(slot, accented=accented, alts=alts, known=known, weight=best)

    def _spelt_as(self, accented: str) -> str | None:
        """The one word of the knowledge base a word typed with diacritics misspells: the same letters, the same
        tone, and a hook or hat left out ("ngừoi", "nguời" → "người"). Another tone or another hat is another
        word ("Tày" is not "tây", "phở" is not "phổ")."""
        if self._by_fold is None:
            self._by_fold = {}
            for word in self.accents:
                self._by_fold.setdefault(fold_word(word), []).append(word)
        tone, hats = _marks(accented)
        same = [w for w in self._by_fold.get(fold_word(accented), [])
                if _marks(w)[0] == tone and not hats - _marks(w)[1]]
        return same[0] if len(same) == 1 else None

    def _names_the_document(self, slot: Slot) -> bool:
        """Words of the plan's own title ("kế hoạch phát triển kinh tế - xã hội … xã Cao Lâu")."""
        if slot.accented:
            return slot.accented in self.identity
        folded = {fold_word(w) for w in self.identity}
        return all(t in folded for alt in slot.alts[:1] for t in alt)

    def coverage(self, query: Query) -> tuple[np.ndarray, np.ndarray]:
        """The cheap first stage: for every segment that shares a word, how much of the question it covers
        (a word in the sentence counts fully, in its headings or lead-in at the context weight).

        Returns the ids of those segments (ascending) and their coverage. Each word of the question is one
        numpy addition over all segments, however many segments list it (common words cost the most when
        walked one by one).
        """
        size = len(self.segments)
        covered = np.zeros(size)
        touched = np.zeros(size, dtype=bool)
        # Words in over a third of the segments rank nothing and cost the most to walk: leave them to the
        # full scoring, unless the question has nothing rarer.
        r = self.ranking
        slots = [s for s in query.slots if any(self.idf.get(t, r.idf_cap) >= r.common_idf for a in s.alts for t in a)]
        for slot in slots or query.slots:
            best: np.ndarray | None = None
            for alt in slot.alts:
                words = [t for t in set(alt) if t in self.postings or t in self.ctx_postings]
                if not words:
                    continue
                in_text = np.zeros(size, dtype=np.int32)
                in_ctx = np.zeros(size, dtype=np.int32)
                for t in words:
                    if (ids := self.postings.get(t)) is not None:
                        in_text[ids] += 1  # a segment is listed once per word
                    if (ids := self.ctx_postings.get(t)) is not None:
                        in_ctx[ids] += 1
                n = len(alt)
                text_share = in_text / n
                m = np.where(text_share >= 1.0, 1.0, np.maximum(text_share, r.context_weight * (in_text + in_ctx) / n))
                best = m if best is None else np.maximum(best, m)
            if best is not None:
                covered += slot.weight * best
                touched |= best > 0
        ids = np.flatnonzero(touched)
        return ids, covered[ids]

    def candidates(self, query: Query) -> list[Segment]:
        """Retrieve: the sentences worth scoring in full (``knowledge.rank``), best coverage first."""
        if sum(s.weight for s in query.slots) <= 0:
            return []
        ids, covered = self.coverage(query)
        return [self.segments[sid] for sid in _best(ids, covered, self.ranking.full_scoring)]


def _marks(word: str) -> tuple[str, Counter[str]]:
    """A Vietnamese word's tone mark ("" for none) and its vowels' hooks and hats (horn, breve, circumflex)."""
    marks = [ch for ch in unicodedata.normalize("NFD", word) if unicodedata.combining(ch)]
    return "".join(m for m in marks if m in _TONE_MARKS), Counter(m for m in marks if m not in _TONE_MARKS)


def _interned(toks: list[str]) -> list[str]:
    """One object per word, however many sentences (and postings, pairs, sets) hold it."""
    return [sys.intern(t) for t in toks]


def _best(ids: np.ndarray, scores: np.ndarray, k: int) -> list[int]:
    """The ``k`` ids of highest score, best first; equal scores in document order (the lower id first)."""
    if len(ids) > k:
        cut = np.partition(scores, len(scores) - k)[len(scores) - k]  # the k-th highest score
        above = scores > cut
        tied = np.flatnonzero(scores == cut)[: k - int(above.sum())]
        keep = np.concatenate([np.flatnonzero(above), tied])
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))  # by score descending, then by id
    return ids[order].tolist()


def _lexicon_words(lex: Lexicon) -> list[str]:
    """The words of the abbreviations and everyday phrases the lexicon knows, and of what they stand for."""
    words: list[str] = []
    for table in (lex.abbreviations, lex.colloquial):
        for key, value in table.items():
            words.extend(key)
            words.extend(value)
    return words
