"""Rank: each candidate sentence of the retrieval scored against the question, and marked when it cannot
hold the kind of answer asked.

A candidate is scored by how much of what the question names it covers (each word weighed by how rare it
is in the knowledge base), with its headings and lead-in as a weaker second field, and by cues that
separate neighbours: a different season, school, semester or year, a plan where results were asked, what
the question set aside. A sentence that cannot hold the kind of answer asked (no figure for "bao nhiêu", no
percentage for "tỷ lệ", no count of the unit asked for, no name for "ai") is marked as not fitting,
whatever its score. Every number here is the ``Ranking`` policy's (``data/policy.yaml``, fitted).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Set as AbstractSet

from .index import Hit, Index, Segment
from .policy import Ranking
from .question import Query

_CLOCK = re.compile(r"\b\d{1,2}\s?(?:giờ|h\b|:\d\d)|\b(?:sáng|chiều|tối) (?:thứ|các ngày)", re.IGNORECASE)
_CONTACT = {"phone": re.compile(r"(?<!\d)(?:0|\+84)[\d .]{8,12}\d(?!\d)"), "email": re.compile(r"\S+@\S+\.\w+"),
            "web": re.compile(r"\b(?:https?://|www\.)\S+|\b\S+\.(?:gov|com|org|net)\.vn\b")}


def rank(index: Index, query: Query, candidates: list[Segment], limit: int = 10) -> list[Hit]:
    """The candidates scored, best first (``limit`` of them)."""
    total = sum(s.weight for s in query.slots)
    if total <= 0:
        return []
    hits = [_score(index, seg, query, total) for seg in candidates]
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]


def year_spans(toks: list[str]) -> set[tuple[int, int]]:
    """The spans of two years a sentence names ("2025-2026", "năm học 2023 – 2024")."""
    return {(int(a), int(b)) for a, b in itertools.pairwise(toks)
            if len(a) == 4 and len(b) == 4 and a.startswith("20") and b.startswith("20") and a.isdigit()
            and b.isdigit() and int(b) == int(a) + 1}


def search(index: Index, query: Query, limit: int = 10) -> list[Hit]:
    """Retrieve, then rank: the best sentences for a weighed question (``Index.weigh``)."""
    return rank(index, query, index.candidates(query), limit)


def _score(index: Index, seg: Segment, q: Query, total: float) -> Hit:
    r = index.ranking
    matched = 0.0
    toks = seg.toks
    tokset = set(toks)
    pairs = set(itertools.pairwise(toks))
    # What the sentence says, with what surrounds it: its headings and lead-in, the sentence before it,
    # and the plan's title.
    ctx, prev, title = seg.context, set(seg.prev.split()), seg.title_words
    near = (tokset, ctx, prev, title)
    partial, context_weight = r.partial_match, r.context_weight
    for slot in q.slots:
        best = 0.0
        phrase = slot.compound or bool(slot.accents)
        for k, alt in enumerate(slot.alts):
            if phrase:
                m = _phrase_match(alt, toks, near, pairs, r)
                if m and slot.accents and not all(_said(seg, a) for a in slot.accents):
                    m *= r.collision_factor  # "tự ý" is not "khai tử": same letters, other words
            elif len(alt) == 1:  # most words: in the sentence, around it, or not there
                t = alt[0]
                m = 1.0 if t in tokset else (context_weight if t in ctx or t in prev or t in title else 0.0)
                if partial > 1.0:  # (a share of one word is 0 or 1: nothing reaches it)
                    m = 0.0
                elif context_weight > 1.0 and m:
                    m = context_weight
            else:
                in_text = sum(t in tokset for t in alt) / len(alt)
                in_ctx = sum(t in tokset or t in ctx or t in prev or t in title for t in alt) / len(alt)
                m = in_text if in_text >= partial else 0.0
                if in_ctx >= partial:
                    m = max(m, context_weight * in_ctx)
            if m and k == 0 and not phrase and slot.accented and not _said(seg, slot.accented):
                m *= r.collision_factor  # same letters, another word: "để" for "dê"
            if m > best:
                best = m
        matched += slot.weight * best
    coverage = matched / total
    if seg.own:  # a curated question: it must not ask about more than the question does
        asked = {t for slot in q.slots for alt in slot.alts for t in alt}
        weights = [index.idf.get(t, r.idf_cap) for t in seg.own]
        covered = sum(w for t, w in zip(seg.own, weights) if t in asked)
        coverage *= 0.5 + 0.5 * (covered / sum(weights))
    score = coverage
    reasons: list[str] = []
    bonus = min(r.bigram_cap, r.bigram_bonus * sum(b in pairs for b in q.bigrams))
    score += bonus
    # Neighbours.
    for gi, wanted in q.contrasts.items():
        have = seg.members.get(gi)
        if have:
            if have & wanted:
                score += r.contrast_match
            else:
                score -= r.contrast_miss
                reasons.append(f"contrast:{gi}")
        else:
            ctx = seg.context_members.get(gi)
            if ctx and not ctx & wanted:
                score -= r.contrast_context_miss
                reasons.append(f"contrast-ctx:{gi}")
            elif ctx:
                score += r.contrast_context_match
    # Year and stance.
    if q.years and not (q.years & seg.years):
        # A year the document is about ("năm 2026" of a plan for 2026) may go unsaid in its sentences: less
        # against them than another year.
        score -= r.year_miss if q.years_explicit else r.year_miss_implied
        reasons.append("year")
    elif q.years_explicit and any(str(y) in tokset for y in q.years):
        score += r.year_named  # the sentence itself names the year asked about
    stance = seg.passage.stance
    if (q.stance == "plan" and stance == "result") or (q.stance == "result" and stance == "plan"):
        score -= r.stance_miss
        reasons.append("stance")
    if any(all(t in tokset for t in s.alts[0]) for s in q.excluded):
        score -= r.set_aside  # "Ngoài tuyển quân, …": the sentence about tuyển quân is the one set aside
        reasons.append("excluded")
    if q.total and "tong" in tokset:
        score += r.total_bonus
    if q.number_of and ("so", q.number_of) in pairs:
        score += r.number_of_bonus  # "Số hộ nghèo là bao nhiêu?" — "Số hộ nghèo còn: 81/910 hộ"
    if seg.passage.kind == "faq":
        score += r.curated_bonus  # a curated answer to the same question wins a tie
    if q.counted and _has_unit(seg, {q.counted}):
        score += r.counted_unit_bonus  # "giáo viên 16" answers "mấy giáo viên" better than "22 người"
    fits = _fits(index, seg, q, reasons, tokset)
    score -= r.length_penalty * max(0, len(toks) - 30) / 10
    return Hit(segment=seg, score=score, coverage=coverage, fits=fits, reasons=reasons)

def _counts_in_context(seg: Segment, q: Query) -> bool:
    """A list item under a lead-in that names the counted thing ("Số hộ nghèo: …") still counts it."""
    return q.counted_word in seg.head_toks

def _fits(index: Index, seg: Segment, q: Query, reasons: list[str], tokset: set[str]) -> bool:
    """Does the sentence hold the kind of answer asked?"""
    ok = True
    if "percent" in q.types and not seg.has_percent:
        ok = False
        reasons.append("no-percent")
    if "money" in q.types and not seg.has_money:
        ok = False
        reasons.append("no-money")
    if "quantity" in q.types or "duration" in q.types:
        if not seg.numbers:
            ok = False
            reasons.append("no-number")
        elif q.counted and "percent" not in q.types and "money" not in q.types:
            groups = [c for c in (index.lex.counter_of(p) for p in [q.counted, *q.counted_alts]) if c]
            if groups and not any(_has_unit(seg, c.accepts) or _head_names(seg, c.accepts) for c in groups) \
                    and not (q.share_counts and seg.has_percent):
                ok = False
                reasons.append("unit")
    if q.counted_word and q.counted_word not in tokset and not _counts_in_context(seg, q):
        ok = False  # "bao nhiêu phòng học" and no "phòng" here: it counts something else
        reasons.append("counted-word")
    if q.units and "percent" not in q.types and not _has_unit(seg, q.units):
        ok = False
        reasons.append("measure")
    if q.years_explicit and not (q.years & seg.years) and not (q.years & index.periods):
        ok = False  # "năm 2022" asked, and this is a 2023 result or a 2024 target: another year's figure
        reasons.append("other-year")
    if q.year_spans and (spans := year_spans(seg.toks)) and not spans & q.year_spans:
        ok = False  # "vụ đông xuân 2024-2025" asked, and this is the 2025-2026 one: another season's figure
        reasons.append("other-span")
    if any(seg.members.get(gi, frozenset()) & dropped for gi, dropped in q.set_aside.items()) \
            and len({key for key, _, _ in seg.numbers}) <= 1:
        ok = False  # "không gộp cận nghèo": one figure for the poor and near-poor together is not it
        reasons.append("set-aside-member")
    if q.stance_strict and seg.passage.stance in ("plan", "result") and seg.passage.stance != q.stance:
        ok = False  # "không phải chỉ tiêu mà kết quả": a target does not answer
        reasons.append("stance-set-aside")
    if q.contact and not _CONTACT[q.contact].search(seg.sentence):
        ok = False  # "số điện thoại của …": a sentence about smartphones has no phone number
        reasons.append("no-contact")
    if "clock" in q.types and not _CLOCK.search(seg.text):
        ok = False  # "làm việc từ mấy giờ": a time of day, not a date
        reasons.append("no-time")
    if "when" in q.types and not seg.has_date:
        ok = False
        reasons.append("no-date")
    if q.identifier and not seg.numbers:
        ok = False  # "tờ trình số mấy": a document's number is a number
        reasons.append("no-number")
    if "who" in q.types and q.identity and not seg.has_name:
        ok = False
        reasons.append("no-name")
    return ok


def _said(seg: Segment, accented: str) -> bool:
    """Does the passage (or its plan's title) have this word with these diacritics?"""
    return accented in seg.accents or accented in seg.title_accents


def _phrase_match(phrase: tuple[str, ...], toks: list[str], near: tuple[AbstractSet[str], ...],
                  pairs: set[tuple[str, str]], r: Ranking) -> float:
    """1 for the words together; a little less a word or three apart ("tiếp 03 lượt công dân", "giảm tỷ lệ
    hộ nghèo"); the context's weight when they are in the heading or lead-in; little when only scattered.

    ``near``: the sentence's own words first, then the word sets around it (headings, previous sentence, title).
    """
    if all(p in pairs for p in itertools.pairwise(phrase)):
        return 1.0
    if _within(phrase, toks, len(phrase) + 3):
        return r.phrase_apart
    if all(any(t in words for words in near) for t in phrase):
        return r.context_weight
    return r.phrase_scattered * sum(t in near[0] for t in phrase) / len(phrase)


def _within(phrase: tuple[str, ...], toks: list[str], span: int) -> bool:
    """Do the phrase's words occur in order within ``span`` tokens?"""
    for start, tok in enumerate(toks):
        if tok != phrase[0]:
            continue
        pos, ok = start, True
        for word in phrase[1:]:
            try:
                pos = toks.index(word, pos + 1, start + span)
            except ValueError:
                ok = False
                break
        if ok:
            return True
    return False


def _head_names(seg: Segment, units: set[tuple[str, ...]]) -> bool:
    """A list item whose lead-in says what is counted ("… giáo viên, nhân viên được đánh giá là 35 người:")."""
    toks = seg.head_toks
    return any(toks[i : i + len(u)] == u for u in units for i in range(len(toks) - len(u) + 1))


def _has_unit(seg: Segment, accepts: set[tuple[str, ...]]) -> bool:
    """A figure counted in one of these units: right after the number ("19 lớp") or before it ("giáo viên 16")."""
    lengths = {len(u) for u in accepts}
    return any(after[:n] in accepts or before[-n:] in accepts for _, after, before in seg.numbers for n in lengths)
