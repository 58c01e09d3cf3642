"""Tracked figures: the year's targets (``data/metrics.yaml``), officials' updates, and progress.

An update typed from the field ("/capnhat xi mang gtnt Còn Nàn 26,7 tấn") is read here: the metric found
fuzzily (no diacritics, typos, aliases), the village recognised wherever it stands, the value parsed the
Vietnamese way ("1.105", "12,5") and converted to the metric's unit (tạ → tấn, m² → ha, triệu → đồng).
Anything doubtful is asked about rather than guessed: an ambiguous "1.5", two metrics that fit, a value far
from the target. Nothing here touches Telegram or SQL; the store keeps the figures.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from .figures import FigureRecord
from .lexicon import DATA_DIR, load_yaml
from .periods import DEFAULT_TZ, Calendar, Period
from .text import AmbiguousNumber, fold, format_number, parse_number

STATUSES = {"dat": "đạt", "chua dat": "chưa đạt", "dang thuc hien": "đang thực hiện", "khong dat": "chưa đạt",
            "gioi": "giỏi", "kha": "khá", "trung binh": "trung bình"}

# unit typed → (canonical unit, factor to it). Units of one dimension convert; others are refused.
UNITS: dict[str, tuple[str, float]] = {
    "tan": ("tấn", 1.0), "ta": ("tấn", 0.1), "yen": ("tấn", 0.01), "kg": ("tấn", 0.001), "can": ("tấn", 0.001),
    "ha": ("ha", 1.0), "hecta": ("ha", 1.0), "hec ta": ("ha", 1.0), "m2": ("ha", 0.0001), "sao": ("ha", 0.036),
    "dong": ("đồng", 1.0), "d": ("đồng", 1.0), "vnd": ("đồng", 1.0), "nghin": ("đồng", 1e3),
    "nghin dong": ("đồng", 1e3), "trieu": ("đồng", 1e6), "trieu dong": ("đồng", 1e6), "ty": ("đồng", 1e9),
    "ti": ("đồng", 1e9), "ty dong": ("đồng", 1e9), "ti dong": ("đồng", 1e9),
    "%": ("%", 1.0), "phan tram": ("%", 1.0),
    "con": ("con", 1.0), "tieu chi": ("tiêu chí", 1.0), "ho": ("hộ", 1.0), "nguoi": ("người", 1.0),
    "luot": ("lượt", 1.0), "don": ("đơn", 1.0), "thon": ("thôn", 1.0), "m": ("m", 1.0), "km": ("m", 1000.0),
    "chuong trinh": ("lượt", 1.0), "giai": ("lượt", 1.0), "lan": ("lượt", 1.0), "cuoc": ("lượt", 1.0),
}
# A number standing alone or with its unit glued on ("12,5ha", "1.105con"), never a digit inside a word.
_NUMBER = re.compile(r"(?<![\w.,])-?\d+(?:[.,]\d+)*(?![.,]?\d)")
ABSURD_FACTOR = 10
# The largest figure a commune can report, per unit: beyond it the value is a typing slip (a 400-digit number
# became inf, 10^30 pigs printed as a 37-digit number) and is refused, not previewed. A metric may set its own
# ``maximum`` in metrics.yaml. Rates can pass 100 % (recruits over quota), so % stops at 1,000.
CEILINGS: dict[str, float] = {
    "%": 1_000, "ha": 1_000_000, "tấn": 10_000_000, "đồng": 1e15, "con": 100_000_000, "hộ": 1_000_000,
    "người": 10_000_000, "lượt": 10_000_000, "đơn": 1_000_000, "thôn": 1_000, "tiêu chí": 100, "m": 10_000_000,
}
DEFAULT_CEILING = 1e12
EXACT_ENOUGH = 88  # a field-by-field update's metric: its name (or an alias) with at most a typo or two
DECIMALS = 6  # a figure is kept to six decimals; a value that would round to zero there is refused


@dataclass
class Metric:
    """One tracked figure of the plan."""

    key: str
    name: str
    aliases: list[str]
    unit: str
    kind: str = "number"  # number | status
    mode: str = "total"  # total: an update is the running total; add: it adds to what was logged
    target: float | None = None
    target_text: str | None = None
    baseline: float | None = None
    baseline_text: str | None = None
    per_village: bool = False
    direction: str = "up"  # down: lower is better ("chậm hạn dưới 15%")
    target_number: int | None = None
    quote: str | None = None
    values: list[str] = field(default_factory=list)  # a status metric's values ("đạt", "khá"…)
    target_value: str | None = None
    baseline_value: str | None = None
    maximum: float | None = None  # the largest believable figure; else CEILINGS by unit
    parts: list[str] = field(default_factory=list)  # the keys of the metrics this one is the sum of
    part_of: str | None = None  # the key of the whole this metric is a part of

    @property
    def ceiling(self) -> float:
        return float(self.maximum) if self.maximum is not None else CEILINGS.get(self.unit, DEFAULT_CEILING)

    @property
    def cumulative(self) -> bool:
        """Adds up over the year (hectares planted): an update is this period's addition, not the level."""
        return self.mode == "add"

    @property
    def lower_is_better(self) -> bool:
        """The target is a ceiling (a poverty rate, overdue complaints), not a floor."""
        return self.direction == "down"


