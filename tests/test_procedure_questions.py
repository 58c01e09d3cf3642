"""An independent set of how-to questions (tests/fixtures/procedure_questions.jsonl), written from the card
titles in data/procedures.yaml before the bot was run: 120 questions asking how to do a procedure (20 cards x
6 styles: formal, no diacritics, colloquial, typos, abbreviations, English) and 30 near-misses that ask for a
statistic from the plan on the same topics.

The product rules checked:
  (a) a procedure question is never answered with a plan statistic (kind "answer", quoting the plan);
  (b) the share answered with the right card stays at or above the measured floor;
  (c) a statistic question is never answered with a card; how many get a plan figure is only reported.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "procedure_questions.jsonl"
QUESTIONS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
PROCEDURE = [q for q in QUESTIONS if q["kind"] == "procedure"]
STATISTIC = [q for q in QUESTIONS if q["kind"] == "statistic"]
STYLES = ("formal", "nodiacritics", "colloquial", "typo", "abbrev", "english")

# Measured on first run (2026-12-02): 52 of 120 (43.3 %) answered with the right card; after the first stage
# learnt to route a question that names a card's procedure (knowledge/intent.py named_card), in any order in
# English, and the cards got English aliases: 99 of 120 (82.5 %). The floor is that rounded down to 5 %.
# (Half of these questions, the even lines, were looked at while building that; the odd half was not:
# 48 → 68 of its 75 right, statistics included.)
RIGHT_CARD_FLOOR = 0.80

# Rule (a) fails on these of the 120 procedure questions (16 when the set was written, 0 now, since the cards
# have English aliases): each gets kind "answer", a figure or sentence quoted from the plan, instead of a card
# or an honest "no card". strict: a fix shows up as XPASS.
ANSWERED_WITH_PLAN: frozenset[str] = frozenset()
PLAN_XFAIL = pytest.mark.xfail(
    strict=True,
    reason=f"rule (a): {len(ANSWERED_WITH_PLAN)} of {len(PROCEDURE)} procedure questions get a plan statistic",
)


def _titles() -> dict[str, list[str]]:
    cards = yaml.safe_load((ROOT / "data" / "procedures.yaml").read_text(encoding="utf-8"))
    return {c["slug"]: [c["title"]] + ([c["english"]["title"]] if c.get("english") else []) for c in cards}


TITLES = _titles()


def card_of(reply: dict) -> str | None:
    """The card a reply answers with: the slug whose title (Vietnamese or English) is in the answer's first
    line, else anywhere in the answer or source; None when the reply is not a procedure card."""
    if reply["kind"] != "procedure":
        return None
    answer = reply["answer"] or ""
    text = answer + "\n" + (reply["source"] or "")
    hits = [slug for slug, titles in TITLES.items() if any(t in text for t in titles)]
    first = answer.split("\n", 1)[0]
    for slug in hits:
        if any(t in first for t in TITLES[slug]):
            return slug
    return hits[0] if hits else "?"


@pytest.fixture(scope="module")
def replies(kb) -> dict[str, dict]:
    from bot import reply_json

    return {q["q"]: reply_json(kb, q["q"]) for q in QUESTIONS}


def test_fixture_covers_every_card_and_style():
    assert len(PROCEDURE) >= 90 and len(STATISTIC) == 30
    per_card = Counter(q["card"] for q in PROCEDURE)
    assert set(per_card) == set(TITLES), set(per_card) ^ set(TITLES)
    assert min(per_card.values()) >= 3, per_card
    assert {q["style"] for q in QUESTIONS} == set(STYLES)
    assert all(q["card"] is None for q in STATISTIC)
    assert len({q["q"] for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize(
    "item",
    [pytest.param(q, id=f"{i:03d}-{q['style']}-{q['card']}", marks=[PLAN_XFAIL] if q["q"] in ANSWERED_WITH_PLAN else [])
     for i, q in enumerate(PROCEDURE)],
)
def test_procedure_question_never_gets_a_plan_statistic(replies, item):
    reply = replies[item["q"]]
    assert reply["kind"] != "answer", f"{item['q']!r} answered from the plan: {reply['answer'][:200]!r}"


def test_right_card_share_at_least_floor(replies):
    right: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for q in PROCEDURE:
        got = card_of(replies[q["q"]])
        total[q["style"]] += 1
        if got == q["card"]:
            right[q["style"]] += 1
        elif got is not None:
            wrong[q["style"]] += 1
    for style in STYLES:
        print(f"{style:13} right card {right[style]:2}/{total[style]}  wrong card {wrong[style]}")
    share = sum(right.values()) / len(PROCEDURE)
    print(f"right card: {sum(right.values())}/{len(PROCEDURE)} = {share:.1%} (floor {RIGHT_CARD_FLOOR:.0%}); "
          f"wrong card: {sum(wrong.values())}")
    assert share >= RIGHT_CARD_FLOOR


def test_statistic_questions_get_no_card(replies):
    carded = [q["q"] for q in STATISTIC if replies[q["q"]]["kind"] == "procedure"]
    figures = sum(1 for q in STATISTIC if replies[q["q"]]["kind"] == "answer")
    # reported only: whether each quoted figure is the right one is not judged here
    print(f"statistic questions: {len(carded)}/{len(STATISTIC)} got a card, {figures} answered from the plan")
    assert not carded, carded
