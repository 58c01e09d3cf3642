"""Reporting periods (issue 12 item 3): calendar periods by default, a cut-off day from commune.yaml (one for every
kind, or one per kind), periods that tile the year, and /baocao's arguments read the ways officials write them."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.figures import FigureRecord
from knowledge.metrics import Registry
from knowledge.periods import COUNT, KINDS, BadPeriod, Calendar, Request, parse_request
from knowledge.reports import Header, build_report

D = dt.date


def span(calendar: Calendar, kind: str, number: int, year: int) -> tuple[dt.date, dt.date]:
    period = calendar.period(kind, number, year)
    return period.start, period.end


def test_calendar_periods_by_default():
    calendar = Calendar.from_config({})
    assert span(calendar, "quarter", 1, 2024) == (D(2024, 1, 1), D(2024, 3, 31))
    assert span(calendar, "month", 2, 2024) == (D(2024, 2, 1), D(2024, 2, 29))  # a leap year
    assert span(calendar, "half", 2, 2024) == (D(2024, 7, 1), D(2024, 12, 31))
    assert span(calendar, "year", 1, 2024) == (D(2024, 1, 1), D(2024, 12, 31))


def test_a_cut_off_day_for_every_kind():
    """Nghị định 09/2019: figures to the 14th of the period's last month, the next period from the 15th."""
    calendar = Calendar.from_config({"report_cutoff": 14})
    assert span(calendar, "quarter", 1, 2024) == (D(2023, 12, 15), D(2024, 3, 14))
    assert span(calendar, "month", 1, 2024) == (D(2023, 12, 15), D(2024, 1, 14))
    assert span(calendar, "half", 1, 2024) == (D(2023, 12, 15), D(2024, 6, 14))
    assert span(calendar, "year", 1, 2024) == (D(2023, 12, 15), D(2024, 12, 14))
    assert calendar.containing("month", D(2024, 12, 20)).number == 1  # already next year's first month
    assert calendar.containing("year", D(2024, 12, 20)).year == 2025


def test_a_cut_off_day_per_kind_and_one_past_a_short_month():
    calendar = Calendar.from_config({"report_cutoff": {"thang": 20, "quy": 15}})
    assert span(calendar, "month", 3, 2024) == (D(2024, 2, 21), D(2024, 3, 20))
    assert span(calendar, "quarter", 1, 2024) == (D(2023, 12, 16), D(2024, 3, 15))
    assert span(calendar, "year", 1, 2024) == (D(2024, 1, 1), D(2024, 12, 31))  # no cut-off given: calendar
    assert calendar.period("month", 1, 2024).year_start == D(2023, 12, 21)  # the year's figures reach back to it
    late = Calendar.from_config({"report_cutoff": 31})
    assert span(late, "month", 2, 2023) == (D(2023, 2, 1), D(2023, 2, 28))


@pytest.mark.parametrize("config", [{"report_cutoff": 0}, {"report_cutoff": 32}, {"report_cutoff": "abc"},
                                    {"report_cutoff": {"tuan": 7}}])
def test_a_cut_off_that_is_not_a_day_is_refused(config):
    with pytest.raises(ValueError):
        Calendar.from_config(config)


@given(cutoff=st.one_of(st.none(), st.integers(1, 31)), kind=st.sampled_from(KINDS), year=st.integers(2001, 2098),
       day=st.dates(D(2001, 1, 1), D(2098, 12, 31)))
def test_periods_tile_the_calendar(cutoff, kind, year, day):
    calendar = Calendar({k: cutoff for k in KINDS})
    periods = [calendar.period(kind, n, y) for y in (year, year + 1) for n in range(1, COUNT[kind] + 1)]
    for before, after in itertools.pairwise(periods):
        assert after.start == before.end + dt.timedelta(days=1)
    found = calendar.containing(kind, day)
    assert found.start <= day <= found.end


@pytest.mark.parametrize(("args", "request_"), [
    ([], Request("month")),
    (["quy"], Request("quarter")),
    (["quý", "I"], Request("quarter", 1)),
    (["Quý", "2/2024"], Request("quarter", 2, 2024)),
    (["quy", "3", "2024"], Request("quarter", 3, 2024)),
    (["tháng", "3", "năm", "2024"], Request("month", 3, 2024)),
    (["6", "tháng", "đầu", "năm"], Request("half", 1)),
    (["6thang", "cuoi"], Request("half", 2)),
    (["6thang", "2"], Request("half", 2)),
    (["nam"], Request("year")),
    (["năm", "2024"], Request("year", 1, 2024)),
    (["month", "12"], Request("month", 12)),
])
def test_the_arguments_as_officials_write_them(args, request_):
    assert parse_request(args) == request_


@pytest.mark.parametrize(("args", "key"), [
    (["quy", "7"], "report.bad_number"), (["quy", "0"], "report.bad_number"), (["thang", "13"], "report.bad_number"),
    (["abc"], "report.bad_kind"), (["2024"], "report.bad_kind"), (["nam", "24"], "report.bad_year"),
    (["quy", "1", "x"], "report.bad_year"), (["quy", "1", "2", "3"], "report.bad_number"),
    (["quy", "1/1999"], "report.bad_year"),
])
def test_what_is_not_a_period_says_why(args, key):
    with pytest.raises(BadPeriod) as err:
        parse_request(args)
    assert err.value.key == key


def test_a_figure_after_the_cut_off_counts_in_the_next_period():
    registry = Registry.load()
    calendar = Calendar.from_config({"report_cutoff": 14})

    def at(day: dt.date) -> float:
        return dt.datetime.combine(day, dt.time(10), dt.UTC).timestamp()

    logged = [FigureRecord(1, "trong_rung", 3.0, None, "ha", None, "trong rung 3", 7, "A", at(D(2024, 3, 14))),
              FigureRecord(2, "trong_rung", 5.0, None, "ha", None, "trong rung 5", 7, "A", at(D(2024, 3, 15)))]
    header = Header("xã Cao Lâu", plan_year=2024)

    def forest(number: int) -> tuple[float | None, float | None]:
        report = build_report(registry, logged, calendar.period("quarter", number, 2024), header, {})
        [line] = [line for line in report.lines if line.metric.key == "trong_rung"]
        return line.in_period, line.value

    assert forest(1) == (3.0, 3.0)
    assert forest(2) == (5.0, 8.0)  # the 15th opens the second quarter; the year adds up both