@dataclass
class Parsed:
    """What an official typed, understood; ``problem`` says what is missing or wrong (a locale key)."""

    raw: str
    metric: Metric | None = None
    choices: list[Metric] = field(default_factory=list)  # several metrics fit: ask which
    value: float | None = None
    status: str | None = None
    unit: str | None = None
    village: str | None = None
    ambiguous: tuple[float, float] | None = None  # "1.5": 15 or 1,5?
    problem: str | None = None
    unusual: bool = False  # far from the target: confirm rather than refuse
    limit: float | None = None  # with problem "update.too_large": the metric's ceiling
    op: str = "set"  # set: the value is the figure; add ("thêm, tăng, cộng") / sub ("giảm, bớt"): a change to it
    unknown_village: str | None = None  # a place named that is not one of the commune's villages ("Bản Von")
    village_choices: list[str] = field(default_factory=list)  # the villages closest to it, to ask

    def payload(self, value: float | None = None) -> dict:
        """What the store writes; ``value`` the figure to write when it is not the typed one (a change)."""
        assert self.metric is not None
        return {"metric": self.metric.key, "value": self.value if value is None else value, "status": self.status,
                "unit": self.metric.unit, "village": self.village, "raw": self.raw}


@dataclass
class Progress:
    """Where a metric stands: its current figure from the log, and against the target."""

    metric: Metric
    value: float | None
    status: str | None
    updated_at: float | None
    updates: int
    by_village: dict[str, float]
    from_parts: bool = False  # the value is the sum of the parts' figures (a part was logged after the whole)
    latest: tuple[dt.date, float] | None = None  # its newest figure's (day it is of, when it was written)

    @property
    def percent(self) -> float | None:
        """The share of the target achieved. A floor: value / target. A ceiling the plan reaches down to from a
        higher baseline ("giảm tỷ lệ hộ nghèo"): the share of the planned reduction made, (baseline − value) /
        (baseline − target), never below 0; a ceiling without such a baseline ("chậm hạn dưới 15%"): target /
        value, the statistics offices' rule for an inverse target. Over 100 means beyond the target."""
        m = self.metric
        if self.value is None or not m.target:
            return None
        if not m.lower_is_better:
            return 100.0 * self.value / m.target
        if m.baseline is not None and m.baseline > m.target:
            return max(0.0, 100.0 * (m.baseline - self.value) / (m.baseline - m.target))
        return 100.0 * m.target / self.value if self.value else None

    @property
    def met(self) -> bool | None:
        """Whether the figure meets the target now: at or above a floor, at or below a ceiling."""
        if self.value is None or self.metric.target is None:
            return None
        if self.metric.lower_is_better:
            return self.value <= self.metric.target
        return self.value >= self.metric.target


