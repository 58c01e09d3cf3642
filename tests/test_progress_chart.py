"""Charts a person can read (issue 12 item 6): whole labels, the figure and unit on each bar, over 100 % drawn as
it is, the commune and the date in the title, ceilings drawn as such, and a sentence when there is nothing."""

from __future__ import annotations

import time

from handlers.official import TZ
from knowledge.charts import chart_bars, progress_chart
from knowledge.figures import FigureRecord
from knowledge.metrics import Registry

from . import test_officials
from .chat import texts
from .test_officials import CITIZEN, OFFICIAL, PNG, uploads

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures
REGISTRY = Registry.load()


def progress_of(key: str, value: float):
    record = FigureRecord(1, key, value, None, None, None, None, 1, None, time.time())
    return REGISTRY.progress(REGISTRY.get(key), [record])


def test_a_bar_keeps_its_whole_label_and_says_its_figure_with_its_unit():
    [bar] = chart_bars([progress_of("thi_hanh_qd_khieu_nai", 95)])
    name = REGISTRY.get("thi_hanh_qd_khieu_nai").name
    assert bar.label.replace("\n", " ") == name and "\n" in bar.label  # wrapped at spaces, never cut
    assert bar.figure == "95 % / 90 %"
    [forest] = chart_bars([progress_of("trong_rung", 12.5)])
    assert forest.figure == "12,5 ha / 50 ha" and forest.percent == 25


def test_over_a_hundred_percent_is_drawn_as_it_is():
    [bar] = chart_bars([progress_of("tuyen_quan", 250)])
    assert bar.percent == 250 and bar.met
    assert progress_chart([bar], "t").startswith(PNG)


def test_a_ceiling_is_drawn_as_a_ceiling():
    [bar] = chart_bars([progress_of("ho_ngheo_can_ngheo", 15)])
    assert "càng thấp càng tốt" in bar.label and bar.figure == "15 % / trần 11,47 %" and not bar.met


async def test_nothing_to_draw_is_a_sentence_not_silence(staffed):
    calls = await staffed.say("/tiendo", CITIZEN)
    said = texts(calls)
    assert len(said) == 2 and "Chưa có chỉ tiêu nào có số liệu để vẽ biểu đồ" in said[1]
    assert not [c for c in calls if c["method"] == "sendPhoto"]


async def test_the_chart_names_the_commune_and_the_date(staffed):
    await staffed.log("trong rung 12,5 ha", OFFICIAL)
    calls = await staffed.say("/tiendo", CITIZEN)
    [photo] = [c for c in calls if c["method"] == "sendPhoto"]
    caption = photo["caption"]
    today = staffed.services.clock().astimezone(TZ).strftime("%d/%m/%Y")
    assert caption == f"Tiến độ chỉ tiêu năm 2024 — xã Cao Lâu, đến ngày {today}", caption
    [png] = uploads([photo]).values()
    assert png.startswith(PNG)
