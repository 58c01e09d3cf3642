"""Quote: the reply, and the words of the document that make it (the last stage, after ``knowledge.decide``).

The reply quotes the document's own words (numbers as written): the sentence that answers with what
belongs to it (its lead-in, its "Trong đó…" follow-up, a neighbour that answers the other half of a
two-part question), cut to the clause the question names; it names the section and says what the quote is
(a result, a target, of which year). The whole passage is one request away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .document import Passage
from .index import Hit, Index, Segment
from .question import Query
from .text import tokens

QUOTE_MAX = 330
# What opens a piece that continues the one before it rather than saying something new: its detail ("trong
# đó …") or its sum ("tổng số tiền: 88.200.000 đồng" after "… cho 63 thân nhân, 1.400.000 đồng/thân nhân;").
_CONNECTIVES = ("trong đó", "trong số đó", "cụ thể", "bao gồm", "riêng", "tổng số tiền", "tổng kinh phí", "tổng cộng",
                "với tổng số tiền", "số tiền", "trị giá", "thành tiền")


@dataclass
class Reply:
    """What the bot says to one question (no Telegram types: the console, ask and handlers share it)."""

    found: bool
    kind: str  # answer | procedure | contact | suggest | unknown | empty | smalltalk | handoff
    quote: str = ""
    source: str | None = None
    score: float = 0.0
    suggestions: list[str] = field(default_factory=list)
    passage_key: str | None = None
    faq_id: str | None = None
    english: bool = False
    act: str | None = None  # smalltalk, handoff: which conversation act ("greeting", "person", …)
    card_id: str | None = None  # procedure: the card that answers
    asks: tuple[str, ...] = ()  # procedure: the parts of the card asked (where, papers…); contact: the details
    procedure: bool = False  # unknown: the question asked for a procedure (and no card answers it)
    plain: str = ""  # answer from a curated entry: its plain-language answer, said before the quote
    what: str | None = None  # answer: what the quote is — "result", "target", "plan" (see ``what_of``)
    year: int | None = None  # answer: the year it is a result or a target of, when the document says


def source_of(segment: Segment) -> str:
    """"Mục 1.4. Thu, chi ngân sách", with the footnote or target number where there is one."""
    p = segment.passage
    label = p.section
    if p.kind == "footnote" and p.footnote_number:
        label = f"{label}, chú thích {p.footnote_number}"
    elif p.kind == "target" and p.target:
        label = f"{label}, chỉ tiêu {p.target}"
    return label


def what_of(p: Passage, periods: set[int]) -> tuple[str | None, int | None]:
    """What a quote is, so the reply can say it ("Kết quả năm 2023", "Chỉ tiêu năm 2024"): a result of what was
    done, a numbered target, or a task of the plan; and its year, when it is one the document is about (its
    periods, or the year before them, which a plan's results are of), not a term's end ("nhiệm kỳ 2026-2031")."""
    if p.kind == "faq" or p.stance not in ("result", "plan"):
        return None, None
    what = "target" if p.kind == "target" else p.stance
    year = p.year if p.year is not None and (p.year in periods or p.year + 1 in periods) else None
    return what, year


def quote_for(hit: Hit, index: Index, query: Query, hits: list[Hit] | None = None) -> str:
    """The sentence that answers, with what belongs to it: its lead-in, its "Trong đó…" follow-up, and
    a neighbouring sentence of the same paragraph that answers as well (a two-part question)."""
    seg = hit.segment
    if seg.head and sum(h.segment.passage is seg.passage and h.segment.head == seg.head and h.fits
                        and h.score >= hit.score - 1e-9 for h in hits or []) >= 3:
        # Every item of the list answers as well as any other: the question is about its lead-in ("Hai tháng
        # cuối năm 2023 được cấp 160 tấn xi măng …, đã phân bổ cho các thôn …:"), not one item.
        text = seg.head.rstrip(": ") + " …"
        return text if len(text) <= QUOTE_MAX else _window(text, query)
    siblings = index.segments_of(seg.passage.key) if seg.passage.kind != "faq" else []
    by_order = {s.order: s for s in siblings}
    close = {h.segment.order for h in hits or [] if h.segment.passage is seg.passage and h.fits
             and h.score >= hit.score - 0.05}
    close |= _complements(hit, hits or [], query)
    # a neighbour about what the question set aside ("không kể vụ mùa") is not quoted with it
    close -= {o for o, s in by_order.items() if any(all(t in s.toks for t in x.alts[0]) for x in query.excluded)}
    text = seg.text
    prev, nxt = by_order.get(seg.order - 1), by_order.get(seg.order + 1)
    if prev is not None and (_starts_with_connective(text) or prev.order in close) \
            and len(prev.text) + len(text) < 420:
        text = _join(prev, text, before=True)
    if nxt is not None and (_starts_with_connective(nxt.text) or nxt.order in close) \
            and len(text) + len(nxt.text) < 420:
        text = _join(nxt, text, before=False)
    if len(text) > QUOTE_MAX:
        text = _window(text, query)
    return text


def _complements(hit: Hit, hits: list[Hit], query: Query) -> set[int]:
    """Neighbouring items that hold what the chosen one lacks ("bao nhiêu cán bộ … và học sinh": the staff
    in one item, the pupils in the next)."""
    seg = hit.segment
    own = set(tokens(seg.text[len(seg.head):] if seg.head else seg.text))
    out: set[int] = set()
    for other in hits:
        o = other.segment
        if o.passage is not seg.passage or abs(o.order - seg.order) != 1 or other.score < hit.score - 0.4:
            continue
        theirs = set(tokens(o.text[len(o.head):].lstrip(" …") if o.head else o.text))
        for slot in query.slots:
            covered = any(all(t in own for t in alt) for alt in slot.alts)
            offered = any(all(t in theirs for t in alt) for alt in slot.alts)
            if slot.weight >= 2.0 and not covered and offered and o.numbers:
                out.add(o.order)
                break
    return out


def _join(other: Segment, text: str, before: bool) -> str:
    """Two pieces of one paragraph; a list item's repeated lead-in ("Head: … item") is not repeated."""
    piece = other.text
    if other.head and piece.startswith(other.head):
        piece = piece[len(other.head):].lstrip(" …")
    if before:
        return piece + " " + (text[len(other.head):].lstrip(" …") if other.head and text.startswith(other.head)
                              else text)
    return text + " " + piece


def _starts_with_connective(text: str) -> bool:
    low = text.lower()
    return low.startswith(_CONNECTIVES)


def _window(text: str, query: Query) -> str:
    """The run of clauses (cut at commas) that covers most of the question, within QUOTE_MAX."""
    clauses = re.split(r"(?<=,)\s+", text)
    wanted = {t for slot in query.slots for alt in slot.alts for t in alt}
    scores = [len(wanted & set(tokens(c))) for c in clauses]
    best, best_span = -1.0, (0, 1)
    for i in range(len(clauses)):
        length = 0
        for j in range(i, len(clauses)):
            length += len(clauses[j]) + 1
            if length > QUOTE_MAX and j > i:
                break
            s = sum(scores[i : j + 1]) - 0.01 * (j - i)
            if s > best:
                best, best_span = s, (i, j + 1)
    i, j = best_span
    out = " ".join(clauses[i:j]).rstrip(",")
    if i > 0:
        out = "… " + out
    if j < len(clauses):
        out = out + " …"
    return out