class Registry:
    """The metrics of a plan and the commune's villages."""

    def __init__(self, metrics: list[Metric], villages: list[str], year: int | None = None,
                 calendar: Calendar | None = None) -> None:
        self.metrics = metrics
        self.villages = villages
        self.year = year  # the plan's year (its targets'), not the reporting year a figure counts in
        self.calendar = calendar or Calendar()  # the commune's reporting periods (commune.yaml's report_cutoff)
        self._by_key = {m.key: m for m in metrics}
        self._names: list[str] = []
        self._owners: list[Metric] = []
        for m in metrics:
            for name in [m.name, *m.aliases]:
                self._names.append(fold(name))
                self._owners.append(m)
        self._villages = {fold(v): v for v in villages}
        self._found: dict[tuple[str, int], list[Metric]] = {}
        # A part (trâu) competes in a fuzzy match only when the query holds a word of its own ("đàn 600" is
        # the herd, the pigs or the poultry; not each species): the words its names share with no sibling.
        self._own_words: dict[str, set[str]] = {}
        for m in metrics:
            if m.part_of:
                siblings = [o for o in metrics if o.part_of == m.part_of and o is not m]
                theirs = {w for o in siblings for n in [o.name, *o.aliases] for w in fold(n).split()}
                self._own_words[m.key] = {w for n in [m.name, *m.aliases] for w in fold(n).split()} - theirs

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> Registry:
        raw = load_yaml(data_dir / "metrics.yaml") or {}
        commune = load_yaml(data_dir / "commune.yaml") or {}
        fields = set(Metric.__dataclass_fields__)
        metrics = [Metric(**{k: v for k, v in item.items() if k in fields}) for item in raw.get("metrics") or []]
        for m in metrics:
            m.aliases = [str(a) for a in m.aliases or []]
            m.unit = str(m.unit or "")
            m.parts = [str(p) for p in m.parts or []]
        return cls(metrics, [str(v) for v in commune.get("villages") or []], raw.get("year"),
                   Calendar.lenient(commune))

    def get(self, key: str) -> Metric | None:
        return self._by_key.get(key)

    def keys_of(self, metric: Metric) -> list[str]:
        """The metric's key and its parts' keys: the figures its progress is read from."""
        return [metric.key, *metric.parts]

    @property
    def tz(self) -> str:
        return self.calendar.tz

    def year_of(self, when: float | dt.datetime | dt.date | None = None) -> Period:
        """The reporting year ``when`` (a timestamp, a time or a local day; default now) falls in: the one place
        that decides it, by the commune's calendar (with a cut-off on the 14th, 20 December is next year's).
        /tiendo, the live answers, the summary and /baocao all count a cumulative figure from its first day."""
        if when is None:
            when = time.time()
        if isinstance(when, int | float):
            when = dt.datetime.fromtimestamp(when, ZoneInfo(self.tz))
        if isinstance(when, dt.datetime):
            when = when.astimezone(ZoneInfo(self.tz)).date()
        return self.calendar.containing("year", when)

    def day_of(self, figure: FigureRecord) -> dt.date:
        """The day a figure is OF: its own (an imported row's ``as_of``), else the local day it was logged."""
        return figure_day(figure, self.tz)

    def order(self, figure: FigureRecord) -> tuple[dt.date, float, int]:
        """How figures follow one another: by the day they are of, then in write order."""
        return figure_day(figure, self.tz), figure.created_at, figure.id

    def standing(self, metric: Metric, figures_of: Callable[[str], list[FigureRecord]],
                 until: dt.date | None = None, since: dt.date | None = None) -> Progress:
        """Where ``metric`` stood at the end of day ``until`` (None: everything logged), its parts included: the
        one rule behind /tiendo, the live answers, the daily summary and /baocao. A figure counts by the day it
        is of (``as_of``, else the day it was logged); a level is its newest figure by that day (ties: write
        order); a cumulative figure adds up only what falls in the reporting year, from ``since``."""
        return self.progress(metric, self.counted([f for key in self.keys_of(metric) for f in figures_of(key)],
                                                  until, since))

    def counted(self, figures: Iterable[FigureRecord], until: dt.date | None = None,
                since: dt.date | None = None) -> list[FigureRecord]:
        """The live figures that count at the end of day ``until`` (a cumulative metric's: from ``since`` on),
        newest first by ``order``: what ``standing`` reads."""
        out = []
        for f in figures:
            if not f.live:
                continue
            day = figure_day(f, self.tz)
            if until is not None and day > until:
                continue
            owner = self._by_key.get(f.metric)
            if since is not None and owner is not None and owner.cumulative and day < since:
                continue
            out.append(f)
        out.sort(key=self.order, reverse=True)
        return out

    def current(self, metric: Metric, figures_of: Callable[[str], list[FigureRecord]],
                now: float | dt.datetime | dt.date | None = None) -> Progress:
        """Where ``metric`` stands now (``figures_of(key)``: a metric's figures): every level figure logged, and
        a cumulative metric's figures of the reporting year ``now`` is in (last December's planting is not
        this year's)."""
        return self.standing(metric, figures_of, None, self.year_of(now).year_start)

    # -- finding -----------------------------------------------------------------------------------
    def find(self, text: str, limit: int = 4) -> list[Metric]:
        """Metrics whose name or alias fits ``text``: one when it is clear, several when it is not (remembered:
        a spreadsheet names the same few metrics on thousands of rows)."""
        key = (text, limit)
        found = self._found.get(key)
        if found is None:
            if len(self._found) > 4096:
                self._found.clear()
            found = self._found[key] = self._find(text, limit)
        return list(found)

    def _find(self, text: str, limit: int) -> list[Metric]:
        query = fold(text)
        if not query:
            return []
        exact = [self._owners[i] for i, n in enumerate(self._names) if n == query]
        if exact:
            return _unique(exact)
        found = process.extract(query, self._names, scorer=fuzz.WRatio, limit=40, score_cutoff=70)
        ranked: list[tuple[float, Metric]] = []
        words = query.split()
        found = [hit for hit in found if self._competes(self._owners[hit[2]], words)][:12]
        for _, score, i in found:
            owner = self._owners[i]
            if all(owner is not m for _, m in ranked):
                ranked.append((score, owner))
        if not ranked:
            return []
        best = ranked[0][0]
        close = [m for score, m in ranked if score >= best - 4][:limit]
        return close

    def _competes(self, metric: Metric, words: list[str]) -> bool:
        own = self._own_words.get(metric.key)
        return own is None or any(fuzz.ratio(w, o) >= 75 for w in words for o in own)

    def _unknown_place(self, metric: Metric, name_part: str) -> str | None:
        """The words of ``name_part`` that the metric's names do not explain, when they look like a village's
        name ("xi mang gtnt ban von" → "ban von", close to Bản Đon): a place to ask about, not to drop."""
        known = {w for n in [metric.name, *metric.aliases] for w in fold(n).split()} | {"thon", "xom"}
        left = [w for w in fold(name_part).split() if w not in known]
        if not left or not self.villages:
            return None
        best = process.extractOne(" ".join(left), [fold(v) for v in self.villages], scorer=fuzz.ratio)
        return " ".join(left) if best and best[1] >= 60 else None

    def village_in(self, text: str) -> tuple[str | None, str]:
        """The village named in ``text`` (without diacritics too), and the text without it."""
        folded = fold(text)
        for key, name in sorted(self._villages.items(), key=lambda kv: -len(kv[0])):
            m = re.search(rf"(?:\bthon\s+)?\b{re.escape(key)}\b", folded)
            if m:
                return name, (folded[: m.start()] + " " + folded[m.end():]).strip()
        return None, folded

    # -- reading an update -------------------------------------------------------------------------
    def parse(self, text: str) -> Parsed:
        """Read "<chỉ số> <giá trị> [đơn vị] [thôn]" in any order the field produces."""
        raw = " ".join((text or "").split())
        parsed = Parsed(raw=raw)
        if not raw:
            parsed.problem = "update.empty"
            return parsed
        village, rest = self.village_in(raw.replace("\u2212", "-"))  # a phone's "−3" is minus three
        parsed.village = village
        status = next((v for k, v in sorted(STATUSES.items(), key=lambda kv: -len(kv[0]))
                       if re.search(rf"\b{k}\b\s*$", rest)), None)
        numbers = list(_NUMBER.finditer(rest))
        without_status = re.sub(rf"\b{fold(status)}\b\s*$", "", rest) if status else rest
        if status and numbers and any(m.kind == "status" for m in self.find(without_status.strip())[:1]):
            numbers = []  # the digit belongs to the name: "phổ cập giáo dục mức độ 3 đạt"
        if numbers:
            number = numbers[-1] if len(numbers) > 1 and _looks_like_name_digit(rest, numbers[0]) else numbers[0]
            name_part = rest[: number.start()]
            unit_part = rest[number.end():].strip()
            change = _CHANGE.search(name_part)
            if change:  # "đàn lợn thêm 10", "thêm 10 con lợn", "trồng rừng +5": a change, not the figure
                parsed.op = "sub" if (change.group(1) or "").startswith(("giam", "bot", "tru")) else "add"
                name_part = name_part[: change.start()] + " "
            if not name_part.strip():  # the value came first: "12,5 ha trồng rừng"
                unit_part, name_part = _split_unit(unit_part)
        elif status:
            name_part = without_status
            unit_part = ""
            number = None
        else:
            parsed.problem = "update.no_value"
            parsed.choices = self.find(rest)
            return parsed
        candidates = self.find(name_part.strip())
        if not candidates:
            parsed.problem = "update.unknown_metric"
            return parsed
        if len(candidates) > 1:
            parsed.choices = candidates
        metric = candidates[0]
        parsed.metric = metric if len(candidates) == 1 else None
        named = self._unknown_place(metric, name_part) if village is None and len(candidates) == 1 else None
        if named:
            parsed.unknown_village = _as_typed(raw, named)
            parsed.village_choices = [v for _, _, v in process.extract(
                named, {v: fold(v) for v in self.villages}, scorer=fuzz.WRatio, limit=3)]
        if number is None:
            parsed.status = status
            if len(candidates) == 1 and metric.kind != "status":
                parsed.problem = "update.no_value"
            return parsed
        token = number.group(0)
        try:
            value = parse_number(token)
        except AmbiguousNumber:
            a, b = token.split(".")
            parsed.ambiguous = (float(a + b), float(f"{a}.{b}"))
            value = None
        except ValueError:
            parsed.problem = "update.not_a_number"
            return parsed
        unit_part = _as_typed(raw, unit_part)  # "tấn", not "tan", when it is named back to the official
        if len(candidates) > 1:
            parsed.value = value
            parsed.unit = unit_part or None
            return parsed
        return self.check(parsed, metric, value, unit_part)

    def village_named(self, text: str) -> str | None:
        """The commune's village ``text`` names on its own ("Còn Nàn", "thôn con nan"), or None."""
        folded = re.sub(r"^(?:thon|xom)\s+", "", fold(text).strip())
        return self._villages.get(folded)

    def read_fields(self, metric_text: str, value: float | str | None, unit_text: str = "",
                    village_text: str = "") -> Parsed:
        """An update given field by field (a spreadsheet row: chỉ số, giá trị, đơn vị, thôn) rather than typed
        as one line, checked exactly as a typed one is: the metric found the same way (one, or ``choices``),
        the village one of the commune's (else ``unknown_village`` with the closest names), a text value read
        the Vietnamese way ("1.105", "279,5"; "1.5" is ``ambiguous``), a status among the metric's values, and
        then ``check`` (units, ceilings, negatives) as for /capnhat."""
        cells = [str(c).strip() for c in (metric_text, value, unit_text, village_text) if c not in (None, "")]
        parsed = Parsed(raw=" ".join(cells))
        candidates = self.find(str(metric_text or ""))
        if not candidates:
            parsed.problem = "update.unknown_metric"
            return parsed
        typed = fold(str(metric_text))
        if not any(fuzz.ratio(typed, fold(n)) >= EXACT_ENOUGH for m in candidates for n in [m.name, *m.aliases]):
            # A sheet's name is picked from a list, not typed on a phone: a loose likeness ("học sinh bỏ học"
            # for "đàn bò") is a different figure, never this one. The closest names are offered instead.
            parsed.problem, parsed.choices = "update.inexact_metric", candidates
            return parsed
        if len(candidates) > 1:
            parsed.choices = candidates
            return parsed
        metric = parsed.metric = candidates[0]
        if str(village_text or "").strip():
            parsed.village = self.village_named(str(village_text))
            if parsed.village is None:
                parsed.unknown_village = str(village_text).strip()
                parsed.village_choices = [v for _, _, v in process.extract(
                    fold(str(village_text)), {v: fold(v) for v in self.villages}, scorer=fuzz.WRatio, limit=3)]
                return parsed
        if value is None or (isinstance(value, str) and not value.strip()):
            parsed.problem = "update.no_value"
            return parsed
        if metric.kind == "status":
            status = STATUSES.get(fold(str(value)).strip(" ."))
            if status is None or (metric.values and status not in metric.values):
                parsed.problem = "update.bad_status"
                return parsed
            parsed.status = status
            return parsed
        unit_text = str(unit_text or "").strip()
        if isinstance(value, str):
            typed = re.fullmatch(r"\s*([+-]?\d[\d.,\s]*?)\s*([^\d\s.,].*)?", value.replace("\u2212", "-"))
            if typed is None:
                parsed.problem = "update.not_a_number"
                return parsed
            token, glued = typed.group(1), (typed.group(2) or "").strip()
            if glued and unit_text and fold(glued) != fold(unit_text):
                parsed.problem = "update.not_a_number"
                return parsed
            unit_text = unit_text or glued
            try:
                number = parse_number(token)
            except AmbiguousNumber:
                a, b = token.strip().lstrip("+").split(".")
                parsed.ambiguous = (float(a + b), float(f"{a}.{b}"))
                return parsed
            except ValueError:
                parsed.problem = "update.not_a_number"
                return parsed
        elif isinstance(value, bool) or not isinstance(value, int | float):
            parsed.problem = "update.not_a_number"
            return parsed
        else:
            number = float(value)
        return self.check(parsed, metric, number, unit_text)

    def check(self, parsed: Parsed, metric: Metric, value: float | None, unit_text: str) -> Parsed:
        """Convert and validate a value for ``metric`` (also after an ambiguity or a metric was resolved)."""
        parsed.metric = metric
        parsed.choices = []
        if metric.kind == "status":
            parsed.problem = "update.status_expected"
            return parsed
        if value is None:
            return parsed
        if not math.isfinite(value):  # inf from a 400-digit number, nan from forged data: never stored
            parsed.problem = "update.too_large"
            parsed.value = None
            parsed.limit = metric.ceiling
            return parsed
        if value < 0:
            parsed.problem = "update.negative"
            return parsed
        factor, problem = _convert(unit_text, metric.unit)
        if problem:
            parsed.problem = problem
            parsed.unit = unit_text
            return parsed
        converted = value * factor
        if converted > metric.ceiling:
            parsed.problem = "update.too_large"
            parsed.value = None
            parsed.limit = metric.ceiling
            return parsed
        if converted and not round(converted, DECIMALS):  # 0,0000001 would be stored as 0: say so instead
            parsed.problem = "update.too_small"
            parsed.value = None
            return parsed
        parsed.value = round(converted, DECIMALS)
        parsed.unit = metric.unit
        parsed.ambiguous = None
        reference = metric.target or metric.baseline
        if reference and parsed.value > ABSURD_FACTOR * reference:
            parsed.unusual = True
        return parsed

    # -- progress ----------------------------------------------------------------------------------
    def progress(self, metric: Metric, figures: list[FigureRecord]) -> Progress:
        """The metric's current figure from ``figures``, already chosen and ordered newest first (``order``;
        ``standing`` does both); undone figures left out.

        A whole with parts (the herd: trâu + bò + ngựa + dê) is recomputed once a part is logged after the
        whole's own latest figure: the sum of each part's current figure, its baseline where it has none."""
        if metric.parts:
            whole = self.progress(replace_parts(metric), figures)
            parts = [(p, self.progress(p, figures)) for p in (self.get(k) for k in metric.parts) if p is not None]
            newest = max((pr for _, pr in parts if pr.latest is not None), key=lambda pr: pr.latest,  # type: ignore[arg-type, return-value]
                         default=None)
            if newest is not None and (whole.latest is None or newest.latest > whole.latest):  # type: ignore[operator]
                values = [pr.value if pr.value is not None else p.baseline for p, pr in parts]
                if all(v is not None for v in values):
                    return Progress(metric, float(sum(values)), None, newest.updated_at,  # type: ignore[arg-type]
                                    whole.updates + sum(pr.updates for _, pr in parts), {}, from_parts=True,
                                    latest=newest.latest)
            return whole
        live = [f for f in figures if f.live and f.metric == metric.key]
        if metric.kind == "status":
            latest = live[0] if live else None
            return Progress(metric, None, latest.status if latest else None, latest.created_at if latest else None,
                            len(live), {}, latest=self._when(latest) if latest else None)
        if not live:
            return Progress(metric, None, None, None, 0, {})
        by_village: dict[str, float] = {}
        if metric.mode == "add":
            value = sum(float(f.value or 0) for f in live)
            for f in live:
                if f.village:
                    by_village[f.village] = by_village.get(f.village, 0.0) + float(f.value or 0)
        else:
            commune = next((f for f in live if not f.village), None)
            for f in live:  # newest first: the first figure per village is its current one
                if f.village and f.village not in by_village:
                    by_village[f.village] = float(f.value or 0)
            if commune is not None and (not by_village or self._when(commune) >= max(
                    self._when(f) for f in live if f.village)):
                value = float(commune.value or 0)
            else:
                value = sum(by_village.values())
        return Progress(metric, value, None, live[0].created_at, len(live), by_village, latest=self._when(live[0]))

    def _when(self, figure: FigureRecord) -> tuple[dt.date, float]:
        """A figure's place in time: the day it is of, then when it was written (a tie on both: the whole wins)."""
        return figure_day(figure, self.tz), figure.created_at


