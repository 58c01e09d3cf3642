"""The answering policy: every number of ranking and deciding, as data fitted on training questions.

``data/policy.yaml`` holds it in sections, each a record here: ``rank`` (``Ranking``: how the question's
words and the cues that separate neighbours weigh, ``knowledge.index`` and ``knowledge.rank``), ``choose``
(``Choice``: the rules' thresholds, ``knowledge.decide``), ``decide`` (``Policy``: the last word), ``route``
(``RouteSettings``: the first stage's). The rules say which sentence would answer and whether it holds the
kind of answer asked. Whether to *say* it is a bet: a wrong confident answer costs more trust than an honest
"I don't know". So the last word is a logistic model over what the scorer already knows of the question and
its best sentences (``Evidence``); its output is the probability that the answer is right, calibrated on
the training questions, and it answers only above ``answer_min``. ``bench/fit_policy.py`` fits them on the
*train* split (``--rank`` for ``rank`` and ``choose`` too); refitting after a change is one command, and
the file is committed, so the bot needs no fitting to run.
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


def _section(data_dir: Path, name: str) -> dict:
    """One section of the policy file: the commune's own ``policy.yaml`` if its folder has one, else the shared."""
    path = data_dir / "policy.yaml"
    if not path.exists():
        path = DATA_DIR / "policy.yaml"
    return ((load_yaml(path) or {}).get(name) or {}) if path.exists() else {}


class _Settings:
    """Numbers read from one section of ``data/policy.yaml``; a number the file leaves out keeps its default."""

    SECTION = ""

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR):  # type: ignore[no-untyped-def]
        raw = _section(data_dir, cls.SECTION)
        known = {f.name: f.type for f in fields(cls)}  # type: ignore[arg-type]
        unknown = set(raw) - set(known)
        if unknown:
            raise ValueError(f"policy.yaml, {cls.SECTION}: unknown settings {sorted(unknown)}")
        return cls(**{k: (int(v) if known[k] in ("int", int) else float(v)) for k, v in raw.items()})

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class RouteSettings(_Settings):
    """The first stage's numbers (``route``): set by hand and checked by the tests of procedure questions,
    not fitted (there is no training set of card matches yet)."""

    SECTION = "route"
    procedure_match: float = 88.0  # how closely (rapidfuzz partial ratio, 0–100) a question must name a card
    card_cover: float = 0.7  # ... or how much of one of its names (by weight) its words must cover, in order
    card_gap: float = 4  # ... each word at most this many words after the one before ("vay ít vốn nuôi bò ở ngân hàng")


@dataclass(frozen=True)
class Ranking(_Settings):
    """How a candidate sentence is weighed and scored (``rank``; ``knowledge.rank``): fitted by
    ``bench/fit_policy.py --rank`` on the train split, a coordinate search that keeps a change only when it
    raises right answers minus ``WRONG_COST`` times wrong ones. The defaults are the hand-set values the
    engine had before any fit."""

    SECTION = "rank"
    # weighing the question's words (``Index.weigh``)
    idf_cap: float = 4.0  # a rare word matters more, up to a point: framing words are rare in a plan too
    unknown_weight: float = 2.5  # a word the knowledge base never uses: the question is partly about else
    unknown_weight_en: float = 1.2  # English has words no glossary lists; they say less about the topic
    identity_factor: float = 0.4  # words of the document's own title say little about which sentence
    compound_factor: float = 1.2  # words the knowledge base writes together are one concept
    framing_factor: float = 0.5  # a measure word ("diện tích") says what kind of figure, not which
    focus_factor: float = 1.3  # the word next to the question word is what is asked about
    # matching
    context_weight: float = 0.6  # a word in the headings or lead-in, against one in the sentence itself
    partial_match: float = 0.6  # the share of a phrase's words that must be there to count at all
    phrase_apart: float = 0.85  # a phrase's words a few words apart ("giảm tỷ lệ hộ nghèo")
    phrase_scattered: float = 0.4  # ... only scattered in the sentence
    collision_factor: float = 0.3  # same letters, another word ("để" for "dê")
    # cues that separate neighbours
    bigram_bonus: float = 0.03  # each pair of the question's words the sentence has together
    bigram_cap: float = 0.18
    contrast_match: float = 0.05  # the season, school, semester asked
    contrast_miss: float = 0.35  # another one
    contrast_context_match: float = 0.03  # ... said in the headings
    contrast_context_miss: float = 0.2
    year_miss: float = 0.25  # a year asked in so many words, and the sentence is of another
    year_miss_implied: float = 0.06  # a year the document is about, unsaid in the sentence
    year_named: float = 0.04  # the sentence itself names the year asked
    stance_miss: float = 0.2  # a target where results were asked, or the other way round
    set_aside: float = 0.15  # "Ngoài tuyển quân, …": the sentence about what was set aside
    total_bonus: float = 0.06  # "tổng" asked and said
    number_of_bonus: float = 0.08  # "Số hộ nghèo là bao nhiêu?" — "Số hộ nghèo còn: 81/910 hộ"
    curated_bonus: float = 0.02  # a curated answer to the same question wins a tie
    counted_unit_bonus: float = 0.05  # "giáo viên 16" answers "mấy giáo viên" better than "22 người"
    length_penalty: float = 0.01  # per ten words beyond thirty: a long sentence covers much by chance
    # the cheap first stage
    common_idf: float = 1.1  # log(3): words in a third of all segments are left to the full scoring
    full_scoring: int = 40  # candidates scored in full, after the cheap coverage (60 and 40: the same answers
    # on the train and dev questions, 30 one fewer; set by bench/answer.py's latency, not fitted)


@dataclass(frozen=True)
class Choice(_Settings):
    """The rules' thresholds (``choose``; ``knowledge.decide``): when the best sentence is an answer, a
    suggestion, or nothing. Fitted with ``Ranking``."""

    SECTION = "choose"
    answer_min: float = 0.60  # the score a sentence must reach to answer
    suggest_min: float = 0.38  # ... to be offered as a suggestion
    min_information: float = 1.0  # a question must name one thing not commonplace here (Index.information)
    fit_tolerance: float = 0.25  # a sentence of the kind asked may answer this far below the best one
    close_call: float = 0.02  # paragraphs this close to the best are as good
    close_call_paragraphs: int = 4  # ... and this many of them: ask which is meant
