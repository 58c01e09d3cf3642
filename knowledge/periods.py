"""Reporting periods: a month, a quarter, six months, a year, each ending on the commune's cut-off day.

Communes report on a rhythm the district sets. Many count a period's figures to a cut-off day of its last
month (Nghị định 09/2019/NĐ-CP: to the 14th, the next period starting on the 15th; some districts use the
15th or the 20th); others use calendar periods. ``commune.yaml``'s ``report_cutoff`` says which: empty for
calendar periods, one day for every kind, or a day per kind (``thang``, ``quy``, ``6thang``, ``nam``). A
period always starts the day after the one before it ends, so periods never overlap nor leave a gap.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .i18n import t
from .text import fold

KINDS = ("month", "quarter", "half", "year")
SPAN = {"month": 1, "quarter": 3, "half": 6, "year": 12}  # months in one period
COUNT = {kind: 12 // span for kind, span in SPAN.items()}  # periods in a year
# What an official types for each kind (folded: "tháng", "Quý" and "6 tháng" all read), and the config's keys.
WORDS = {"thang": "month", "month": "month", "quy": "quarter", "quarter": "quarter", "6thang": "half",
         "6t": "half", "nuanam": "half", "half": "half", "nam": "year", "year": "year"}
CONFIG_KEYS = {"thang": "month", "quy": "quarter", "6thang": "half", "nam": "year",
               **{kind: kind for kind in KINDS}}
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
HALVES = {"dau": 1, "cuoi": 2}  # "6 tháng đầu năm", "6 tháng cuối năm"
DEFAULT_TZ = "Asia/Ho_Chi_Minh"


class BadPeriod(ValueError):
    """What an official asked for is not a period: ``key`` is the locale key saying why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Request:
    """A period as asked: its kind, and its number and year when given (else: the one running today)."""

    kind: str
    number: int | None = None
    year: int | None = None


@dataclass(frozen=True)
class Period:
    """One reporting period: ``start`` and ``end`` are its first and last days (both counted), ``year_start``
    the first day of the reporting year it belongs to (a cumulative figure adds up from there)."""

    kind: str
    number: int
    year: int
    start: dt.date
    end: dt.date
    year_start: dt.date
    tz: str = DEFAULT_TZ

    def bounds(self) -> tuple[float, float]:
        """The period as timestamps: from its first day's midnight (counted) to the midnight after its last."""
        return _midnight(self.start, self.tz), _midnight(self.end + dt.timedelta(days=1), self.tz)

    def year_bounds(self) -> tuple[float, float]:
        """From the reporting year's first day to the end of this period."""
        return _midnight(self.year_start, self.tz), self.bounds()[1]

    def name(self, lang: str = "vi") -> str:
        """"quý I năm 2024", "6 tháng đầu năm 2024", "tháng 3 năm 2024", "năm 2024"."""
        numeral = {"quarter": ["I", "II", "III", "IV"][self.number - 1] if self.kind == "quarter" else ""}
        return t(f"period.{self.kind}" + (f"_{self.number}" if self.kind == "half" else ""), lang,
                 number=self.number, roman=numeral["quarter"], year=self.year)

    @property
    def slug(self) -> str:
        """For a file name: "quy-1-2024", "thang-03-2024", "6thang-1-2024", "nam-2024"."""
        word = {"month": "thang", "quarter": "quy", "half": "6thang", "year": "nam"}[self.kind]
        number = f"{self.number:02d}" if self.kind == "month" else str(self.number)
        return f"{word}-{self.year}" if self.kind == "year" else f"{word}-{number}-{self.year}"


def _midnight(day: dt.date, tz: str) -> float:
    return dt.datetime.combine(day, dt.time(), ZoneInfo(tz)).timestamp()


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