@dataclass
class Change:
    """What an update does to where a metric stands: ``stored`` is the figure the log gets (a level's new
    value, or a cumulative figure's addition), ``before``/``after`` the level (or the year's running total)
    on either side, and the whole's progress when the metric is a part."""

    stored: float
    before: float | None
    after: float
    progress: Progress
    whole: Progress | None = None
    jump: bool = False  # a level moving by more than JUMP_MARGIN from ``reference``: ask again
    reference: float | None = None  # the level it moves from: the current one, else the baseline
    problem: str | None = None  # a locale key: "update.no_current", "update.below_zero"

    @property
    def delta(self) -> float | None:
        return None if self.before is None else self.after - self.before


JUMP_MARGIN = 0.5  # a level that moves by more than half of what it was is asked about again


def plan_change(registry: Registry, parsed: Parsed, figures_of: Callable[[str], list[FigureRecord]],
                now: float | None = None) -> Change:
    """What confirming ``parsed`` would write and do. A level: a bare value sets it, "thêm 10" adds to its
    current figure (or its baseline when nothing is logged yet), "giảm 10" takes away. A cumulative figure:
    the value is this update's addition ("giảm" corrects it downwards), and the year's running total moves."""
    metric = parsed.metric
    assert metric is not None and parsed.value is not None
    fetched: dict[str, list[FigureRecord]] = {}
    asked = figures_of

    def figures_of(key: str) -> list[FigureRecord]:  # each metric's figures read once, not once per question
        if key not in fetched:
            fetched[key] = asked(key)
        return fetched[key]

    moment = time.time() if now is None else now
    current = registry.current(metric, figures_of, moment)
    typed = parsed.value
    if metric.cumulative:
        stored = -typed if parsed.op == "sub" else typed
        before = current.value or 0.0
        after = before + stored
    else:
        if parsed.village:
            known = current.by_village.get(parsed.village)
        else:
            known = current.value
        before = known if known is not None else (metric.baseline if parsed.op != "set" and not parsed.village
                                                   else None)
        if parsed.op == "set":
            after = typed
        elif before is None:
            return Change(typed, None, typed, current, problem="update.no_current")
        else:
            after = before + typed if parsed.op == "add" else before - typed
        stored = after
    stored = round(stored, DECIMALS)
    if (metric.cumulative and after < 0) or (not metric.cumulative and stored < 0):
        return Change(stored, before, after, current, problem="update.below_zero")
    pending = _pending(parsed, stored, None, moment)

    def with_pending(key: str) -> list[FigureRecord]:
        return [pending, *figures_of(key)] if key == metric.key else figures_of(key)

    progress = registry.current(metric, with_pending, moment)
    if metric.cumulative or parsed.village is None:
        after = progress.value if progress.value is not None else after
    whole_metric = registry.get(metric.part_of) if metric.part_of else None
    whole = registry.current(whole_metric, with_pending, moment) if whole_metric else None
    reference = before if before is not None else (None if parsed.village else metric.baseline)
    jump = (not metric.cumulative and reference is not None and reference > 0
            and abs(after - reference) > JUMP_MARGIN * reference)
    return Change(stored, before, round(after, DECIMALS), progress, whole, jump, reference)


