"""What a message is, before any retrieval: a conversation act, a procedure question, or a question for the plan.

Word overlap cannot tell "xin chào" from a plan sentence about "chào mừng", nor "làm giấy khai sinh ở đâu"
from last year's birth-registration count. So the first stage decides which knowledge may answer at all:
- a conversation act (greeting, thanks, a request for a person, a complaint) gets a short reply and no
  plan quote (``knowledge.acts``);
- a procedure question (papers, where, how long, fee, how to) is answered from a procedure card, and never
  by a statistic of the plan;
- anything else goes to the plan.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from .acts import detect
from .lexicon import DATA_DIR
from .policy import RouteSettings
from .procedures import ProcedureCard
from .text import fold, tokens

HANDOFF_ACTS = {"person", "complaint"}

# Asking how to get something done, whatever the thing: papers, the office, the time, the fee, the steps.
_PROCEDURE_CUES = re.compile(
    r"\b(?:giay to|ho so (?:gom|can|nhu the nao|ra sao)|thu tuc .{0,40}?(?:the nao|ra sao|gom|gi|o dau)"
    r"|mat bao lau"
    r"|can (?:mang|chuan bi|nhung gi|gi)"
    r"|how (?:do|can) i|how to|where (?:do|can|should) i|what (?:documents|papers)|how long does|what is the fee)\b")
# A weaker cue ("ở đâu", "làm sao") asks for a procedure only when an action is named with it.
_WEAK_CUES = re.compile(r"\b(?:o dau|lam sao|lam the nao|the nao de|thu tuc|le phi|bao lau|where|how)\b")
# A count asked for ("bao nhiêu hồ sơ thủ tục hành chính") is a figure of the plan, unless the papers, the fee
# or the time of a procedure are asked.
_COUNTS = re.compile(r"\b(?:bao nhieu|bao nhiu|bn|may|how many|how much)\b")
_ACTIONS = re.compile(r"\b(?:lam (?:giay|so|the|ho so|thu tuc|can cuoc|cmnd)|dang ky|xin|cap lai|nop|doi|chung thuc"
                      r"|vay von|register|apply|renew)\b")
# A figure or a result of the plan asked about a procedure's topic ("năm 2023 khai sinh được mấy trường hợp",
# "tình hình cấp sổ đỏ", "tỷ lệ người có thẻ BHYT"): the plan answers, not the card.
# Also why it is so ("vì sao còn ít"), when a thing was done, and which resolution or circular says so.
_PLAN_CUES = re.compile(r"\b(?:20\d\d|nam (?:nay|qua|ngoai|truoc)|ket qua|tinh hinh|chi tieu|ke hoach|ty le|dat duoc"
                        r"|thuc hien duoc|truong hop|so luong|tong so|vi sao|tai sao|do sao|nguyen nhan|han che"
                        r"|kho khan|ngay nao|nghi quyet|thong tu|nghi dinh|chi thi|mo hinh|how many|how much|rate"
                        r"|target|why|circular|decree|resolution|what share|what percentage|what proportion"
                        r"|percentage of)\b")
# Asking at all: a question word, a "?", a request ("muốn", "xin", "cho hỏi"), an either-or ("ra xã hay lên
# huyện"), or a question's last particle ("nộp ở xã à", "được không").
_QUESTION = re.compile(r"\?|\b(?:gi|nao|dau|sao|ai|khong|ko|k|chua|the nao|ra sao|kieu gi|muon|xin|cho hoi|phai|hay"
                       r"|how|what|where|which|who|can|do i|should)\b|\b(?:a|ha|nhi|hong|duoc)\s*$")
# Which part of a card the question asks for.
_ASKS = {
    "where": re.compile(r"\b(?:o dau|tai dau|cho nao|where|nop o|co quan nao)\b"),
    "papers": re.compile(r"\b(?:giay to|ho so|can (?:mang|chuan bi|nhung gi|gi)|documents|papers)\b"),
    "time": re.compile(r"\b(?:bao lau|may ngay|thoi han|how long)\b"),
    "fee": re.compile(r"\b(?:le phi|phi|mat tien|bao nhieu tien|fee|cost)\b"),
}


@dataclass(frozen=True)
class Intent:
    """What the message is and, for a procedure question, which card answers it and which part is asked."""

    kind: str  # act | procedure | plan
    text: str = ""  # the question itself: without a greeting or thanks it opened with ("chào bạn, …")
    act: str | None = None
    card: ProcedureCard | None = None
    asks: tuple[str, ...] = ()

    @property
    def handoff(self) -> bool:
        return self.act in HANDOFF_ACTS


def understand(question: str, cards: list[ProcedureCard], route: RouteSettings, data_dir: Path = DATA_DIR,
               expand: Callable[[list[str]], list[str]] | None = None, english: bool = False) -> Intent:
    """The first stage of answering: which kind of knowledge may answer this message.

    A procedure question is one that asks how ("giấy tờ gì", "ở đâu", "làm sao") — or one that names a
    procedure a card covers ("ĐK khai sinh cho con có mất phí ko", "tố cáo cán bộ gửi đơn cho ai") and asks
    something of it, unless it asks a figure or a result of the plan ("năm 2023 khai sinh được mấy trường
    hợp"). ``expand`` spells out abbreviations ("ĐKKH", "TCXH"), so that they name their card too."""
    folded = fold(question)
    # A long message that asks something is a question: no need to read it as small talk (the cheap test first).
    act = None if len(folded.split()) >= _LONG and _ASKING.search(folded) else detect(question, data_dir)
    if act is not None:
        return Intent(kind="act", text=question, act=act)
    question = _without_opening(question, data_dir)
    folded = fold(question)
    words = tokens(question)
    if expand is not None:
        words = expand(words)
    strong = bool(_PROCEDURE_CUES.search(folded))
    weak_cue = bool(_WEAK_CUES.search(folded))
    card = best_card(folded, cards, route.procedure_match) or named_card(
        words, cards, route.card_cover, ordered=not english, gap=int(route.card_gap))
    weak = weak_cue and (card is not None or bool(_ACTIONS.search(folded)))
    asks = tuple(part for part, cue in _ASKS.items() if cue.search(folded))
    counting = bool(_COUNTS.search(folded)) and not _PROCEDURE_CUES.search(folded.replace("ho so", ""))
    if counting and not ((strong or weak_cue) and card is not None and {"fee", "time"} & set(asks)):
        # "bao nhiêu quyết định mai táng phí", "thu từ thuế, phí, lệ phí đạt bao nhiêu": a figure of the plan,
        # whatever it names; "lệ phí chứng thực bao nhiêu" asks a card's fee ("hộ nghèo vay vốn bao nhiêu tiền
        # dư nợ" does not: no word of a procedure asks it).
        strong = weak = False
    elif card is not None and not _PLAN_CUES.search(folded) and _QUESTION.search(folded):
        weak = True  # it names a procedure and asks something of it, and no figure or result of the plan
    if strong or weak:
        return Intent(kind="procedure", text=question, card=card, asks=asks)
    return Intent(kind="plan", text=question)


_LONG = 7  # words
_ASKING = re.compile(r"\?|\b(?:bao nhieu|bn|may|nao|gi|o dau|sao|how|what|which|where|when|who|why)\b")
_OPENING = re.compile(r"^(.{1,40}?)[,.!:;]+\s+(\S.*)$", re.DOTALL)


def _without_opening(question: str, data_dir: Path) -> str:
    """"chào bạn, hộ nghèo còn bao nhiêu?" → "hộ nghèo còn bao nhiêu?": a greeting, thanks or "ok" before
    the question says nothing about what is asked, and its words would only find plan sentences about them."""
    m = _OPENING.match(question.strip())
    if m and detect(m.group(1), data_dir) in {"greeting", "thanks", "ack"}:
        return m.group(2)
    return question


def best_card(folded: str, cards: list[ProcedureCard], match_min: float) -> ProcedureCard | None:
    """The card whose title or one of whose aliases the question contains (typos allowed), if one clearly does.

    Only the names that share a word with the question are compared (a name with every word misspelt is not
    one the question says clearly); the comparison is the costly part of the first stage."""
    keys, owners, by_word = _card_keys(tuple(cards))
    spoken = " ".join(re.sub(r"[?!.,;:()\"“”]", " ", folded).split())  # "how do I denounce?": not "denounce?"
    near = sorted({k for w in spoken.split() for k in by_word.get(w, ())})
    if not near:
        return None
    found = process.extractOne(f" {spoken} ", [keys[k] for k in near], scorer=fuzz.partial_ratio,
                               score_cutoff=match_min)
    return owners[near[found[2]]] if found else None


def named_card(words: list[str], cards: list[ProcedureCard], cover: float, ordered: bool = True,
               gap: int = 4) -> ProcedureCard | None:
    """The card one of whose names the question says, with a word or two between or left out ("đăng ký khai
    sinh cho con", "ĐK tạm trú", "hưu trí xã hội"): each word of a name weighed by how few cards use it, so a
    name's own words ("khai sinh") count and the words every card has ("đăng ký", "cấp") hardly do, and the
    words said must stand together, in order (not "triển khai … đầu tư" for "khai tử"). None when no name is
    said to ``cover`` of its weight, or when two cards are said equally well."""
    names, by_word = _card_names(tuple(cards))
    at: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        at.setdefault(_singular(w), []).append(i)
    best: dict[str, tuple[float, ProcedureCard]] = {}
    for n in sorted({n for w in at for n in by_word.get(w, ())}):  # the names that share a word with it
        name, card, weights, total = names[n]
        if sum(w for t, w in zip(name, weights) if t in at) < cover * total:
            continue  # not even its words, in any order: the common case, and the cheap test
        said = _said_together(name, at, gap) if ordered else {t for t in name if t in at}
        share = sum(w for t, w in zip(name, weights) if t in said) / total
        if share >= cover and share * len(name) > best.get(card.id, (0.0, card))[0]:
            best[card.id] = (share * len(name), card)
    ranked = sorted(best.values(), key=lambda x: -x[0])
    if not ranked or (len(ranked) > 1 and ranked[1][0] >= ranked[0][0]):
        return None
    return ranked[0][1]


def _singular(word: str) -> str:
    """"households" → "household", for English names and questions; a folded Vietnamese word never ends in s."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _said_together(name: tuple[str, ...], at: dict[str, list[int]], gap: int) -> set[str]:
    """The name's words the question says in the name's order, each at most ``gap`` words after the one before."""
    said: set[str] = set()
    for start in at.get(name[0], []) or [None]:
        got, pos = set(), start
        for w in name:
            nxt = [i for i in at.get(w, []) if pos is None or pos < i <= pos + gap]
            if nxt:
                got.add(w)
                pos = nxt[0]
        if len(got) > len(said):
            said = got
    return said


_Name = tuple[tuple[str, ...], ProcedureCard, tuple[float, ...], float]


@lru_cache(maxsize=8)
def _card_names(cards: tuple[ProcedureCard, ...]) -> tuple[list[_Name], dict[str, list[int]]]:
    """Every card's names of two words or more, as words, each word weighed log(cards / cards that use it),
    with the names' total weight; and, by word, the names that have it."""
    named = [(tuple(_singular(w) for w in tokens(key)), card) for card in cards for key in sorted(card.match_keys())
             if len(tokens(key)) >= 2]
    cards_with = Counter(w for w, _ in {(w, card.id) for name, card in named for w in name})
    idf = {w: math.log((len(cards) + 1) / k) for w, k in cards_with.items()}
    names: list[_Name] = []
    by_word: dict[str, list[int]] = {}
    for name, card in named:
        weights = tuple(idf[w] for w in name)
        for w in set(name):
            by_word.setdefault(w, []).append(len(names))
        names.append((name, card, weights, sum(weights)))
    return names, by_word


@lru_cache(maxsize=8)
def _card_keys(cards: tuple[ProcedureCard, ...]) -> tuple[list[str], list[ProcedureCard], dict[str, list[int]]]:
    """Every card's folded names, once per set of cards (not once per question), and by word the names with it."""
    # Each name between spaces, so that it matches whole words ("khai tu" is not inside "cong khai thu tuc").
    pairs = [(f" {key} ", card) for card in cards for key in sorted(card.match_keys()) if len(key) >= 4]
    by_word: dict[str, list[int]] = {}
    for i, (key, _) in enumerate(pairs):
        for w in set(key.split()):
            by_word.setdefault(w, []).append(i)
    return [k for k, _ in pairs], [c for _, c in pairs], by_word
