"""Answering quality on every labelled set, each document loaded alone, beside a plain BM25.

For each document of ``tests/fixtures/questions/`` (train, test, and the older held-out sets), this starts
``python bot.py ask --jsonl`` with ``BOT_SOURCE`` set to that document alone and a fresh ``BOT_DB`` — the
contract other tools use (``../shared/eval/run_eval.py``) — and scores it the way run_eval does: an
in-scope question is right when ``found`` is true and every expected string is in the answer; an
out-of-scope one when ``found`` is false. It also prints the share answered **confidently and wrongly**
(``found`` true and wrong, in scope or out), and the weakest style.

The baseline is BM25 (``bm25s``) over the same passages, answering every question with its best passage:
it never abstains, so its out-of-scope figure is 0 by construction.

    python bench/quality.py                 # every set
    python bench/quality.py --split train   # only train (what fitting and debugging may look at)
    python bench/quality.py --show train    # list train failures, one per line (never for test)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.kb import parse_source  # noqa: E402
from knowledge.pdftext import repair, respaced, syllable_counts  # noqa: E402
from knowledge.text import tokens  # noqa: E402

QUESTIONS = ROOT / "tests" / "fixtures" / "questions"
FIXTURES = ROOT / "tests" / "fixtures"
DOCUMENTS = {
    "cao-lau": ROOT / "data" / "ke-hoach-ptktxh-2024-xa-cao-lau.txt",
    "cong-hai-bc-thang02-2026": FIXTURES / "corpus" / "cong-hai-bc-thang02-2026.txt",
    "cong-hai-nq05-phuong-huong-2026": FIXTURES / "corpus" / "cong-hai-nq05-phuong-huong-2026.txt",
    "lam-dong-bao-cao-cchc-2025": FIXTURES / "lam-dong-bao-cao-cchc-2025.docx",
    "lam-dong-bao-cao-cchc-quy-1-2026": FIXTURES / "lam-dong-bao-cao-cchc-quy-1-2026.docx",
    "ke-hoach-xa-hoa-binh-2025": FIXTURES / "corpus" / "ke-hoach-xa-hoa-binh-2025.txt",
}


@dataclass
class Tally:
    """Counts for one set (or one group of sets)."""

    n: int = 0
    in_scope: int = 0
    in_right: int = 0
    oos: int = 0
    oos_right: int = 0
    confident_wrong: int = 0
    styles: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, item: dict, found: bool, right: bool) -> None:
        self.n += 1
        if item.get("oos"):
            self.oos += 1
            self.oos_right += right
        else:
            self.in_scope += 1
            self.in_right += right
        self.confident_wrong += found and not right
        style = self.styles[item.get("style") or "-"]
        style[0] += right
        style[1] += 1

    def merge(self, other: Tally) -> None:
        for name in ("n", "in_scope", "in_right", "oos", "oos_right", "confident_wrong"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for style, (right, total) in other.styles.items():
            self.styles[style][0] += right
            self.styles[style][1] += total

    def row(self) -> str:
        def pct(a: int, b: int) -> str:
            return f"{100 * a / b:5.1f}" if b else "    —"

        weakest = min(self.styles.items(), key=lambda kv: kv[1][0] / kv[1][1]) if self.styles else None
        weak = f"{weakest[0]} {pct(*weakest[1])}" if weakest else ""
        return (f"{self.n:5d}  in {pct(self.in_right, self.in_scope)}  oos {pct(self.oos_right, self.oos)}  "
                f"conf.wrong {pct(self.confident_wrong, self.n)}  weakest: {weak}")

    def by_style(self) -> str:
        return "  ".join(f"{style} {100 * right / total:.1f}" for style, (right, total) in sorted(self.styles.items()))


def norm(text: object) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text or "")).lower().split())


def correct(item: dict, found: bool, answer: str, counts: Counter[str] | None = None) -> bool:
    """run_eval's rule. With ``counts`` (the document's syllables, for a document a PDF damaged), an expected
    string copied with the PDF's glue ("44 hồsơ") is also found as the repaired document writes it ("44 hồ
    sơ"), as the dev sets' "any" groups already allow ("97 hộnghèo" | "97 hộ nghèo")."""
    if item.get("oos"):
        return not found
    if not found:
        return False
    text = norm(answer)

    def has(e: str) -> bool:
        return norm(e) in text or (counts is not None and norm(respaced(e, counts)) in text)

    return all(has(e) for e in item.get("expect") or []) and all(
        any(has(a) for a in group) for group in item.get("any") or [] if group)


