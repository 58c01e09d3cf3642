"""The answering policy: the numbers that decide whether to answer, as data fitted on training questions.

The rules (``answer.choose``) say which sentence would answer and whether it holds the kind of answer
asked. Whether to *say* it is a bet: a wrong confident answer costs more trust than an honest "I don't
know". So the last word is a logistic model over what the scorer already knows of the question and its
best sentences (``Evidence``), fitted by ``bench/fit_policy.py`` on the *train* split and stored in
``data/policy.yaml``; its output is the probability that the answer is right, calibrated on those
questions, and it answers only above ``answer_min``. Refitting after a change is one command; the file
is committed, so the bot needs no fitting to run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

from .lexicon import DATA_DIR, load_yaml


@dataclass(frozen=True)
class Evidence:
    """What is known, before answering, of a question and the sentence that would answer it."""

    score: float  # the chosen sentence's score
    coverage: float  # the share of the question's weight it covers
    in_text: float  # the share covered by the sentence's own words (not its headings)
    missing: float  # the largest share one thing the question names holds, that the sentence does not say
    margin: float  # its lead over the best sentence of another paragraph
    information: float  # how many rare things the question names
    unknown: float  # the share of the question's weight on words the knowledge base never uses
    penalties: float  # how many cues speak against it (another year, season, stance…)
    typed: float  # 1 when the question asks a kind of answer (a figure, a date, a name)
    english: float
    curated: float  # 1 when the sentence is a curated answer

    def vector(self) -> list[float]:
        return [float(getattr(self, f.name)) for f in fields(self)]


FEATURES = tuple(f.name for f in fields(Evidence))


@dataclass(frozen=True)
class Policy:
    """A fitted logistic model and the probability it must reach to answer."""

    weights: tuple[float, ...]
    bias: float
    answer_min: float
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def probability(self, evidence: Evidence) -> float:
        """The chance, on the questions it was fitted on, that an answer with this evidence is right."""
        z = self.bias + sum(w * (x - m) / s for w, x, m, s in
                            zip(self.weights, evidence.vector(), self.means, self.scales))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def answers(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.answer_min

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> Policy | None:
        """The fitted policy (the commune's own if its folder has one), or None before any fit."""
        path = data_dir / "policy.yaml"
        if not path.exists():
            path = DATA_DIR / "policy.yaml"
        if not path.exists():
            return None
        raw = load_yaml(path)
        model = raw["decide"]
        names = tuple(model["features"])
        if names != FEATURES:
            raise ValueError(f"{path}: fitted on features {names}, the code has {FEATURES}: refit it "
                             "(python bench/fit_policy.py)")
        return cls(weights=tuple(model["weights"]), bias=float(model["bias"]),
                   answer_min=float(model["answer_min"]), means=tuple(model["means"]),
                   scales=tuple(model["scales"]))


@dataclass(frozen=True)
class RouteSettings:
    """The first stage's numbers (``route`` in ``data/policy.yaml``): set by hand and checked by the tests of
    procedure questions, not fitted (there is no training set of card matches yet)."""

    procedure_match: float = 88.0  # how closely (rapidfuzz partial ratio, 0–100) a question must name a card

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> RouteSettings:
        path = data_dir / "policy.yaml"
        if not path.exists():
            path = DATA_DIR / "policy.yaml"
        raw = (load_yaml(path) or {}).get("route") if path.exists() else None
        return cls(**{k: float(v) for k, v in (raw or {}).items() if k in {f.name for f in fields(cls)}})