def figure_day(figure: FigureRecord, tz: str = DEFAULT_TZ) -> dt.date:
    """The day a figure is OF: its own (an imported row's ``as_of``), else the local day it was logged."""
    if figure.as_of:
        try:
            return dt.date.fromisoformat(str(figure.as_of)[:10])
        except ValueError:
            pass
    return dt.datetime.fromtimestamp(figure.created_at, _zone(tz)).date()


_ZONES: dict[str, ZoneInfo] = {}


def _zone(tz: str) -> ZoneInfo:
    zone = _ZONES.get(tz)
    if zone is None:
        zone = _ZONES[tz] = ZoneInfo(tz)
    return zone


def replace_parts(metric: Metric) -> Metric:
    """The metric read from its own figures only (a whole's progress before its parts are considered)."""
    return replace(metric, parts=[])


def describe(progress: Progress) -> str:
    """"Trồng rừng mới: 12,5 ha → 25 % chỉ tiêu 50 ha" (Vietnamese figures, the plan's own target text); a
    ceiling says whether the figure is under it: "… 15 % → chưa đạt, trên mức trần 11,47 % …"."""
    m = progress.metric
    if m.kind == "status":
        return f"{m.name}: {progress.status or '—'}"
    if progress.value is None:
        return f"{m.name}: — (chỉ tiêu {m.target_text})" if m.target_text else f"{m.name}: —"
    current = f"{format_number(progress.value)} {m.unit}".strip()
    if progress.from_parts:
        current += " (cộng từ các thành phần)"
    if m.lower_is_better and m.target is not None:
        ceiling = f"{format_number(m.target)} {m.unit}".strip()
        said = f"đạt, không vượt mức trần {ceiling}" if progress.met else f"chưa đạt, trên mức trần {ceiling}"
        if m.baseline is not None and m.baseline > m.target and progress.percent is not None and not progress.met:
            said += f", mới giảm được {format_number(progress.percent, 0)} % mức cần giảm"
        return f"{m.name}: {current} → {said}" + (f" (chỉ tiêu {m.target_text})" if m.target_text else "")
    if progress.percent is None:
        return f"{m.name}: {current}"
    target = m.target_text or f"{format_number(m.target or 0)} {m.unit}"
    percent = format_number(progress.percent, 0 if progress.percent >= 10 else 1)
    return f"{m.name}: {current} → {percent} % chỉ tiêu {target}"


