"""The rules of knowledge/tickets.py on their own: where tickets go, how a report's status may move, what the
commune's configuration may name as the officials' group, what a replayed or repeated write does."""

from __future__ import annotations

import pytest

from knowledge.store import Store
from knowledge.tickets import (
    DONE,
    IN_PROGRESS,
    RECEIVED,
    Recipient,
    TicketDesk,
    TicketError,
    parse_officials_chat,
    recipients,
)


def test_the_group_when_configured_else_each_official_and_admin_in_their_language():
    assert recipients(-100123, [5, 6], frozenset({1}), {}) == [Recipient(-100123, "vi")]
    assert recipients(None, [6, 5], frozenset({5, 1}), {6: "en"}) == [Recipient(1, "vi"), Recipient(5, "vi"),
                                                                      Recipient(6, "en")]
    assert recipients(None, [], frozenset(), {}) == []


@pytest.mark.parametrize(("value", "chat"), [("-1001234567890", -1001234567890), (-42, -42), ("", None),
                                             (None, None), ("0", None), ("nhóm cán bộ", None), ("@canbo", None)])
def test_officials_chat_is_a_chat_id_or_nothing(value, chat):
    assert parse_officials_chat(value) == chat


@pytest.fixture
def desk(tmp_path):
    return TicketDesk(Store(tmp_path / "t.db"))


def report(desk: TicketDesk, text: str = "Đèn đường hỏng") -> int:
    desk.store.put_draft(7, 7, "report", "tok", "vi", text=text)
    ticket, new = desk.report(desk.store.draft(7, 7), [Recipient(-100, "vi")])  # type: ignore[arg-type]
    assert new and ticket.status == RECEIVED
    return ticket.id


def test_a_report_moves_forward_only_and_each_move_once(desk):
    ticket_id = report(desk)
    ticket, _ = desk.move(ticket_id, IN_PROGRESS, 43, "Lan")
    assert ticket.status == IN_PROGRESS and ticket.closed_at is None
    for status, reason in ((IN_PROGRESS, "same_status"), (RECEIVED, "backwards")):
        with pytest.raises(TicketError) as err:
            desk.move(ticket_id, status, 43, "Lan")
        assert err.value.reason == reason
    ticket, _ = desk.move(ticket_id, DONE, 43, "Lan")
    assert ticket.status == DONE and ticket.closed_at is not None
    assert [i.purpose for i in desk.store.outbox_pending()] == ["post", "status", "status"]


def test_a_question_has_no_status_to_move_and_an_empty_one_is_refused(desk):
    ticket, _ = desk.ask(7, "vi", "Chợ họp ngày nào?", "offer:a", [])
    with pytest.raises(TicketError) as err:
        desk.move(ticket.id, DONE, 43, "Lan")
    assert err.value.reason == "not_a_report"
    with pytest.raises(TicketError):
        desk.ask(7, "vi", "   ", "offer:b", [])
    with pytest.raises(TicketError):
        desk.answer(ticket.id, " ", 43, "Lan", "reply:1")
    with pytest.raises(TicketError):
        desk.answer(999, "Có", 43, "Lan", "reply:2")


def test_the_same_request_writes_once(desk):
    first, new = desk.ask(7, "vi", "Chợ họp ngày nào?", "offer:a", [Recipient(-100, "vi")])
    again, new_again = desk.ask(7, "vi", "Chợ họp ngày nào?", "offer:a", [Recipient(-100, "vi")])
    assert new and not new_again and first.id == again.id
    _, event, wrote = desk.answer(first.id, "Ngày 5, 10, 15", 43, "Lan", "reply:-100:9")
    _, same, wrote_again = desk.answer(first.id, "Ngày 5, 10, 15", 43, "Lan", "reply:-100:9")
    assert wrote and not wrote_again and event.id == same.id
    assert [i.purpose for i in desk.store.outbox_pending()] == ["post", "answer"]
    curated = desk.keep(event.id, 43)
    with pytest.raises(TicketError) as err:
        desk.keep(event.id, 43)
    assert err.value.reason == "already_kept"
    assert desk.store.curated()[0]["id"] == curated


def test_an_empty_report_is_refused_and_a_photo_alone_is_enough(desk):
    desk.store.put_draft(7, 7, "report", "t1", "vi")
    with pytest.raises(TicketError):
        desk.report(desk.store.draft(7, 7), [])  # type: ignore[arg-type]
    desk.store.add_to_draft(7, 7, photo="FILE")
    ticket, _ = desk.report(desk.store.draft(7, 7), [])  # type: ignore[arg-type]
    assert ticket.photo == "FILE" and desk.store.draft(7, 7) is None
