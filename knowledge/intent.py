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

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from .acts import detect
from .lexicon import DATA_DIR
from .procedures import ProcedureCard
from .text import fold

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
_COUNTS = re.compile(r"\b(?:bao nhieu|bn|may|how many|how much)\b")
_ACTIONS = re.compile(r"\b(?:lam (?:giay|so|the|ho so|thu tuc|can cuoc|cmnd)|dang ky|xin|cap lai|nop|doi|chung thuc"
                      r"|vay von|register|apply|renew)\b")
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


def understand(question: str, cards: list[ProcedureCard], match_min: float, data_dir: Path = DATA_DIR) -> Intent:
    """The first stage of answering: which kind of knowledge may answer this message."""
    folded = fold(question)
    # A long message that asks something is a question: no need to read it as small talk (the cheap test first).
    act = None if len(folded.split()) >= _LONG and _ASKING.search(folded) else detect(question, data_dir)
    if act is not None:
        return Intent(kind="act", text=question, act=act)
    question = _without_opening(question, data_dir)
    folded = fold(question)
    strong = bool(_PROCEDURE_CUES.search(folded))
    weak_cue = bool(_WEAK_CUES.search(folded))
    card = best_card(folded, cards, match_min) if strong or weak_cue else None
    weak = weak_cue and (card is not None or bool(_ACTIONS.search(folded)))
    asks = tuple(part for part, cue in _ASKS.items() if cue.search(folded))
    if _COUNTS.search(folded) and not _PROCEDURE_CUES.search(folded.replace("ho so", "")) and not (
            card is not None and {"fee", "time"} & set(asks)):
        # "bao nhiêu quyết định mai táng phí", "thu từ thuế, phí, lệ phí đạt bao nhiêu": a figure of the plan,
        # whatever it names; "lệ phí chứng thực bao nhiêu" asks a card's fee.
        strong = weak = False
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
    """The card whose title or one of whose aliases the question contains (typos allowed), if one clearly does."""
    keys, owners = _card_keys(tuple(cards))
    found = process.extractOne(f" {folded} ", keys, scorer=fuzz.partial_ratio, score_cutoff=match_min)
    return owners[found[2]] if found else None


@lru_cache(maxsize=8)
def _card_keys(cards: tuple[ProcedureCard, ...]) -> tuple[list[str], list[ProcedureCard]]:
    """Every card's folded names, once per set of cards (not once per question)."""
    # Each name between spaces, so that it matches whole words ("khai tu" is not inside "cong khai thu tuc").
    pairs = [(f" {key} ", card) for card in cards for key in sorted(card.match_keys()) if len(key) >= 4]
    return [k for k, _ in pairs], [c for _, c in pairs]