class Calendar:
    """The commune's reporting periods: a cut-off day per kind (None: the calendar's own periods)."""

    def __init__(self, cutoffs: Mapping[str, int | None] | None = None, tz: str = DEFAULT_TZ) -> None:
        self.cutoffs = {kind: (cutoffs or {}).get(kind) for kind in KINDS}
        self.tz = tz

    @classmethod
    def from_config(cls, commune: Mapping[str, object] | None) -> Calendar:
        """From commune.yaml: ``report_cutoff: 14`` (every kind), or ``report_cutoff: {thang: 20, quy: 14}``;
        absent or empty: calendar periods. A day outside 1–31 is a configuration mistake, said at start-up."""
        commune = commune or {}
        raw = commune.get("report_cutoff")
        tz = str(commune.get("timezone") or DEFAULT_TZ)
        if raw in (None, "", {}):
            return cls({}, tz)
        if isinstance(raw, Mapping):
            cutoffs: dict[str, int | None] = {}
            for key, value in raw.items():
                kind = CONFIG_KEYS.get(str(key))
                if kind is None:
                    raise ValueError(f"report_cutoff: unknown period {key!r} (thang, quy, 6thang, nam)")
                cutoffs[kind] = _day(value)
            return cls(cutoffs, tz)
        day = _day(raw)
        return cls(dict.fromkeys(KINDS, day), tz)

    @classmethod
    def lenient(cls, commune: Mapping[str, object] | None) -> Calendar:
        """As ``from_config``, but a mistaken ``report_cutoff`` falls back to calendar periods (the progress
        figures must go on; /baocao says what is wrong with the file)."""
        try:
            return cls.from_config(commune)
        except (ValueError, TypeError):
            return cls({}, str((commune or {}).get("timezone") or DEFAULT_TZ))

    def period(self, kind: str, number: int, year: int) -> Period:
        span = SPAN[kind]
        last_month = number * span
        first_month = last_month - span + 1
        cutoff = self.cutoffs.get(kind)
        if cutoff is None:
            start = dt.date(year, first_month, 1)
            end = dt.date(year, last_month, _last_day(year, last_month))
        else:
            end = dt.date(year, last_month, min(cutoff, _last_day(year, last_month)))
            before_y, before_m = (year, first_month - 1) if first_month > 1 else (year - 1, 12)
            start = dt.date(before_y, before_m, min(cutoff, _last_day(before_y, before_m))) + dt.timedelta(days=1)
        year_start = start if kind == "year" else self.period("year", 1, year).start
        return Period(kind, number, year, start, end, min(year_start, start), self.tz)

    def containing(self, kind: str, day: dt.date) -> Period:
        """The period of ``kind`` that ``day`` falls in (with a cut-off, 20 December may be next year's)."""
        for year in (day.year, day.year + 1):
            for number in range(1, COUNT[kind] + 1):
                period = self.period(kind, number, year)
                if period.start <= day <= period.end:
                    return period
        raise AssertionError(f"no {kind} holds {day}")  # periods tile the calendar

    def resolve(self, request: Request, today: dt.date) -> Period:
        """The period asked for: its number in the year asked (else this year), or the one running today."""
        if request.number is None and request.year is None:
            return self.containing(request.kind, today)
        if request.kind == "year":
            return self.period("year", 1, request.year or today.year)
        assert request.number is not None
        return self.period(request.kind, request.number, request.year or today.year)


def _day(value: object) -> int | None:
    if value in (None, ""):
        return None
    day = int(str(value))
    if not 1 <= day <= 31:
        raise ValueError(f"report_cutoff: {value!r} is not a day of the month (1–31)")
    return day


_NUMBER_YEAR = re.compile(r"^(\d{1,2})(?:[/-](\d{4}))?$")


def parse_request(args: list[str]) -> Request:
    """/baocao's arguments: ``[thang|quy|6thang|nam] [kỳ]``, kỳ a number ("1", "I", "3/2024", "1 2024"), a year
    for nam, "đầu"/"cuối" for six months. Nothing: this month. Anything else: BadPeriod with the reason."""
    words = fold(" ".join(args)).replace("nua nam", "nuanam").split()
    words = [w for w in words if w not in ("nam",)] if len(words) > 1 and words[0] != "nam" else words
    if words[:2] == ["6", "thang"]:
        words = ["6thang", *words[2:]]
    if not words:
        return Request("month")
    kind = WORDS.get(words[0])
    if kind is None:
        raise BadPeriod("report.bad_kind", given=" ".join(args))
    rest = words[1:]
    if kind == "year":
        if not rest:
            return Request("year")
        if len(rest) == 1 and re.fullmatch(r"\d{4}", rest[0]):
            return Request("year", 1, _year(rest[0]))
        raise BadPeriod("report.bad_year", given=" ".join(rest))
    if not rest:
        return Request(kind)
    if len(rest) > 2:
        raise BadPeriod("report.bad_number", given=" ".join(rest), count=COUNT[kind])
    first = rest[0]
    number: int | None = None
    year: int | None = None
    if kind == "quarter" and first in ROMAN:
        number = ROMAN[first]
    elif kind == "half" and first in HALVES:
        number = HALVES[first]
    elif match := _NUMBER_YEAR.match(first):
        number = int(match.group(1))
        year = _year(match.group(2)) if match.group(2) else None
    if number is None or not 1 <= number <= COUNT[kind]:
        raise BadPeriod("report.bad_number", given=first, count=COUNT[kind])
    if len(rest) == 2:
        if year is not None or not re.fullmatch(r"\d{4}", rest[1]):
            raise BadPeriod("report.bad_year", given=rest[1])
        year = _year(rest[1])
    return Request(kind, number, year)


def _year(text: str) -> int:
    year = int(text)
    if not 2000 <= year <= 2100:
        raise BadPeriod("report.bad_year", given=text)
    return year
