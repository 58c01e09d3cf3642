"""Nobody let in (issue 13, items 1-4): a command inside a forwarded message, someone else's cancel button, a
role removed in the middle of a flow, forged callback data. Each runs through the real Application (the
in-process Bot API of handlers.localapi, a fresh database per test) and checks the database afterwards:
a stranger's attempt leaves every table as it was, except the audit log's record of the refusal."""

from __future__ import annotations

import pytest

from handlers.localapi import message_update

from . import test_officials
from .chat import buttons, texts
from .test_officials import ADMIN, CITIZEN, OFFICIAL, OFFICIAL2, REFUSED, Desk

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures

STRANGER = 903
TABLES = ("users", "figures", "pending", "curated", "broadcasts", "deliveries", "subscriptions", "feedback",
          "unanswered")


def snapshot(d: Desk) -> dict[str, list[tuple]]:
    """Every row of the tables a person's action can change (the audit log apart)."""
    return {t: d.store.db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}


def refusals_only(d: Desk, since: int = 0) -> bool:
    return all(not r["allowed"] for r in d.store.audit_log() if r["id"] > since)


def last_audit_id(d: Desk) -> int:
    rows = d.store.audit_log(limit=1)
    return rows[0]["id"] if rows else 0


def forwarded(d: Desk, text: str, by: int, author: int = STRANGER) -> dict:
    """What Telegram sends when ``by`` forwards ``author``'s message holding ``text`` to the bot."""
    update = message_update(d.api, text, by)
    update["message"]["forward_origin"] = {"type": "user", "date": 1_699_999_000,
                                           "sender_user": {"id": author, "is_bot": False, "first_name": "Kẻ"}}
    return update


# -- 1. a forwarded message is never the forwarder's command ------------------------------------------

@pytest.mark.parametrize("command", [f"/canbo them {STRANGER} Kẻ Gian", f"/canbo xoa {OFFICIAL}", "/hoantac",
                                     "/xoahoidap 1", "/capnhat trong rung 5 ha", "/thongbao Họp khẩn"],
                         ids=["canbo-them", "canbo-xoa", "hoantac", "xoahoidap", "capnhat", "thongbao"])
async def test_a_command_inside_a_forwarded_message_is_not_run(staffed, command):
    await staffed.log("trong rung 10 ha", OFFICIAL)
    staffed.store.add_curated(["Giờ làm việc của xã?"], "Từ 7 giờ.", None, OFFICIAL)
    before, mark = snapshot(staffed), last_audit_id(staffed)
    for by in (ADMIN, OFFICIAL):
        calls = await staffed.process(forwarded(staffed, command, by))
        [text] = texts(calls)
        assert "chuyển tiếp" in text
        assert not [c for c in calls if c["method"] in ("setMyCommands", "deleteMyCommands")]
    assert snapshot(staffed) == before and last_audit_id(staffed) == mark
    assert staffed.store.role_of(STRANGER) is None and staffed.store.role_of(OFFICIAL) == "official"


async def test_replying_to_a_forward_with_ones_own_command_still_adds_its_author(desk):
    message = forwarded(desk, "Tôi là cán bộ văn hóa", ADMIN)["message"]
    [text] = texts(await desk.say("/canbo them", ADMIN, reply_to=message))
    assert text.startswith(f"Đã thêm cán bộ {STRANGER}") and desk.store.role_of(STRANGER) == "official"


async def test_a_forwarded_question_is_still_answered(desk):
    [text] = texts(await desk.process(forwarded(desk, "Số hộ nghèo năm 2023 là bao nhiêu?", CITIZEN)))
    assert "81" in text


# -- 2. every button checks who presses it ---------------------------------------------------------------

def announcement_token(calls: list[dict]) -> str:
    [token] = [d.removeprefix("an:") for _, d in buttons(calls) if d.startswith("an:")]
    return token


