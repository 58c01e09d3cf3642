"""What a metric means (issue 12 item 1): its direction (a floor or a ceiling), level or cumulative, its
parts. Progress, the preview, the chart's colours and the summary's "behind schedule" list follow from it."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from knowledge.charts import bar_colour
from knowledge.figures import FigureRecord
from knowledge.metrics import Registry, describe
from knowledge.summary import build_summary

from . import test_officials
from .chat import texts
from .test_officials import OFFICIAL, preview_of

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures
REGISTRY = Registry.load()
GREEN = "#2e7d32"


def figure(metric: str, value: float, at: float | None = None, village: str | None = None,
           n: int = 1) -> FigureRecord:
    return FigureRecord(id=n, metric=metric, value=value, status=None, unit=None, village=village, raw=None,
                        user_id=1, user_name=None, created_at=time.time() if at is None else at)


def test_every_metric_says_its_direction_its_kind_of_figure_and_its_parts():
    for m in REGISTRY.metrics:
        assert m.direction in ("up", "down") and m.mode in ("total", "add"), m.key
        for key in m.parts:
            part = REGISTRY.get(key)
            assert part is not None and part.part_of == m.key and part.unit == m.unit, (m.key, key)
        if m.part_of:
            assert m.key in REGISTRY.get(m.part_of).parts
    herd = REGISTRY.get("dan_gia_suc")
    assert [REGISTRY.get(k).name for k in herd.parts] == ["Đàn trâu", "Đàn bò", "Đàn ngựa", "Đàn dê"]
    assert sum(REGISTRY.get(k).baseline for k in herd.parts) == herd.baseline  # 140 + 66 + 11 + 342
    assert REGISTRY.get("ho_ngheo_can_ngheo").lower_is_better and REGISTRY.get("trong_rung").cumulative


def test_a_poverty_rate_above_its_ceiling_is_not_131_percent_of_the_target():
    metric = REGISTRY.get("ho_ngheo_can_ngheo")
    progress = REGISTRY.progress(metric, [figure(metric.key, 15)])
    assert progress.met is False
    # the share of the planned reduction made: (22,31 − 15) / (22,31 − 11,47)
    assert progress.percent == pytest.approx(100 * 7.31 / 10.84)
    text = describe(progress)
    assert "131" not in text and "chưa đạt, trên mức trần 11,47 %" in text and "mới giảm được 67 %" in text
    assert bar_colour(progress.percent, bool(progress.met)) != GREEN


def test_a_rate_below_its_ceiling_is_on_track():
    metric = REGISTRY.get("don_thu_cham_han")  # "dưới 15%", no baseline
    progress = REGISTRY.progress(metric, [figure(metric.key, 10)])
    assert progress.met is True and progress.percent == pytest.approx(150)
    assert "đạt, không vượt mức trần 15 %" in describe(progress)
    assert bar_colour(progress.percent, True) == GREEN
    poverty = REGISTRY.get("ho_ngheo_can_ngheo")
    reached = REGISTRY.progress(poverty, [figure(poverty.key, 11)])
    assert reached.met is True and reached.percent > 100 and bar_colour(reached.percent, True) == GREEN


def test_the_summary_lists_a_ceiling_target_that_is_behind_and_not_one_that_is_met():
    day = dt.date(2024, 6, 30)
    figures_of = {"ho_ngheo_can_ngheo": [figure("ho_ngheo_can_ngheo", 15)],
                  "don_thu_cham_han": [figure("don_thu_cham_han", 10)],
                  "gia_dinh_van_hoa": [figure("gia_dinh_van_hoa", 84)]}
    summary = build_summary(REGISTRY, day, [], figures_of, [], top=10)
    behind = {b.metric.key: b for b in summary.behind}
    assert set(behind) == {"ho_ngheo_can_ngheo", "gia_dinh_van_hoa"}
    assert behind["ho_ngheo_can_ngheo"].percent == pytest.approx(100 * 7.31 / 10.84)


def test_a_cumulative_figure_is_behind_only_against_the_share_of_the_year_gone_by():
    figures_of = {"trong_rung": [figure("trong_rung", 20)]}  # 40 % of 50 ha
    early = build_summary(REGISTRY, dt.date(2024, 3, 1), [], figures_of, [], top=10)
    late = build_summary(REGISTRY, dt.date(2024, 10, 1), [], figures_of, [], top=10)
    assert "trong_rung" not in {b.metric.key for b in early.behind}
    assert "trong_rung" in {b.metric.key for b in late.behind}


def test_a_part_is_its_own_metric_and_the_whole_is_recomputed_from_the_parts():
    assert [m.key for m in REGISTRY.find("trâu")] == ["dan_trau"]
    assert {m.key for m in REGISTRY.find("dan")} == {"dan_lon", "dan_gia_suc", "dan_gia_cam"}  # not each species
    herd = REGISTRY.get("dan_gia_suc")
    before = time.time() - 100
    logged = [figure("dan_trau", 150, n=2), figure("dan_gia_suc", 600, at=before)]
    progress = REGISTRY.progress(herd, logged)
    assert progress.value == 150 + 66 + 11 + 342 and progress.from_parts
    assert "cộng từ các thành phần" in describe(progress)
    newer_whole = [figure("dan_gia_suc", 600, n=3), figure("dan_trau", 150, at=before)]
    assert REGISTRY.progress(herd, newer_whole).value == 600  # the whole logged after the part stands


async def test_the_preview_of_a_poverty_rate_says_it_misses_its_ceiling(staffed):
    text, _, _ = await staffed.preview("ho ngheo 15%", OFFICIAL)
    assert "131 % chỉ tiêu" not in text and "chưa đạt, trên mức trần 11,47 %" in text, text


async def test_progress_of_the_herd_follows_a_logged_part(staffed):
    await staffed.log("trâu 150", OFFICIAL)
    [row] = staffed.store.figures()
    assert row.metric == "dan_trau"  # the part, not the whole herd
    [text] = texts(await staffed.say("/tiendo", OFFICIAL))
    assert "• Đàn gia súc (trâu, bò, ngựa, dê): 569 / 600 con — 95 % (cộng từ các thành phần)\n  – Đàn trâu: 150 con" \
        in text, text  # the part's own figure under its whole


async def test_a_logged_part_confirms_with_the_part(staffed):
    text, _, _ = preview_of(await staffed.say("/capnhat bò 70", OFFICIAL))
    assert "<b>Đàn bò</b>" in text


def test_the_store_returns_one_typed_frozen_figure_record(tmp_path):
    """Issue 12 item 8: a figure is one dataclass, from every query that returns figures, not a dict by key."""
    import dataclasses

    from knowledge.store import Store

    store = Store(tmp_path / "f.db")
    store.open_pending("t1", 7, {"metric": "dan_lon", "value": 610, "status": None, "unit": "con", "village": None,
                                 "raw": "dan lon 610"})
    figure_id, _ = store.confirm_figure("t1", "A")
    found = [store.figure(figure_id), store.figure_by_request("t1"), *store.figures(), *store.figures("dan_lon"),
             *store.figures_since(0), store.last_figure(7)]
    assert all(isinstance(f, FigureRecord) for f in found) and len({f.id for f in found}) == 1
    record = found[0]
    assert (record.metric, record.value, record.unit, record.user_id, record.user_name, record.live) == (
        "dan_lon", 610, "con", 7, "A", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.value = 1  # type: ignore[misc]
    undone = store.undo_figure(figure_id, 7)
    assert isinstance(undone, FigureRecord) and not undone.live and undone.undone_by == 7
    store.close()


def test_authorisation_lives_in_one_module_the_handlers_import():
    """Issue 12 item 8: role and allowed are handlers.auth's; the handlers that guard import them from there."""
    from pathlib import Path

    import handlers.auth as auth
    import handlers.broadcast as broadcast
    import handlers.official as official
    import handlers.teaching as teaching

    for module in (official, broadcast, teaching):
        assert module.allowed is auth.allowed, module.__name__
    assert official.role is auth.role and broadcast.may_press is auth.may_press
    source = Path(official.__file__).read_text(encoding="utf-8")
    assert "def allowed(" not in source and "def role(" not in source