def preview_progress(registry: Registry, parsed: Parsed, figures: list[FigureRecord],
                     now: float | None = None) -> Progress:
    """Where the metric would stand once this update is written (``figures``: the metric's own)."""
    metric = parsed.metric
    assert metric is not None
    moment = time.time() if now is None else now
    pending = _pending(parsed, parsed.value, parsed.status, moment)
    return registry.current(metric, lambda key: [pending, *figures] if key == metric.key else [], moment)


def _pending(parsed: Parsed, value: float | None, status: str | None, at: float) -> FigureRecord:
    """The figure a preview would write, as the log will hold it (its id after every real one)."""
    assert parsed.metric is not None
    return FigureRecord(id=1 << 62, metric=parsed.metric.key, value=value, status=status, unit=parsed.metric.unit,
                        village=parsed.village, raw=parsed.raw, user_id=0, user_name=None, created_at=at)


def _convert(unit_text: str, target_unit: str) -> tuple[float, str | None]:
    text = fold(unit_text).strip(" .")
    if not text:
        return 1.0, None
    words = text.split()
    for n in (2, 1):
        key = " ".join(words[:n])
        if key in UNITS:
            unit, factor = UNITS[key]
            if fold(unit) == fold(target_unit):
                return factor, None
            return 1.0, "update.wrong_unit"
    if fold(target_unit) and words[0] == fold(target_unit).split()[0]:
        return 1.0, None
    return 1.0, "update.wrong_unit"