@pytest.mark.parametrize("presser", [OFFICIAL2, CITIZEN], ids=["another-official", "stranger"])
async def test_only_the_author_or_an_admin_cancels_a_preview(staffed, presser):
    _, message_id, token = await staffed.preview("trong rung 3 ha", OFFICIAL)
    before, mark = snapshot(staffed), last_audit_id(staffed)
    [text] = texts(await staffed.press(f"no:{token}", presser, message_id))
    assert "Đã hủy" not in text and staffed.store.pending(token)[2] == "open"
    assert snapshot(staffed) == before and refusals_only(staffed, mark)
    assert "Đã lưu." in texts(await staffed.press(f"ok:{token}", OFFICIAL, message_id))[0]  # still the author's
    _, message_id, token = await staffed.preview("trong rung 4 ha", OFFICIAL)
    assert texts(await staffed.press(f"no:{token}", ADMIN, message_id)) == ["Đã hủy, không lưu gì."]


@pytest.mark.parametrize("presser", [OFFICIAL2, CITIZEN], ids=["another-official", "stranger"])
async def test_only_the_author_or_an_admin_cancels_or_sends_an_announcement(staffed, presser):
    token = announcement_token(await staffed.say("/thongbao Họp dân lúc 8 giờ", OFFICIAL))
    before, mark = snapshot(staffed), last_audit_id(staffed)
    for data in (f"ax:{token}", f"an:{token}"):
        [text] = texts(await staffed.press(data, presser))
        assert "Đã hủy" not in text and "Đang gửi" not in text
    assert snapshot(staffed) == before and refusals_only(staffed, mark)
    assert texts(await staffed.press(f"ax:{token}", ADMIN)) == ["Đã hủy, không lưu gì."]


# -- 3. a role removed in the middle of a flow ----------------------------------------------------------------

async def test_a_teaching_begun_before_removal_saves_nothing(staffed):
    await staffed.say("/themhoidap", OFFICIAL)
    await staffed.say("Giờ làm việc của xã?", OFFICIAL)
    await staffed.say("/canbo xoa " + str(OFFICIAL), ADMIN)
    before, mark = snapshot(staffed), last_audit_id(staffed)
    calls = await staffed.say("Từ 7 giờ sáng.", OFFICIAL)
    await staffed.press("tp:-", OFFICIAL)
    assert staffed.store.curated() == [] and snapshot(staffed)["curated"] == before["curated"]
    assert any(REFUSED in t for t in texts(calls)) and refusals_only(staffed, mark)


async def test_a_teaching_whose_last_step_comes_after_removal_saves_nothing(staffed):
    await staffed.say("/themhoidap", OFFICIAL)
    await staffed.say("Giờ làm việc của xã?", OFFICIAL)
    await staffed.say("Từ 7 giờ sáng.", OFFICIAL)
    await staffed.say("/canbo xoa " + str(OFFICIAL), ADMIN)
    before, mark = snapshot(staffed), last_audit_id(staffed)
    [text] = texts(await staffed.press("tp:-", OFFICIAL))
    assert REFUSED in text and staffed.store.curated() == []
    assert snapshot(staffed) == before and refusals_only(staffed, mark)


async def test_a_removed_officials_announcement_is_sent_by_nobody(staffed):
    token = announcement_token(await staffed.say("/thongbao Họp dân lúc 8 giờ", OFFICIAL))
    await staffed.say("/canbo xoa " + str(OFFICIAL), ADMIN)
    before, mark = snapshot(staffed), last_audit_id(staffed)
    for presser in (OFFICIAL2, ADMIN, OFFICIAL):
        [text] = texts(await staffed.press(f"an:{token}", presser))
        assert "Đang gửi" not in text, presser
    assert snapshot(staffed) == before and refusals_only(staffed, mark)
    assert "không còn là cán bộ" in texts(await staffed.press(f"an:{token}", ADMIN))[0]


