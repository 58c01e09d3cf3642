"""Fit the answering policy (``data/policy.yaml``) on the *train* split: one command after any change.

For every training question the engine is asked with the policy out of the way; each time its rules would
answer, the evidence (``knowledge.policy.Evidence``) is recorded with whether the answer was right (an
out-of-scope question answered is wrong). A logistic regression (numpy, Newton's method, a little L2)
turns the evidence into the probability of being right; ``answer_min`` is then the lowest probability at
which answering still pays, counting a wrong answer as ``WRONG_COST`` right ones — a wrong confident answer
is the worst outcome. The test split is never read here.

    python bench/fit_policy.py            # fit, print the trade-off, write data/policy.yaml
    python bench/fit_policy.py --dry-run  # fit and print only
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import DOCUMENTS, QUESTIONS, correct, glue_counts, load  # noqa: E402
from knowledge.kb import KnowledgeBase  # noqa: E402
from knowledge.policy import FEATURES, Evidence  # noqa: E402
from knowledge.store import Store  # noqa: E402

WRONG_COST = 4.0  # one wrong answer undoes the good of this many right ones
# ... but a threshold may not cost more than this share of the right answers the rules give: the engine's
# features cannot yet tell most wrong answers from right ones, and a bot that answers nothing is no help.
KEEP_RIGHT = 1.0
L2 = 1.0
POLICY = ROOT / "data" / "policy.yaml"


@dataclass
class _Recorder:
    """Stands in for the policy while fitting: lets every answer through and keeps its evidence."""

    answer_min: float = 0.0
    last: Evidence | None = None

    def probability(self, evidence: Evidence) -> float:
        self.last = evidence
        return 1.0


def examples() -> tuple[np.ndarray, np.ndarray, int]:
    """(evidence rows, right or wrong, how many questions) over the train split."""
    rows, labels, asked = [], [], 0
    for path in sorted((QUESTIONS / "train").glob("*.jsonl")):
        items = load(path)
        with tempfile.TemporaryDirectory() as tmp:
            kb, _ = KnowledgeBase.open(Store(Path(tmp) / "fit.db"), [DOCUMENTS[path.stem]])
            counts = glue_counts(DOCUMENTS[path.stem])
            recorder = _Recorder()
            kb.policy = recorder  # type: ignore[assignment]
            for it in items:
                asked += 1
                recorder.last = None
                reply = kb.ask(it["q"])
                if reply.found and recorder.last is not None:
                    rows.append(recorder.last.vector())
                    labels.append(1.0 if correct(it, True, kb.render(reply), counts) else 0.0)
    return np.array(rows), np.array(labels), asked


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Logistic regression on standardised features: (weights, bias, means, scales)."""
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * L2
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        grad = z.T @ (p - y) + penalty @ w
        hess = z.T @ (z * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[1:], float(w[0]), means, scales


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    x, y, asked = examples()
    weights, bias, means, scales = fit(x, y)
    p = 1.0 / (1.0 + np.exp(-(bias + ((x - means) / scales) @ weights)))
    print(f"{asked} training questions; the rules answer {len(y)}, {int(y.sum())} of them right")
    print("threshold  answered  right  wrong  wrong/all  gain")
    best, best_gain = 0.0, -1e9
    for threshold in np.round(np.arange(0.0, 0.96, 0.05), 2):
        keep = p >= threshold
        right, wrong = int(y[keep].sum()), int(keep.sum() - y[keep].sum())
        gain = right - WRONG_COST * wrong
        share = 100 * wrong / asked
        print(f"{threshold:9.2f}  {int(keep.sum()):8d}  {right:5d}  {wrong:5d}  {share:8.1f}%  {gain:5.0f}")
        if gain > best_gain and right >= KEEP_RIGHT * y.sum():
            best, best_gain = float(threshold), gain
    # Calibration: in bins of predicted probability, the share actually right.
    bins = [(lo, (p >= lo) & (p < lo + 0.2)) for lo in (0.0, 0.2, 0.4, 0.6, 0.8)]
    print("calibration (predicted → observed):", ", ".join(
        f"{lo:.1f}-{lo + 0.2:.1f}: {y[b].mean():.2f} (n={int(b.sum())})" for lo, b in bins if b.any()))
    print("weights:", ", ".join(f"{n}={w:+.2f}" for n, w in zip(FEATURES, weights)), f"bias={bias:+.2f}")
    print(f"answer_min = {best:.2f}")
    if args.dry_run:
        return 0
    kept = yaml.safe_load(POLICY.read_text(encoding="utf-8")) if POLICY.exists() else {}
    doc = {
        "route": (kept or {}).get("route") or {"procedure_match": 88.0},
        "decide": {
            "features": list(FEATURES),
            "weights": [round(float(w), 4) for w in weights],
            "bias": round(bias, 4),
            "means": [round(float(m), 4) for m in means],
            "scales": [round(float(s), 4) for s in scales],
            "answer_min": best,
            "fitted_on": f"train split: {asked} questions, {len(y)} answered by the rules",
            "wrong_cost": WRONG_COST,
            "keep_right": KEEP_RIGHT,
        }
    }
    header = ("# The answering policy. `decide` is fitted by `python bench/fit_policy.py` on the train split\n"
              "# (tests/fixtures/questions/train): do not edit it by hand, refit after changing the engine.\n"
              "# `route` is set by hand (see knowledge/policy.py RouteSettings); the fit keeps it as it is.\n")
    POLICY.write_text(header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    print(f"wrote {POLICY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