def _as_typed(raw: str, folded: str) -> str:
    """The words of ``raw`` whose folded form is ``folded`` (the matching works on folded text)."""
    words, wanted = raw.split(), folded.split()
    if not wanted:
        return folded
    folded_words = [fold(w) for w in words]
    for i in range(len(words) - len(wanted) + 1):
        if folded_words[i:i + len(wanted)] == wanted:
            return " ".join(words[i:i + len(wanted)])
    return folded


def _split_unit(text: str) -> tuple[str, str]:
    """Split "ha trồng rừng" into its leading unit and the rest (the metric's name)."""
    words = text.split()
    for n in (2, 1):
        if len(words) >= n and fold(" ".join(words[:n])).strip(" .") in UNITS:
            return " ".join(words[:n]), " ".join(words[n:])
    return "", text


def _looks_like_name_digit(text: str, number: re.Match[str]) -> bool:
    """A digit that is part of the metric's name ("pcgd mức độ 3 đạt"), not its value."""
    return bool(re.search(r"(muc do|lop|khoi|nd|qd)\s*$", text[: number.start()]))


def _unique(metrics: list[Metric]) -> list[Metric]:
    out: list[Metric] = []
    for m in metrics:
        if all(m is not o for o in out):
            out.append(m)
    return out


# A change rather than the figure, right before the number: "thêm 10", "tăng thêm 10", "giảm đi 5", "+10".
_CHANGE = re.compile(r"(?:\b(them|tang(?: them)?|cong(?: them)?|giam(?: di| bot)?|bot(?: di)?|tru(?: di)?)|(\+))\s*$")
_PROGRESS_CUES = re.compile(
    r"\b(da|duoc|hien nay|hien tai|den nay|tien do|bay gio|gio|so far|now|progress|currently)\b")