async def test_an_admins_confirm_saves_no_figure_under_a_removed_officials_name(staffed):
    _, message_id, token = await staffed.preview("trong rung 3 ha", OFFICIAL)
    await staffed.say("/canbo xoa " + str(OFFICIAL), ADMIN)
    before, mark = snapshot(staffed), last_audit_id(staffed)
    [text] = texts(await staffed.press(f"ok:{token}", ADMIN, message_id))
    assert "không còn là cán bộ" in text and staffed.store.figures() == []
    assert snapshot(staffed) == before and refusals_only(staffed, mark)


async def test_a_guided_update_begun_before_removal_previews_nothing(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press("cm:trong_rung", OFFICIAL)
    await staffed.say("/canbo xoa " + str(OFFICIAL), ADMIN)
    before = snapshot(staffed)
    calls = await staffed.say("12,5", OFFICIAL)
    assert not [d for _, d in buttons(calls) if d.startswith("ok:")] and snapshot(staffed) == before


# -- 4. forged callback data ------------------------------------------------------------------------------

INVALID = "Nút này không còn dùng được"


@pytest.mark.parametrize("data", ["ex:99", "ex:0", "fb:0:<b>any text</b>", "fb:7:abc", "faq:nope", "bt:trocap:99",
                                  "lang:xx", "br:nope", "zz:1", "cm:no_such_metric", "cv:nan", "cv:1e400",
                                  "cl:Làng Giả", "tp:5"])
@pytest.mark.parametrize("presser", [OFFICIAL, CITIZEN], ids=["official", "stranger"])
async def test_forged_callback_data_is_refused_politely_and_writes_nothing(staffed, data, presser):
    before, mark = snapshot(staffed), last_audit_id(staffed)
    calls = await staffed.press(data, presser)
    said = texts(calls)
    assert said and (INVALID in said[-1] or REFUSED in said[-1]), said
    assert "lỗi" not in " ".join(said)  # not the error handler's apology
    assert snapshot(staffed) == before and refusals_only(staffed, mark)


async def test_forged_data_inside_a_flow_is_refused_and_the_flow_goes_on(staffed):
    await staffed.say("/capnhat lợn 1.5", OFFICIAL)
    for data in ("cv:nan", "cv:1e400", "cv:99", "cl:Làng Giả"):
        assert INVALID in texts(await staffed.press(data, OFFICIAL))[-1], data
    assert staffed.pending_count() == 0 and staffed.store.figures() == []


async def test_a_token_of_another_kind_is_refused(staffed):
    _, message_id, figure = await staffed.preview("trong rung 3 ha", OFFICIAL)
    announcement = announcement_token(await staffed.say("/thongbao Họp dân", OFFICIAL))
    before = snapshot(staffed)
    for data in (f"an:{figure}", f"ax:{figure}", f"ok:{announcement}", f"no:{announcement}"):
        for presser in (OFFICIAL, ADMIN):
            said = texts(await staffed.press(data, presser, message_id))
            assert said and INVALID in said[-1], (data, said)
    assert snapshot(staffed) == before


async def test_a_stranger_pressing_an_officials_buttons_in_a_group_writes_nothing(staffed):
    """An official's preview or announcement shown in a group: any member can press its buttons."""
    group = -1001234
    _, message_id, figure = await staffed.preview("trong rung 3 ha", OFFICIAL)
    announcement = announcement_token(await staffed.say("/thongbao Họp dân", OFFICIAL))
    before, mark = snapshot(staffed), last_audit_id(staffed)
    for data in (f"ok:{figure}", f"no:{figure}", f"an:{announcement}", f"ax:{announcement}", "cm:trong_rung",
                 "cv:15.0", "cl:", "tp:-", "fb:1:zzz"):
        update = staffed.callback(data, CITIZEN, message_id)
        update["callback_query"]["message"]["chat"] = {"id": group, "type": "supergroup", "title": "Thôn"}
        said = texts(await staffed.process(update))
        assert said and all("Đã lưu" not in t and "Đã hủy" not in t and "Đang gửi" not in t for t in said), data
    assert snapshot(staffed) == before and refusals_only(staffed, mark)
