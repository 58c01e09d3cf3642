"""Decide: from the ranked sentences to answer, suggest, or say honestly that the documents do not say.

Two steps, each on the previous one's value. The rules (``choose``) take the best sentence that holds the
kind of answer asked, if it scores high enough and not far below the best of all; several paragraphs
answering equally well is a close call (``close_call``), which asks which one is meant. Then the fitted
policy (``knowledge.policy.Policy``) has the last word on what the rules would answer: the probability, on
the training questions, that an answer with this ``evidence`` is right. A wrong confident answer is the
worst outcome, so both err towards saying so. Every number is the policy file's (``Choice``).
"""

from __future__ import annotations

from .index import Hit, Index
from .policy import Choice, Evidence
from .question import Query

TYPED = {"quantity", "percent", "money", "when", "who", "duration", "clock"}  # kinds of answer a question may ask


def root(hit: Hit) -> str:
    """The paragraph a hit stands for: a curated answer stands for the paragraph it quotes."""
    p = hit.segment.passage
    return (p.cited_by or p.key) if p.kind == "faq" else p.key


def choose(hits: list[Hit], information: float, choice: Choice) -> tuple[Hit | None, str]:
    """The hit to answer with and the decision: answer, suggest or unknown."""
    if not hits:
        return None, "unknown"
    if information < choice.min_information:  # "kết quả đạt bao nhiêu %?" names nothing: suggest instead
        return hits[0], "suggest" if hits[0].score >= choice.suggest_min else "unknown"
    fitting = [h for h in hits if h.fits]
    best_fit = fitting[0] if fitting else None
    top = hits[0]
    if best_fit is not None and best_fit.score >= choice.answer_min \
            and best_fit.score >= top.score - choice.fit_tolerance:
        if close_call(best_fit, hits, choice):
            return best_fit, "suggest"
        return best_fit, "answer"
    if top.score >= choice.suggest_min or (best_fit is not None and best_fit.score >= choice.suggest_min):
        return best_fit or top, "suggest"
    return None, "unknown"


def close_call(chosen: Hit, hits: list[Hit], choice: Choice) -> bool:
    """Several different paragraphs answer equally well ("đất đai?"): ask which one is meant."""
    roots = {root(h) for h in hits if h.fits and h.score >= chosen.score - choice.close_call}
    return len(roots) >= choice.close_call_paragraphs


def evidence(chosen: Hit, query: Query, hits: list[Hit], index: Index) -> Evidence:
    """What the policy weighs: the chosen sentence's scores, its lead over other paragraphs that could answer
    too (one that lacks the kind of answer asked is no rival), the question."""
    mine = root(chosen)
    rival = max((h.score for h in hits if h.fits and root(h) != mine), default=0.0)
    total = sum(s.weight for s in query.slots) or 1.0
    seg = chosen.segment
    own = set(seg.toks)
    near = own | seg.context | set(seg.prev.split()) | seg.title_words
    said = [(s.weight, any(all(t in own for t in alt) for alt in s.alts),
             any(all(t in near for t in alt) for alt in s.alts)) for s in query.slots]
    return Evidence(
        score=chosen.score,
        coverage=chosen.coverage,
        in_text=sum(w for w, in_own, _ in said if in_own) / total,
        missing=max((w for w, _, in_near in said if not in_near), default=0.0) / total,
        margin=chosen.score - rival,
        information=index.information(query),
        unknown=sum(s.weight for s in query.slots if not s.known) / total,
        penalties=float(len(chosen.reasons)),
        typed=float(bool(query.types & TYPED)),
        english=float(query.english),
        curated=float(chosen.segment.passage.kind == "faq"),
    )