_PLAN_CUES = re.compile(r"\b(chi tieu|ke hoach|muc tieu|phai dat|target|plan)\b")


class LiveFigures:
    """Citizens' questions about a tracked figure ("đã trồng được bao nhiêu rừng?"), answered from the log.

    Only a question about where things stand now: not one naming another year (the plan answers "năm
    2023"), not one asking for the target (the plan answers that too), and only once a figure is logged.
    """

    def __init__(self, registry: Registry, figures: Callable[[str], list[FigureRecord]],
                 clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.figures = figures
        self.clock = clock  # "now", whose reporting year a cumulative figure counts in
        self._names = sorted(((fold(n), m) for m in registry.metrics for n in [m.name, *m.aliases]),
                             key=lambda x: -len(x[0]))

    def match(self, question: str, years: set[int] | None = None) -> Metric | None:
        folded = fold(question)
        if not _PROGRESS_CUES.search(folded) or _PLAN_CUES.search(folded):
            return None
        if years and self.registry.year and years != {self.registry.year}:
            return None
        words = set(re.findall(r"\w+", folded))  # "rừng?" is the word "rung"
        for name, metric in self._names:  # longest first; its words anywhere: "đã trồng được bao nhiêu rừng"
            parts = name.split()
            if len(name) >= 4 and (re.search(rf"\b{re.escape(name)}\b", folded) or (len(parts) > 1 and
                                                                                 words.issuperset(parts))):
                return metric
        return None

    def progress(self, question: str, years: set[int] | None = None) -> Progress | None:
        metric = self.match(question, years)
        if metric is None:
            return None
        progress = self.registry.current(metric, self.figures, self.clock())
        return progress if progress.updates else None