def glue_counts(source: Path) -> Counter[str] | None:
    """The syllable counts of a document a PDF damaged (one ``repair`` changes), else None."""
    text = source.read_text(encoding="utf-8") if source.suffix in (".txt", ".md") else ""
    return syllable_counts(text) if text and repair(text)[1] else None


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def engine_answers(source: Path, items: list[dict]) -> list[dict]:
    """The answers of ``python bot.py ask --jsonl`` with this document alone."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BOT_SOURCE": str(source), "BOT_DB": str(Path(tmp) / "q.db")}
        payload = "".join(json.dumps({"q": it["q"]}, ensure_ascii=False) + "\n" for it in items)
        out = subprocess.run([sys.executable, str(ROOT / "bot.py"), "ask", "--jsonl"], input=payload.encode(),
                             capture_output=True, env=env, cwd=ROOT, check=True, timeout=900).stdout
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def bm25_answers(source: Path, items: list[dict]) -> list[dict]:
    """BM25's best passage for each question: the plain baseline."""
    import bm25s

    passages = [p.text for p in parse_source(source).passages if p.text.strip()]
    retriever = bm25s.BM25()
    retriever.index([tokens(p) or ["\x00"] for p in passages], show_progress=False)
    out = []
    for it in items:
        docs, _ = retriever.retrieve([tokens(it["q"]) or ["\x00"]], k=1, show_progress=False)
        out.append({"answer": passages[int(docs[0][0])], "found": True})
    return out


def sets(split: str | None) -> list[tuple[str, str, Path]]:
    """(group, document, file) for every labelled set."""
    out = []
    for group in ("train", "test"):
        if split in (None, group):
            out += [(group, f.stem, f) for f in sorted((QUESTIONS / group).glob("*.jsonl"))]
    if split in (None, "test"):
        out += [("held-out", "cao-lau", f) for f in sorted(QUESTIONS.glob("held-out-*.jsonl"))]
    if split in (None, "dev"):
        dev = sorted((FIXTURES / "corpus").glob("*.dev.jsonl"))
        out += [("dev", f.name.removesuffix(".dev.jsonl"), f) for f in dev]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["train", "test", "dev"], default=None)
    ap.add_argument("--show", choices=["train", "dev"], default=None, help="print this split's failures")
    ap.add_argument("--no-bm25", action="store_true")
    args = ap.parse_args()
    totals: dict[str, Tally] = defaultdict(Tally)
    bm25_totals: dict[str, Tally] = defaultdict(Tally)
    for group, doc, path in sets(args.split or args.show):
        items = load(path)
        source = DOCUMENTS[doc]
        engine, tally, counts = engine_answers(source, items), Tally(), glue_counts(source)
        for it, r in zip(items, engine):
            ok = correct(it, r["found"], r["answer"], counts)
            tally.add(it, r["found"], ok)
            if args.show == group and not ok:
                print(f"  ✗ [{it['id']}] {it['style']}: {it['q']}  → {'found' if r['found'] else 'none'}: "
                      f"{r['answer'][:160]!r}  expect={it.get('expect')}")
        totals[group].merge(tally)
        line = f"{group:9s} {path.name:45s} engine {tally.row()}"
        if not args.no_bm25:
            base = Tally()
            for it, r in zip(items, bm25_answers(source, items)):
                base.add(it, True, correct(it, True, r["answer"], counts))
            bm25_totals[group].merge(base)
            line += f"\n{'':55s} bm25   {base.row()}"
        print(line, flush=True)
    print()
    for group, tally in totals.items():
        print(f"{group:9s} {'ALL':45s} engine {tally.row()}")
        print(f"{'':55s} styles {tally.by_style()}")
        if group in bm25_totals:
            print(f"{'':55s} bm25   {bm25_totals[group].row()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
