"""Officials' figures that mean what they say (issue 12): a cumulative figure counts in the reporting year it
falls in, and a level is its latest figure by the day it is OF, not by when it was written. Through the real
Application on a real SQLite file, with the store's and the bot's clocks turned to a scripted day; /tiendo, the
live answer, the daily summary and /baocao read one rule (Registry.standing)."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.figures import FigureRecord
from knowledge.metrics import Registry
from knowledge.periods import Calendar
from knowledge.summary import build_summary

from . import test_officials
from .chat import texts
from .test_imports import preview, send_file, workbook
from .test_officials import CITIZEN, OFFICIAL
from .test_reports import TZ, Clock

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures
LIVE = "đã trồng được bao nhiêu rừng?"


@pytest.fixture
async def clocked(staffed):
    """The staffed desk on a scripted clock: the store stamps figures with it, the bot reads "now" from it."""
    clock = Clock()
    staffed.store.clock = clock.timestamp
    staffed.services.clock = clock.utc
    staffed.clock = clock
    return staffed


def line_of(text: str, name: str) -> str:
    [line] = [line for line in text.split("\n") if line.startswith(f"• {name}:")]
    return line


async def test_last_decembers_planting_does_not_count_in_this_years_progress(clocked):
    clocked.clock.at("2023-12-20")
    await clocked.log("trong rung 4 ha", OFFICIAL)
    clocked.clock.at("2024-01-10")
    text = texts(await clocked.say("/tiendo", CITIZEN))[0]
    assert "Trồng rừng mới" not in text, text  # 2023's 4 ha are not 2024's
    assert "Năm báo cáo 2024" in text and "tính từ 01/01/2024 đến 10/01/2024" in text, text
    [live] = texts(await clocked.say(LIVE, CITIZEN))
    assert "4 ha →" not in live and "cán bộ xã cập nhật" not in live, live  # no figure this year: the plan says
    await clocked.log("trong rung 10 ha", OFFICIAL)
    text = texts(await clocked.say("/tiendo", CITIZEN))[0]
    assert line_of(text, "Trồng rừng mới") == "• Trồng rừng mới: 10 / 50 ha — 20 %", text
    [live] = texts(await clocked.say(LIVE, CITIZEN))
    assert "Trồng rừng mới: 10 ha → 20 % chỉ tiêu 50 ha" in live, live


async def test_a_level_carries_over_into_the_new_year(clocked):
    clocked.clock.at("2023-12-20")
    await clocked.log("dan lon 590", OFFICIAL)
    clocked.clock.at("2024-01-10")
    text = texts(await clocked.say("/tiendo", CITIZEN))[0]
    assert line_of(text, "Đàn lợn").startswith("• Đàn lợn: 590 /"), text  # a herd does not start again at zero


def test_a_cut_off_on_the_14th_puts_late_december_in_next_years_total():
    registry = Registry.load()
    registry.calendar = Calendar.from_config({"report_cutoff": 14})
    year = registry.year_of(dt.datetime(2023, 12, 20, 9, tzinfo=TZ))
    assert (year.year, year.start, year.end) == (2024, dt.date(2023, 12, 15), dt.date(2024, 12, 14))
    planted = [figure("trong_rung", 4, "2023-12-10", 1), figure("trong_rung", 3, "2023-12-16", 2)]
    progress = registry.current(registry.get("trong_rung"), lambda key: planted if key == "trong_rung" else [],
                                dt.datetime(2024, 1, 5, 9, tzinfo=TZ))
    assert progress.value == 3  # 16 December is 2024's reporting year, 10 December is not


def figure(metric: str, value: float, day: str, n: int, as_of: str | None = None) -> FigureRecord:
    at = dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=TZ).timestamp()
    return FigureRecord(id=n, metric=metric, value=value, status=None, unit=None, village=None, raw=None,
                        user_id=1, user_name=None, created_at=at, as_of=as_of)


def test_the_summary_counts_only_this_years_additions():
    registry = Registry.load()
    log = {"trong_rung": [figure("trong_rung", 40, "2023-12-20", 1), figure("trong_rung", 1, "2024-03-01", 2)]}
    summary = build_summary(registry, dt.date(2024, 3, 5), [log["trong_rung"][1]], log, [])
    [(_, progress)] = summary.new_figures
    assert progress.value == 1  # not 41: December's 40 ha were last year's
    assert "trong_rung" in {b.metric.key for b in summary.behind}  # 2 % of the target by March is behind


def test_a_level_is_its_latest_figure_by_the_day_it_is_of_then_by_write_order():
    registry = Registry.load()
    herd = registry.get("dan_lon")
    log = [figure("dan_lon", 610, "2024-03-05", 1),  # logged on the 5th
           figure("dan_lon", 600, "2024-03-06", 2, as_of="2024-03-01"),  # imported on the 6th, of the 1st
           figure("dan_lon", 605, "2024-03-06", 3, as_of="2024-03-05"),  # of the 5th too: written later
           ]
    assert registry.current(herd, lambda key: log[:2] if key == "dan_lon" else []).value == 610
    assert registry.current(herd, lambda key: log if key == "dan_lon" else []).value == 605


async def test_an_imported_older_level_is_history_and_does_not_change_progress(clocked):
    clocked.clock.at("2024-03-05")
    await clocked.log("dan lon 610", OFFICIAL)
    clocked.clock.at("2024-03-06")
    text, confirm, message_id = preview(await send_file(clocked, workbook([["Đàn lợn", 600, "con", None,
                                                                           "01/03/2024"]])))
    assert "Dòng 2: ngày cũ hơn số đã ghi" in text and "không thay đổi số hiện tại" in text, text
    assert "Đàn lợn: 610 con" in text and "Đàn lợn: 600 con" not in text, text  # the outlook keeps 610
    [saved] = texts(await clocked.press(confirm, OFFICIAL, message_id))
    assert saved.startswith("Đã lưu 1"), saved
    [progress, *_] = texts(await clocked.say("/tiendo", CITIZEN))
    assert line_of(progress, "Đàn lợn").startswith("• Đàn lợn: 610 /"), progress
    # A newer imported row does change it, and the history keeps both.
    text, confirm, message_id = preview(await send_file(clocked, workbook([["Đàn lợn", 620, "con", None,
                                                                           "06/03/2024"]]), name="moi.xlsx"))
    assert "ngày cũ hơn" not in text, text
    await clocked.press(confirm, OFFICIAL, message_id)
    [progress, *_] = texts(await clocked.say("/tiendo", CITIZEN))
    assert line_of(progress, "Đàn lợn").startswith("• Đàn lợn: 620 /"), progress
    assert sorted(f.value for f in clocked.store.figures("dan_lon", include_undone=False)) == [600, 610, 620]
