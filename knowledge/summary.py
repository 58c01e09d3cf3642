"""The daily summary: when it is due, and what it says. No Telegram, no SQL: figures come in as rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .figures import FigureRecord
from .metrics import Metric, Progress, Registry, describe


def parse_time(text: str, default: dt.time = dt.time(7, 0)) -> dt.time:
    """"07:00" → 07:00; anything else → the default (a bad DAILY_SUMMARY_TIME must not stop the bot)."""
    try:
        hours, minutes = (int(x) for x in (text or "").strip().split(":"))
        return dt.time(hours, minutes)
    except ValueError:
        return default


def summary_due(now_local: dt.datetime, at: dt.time, sent_today: bool) -> bool:
    """Due once the local time has reached ``at`` and today's summary has not gone out: a bot that was down
    at 07:00 sends it when it comes back the same day, and never twice."""
    return not sent_today and now_local.time() >= at


@dataclass
class Behind:
    metric: Metric
    percent: float
    expected: float


@dataclass
class Summary:
    """What a day's summary holds."""

    day: dt.date
    new_figures: list[tuple[FigureRecord, Progress]] = field(default_factory=list)
    behind: list[Behind] = field(default_factory=list)
    announcements: list[str] = field(default_factory=list)


def build_summary(registry: Registry, day: dt.date, recent: list[FigureRecord],
                  figures_of: dict[str, list[FigureRecord]],
                  announcements: list[str], top: int = 3) -> Summary:
    """Figures logged in the last day (with where each metric now stands: ``Registry.current``, a cumulative
    figure over the reporting year ``day`` is in), the targets furthest behind the share of that year gone by,
    and the day's announcements."""
    summary = Summary(day=day, announcements=announcements)
    def of(key: str) -> list[FigureRecord]:
        return figures_of.get(key, [])

    year = registry.year_of(day)  # the reporting year: what adds up counts from its first day
    for row in recent:
        metric = registry.get(row.metric)
        if metric is not None:
            summary.new_figures.append((row, registry.current(metric, of, day)))
    share = 100.0 * ((day - year.start).days + 1) / ((year.end - year.start).days + 1)
    behind: list[Behind] = []
    for metric in registry.metrics:
        if metric.kind != "number" or not metric.target:
            continue
        progress = registry.current(metric, of, day)
        if progress.percent is None or progress.met:
            continue
        # a level (a herd, a rate under its ceiling) should be where the target says all year; what adds up
        # over the year should have reached the share of the year gone by
        expected = share if metric.cumulative else 100.0
        if progress.percent < expected:
            behind.append(Behind(metric, progress.percent, expected))
    behind.sort(key=lambda b: b.percent - b.expected)
    summary.behind = behind[:top]
    return summary


def figure_line(row: FigureRecord, progress: Progress) -> str:
    """"Trồng rừng mới: 12,5 ha → 25 % chỉ tiêu 50 ha (Còn Nàn)"."""
    line = describe(progress)
    return f"{line} ({row.village})" if row.village else line
