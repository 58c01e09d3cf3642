"""Nothing goes unanswered (issue 13 item 14): /huy and /cancel with no conversation open, and commands the bot
does not have, get a hint instead of silence; /huy inside a conversation still leaves it."""

from __future__ import annotations

import pytest

from . import test_officials
from .chat import texts
from .test_officials import CITIZEN, OFFICIAL

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures


@pytest.mark.parametrize("command", ["/huy", "/cancel"])
async def test_cancel_with_nothing_under_way_says_so(staffed, command):
    for user in (CITIZEN, OFFICIAL):
        [text] = texts(await staffed.say(command, user))
        assert "Không có việc gì đang làm dở" in text and "/trogiup" in text


@pytest.mark.parametrize("command", ["/foo", "/capnhap trong rung 5", "/start_over", "/thongke"])
async def test_an_unknown_command_gets_a_hint(staffed, command):
    [text] = texts(await staffed.say(command, CITIZEN))
    assert command.split()[0] in text and "/trogiup" in text


async def test_huy_inside_a_conversation_still_leaves_it(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    assert texts(await staffed.say("/huy", OFFICIAL)) == ["Đã thôi cập nhật."]
    [text] = texts(await staffed.say("/huy", OFFICIAL))
    assert "Không có việc gì đang làm dở" in text


async def test_an_unknown_command_in_a_group_may_be_another_bots(staffed):
    assert texts(await staffed.say("/foo", CITIZEN, chat_id=-100, chat_type="group")) == []


async def test_an_unknown_command_addressed_to_the_bot_in_a_group_gets_a_hint(staffed):
    [text] = texts(await staffed.say("/foo@troly_xa_bot", CITIZEN, chat_id=-100, chat_type="group"))
    assert "/foo" in text and "@" not in text.split("/trogiup")[0] and "/trogiup" in text
    assert texts(await staffed.say("/foo@other_bot", CITIZEN, chat_id=-100, chat_type="group")) == []
