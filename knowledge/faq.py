"""Curated answers (``data/faq.yaml``): what citizens ask most, each quoting the document.

An entry is usable only if its quote is found in a passage of the knowledge base: that is how an answer
that is not the document's own sentence still rests on the document, and points at its passage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .document import Passage
from .lexicon import load_yaml
from .text import fold

log = logging.getLogger(__name__)


@dataclass
class FaqEntry:
    """One curated answer."""

    id: str
    topic: str
    kind: str
    questions: list[str]
    answer: str
    quote: str
    passage: Passage | None = None


def _squash(text: str) -> str:
    return " ".join(fold(text).split())


def load_faq(path: Path, passages: list[Passage]) -> list[FaqEntry]:
    """Entries whose quote is found in ``passages``; the others are logged and left out."""
    if not path.exists():
        return []
    raw = load_yaml(path) or []
    squashed = [(_squash(p.text), p) for p in passages]
    out: list[FaqEntry] = []
    missing: list[str] = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("questions") or not item.get("answer"):
            continue
        entry = FaqEntry(
            id=str(item.get("id", "")),
            topic=str(item.get("topic", "")),
            kind=str(item.get("kind", "")),
            questions=[str(q) for q in item["questions"]],
            answer=" ".join(str(item["answer"]).split()),
            quote=str(item.get("quote", "")),
        )
        needle = _squash(entry.quote)
        entry.passage = next((p for s, p in squashed if needle and needle in s), None)
        if entry.passage is None:
            missing.append(entry.id)
            continue
        out.append(entry)
    if missing:  # expected when the sources are another commune's plan: the entries quote this one
        log.info("%d curated answers rest on quotes not in these sources: %s", len(missing), ", ".join(missing))
    return out


TAUGHT_SECTION = "Cán bộ xã trả lời"


def taught_entry(row: dict, passage: Passage | None) -> FaqEntry:
    """An answer an official taught by chat (/themhoidap): shown as written, resting on a passage if one
    was chosen, else on the official's word (its source says so)."""
    if passage is None:
        passage = Passage(key=f"taught:{row['id']}", kind="taught", text=row["answer"], section=TAUGHT_SECTION,
                          path=[TAUGHT_SECTION])
    return FaqEntry(id=f"db{row['id']}", topic="", kind="taught", questions=list(row["questions"]),
                    answer=row["answer"], quote=row["answer"], passage=passage)


def as_passage(entry: FaqEntry) -> Passage:
    """The entry as a passage the index can hold: matched by its questions and answer, shown as its quote
    (the document's own words and figures; the curated answer is there for the full view)."""
    source = entry.passage
    assert source is not None
    return Passage(
        key=f"faq:{entry.id}",
        kind="faq",
        text=entry.quote,  # a taught entry's quote is its answer
        section=source.section,
        path=source.path,
        titles=source.titles,
        context=[*entry.questions, entry.answer],
        footnote_number=source.footnote_number,
        cited_by=source.key,
        year=source.year,
        stance=source.stance,
        doc=source.doc,
    )
