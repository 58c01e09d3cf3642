"""Nobody let in (issue 13, items 1-4): a command inside a forwarded message, someone else's cancel button, a
role removed in the middle of a flow, forged callback data. Each runs through the real Application (the
in-process Bot API of handlers.localapi, a fresh database per test) and checks the database afterwards:
a stranger's attempt leaves every table as it was, except the audit log's record of the refusal."""

from __future__ import annotations

import pytest

from handlers.localapi import message_update

from . import test_officials
from .chat import texts
from .test_officials import ADMIN, CITIZEN, OFFICIAL, Desk

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
