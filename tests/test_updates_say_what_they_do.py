"""Updates that say what they do (issue 12 item 2): "thêm / tăng / cộng" adds to the current value, "giảm / bớt"
takes away, a bare value sets; the preview shows before → after with the change; a big jump is asked about;
a part updates the part and the whole follows; an unknown village is asked about; a cumulative figure shows
its running total; /hoantac shows what it will undo and asks first. Through the real Application."""

from __future__ import annotations

import pytest

from . import test_officials
from .chat import buttons, texts
from .test_officials import ADMIN, OFFICIAL, OFFICIAL2, REFUSED, preview_of

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures


def values(store, metric: str) -> list[float]:
    return [f.value for f in store.figures(metric)][::-1]  # oldest first


@pytest.mark.parametrize(("typed", "line", "stored"), [
    ("đàn lợn thêm 10 con", "Sẽ lưu: <b>Đàn lợn</b>: 610 → 620 con (+10) (Toàn xã)", 620),
    ("thêm 10 con lợn", "Sẽ lưu: <b>Đàn lợn</b>: 610 → 620 con (+10) (Toàn xã)", 620),
    ("đàn lợn tăng 10", "Sẽ lưu: <b>Đàn lợn</b>: 610 → 620 con (+10) (Toàn xã)", 620),
    ("dan lon cong 10", "Sẽ lưu: <b>Đàn lợn</b>: 610 → 620 con (+10) (Toàn xã)", 620),
    ("đàn lợn giảm 20", "Sẽ lưu: <b>Đàn lợn</b>: 610 → 590 con (−20) (Toàn xã)", 590),
    ("đàn lợn bớt 20 con", "Sẽ lưu: <b>Đàn lợn</b>: 610 → 590 con (−20) (Toàn xã)", 590),
    ("đàn lợn 600", "Sẽ lưu: <b>Đàn lợn</b>: 610 → 600 con (−10) (Toàn xã)", 600),
], ids=["them", "them-first", "tang", "cong", "giam", "bot", "bare-sets"])
async def test_a_change_to_a_level_is_applied_to_its_current_value(staffed, typed, line, stored):
    await staffed.log("đàn lợn 610", OFFICIAL)
    text, message_id, token = await staffed.preview(typed, OFFICIAL)
    assert text.split("\n")[0] == line, text
    assert "Thay đổi lớn" not in text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert values(staffed.store, "dan_lon") == [610, stored]


async def test_giam_ngheo_is_the_metric_not_a_subtraction(staffed):
    text, _, _ = await staffed.preview("giảm nghèo 15%", OFFICIAL)
    assert text.startswith("Sẽ lưu: <b>Tỷ lệ hộ nghèo, cận nghèo</b> = 15 %"), text


async def test_a_change_with_nothing_logged_starts_from_the_baseline_or_asks_for_the_figure(staffed):
    text, _, _ = await staffed.preview("đàn lợn thêm 5", OFFICIAL)
    assert text.startswith("Sẽ lưu: <b>Đàn lợn</b>: 595 → 600 con (+5)"), text  # 595: the plan's 2023 herd
    pending = staffed.pending_count()
    calls = await staffed.say("/capnhat tỷ lệ chậm hạn thêm 2", OFFICIAL)  # no baseline, nothing logged
    [said] = texts(calls)
    assert "chưa có số nào để cộng hay trừ" in said and not buttons(calls) and staffed.pending_count() == pending


async def test_taking_more_than_there_is_is_refused(staffed):
    await staffed.log("đàn lợn 610", OFFICIAL)
    [said] = texts(await staffed.say("/capnhat đàn lợn giảm 700", OFFICIAL))
    assert "nhỏ hơn 0" in said and staffed.pending_count() == 1  # only the first figure's, confirmed


async def test_a_level_that_jumps_is_asked_about_again(staffed):
    await staffed.log("đàn lợn 610", OFFICIAL)
    text, _, _ = await staffed.preview("đàn lợn 6100", OFFICIAL)
    assert "Sẽ lưu: <b>Đàn lợn</b>: 610 → 6.100 con (+5.490)" in text
    assert "⚠️ Thay đổi lớn: 610 → 6.100 con. Có đúng không?" in text
    first, _, _ = await staffed.preview("đàn gia cầm 3100", OFFICIAL2)  # nothing logged: against 2023's 31.924
    assert "Thay đổi lớn: 31.924 → 3.100 con" in first, first


