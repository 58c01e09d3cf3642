"""Split labelled questions into train and test, once, by a hash of each question's id.

The sets in ``tests/fixtures/questions/`` were written by people who saw neither the code nor each other's
sets. Fitting and debugging use *train*; *test* is measured (``bench/quality.py``) and never read question
by question nor fitted. A hash of the id, not a random draw, puts each question on the same side however
often the split is run, and however the file is reordered.

    python bench/split_questions.py RAW.jsonl DOC_NAME      # appends to train/DOC_NAME.jsonl, test/DOC_NAME.jsonl
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "questions"
TEST_SHARE = 0.5


def side(question_id: str) -> str:
    """"train" or "test", from the id alone."""
    digest = hashlib.sha256(question_id.encode("utf-8")).digest()
    return "test" if digest[0] < 256 * TEST_SHARE else "train"


def main(raw: Path, doc: str) -> None:
    items = [json.loads(line) for line in raw.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = {"train": [], "test": []}
    for item in items:
        out[side(item["id"])].append(item)
    for name, rows in out.items():
        path = QUESTIONS / name / f"{doc}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{path.relative_to(QUESTIONS)}: +{len(rows)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