async def test_a_cumulative_figure_shows_its_running_total(staffed):
    await staffed.log("trồng rừng 10 ha", OFFICIAL)
    text, message_id, token = await staffed.preview("trồng rừng 5 ha", OFFICIAL2)
    assert text.split("\n") == ["Sẽ lưu: <b>Trồng rừng mới</b> thêm 5 ha (Toàn xã); lũy kế năm: 10 → 15 ha",
                                "Trồng rừng mới: 15 ha → 30 % chỉ tiêu 50 ha"]
    await staffed.press(f"ok:{token}", OFFICIAL2, message_id)
    text, message_id, token = await staffed.preview("trồng rừng bớt 2 ha", OFFICIAL)  # a correction
    assert text.startswith("Sẽ lưu: <b>Trồng rừng mới</b> bớt 2 ha (Toàn xã); lũy kế năm: 15 → 13 ha"), text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert values(staffed.store, "trong_rung") == [10, 5, -2]


async def test_a_part_updates_the_part_and_the_whole_follows(staffed):
    text, message_id, token = await staffed.preview("trâu 150", OFFICIAL)
    lines = text.split("\n")
    assert lines[0] == "Sẽ lưu: <b>Đàn trâu</b> = 150 con (Toàn xã)", text
    assert "Đàn gia súc (trâu, bò, ngựa, dê): 569 con (cộng từ các thành phần) → 95 % chỉ tiêu 600 con" in lines
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert [(f.metric, f.value) for f in staffed.store.figures()] == [("dan_trau", 150)]  # the herd kept
    text, _, _ = await staffed.preview("trâu thêm 10", OFFICIAL)
    assert text.startswith("Sẽ lưu: <b>Đàn trâu</b>: 150 → 160 con (+10)") and "579 con" in text, text


async def test_an_unknown_village_is_asked_about_never_the_whole_commune(staffed):
    calls = await staffed.say("/capnhat xi mang gtnt Bản Von 5 tấn", OFFICIAL)
    [question] = texts(calls)
    assert question == "Xã không có thôn «Bản Von». Ý bạn là thôn nào?"
    offered = buttons(calls)
    assert offered[0] == ("Bản Đon", "cl:Bản Đon") and offered[-1] == ("Toàn xã", "cl:") and len(offered) == 4
    assert staffed.pending_count() == 0
    text, message_id, token = preview_of(await staffed.press("cl:Bản Đon", OFFICIAL))
    assert "thêm 5 tấn (Bản Đon)" in text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    [row] = staffed.store.figures()
    assert (row.metric, row.value, row.village) == ("xi_mang_gtnt", 5, "Bản Đon")


async def test_an_unknown_village_typed_in_lower_case_is_asked_about_too(staffed):
    calls = await staffed.say("/capnhat xi mang gtnt ban von 5 tan", OFFICIAL)
    assert "«ban von»" in texts(calls)[0] and ("Bản Đon", "cl:Bản Đon") in buttons(calls)


async def test_undo_shows_what_it_will_undo_and_asks_first(staffed):
    await staffed.log("đàn lợn 610", OFFICIAL, name="Nguyễn Văn A")
    calls = await staffed.say("/hoantac", OFFICIAL)
    [question] = texts(calls)
    [figure] = staffed.store.figures()
    assert question.startswith("Sẽ hoàn tác: Đàn lợn 610 con (do Nguyễn Văn A ghi lúc ") and "chắc" in question
    assert buttons(calls) == [("↩️ Hoàn tác", f"uo:{figure.id}"), ("✖️ Giữ nguyên", f"ux:{figure.id}")]
    assert staffed.store.figures(include_undone=False) != []  # nothing undone by asking
    assert texts(await staffed.press(f"ux:{figure.id}", OFFICIAL)) == ["Đã giữ nguyên, không hoàn tác gì."]
    assert staffed.store.figures()[0].undone_at is None
    other = await staffed.press(f"uo:{figure.id}", OFFICIAL2)
    assert "của cán bộ khác" in texts(other)[0] and staffed.store.figures()[0].undone_at is None
    assert REFUSED in texts(await staffed.press(f"uo:{figure.id}", 4004))[0]
    [done] = texts(await staffed.press(f"uo:{figure.id}", OFFICIAL))
    assert done.startswith("Đã hoàn tác: Đàn lợn 610 con")
    assert texts(await staffed.press(f"uo:{figure.id}", OFFICIAL)) == ["Số liệu này đã được hoàn tác trước đó."]
    assert [r["action"] for r in staffed.store.audit_log()].count("undo") == 1


async def test_an_admins_undo_names_whose_figure_it_is(staffed):
    await staffed.log("đàn lợn 610", OFFICIAL2, name="Hoàng Thị C")
    [question] = texts(await staffed.say("/hoantac", ADMIN))
    assert "do Hoàng Thị C ghi lúc" in question
