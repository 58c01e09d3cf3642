"""Officials and admins through the real Application (handlers.localapi's in-process Bot API, a fresh database
per test): roles and refusals, /capnhat with its preview and idempotent confirmation, the guided
conversation, /hoantac, /lichsu, /xuat, /tiendo, citizens reading the logged figures, and two officials
confirming at the same moment (asyncio, and two Store connections on one file in threads)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sqlite3
import threading
from pathlib import Path

import pytest
from telegram import Update
from telegram.error import NetworkError
from telegram.ext import ApplicationBuilder

import bot
from handlers.common import Services
from handlers.localapi import LocalBotAPI, Sent, callback_update, message_update
from handlers.official import TZ, when
from knowledge.kb import KnowledgeBase
from knowledge.metrics import LiveFigures, Registry
from knowledge.periods import Calendar
from knowledge.store import Store

from .chat import buttons, texts
from .exported import csv_header_and_rows, named, sheet_rows, workbook

ADMIN = 1001
OFFICIAL = 2002
OFFICIAL2 = 3003
CITIZEN = 4004
REFUSED = "chỉ dành cho cán bộ"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def kb(tmp_path_factory, plan_path) -> KnowledgeBase:
    kb, _ = KnowledgeBase.open(Store(tmp_path_factory.mktemp("kb") / "kb.db"), [plan_path])
    return kb


class RecordingAPI(LocalBotAPI):
    """LocalBotAPI, also recording deleteMyCommands (it answers every method it has no handler for with True)."""

    async def _api_deleteMyCommands(self, params: dict) -> bool:
        self.calls.append(Sent("deleteMyCommands", dict(params)))
        return True


class Desk:
    """The bot as bot.open_services wires it (registry, live figures, ADMIN as the one admin), driven by updates."""

    def __init__(self, kb: KnowledgeBase, db: Path) -> None:
        self.api = RecordingAPI()
        self.store = Store(db)
        self.registry = Registry.load()
        self.registry.calendar = Calendar.lenient(kb.commune)  # as bot.open_services wires it
        kb.live = LiveFigures(self.registry, lambda key: self.store.figures(key, include_undone=False),
                              lambda: self.services.clock().timestamp())
        self.services = Services(kb=kb, store=self.store, registry=self.registry, admin_ids=frozenset({ADMIN}),
                                 flood_limit=10**9)
        self.app = bot.build_application(self.services, "0:test", request=self.api)

    async def __aenter__(self) -> Desk:
        await self.app.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()
        self.store.close()

    async def say(self, text: str, user: int, **kwargs) -> list[dict]:
        return await self.process(message_update(self.api, text, user, **kwargs))

    async def press(self, data: str, user: int, message_id: int = 1, name: str | None = None) -> list[dict]:
        return await self.process(self.callback(data, user, message_id, name))

    def callback(self, data: str, user: int, message_id: int = 1, name: str | None = None) -> dict:
        update = callback_update(self.api, data, user, message_id=message_id)
        if name:
            update["callback_query"]["from"]["first_name"] = name
        return update

    async def process(self, data: dict) -> list[dict]:
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(data, self.app.bot))
        return [{"method": c.method, "_id": c.message_id, **c.params} for c in self.api.calls[before:]]

    async def preview(self, text: str, user: int) -> tuple[str, int, str]:
        """/capnhat <text>: (the preview's text, its message id, the token its buttons carry)."""
        calls = await self.say(f"/capnhat {text}", user)
        return preview_of(calls)

    async def log(self, text: str, user: int, name: str | None = None) -> str:
        """/capnhat <text>, then Xác nhận: the token, once saved."""
        _, message_id, token = await self.preview(text, user)
        [saved] = texts(await self.press(f"ok:{token}", user, message_id, name))
        assert saved.startswith("Đã lưu."), saved
        return token

    async def undo(self, user: int) -> str:
        """/hoantac, then its confirmation: what the bot said once it undid."""
        calls = await self.say("/hoantac", user)
        [(_, data), _] = buttons(calls)
        assert data.startswith("uo:"), buttons(calls)
        [done] = texts(await self.press(data, user))
        return done

    def pending_count(self) -> int:
        return self.store.db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]




def preview_of(calls: list[dict]) -> tuple[str, int, str]:
    sent = [c for c in calls if c["method"] == "sendMessage" and any(d.startswith("ok:") for _, d in buttons([c]))]
    assert len(sent) == 1, f"expected one preview, the bot sent: {texts(calls)}"
    data = [d for _, d in buttons(sent)]
    token = data[0].removeprefix("ok:")
    assert data == [f"ok:{token}", f"no:{token}"], data
    return sent[0]["text"], sent[0]["_id"], token


def uploads(calls: list[dict]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for c in calls:
        for part in (c.get("_files") or {}).values():
            name, content = part[0], part[1]
            out[str(name)] = content if isinstance(content, bytes) else content.read()
    return out


@pytest.fixture
async def desk(kb, tmp_path):
    async with Desk(kb, tmp_path / "bot.db") as d:
        yield d


@pytest.fixture
async def staffed(desk):
    """Two officials, added by the admin."""
    assert "Đã thêm cán bộ" in texts(await desk.say(f"/canbo them {OFFICIAL} Nguyễn Văn A", ADMIN))[0]
    assert "Đã thêm cán bộ" in texts(await desk.say(f"/canbo them {OFFICIAL2} Hoàng Thị C", ADMIN))[0]
    return desk


# -- roles and refusals ----------------------------------------------------------------------------------

async def test_a_strangers_update_is_refused_politely_audited_and_nothing_written(desk):
    calls = await desk.say("/capnhat trong rung 12,5 ha", CITIZEN)
    [text] = texts(calls)
    assert REFUSED in text and "/canbo" in text and not buttons(calls)
    assert desk.store.figures() == [] and desk.pending_count() == 0
    [row] = desk.store.audit_log()
    assert (row["user_id"], row["action"], row["allowed"]) == (CITIZEN, "capnhat", 0)
    assert "refused" in row["detail"]


@pytest.mark.parametrize(("command", "action"), [
    ("/capnhat", "capnhat"), ("/hoantac", "hoantac"), ("/lichsu", "lichsu"), ("/xuat", "xuat"),
    ("/canbo them 5 Kẻ Gian", "canbo"), ("/update trong rung 1", "capnhat"),
], ids=["capnhat-guided", "hoantac", "lichsu", "xuat", "canbo", "english-alias"])
async def test_every_official_command_refuses_a_stranger(desk, command, action):
    calls = await desk.say(command, CITIZEN)
    assert [REFUSED in t for t in texts(calls)] == [True] and not buttons(calls)
    assert not [c for c in calls if c["method"] in ("sendDocument", "setMyCommands")]
    assert [(r["user_id"], r["action"], r["allowed"]) for r in desk.store.audit_log()] == [(CITIZEN, action, 0)]
    assert desk.store.role_of(5) is None


async def test_an_official_is_not_an_admin(staffed):
    [text] = texts(await staffed.say(f"/canbo them {CITIZEN} Ai Đó", OFFICIAL))
    assert REFUSED in text and staffed.store.role_of(CITIZEN) is None


async def test_admin_adds_an_official_by_id_and_the_menu_follows(desk):
    [text] = texts(await desk.say(f"/canbo them {OFFICIAL} Nguyễn Văn A", ADMIN))
    assert text == f"Đã thêm cán bộ {OFFICIAL} Nguyễn Văn A."
    assert desk.store.role_of(OFFICIAL) == "official"
    [menu] = [c.params for c in desk.api.sent("setMyCommands")]
    assert menu["scope"] == {"type": "chat", "chat_id": OFFICIAL}
    names = {c["command"] for c in menu["commands"]}
    assert {"capnhat", "hoantac", "lichsu", "xuat", "tiendo", "start"} <= names and "canbo" not in names
    assert [(r["user_id"], r["action"], r["allowed"]) for r in desk.store.audit_log()] == [(ADMIN, "role", 1)]
    [listing] = texts(await desk.say("/canbo ds", ADMIN))
    assert f"{OFFICIAL} — Nguyễn Văn A" in listing
    # and now the official's /capnhat is a preview, not a refusal
    text, _, _ = await desk.preview("trong rung 12,5 ha", OFFICIAL)
    assert "Trồng rừng mới" in text


async def test_admin_adds_an_official_by_replying_to_a_forwarded_message(desk):
    forwarded = {"message_id": 77, "date": 1_700_000_000, "chat": {"id": ADMIN, "type": "private"},
                 "text": "Em là cán bộ địa chính", "from": {"id": ADMIN, "is_bot": False, "first_name": "Quản trị"},
                 "forward_origin": {"type": "user", "date": 1_699_999_000,
                                    "sender_user": {"id": OFFICIAL2, "is_bot": False, "first_name": "Lò",
                                                    "last_name": "Thị B"}}}
    [text] = texts(await desk.say("/canbo them", ADMIN, reply_to=forwarded))
    assert text == f"Đã thêm cán bộ {OFFICIAL2} Lò Thị B."
    assert desk.store.role_of(OFFICIAL2) == "official" and desk.store.role_of(ADMIN) is None
    assert desk.store.people_with_role("official") == [(OFFICIAL2, "Lò Thị B")]
    [menu] = [c.params for c in desk.api.sent("setMyCommands")]
    assert menu["scope"] == {"type": "chat", "chat_id": OFFICIAL2}


async def test_a_forward_from_a_hidden_user_cannot_name_anyone(desk):
    """A forward that hides its author names nobody: not the admin who forwarded it (its from_user)."""
    forwarded = {"message_id": 78, "date": 1_700_000_000, "chat": {"id": ADMIN, "type": "private"}, "text": "…",
                 "from": {"id": ADMIN, "is_bot": False, "first_name": "Quản trị"},
                 "forward_origin": {"type": "hidden_user", "date": 1_699_999_000, "sender_user_name": "Ẩn danh"}}
    [text] = texts(await desk.say("/canbo them", ADMIN, reply_to=forwarded))
    assert desk.store.people_with_role("official") == [], text
    assert text.startswith("Cách dùng: /canbo")


async def test_a_removed_official_is_refused_and_cannot_confirm_an_old_preview(staffed):
    _, message_id, token = await staffed.preview("trong rung 3 ha", OFFICIAL)
    [text] = texts(await staffed.say(f"/canbo xoa {OFFICIAL}", ADMIN))
    assert text == f"Đã bỏ quyền cán bộ của {OFFICIAL}."
    assert staffed.store.role_of(OFFICIAL) is None
    [reset] = staffed.api.sent("deleteMyCommands")
    assert reset.params["scope"] == {"type": "chat", "chat_id": OFFICIAL}
    assert REFUSED in texts(await staffed.say("/capnhat trong rung 3 ha", OFFICIAL))[0]
    assert REFUSED in texts(await staffed.press(f"ok:{token}", OFFICIAL, message_id))[0]
    assert staffed.store.figures() == []
    refusals = [(r["user_id"], r["action"]) for r in staffed.store.audit_log() if not r["allowed"]]
    assert refusals == [(OFFICIAL, "capnhat:confirm"), (OFFICIAL, "capnhat")]


async def test_menus_at_start_up_for_admins_and_officials(staffed):
    before = len(staffed.api.calls)
    await bot.post_init(staffed.app)
    scoped = {c.params["scope"]["chat_id"]: {x["command"] for x in c.params["commands"]}
              for c in staffed.api.calls[before:] if c.method == "setMyCommands" and c.params.get("scope")}
    assert set(scoped) == {ADMIN, OFFICIAL, OFFICIAL2}
    assert "canbo" in scoped[ADMIN] and "canbo" not in scoped[OFFICIAL]
    assert {"capnhat", "hoantac", "lichsu", "xuat"} <= scoped[OFFICIAL] & scoped[ADMIN]


# -- /capnhat: preview, confirm once, cancel --------------------------------------------------------------

async def test_preview_then_confirm_writes_exactly_one_figure(staffed):
    calls = await staffed.say("/capnhat trong rung 12,5 ha", OFFICIAL)
    text, message_id, token = preview_of(calls)
    assert text == ("Sẽ lưu: <b>Trồng rừng mới</b> thêm 12,5 ha (Toàn xã); lũy kế năm: 0 → 12,5 ha\n"
                    "Trồng rừng mới: 12,5 ha → 25 % chỉ tiêu 50 ha")
    assert [label for label, _ in buttons(calls)] == ["✅ Xác nhận", "✖️ Hủy"]
    assert staffed.store.figures() == [] and staffed.pending_count() == 1  # nothing written before the press

    calls = await staffed.press(f"ok:{token}", OFFICIAL, message_id, name="Nguyễn Văn A")
    [edit] = [c for c in calls if c["method"] == "editMessageText"]
    assert edit["message_id"] == message_id
    assert edit["text"] == "Đã lưu.\nTrồng rừng mới: 12,5 ha → 25 % chỉ tiêu 50 ha"
    assert [c["method"] for c in calls].count("answerCallbackQuery") == 1
    [row] = staffed.store.figures()
    assert (row.metric, row.value, row.unit, row.village, row.status) == ("trong_rung", 12.5, "ha",
                                                                                         None, None)
    assert (row.request, row.user_id, row.user_name, row.raw) == (token, OFFICIAL, "Nguyễn Văn A",
                                                                              "trong rung 12,5 ha")
    assert staffed.store.pending(token)[2] == "done"

    again = await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    [text] = texts(again)
    assert "đã được lưu trước đó" in text and "12,5 ha → 25 %" in text
    assert len(staffed.store.figures()) == 1
    figures_audited = [r for r in staffed.store.audit_log() if r["action"] == "figure"]
    assert len(figures_audited) == 1 and figures_audited[0]["allowed"] == 1


async def test_cancel_writes_nothing_and_a_later_confirm_says_so(staffed):
    _, message_id, token = await staffed.preview("dan lon 610", OFFICIAL)
    calls = await staffed.press(f"no:{token}", OFFICIAL, message_id)
    assert [(c["method"], c["text"]) for c in calls if "text" in c] == [("editMessageText", "Đã hủy, không lưu gì.")]
    assert staffed.store.pending(token)[2] == "cancelled"
    [text] = texts(await staffed.press(f"ok:{token}", OFFICIAL, message_id))
    assert "đã bị hủy" in text
    assert staffed.store.figures() == []


async def test_cancel_after_confirm_does_not_claim_nothing_was_saved(staffed):
    """Hủy pressed after Xác nhận (a double tap, a stale keyboard) says the figure is saved."""
    _, message_id, token = await staffed.preview("dan lon 610", OFFICIAL)
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    [text] = texts(await staffed.press(f"no:{token}", OFFICIAL, message_id))
    assert len(staffed.store.figures()) == 1
    assert "không lưu gì" not in text and "đã được lưu trước đó" in text


async def test_a_lost_confirmation_is_given_on_the_next_press(staffed):
    """The figure is committed, then the "Đã lưu." edit fails (network, a crash): pressing again confirms it,
    and writes nothing more."""
    _, message_id, token = await staffed.preview("trong rung 12,5 ha", OFFICIAL)
    working = staffed.api._api_editMessageText

    async def unreachable(params: dict) -> dict:
        raise NetworkError("connection reset")

    staffed.api._api_editMessageText = unreachable  # type: ignore[method-assign]
    calls = await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert [t for t in texts(calls)] == ["Xin lỗi, đã có lỗi khi xử lý tin nhắn này. Bạn thử lại sau ít phút nhé."]
    assert [f.request for f in staffed.store.figures()] == [token]  # written before anything was said
    staffed.api._api_editMessageText = working  # type: ignore[method-assign]
    [text] = texts(await staffed.press(f"ok:{token}", OFFICIAL, message_id))
    assert "đã được lưu trước đó" in text
    assert [f.request for f in staffed.store.figures()] == [token]


async def test_an_unknown_token_is_expired(staffed):
    [text] = texts(await staffed.press("ok:0123456789abcdef", OFFICIAL))
    assert "Không tìm thấy bản xem trước" in text and staffed.store.figures() == []


async def test_another_official_cannot_confirm_my_preview_but_the_admin_can(staffed):
    _, message_id, token = await staffed.preview("trong rung 2 ha", OFFICIAL)
    calls = await staffed.press(f"ok:{token}", OFFICIAL2, message_id)
    assert texts(calls) == ["Bản xem trước này là của cán bộ khác; chỉ người gửi (hoặc quản trị viên) mới xác "
                            "nhận được."] and staffed.store.figures() == []
    stranger = await staffed.press(f"ok:{token}", CITIZEN, message_id)
    assert REFUSED in texts(stranger)[0] and staffed.store.figures() == []
    assert "Đã lưu." in texts(await staffed.press(f"ok:{token}", ADMIN, message_id))[0]
    [row] = staffed.store.figures()
    assert row.user_id == OFFICIAL and row.request == token
    assert row.user_name == staffed.store.name_of(OFFICIAL)  # the official's figure, not the admin's name


async def test_a_preview_survives_a_restart(kb, tmp_path):
    async with Desk(kb, tmp_path / "bot.db") as first:
        await first.say(f"/canbo them {OFFICIAL} A", ADMIN)
        _, message_id, token = await first.preview("trong rung 4 ha", OFFICIAL)
    async with Desk(kb, tmp_path / "bot.db") as second:
        assert "Đã lưu." in texts(await second.press(f"ok:{token}", OFFICIAL, message_id))[0]
        assert [f.request for f in second.store.figures()] == [token]


@pytest.mark.parametrize(("typed", "wanted"), [
    ("trồng rừng 12,5 tấn", "Đơn vị «tấn» không dùng được cho chỉ số này (đơn vị của nó là ha)."),
    ("trồng rừng -3", "Giá trị không được âm."),
    ("trồng rừng −3", "Giá trị không được âm."),  # a phone's minus sign
    ("xyz 12", "Không nhận ra chỉ số này."),
    ("trồng rừng abc", None),
    ("an ninh 5", "Chỉ số này ghi bằng trạng thái"),
], ids=["wrong-unit", "negative", "unicode-minus", "unknown", "no-value-offers-the-metric", "status-expected"])
async def test_a_bad_update_is_explained_and_nothing_is_pending(staffed, typed, wanted):
    calls = await staffed.say(f"/capnhat {typed}", OFFICIAL)
    [text] = texts(calls)
    if wanted is None:
        assert buttons(calls) == [("Trồng rừng mới", "cm:trong_rung")]
    else:
        assert text.startswith(wanted) and "Cách dùng: /capnhat" in text and not buttons(calls)
    assert staffed.pending_count() == 0 and staffed.store.figures() == []


async def test_an_unusual_figure_is_previewed_with_a_warning(staffed):
    text, message_id, token = await staffed.preview("đàn lợn 100.000", OFFICIAL)
    assert "100.000 con" in text and "⚠️" in text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert staffed.store.figures()[0].value == 100_000


# -- asking rather than guessing ---------------------------------------------------------------------------

@pytest.mark.parametrize(("pick", "value", "shown"), [("cv:15.0", 15, "15 con"), ("cv:1.5", 1.5, "1,5 con")],
                         ids=["fifteen", "one-and-a-half"])
async def test_an_ambiguous_number_asks_and_the_choice_leads_to_a_preview(staffed, pick, value, shown):
    calls = await staffed.say("/capnhat lợn 1.5", OFFICIAL)
    [question] = texts(calls)
    assert "«lợn 1.5»" in question and "nghĩa là bao nhiêu" in question
    assert buttons(calls) == [("15", "cv:15.0"), ("1,5", "cv:1.5")]
    text, message_id, token = preview_of(await staffed.press(pick, OFFICIAL))
    assert f"<b>Đàn lợn</b> = {shown}" in text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert [(f.metric, f.value) for f in staffed.store.figures()] == [("dan_lon", value)]


async def test_an_ambiguous_name_asks_which_metric(staffed):
    calls = await staffed.say("/capnhat dan 600", OFFICIAL)
    assert "Bạn muốn cập nhật chỉ số nào?" in texts(calls)[0]
    assert {d for _, d in buttons(calls)} == {"cm:dan_lon", "cm:dan_gia_suc", "cm:dan_gia_cam"}
    text, message_id, token = preview_of(await staffed.press("cm:dan_gia_suc", OFFICIAL))
    assert "<b>Đàn gia súc (trâu, bò, ngựa, dê)</b> = 600 con" in text and "100 % chỉ tiêu 600 con" in text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert [(f.metric, f.value) for f in staffed.store.figures()] == [("dan_gia_suc", 600)]


async def test_an_ambiguous_name_and_number_asks_both(staffed):
    calls = await staffed.say("/capnhat dan 1.5", OFFICIAL)
    assert "cm:dan_lon" in {d for _, d in buttons(calls)}
    asked = await staffed.press("cm:dan_lon", OFFICIAL)
    assert buttons(asked) == [("15", "cv:15.0"), ("1,5", "cv:1.5")]
    text, _, _ = preview_of(await staffed.press("cv:15.0", OFFICIAL))
    assert "<b>Đàn lợn</b> = 15 con" in text


# -- the guided conversation -------------------------------------------------------------------------------

async def test_guided_update_of_a_commune_figure(staffed):
    calls = await staffed.say("/capnhat", OFFICIAL)
    assert "Bạn muốn cập nhật chỉ số nào?" in texts(calls)[0]
    offered = [d for _, d in buttons(calls)]
    assert offered == [f"cm:{m.key}" for m in staffed.registry.metrics]
    [ask] = texts(await staffed.press("cm:trong_rung", OFFICIAL))
    assert "<b>Trồng rừng mới</b>: giá trị mới là bao nhiêu (ha)?" in ask
    text, message_id, token = preview_of(await staffed.say("12,5", OFFICIAL))
    assert "Trồng rừng mới: 12,5 ha → 25 % chỉ tiêu 50 ha" in text
    assert "Đã lưu." in texts(await staffed.press(f"ok:{token}", OFFICIAL, message_id))[0]
    assert [(f.metric, f.value, f.village) for f in staffed.store.figures()] == [("trong_rung", 12.5, None)]


async def test_guided_update_asks_the_village_of_a_per_village_figure(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press("cm:xi_mang_gtnt", OFFICIAL)
    calls = await staffed.say("26,7 tấn", OFFICIAL)
    assert texts(calls) == ["Số liệu này của thôn nào?"]
    offered = buttons(calls)
    assert offered[0] == ("Toàn xã", "cl:") and [d for _, d in offered[1:]] == [
        f"cl:{v}" for v in staffed.registry.villages]
    text, message_id, token = preview_of(await staffed.press("cl:Còn Nàn", OFFICIAL))
    assert "thêm 26,7 tấn (Còn Nàn)" in text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    [row] = staffed.store.figures()
    assert (row.metric, row.value, row.unit, row.village) == ("xi_mang_gtnt", 26.7, "tấn", "Còn Nàn")


async def test_guided_update_with_the_village_typed_skips_the_question(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press("cm:xi_mang_gtnt", OFFICIAL)
    text, _, _ = preview_of(await staffed.say("ban vang 131 ta", OFFICIAL))
    assert "thêm 13,1 tấn (Bản Vàng)" in text


async def test_guided_update_of_a_status(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press("cm:y_te_chuan", OFFICIAL)
    text, message_id, token = preview_of(await staffed.say("đạt", OFFICIAL))
    assert "<b>Chuẩn quốc gia về y tế xã</b> = đạt" in text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert [(f.metric, f.status, f.value) for f in staffed.store.figures()] == [("y_te_chuan", "đạt", None)]


@pytest.mark.parametrize("key", ["pcgd_mam_non", "pcgd_tieu_hoc", "pcgd_thcs", "xoa_mu_chu"])
async def test_guided_update_of_a_status_whose_name_has_a_digit(staffed, key):
    """The conversation parses "<the metric's name> <what was typed>": "… mức độ 3 đạt" is a status, not 3."""
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press(f"cm:{key}", OFFICIAL)
    text, message_id, token = preview_of(await staffed.say("đạt", OFFICIAL))
    assert f"<b>{staffed.registry.get(key).name}</b> = đạt" in text
    await staffed.press(f"ok:{token}", OFFICIAL, message_id)
    assert [(f.metric, f.status) for f in staffed.store.figures()] == [(key, "đạt")]


async def test_guided_update_explains_a_wrong_unit_and_asks_again(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press("cm:trong_rung", OFFICIAL)
    [text] = texts(await staffed.say("12,5 tấn", OFFICIAL))
    assert text.startswith("Đơn vị «tấn» không dùng được")
    text, _, _ = preview_of(await staffed.say("3 ha", OFFICIAL))
    assert "thêm 3 ha" in text


async def test_guided_update_asks_again_after_a_value_without_a_number(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press("cm:trong_rung", OFFICIAL)
    [text] = texts(await staffed.say("nhiều lắm", OFFICIAL))
    assert text.startswith("Thiếu giá trị"), text
    text, _, _ = preview_of(await staffed.say("3 ha", OFFICIAL))
    assert "thêm 3 ha" in text


async def test_capnhat_without_a_value_then_the_value(staffed):
    calls = await staffed.say("/capnhat trồng rừng", OFFICIAL)
    assert buttons(calls) == [("Trồng rừng mới", "cm:trong_rung")]
    [ask] = texts(await staffed.press("cm:trong_rung", OFFICIAL))
    assert "giá trị mới là bao nhiêu (ha)?" in ask
    text, _, _ = preview_of(await staffed.say("12,5", OFFICIAL))
    assert "thêm 12,5 ha" in text


async def test_huy_leaves_the_guided_conversation(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press("cm:trong_rung", OFFICIAL)
    assert texts(await staffed.say("/huy", OFFICIAL)) == ["Đã thôi cập nhật."]
    after = await staffed.say("12,5", OFFICIAL)  # now just a message, answered as a question
    assert not any(d.startswith("ok:") for _, d in buttons(after))
    assert staffed.pending_count() == 0 and staffed.store.figures() == []


# -- /hoantac -----------------------------------------------------------------------------------------------

async def test_undo_is_ones_own_last_figure_and_the_admin_can_undo_anyones(staffed):
    mine = await staffed.log("trong rung 10 ha", OFFICIAL)
    theirs = await staffed.log("dan lon 610", OFFICIAL2)
    text = await staffed.undo(OFFICIAL)
    assert text.startswith("Đã hoàn tác: Trồng rừng mới 10 ha (ghi lúc ") and "giữ cả hai" in text
    assert texts(await staffed.say("/hoantac", OFFICIAL)) == ["Không có số liệu nào của bạn để hoàn tác."]
    rows = {f.request: f for f in staffed.store.figures()}
    assert rows[mine].undone_by == OFFICIAL and rows[theirs].undone_at is None  # not someone else's

    newest = await staffed.log("trong rung 5 ha", OFFICIAL)
    assert (await staffed.undo(ADMIN)).startswith("Đã hoàn tác: Trồng rừng mới 5 ha")
    assert (await staffed.undo(ADMIN)).startswith("Đã hoàn tác: Đàn lợn 610 con")
    rows = {f.request: f for f in staffed.store.figures()}
    assert rows[newest].undone_by == ADMIN and rows[theirs].undone_by == ADMIN
    assert len(rows) == 3  # the log keeps every figure
    assert [r["detail"] for r in staffed.store.audit_log() if r["action"] == "undo"] == [
        str(rows[theirs].id), str(rows[newest].id), str(rows[mine].id)]
    assert staffed.store.figures(include_undone=False) == []


# -- /lichsu, /xuat, /tiendo ---------------------------------------------------------------------------------

async def test_history_lists_who_when_and_what_was_undone(staffed):
    await staffed.log("trong rung 10 ha", OFFICIAL, name="Nguyễn Văn A")
    await staffed.log("xi mang gtnt con nan 26,7 tan", OFFICIAL2, name="Hoàng Thị C")
    await staffed.log("an ninh dat", OFFICIAL2, name="Hoàng Thị C")
    await staffed.undo(OFFICIAL)
    [text] = texts(await staffed.say("/lichsu", OFFICIAL))
    rows = {f.metric: f for f in staffed.store.figures()}
    lines = text.split("\n")
    assert lines[0] == "<b>Cập nhật gần đây</b>"
    assert lines[1:] == [
        f"{when(rows['an_ninh'].created_at)} — Hoàng Thị C: An ninh chính trị, trật tự an toàn xã hội đạt",
        f"{when(rows['xi_mang_gtnt'].created_at)} — Hoàng Thị C: Xi măng làm đường giao thông nông thôn đã sử "
        f"dụng 26,7 tấn (Còn Nàn)",
        f"{when(rows['trong_rung'].created_at)} — Nguyễn Văn A: Trồng rừng mới 10 ha <i>(đã hoàn tác)</i>",
    ]
    [only] = texts(await staffed.say("/lichsu trong rung", OFFICIAL))
    assert "Trồng rừng mới" in only and "Xi măng" not in only and "An ninh" not in only


async def test_history_when_nothing_was_logged(staffed):
    assert texts(await staffed.say("/lichsu", OFFICIAL)) == ["Chưa có số liệu nào được cập nhật."]


FIGURES_HEADER = ["Số TT", "Thời điểm ghi", "Chỉ tiêu", "Thôn", "Giá trị", "Trạng thái", "Đơn vị",
                  "Chỉ tiêu đứng ở (sau lần ghi)", "Kế hoạch năm", "Tỷ lệ đạt (sau lần ghi)", "Người ghi",
                  "Mã người dùng", "Nội dung đã gõ", "Hoàn tác lúc", "Người hoàn tác"]
AUDIT_HEADER = ["Số TT", "Thời điểm", "Người", "Mã người dùng", "Việc", "Chi tiết", "Được phép"]


async def test_export_is_a_workbook_and_csvs_a_person_can_keep(staffed):
    """Issue 12 item 5: Vietnamese headers, metric names, dates and numbers typed and formatted, widths, a bold
    frozen header with filters, the target and share beside each figure, the audit log in words, captions."""
    await staffed.say("/capnhat dan lon 610", CITIZEN)  # a refusal, for the audit
    first = await staffed.log("trong rung 12,5 ha", OFFICIAL, name="Nguyễn Văn A")
    second = await staffed.log("xi mang gtnt Còn Nàn 26,7 tấn", OFFICIAL2, name="Hoàng Thị C")
    await staffed.undo(OFFICIAL2)
    calls = await staffed.say("/xuat", OFFICIAL)
    files = uploads(calls)
    stamp = staffed.services.clock().astimezone(TZ).strftime("%Y-%m-%d")
    assert sorted(files) == sorted([f"troly-xa-{stamp}.xlsx", f"so-lieu-{stamp}.csv", f"nhat-ky-{stamp}.csv",
                                    f"hoi-dap-{stamp}.csv", f"phan-anh-{stamp}.csv"])
    documents = [c for c in calls if c["method"] == "sendDocument"]
    assert len(documents) == 5 and all(c["caption"] for c in documents)
    assert "2 lần ghi số liệu" in documents[0]["caption"]  # the workbook first, saying what it holds
    figures = {f.request: f for f in staffed.store.figures()}
    audit = staffed.store.audit_log()

    header, rows = csv_header_and_rows(named(files, "so-lieu-", ".csv"))
    assert header == FIGURES_HEADER and len(rows) == 2
    by_id = {r["Số TT"]: r for r in rows}
    one, two = by_id[str(figures[first].id)], by_id[str(figures[second].id)]
    assert (one["Chỉ tiêu"], one["Thôn"], one["Giá trị"], one["Đơn vị"], one["Kế hoạch năm"]) == (
        "Trồng rừng mới", "Toàn xã", "12.5", "ha", "50")
    assert (one["Chỉ tiêu đứng ở (sau lần ghi)"], one["Tỷ lệ đạt (sau lần ghi)"]) == ("12.5", "25%")
    assert (one["Người ghi"], one["Thời điểm ghi"], one["Hoàn tác lúc"]) == (
        "Nguyễn Văn A", when(figures[first].created_at), "")
    assert (two["Chỉ tiêu"], two["Thôn"], two["Mã người dùng"], two["Người ghi"], two["Người hoàn tác"]) == (
        "Xi măng làm đường giao thông nông thôn đã sử dụng", "Còn Nàn", str(OFFICIAL2), "Hoàng Thị C", "Hoàng Thị C")
    assert two["Hoàn tác lúc"] == when(figures[second].undone_at) and two["Tỷ lệ đạt (sau lần ghi)"] == ""

    header, log = csv_header_and_rows(named(files, "nhat-ky-", ".csv"))
    assert header == AUDIT_HEADER and len(log) == len(audit)
    said = [(r["Mã người dùng"], r["Việc"], r["Chi tiết"], r["Được phép"]) for r in log]
    assert (str(CITIZEN), "Từ chối /capnhat", "không phải cán bộ", "Không") in said
    assert (str(OFFICIAL), "Ghi số liệu", "Trồng rừng mới: 12,5 ha (Toàn xã) «trong rung 12,5 ha»", "Có") in said
    assert (str(OFFICIAL2), "Hoàn tác số liệu", f"số liệu số {figures[second].id}: Xi măng làm đường giao thông "
            "nông thôn đã sử dụng: 26,7 tấn (Còn Nàn) «xi mang gtnt Còn Nàn 26,7 tấn»", "Có") in said
    assert not [r for r in log if "{" in r["Chi tiết"]], "JSON in the audit log"
    assert {r["Người"] for r in log if r["Mã người dùng"] == str(OFFICIAL)} == {"Nguyễn Văn A"}

    book = workbook(named(files, "troly-xa-", ".xlsx"))
    assert book.sheetnames == ["Số liệu", "Nhật ký", "Hỏi đáp", "Phản ánh – câu hỏi"]
    for sheet in book:  # a bold, frozen header row with filters, and columns wide enough to read
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        assert all(cell.font.b for cell in sheet[1])
        assert all(sheet.column_dimensions[c.column_letter].width >= 7 for c in sheet[1])
    sheet_header, sheet = sheet_rows(book["Số liệu"])
    assert sheet_header == FIGURES_HEADER
    forest = next(r for r in sheet if r["Số TT"] == figures[first].id)
    assert forest["Giá trị"] == 12.5 and forest["Kế hoạch năm"] == 50 and forest["Tỷ lệ đạt (sau lần ghi)"] == 0.25
    assert forest["Thời điểm ghi"] == dt.datetime.fromtimestamp(figures[first].created_at, TZ).replace(
        tzinfo=None, microsecond=0)
    cells = {c.value: c for c in book["Số liệu"][2 + sheet.index(forest)]}
    assert cells[0.25].number_format == "0.0%" and cells[12.5].number_format == "#,##0.0##"
    assert cells[forest["Thời điểm ghi"]].number_format == "dd/mm/yyyy hh:mm"
    _, audit_sheet = sheet_rows(book["Nhật ký"])
    assert [CITIZEN, "Từ chối /capnhat", "Không"] in [[r["Mã người dùng"], r["Việc"], r["Được phép"]]
                                                       for r in audit_sheet]


async def test_the_export_speaks_english_to_an_english_speaker(staffed):
    await staffed.log("trong rung 12,5 ha", OFFICIAL)
    staffed.store.set_user_lang(OFFICIAL, "en")
    files = uploads(await staffed.say("/xuat", OFFICIAL))
    header, [row] = csv_header_and_rows(named(files, "so-lieu-", ".csv"))
    assert header[:4] == ["No.", "Logged at", "Target", "Village"] and row["Target"] == "Trồng rừng mới"
    assert workbook(named(files, "troly-xa-", ".xlsx")).sheetnames == ["Figures", "Audit log", "Taught answers",
                                                                                  "Questions and reports"]


async def test_progress_is_a_short_text_and_a_png_chart_for_everyone(staffed):
    [text, no_chart] = texts(await staffed.say("/tiendo", CITIZEN))
    today = staffed.services.clock().astimezone(TZ).date()
    year = f"<i>Năm báo cáo {today.year}: số cộng dồn trong năm (như diện tích trồng rừng) tính từ 01/01/{today.year}" \
        f" đến {today:%d/%m/%Y}.</i>"
    assert text.split("\n") == ["<b>Tiến độ thực hiện các chỉ tiêu năm 2024</b>", year,
                                "Chưa có chỉ tiêu nào được cập nhật số liệu."]
    assert not staffed.api.sent("sendPhoto") and "biểu đồ" in no_chart  # nothing logged: a sentence, no chart
    await staffed.log("trong rung 12,5 ha", OFFICIAL)
    await staffed.log("an ninh dat", OFFICIAL)
    await staffed.log("ho ngheo 15%", OFFICIAL)
    calls = await staffed.say("/tiendo", CITIZEN)
    [text] = texts(calls)
    targets = len([m for m in staffed.registry.metrics if not m.part_of])
    assert text.split("\n") == [
        "<b>Tiến độ thực hiện các chỉ tiêu năm 2024</b>", year,
        "• Trồng rừng mới: 12,5 / 50 ha — 25 %",
        "• Tỷ lệ hộ nghèo, cận nghèo: 15 % — chưa đạt, trên mức trần 11,47 % (càng thấp càng tốt); mới giảm được "
        "67 % mức cần giảm",
        "• An ninh chính trị, trật tự an toàn xã hội: đạt",
        f"Còn {targets - 3} chỉ tiêu chưa có số liệu (/chitieu để xem các chỉ tiêu).",
    ]
    [photo] = [c for c in calls if c["method"] == "sendPhoto"]
    assert photo["chat_id"] == CITIZEN
    [png] = uploads([photo]).values()
    assert png.startswith(PNG) and len(png) > 1000


# -- citizens read the officials' figures ------------------------------------------------------------------

async def test_a_citizen_gets_the_logged_figure_and_the_target(staffed):
    question = "hiện nay đã trồng được bao nhiêu ha rừng"
    before = texts(await staffed.say(question, CITIZEN))[0]
    assert "50,5 ha" in before  # nothing logged yet: the plan's own figure
    await staffed.log("trong rung 12,5 ha", OFFICIAL)
    [text] = texts(await staffed.say(question, CITIZEN))
    assert "Trồng rừng mới: 12,5 ha → 25 % chỉ tiêu 50 ha" in text and "cán bộ xã cập nhật" in text
    [year] = texts(await staffed.say("năm 2023 trồng được bao nhiêu ha rừng", CITIZEN))
    assert "50,5 ha" in year and "12,5" not in year  # another year: the document answers
    [target] = texts(await staffed.say("chỉ tiêu trồng rừng năm nay là bao nhiêu", CITIZEN))
    assert "12,5 ha" not in target  # the target: the plan answers
    await staffed.undo(OFFICIAL)
    [undone] = texts(await staffed.say(question, CITIZEN))
    assert "12,5 ha" not in undone  # an undone figure is no longer told


async def test_a_citizen_question_ending_with_a_question_mark_gets_the_logged_figure(staffed):
    await staffed.log("trong rung 12,5 ha", OFFICIAL)
    [text] = texts(await staffed.say("đã trồng được bao nhiêu rừng?", CITIZEN))
    assert "12,5 ha → 25 % chỉ tiêu 50 ha" in text


# -- concurrency ---------------------------------------------------------------------------------------------

class ConcurrentBuilder(ApplicationBuilder):
    """bot.build_application's builder, with concurrent updates (build_application does not expose it)."""

    def build(self):  # type: ignore[override]
        self.concurrent_updates(True)
        return super().build()


@pytest.fixture
async def concurrent(kb, tmp_path, monkeypatch):
    monkeypatch.setattr(bot, "ApplicationBuilder", ConcurrentBuilder)
    async with Desk(kb, tmp_path / "bot.db") as d:
        assert d.app.concurrent_updates > 1
        for user, name in ((OFFICIAL, "A"), (OFFICIAL2, "C")):
            await d.say(f"/canbo them {user} {name}", ADMIN)
        yield d


def gate(desk: Desk, parties: int) -> None:
    """Every press waits in answerCallbackQuery until ``parties`` presses are in flight: they really overlap."""
    barrier = asyncio.Barrier(parties)
    original = desk.api._api_answerCallbackQuery

    async def gated(params: dict) -> bool:
        await asyncio.wait_for(barrier.wait(), timeout=5)
        return await original(params)

    desk.api._api_answerCallbackQuery = gated  # type: ignore[method-assign]


async def test_two_officials_confirming_at_the_same_moment_both_land(concurrent):
    _, mid_a, token_a = await concurrent.preview("trong rung 12,5 ha", OFFICIAL)
    _, mid_b, token_b = await concurrent.preview("trong rung 7,5 ha", OFFICIAL2)
    gate(concurrent, 2)
    before = len(concurrent.api.calls)
    await asyncio.gather(
        concurrent.process(concurrent.callback(f"ok:{token_a}", OFFICIAL, mid_a)),
        concurrent.process(concurrent.callback(f"ok:{token_b}", OFFICIAL2, mid_b)),
    )
    calls = concurrent.api.calls[before:]  # both presses' calls, interleaved
    assert {c.params["message_id"] for c in calls if c.method == "editMessageText"} == {mid_a, mid_b}
    edits = [c.params["text"] for c in calls if c.method == "editMessageText"]
    assert len(edits) == 2 and all(t.startswith("Đã lưu.") for t in edits), edits
    rows = sorted(concurrent.store.figures(), key=lambda f: f.id)
    assert {r.request for r in rows} == {token_a, token_b}
    assert rows[0].id < rows[1].id and rows[0].created_at <= rows[1].created_at
    # no lost update: whichever wrote second saw both figures in its total (mode "add")
    assert any("20 ha → 40 % chỉ tiêu 50 ha" in t for t in edits), edits
    assert not [r for r in concurrent.store.audit_log() if r["action"] == "figure" and not r["allowed"]]


async def test_a_double_tap_confirmed_concurrently_is_written_once(concurrent):
    _, message_id, token = await concurrent.preview("trong rung 12,5 ha", OFFICIAL)
    gate(concurrent, 2)
    before = len(concurrent.api.calls)
    await asyncio.gather(*(concurrent.process(concurrent.callback(f"ok:{token}", OFFICIAL, message_id))
                           for _ in range(2)))
    edits = sorted(c.params["text"].split("\n")[0] for c in concurrent.api.calls[before:]
                   if c.method == "editMessageText")
    assert edits == ["Số liệu này đã được lưu trước đó (không lưu thêm lần nữa).", "Đã lưu."]
    assert [f.request for f in concurrent.store.figures()] == [token]


async def test_many_officials_at_once_lose_nothing(concurrent):
    officials = [5000 + i for i in range(20)]
    for user in officials:
        await concurrent.say(f"/canbo them {user} CB{user}", ADMIN)
    previews = [await concurrent.preview(f"trong rung {i + 1} ha", user) for i, user in enumerate(officials)]
    gate(concurrent, len(officials))
    await asyncio.gather(*(concurrent.process(concurrent.callback(f"ok:{token}", user, mid))
                           for user, (_, mid, token) in zip(officials, previews)))
    rows = concurrent.store.figures()
    assert sorted(r.request for r in rows) == sorted(token for _, _, token in previews)
    assert sum(r.value for r in rows) == sum(range(1, 21))
    progress = concurrent.registry.progress(concurrent.registry.get("trong_rung"), rows)
    assert progress.value == 210 and progress.updates == 20


def test_two_store_connections_confirming_in_threads_are_serialised(tmp_path):
    """Two Store instances (two SQLite connections, as two processes would have) on one file: BEGIN IMMEDIATE
    queues their writes; every figure lands once, and ids follow the order the writes were made in."""
    db = tmp_path / "shared.db"
    stores = [Store(db), Store(db)]
    per_thread = 60
    tokens = [[f"t{n}-{i:03d}" for i in range(per_thread)] for n in range(2)]
    for n, batch in enumerate(tokens):
        for i, token in enumerate(batch):
            stores[0].open_pending(token, 100 + n, {"metric": "trong_rung", "value": 0.1 * (i + 1), "status": None,
                                                    "unit": "ha", "village": None, "raw": token})
    shared = [f"same-{i:03d}" for i in range(per_thread)]  # both threads confirm these: a double tap across processes
    for token in shared:
        stores[0].open_pending(token, 300, {"metric": "dan_lon", "value": 1, "unit": "con", "raw": token})
    start = threading.Barrier(2)
    results: list[list[tuple[str, int, bool]]] = [[], []]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait(timeout=10)
            for own, common in zip(tokens[n], shared):
                for token in (own, common):
                    figure_id, wrote = stores[n].confirm_figure(token, f"thread {n}")
                    results[n].append((token, figure_id, wrote))
        except BaseException as err:  # reported below, with the thread's name
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,), name=f"confirm-{n}") for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a confirming thread is stuck (a lock never released?)"
    assert errors == [], errors

    check = sqlite3.connect(db)
    rows = check.execute("SELECT id, request, created_at, user_id FROM figures ORDER BY id").fetchall()
    counts = dict(check.execute("SELECT request, COUNT(*) FROM figures GROUP BY request").fetchall())
    check.close()
    assert len(rows) == 3 * per_thread and set(counts.values()) == {1}
    assert set(counts) == set(tokens[0]) | set(tokens[1]) | set(shared)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert all(a[2] <= b[2] for a, b in itertools.pairwise(rows)), "ids out of the order the writes were made in"
    for n in range(2):  # each thread's own figures in the order it confirmed them
        own = [r[0] for r in rows if r[1].startswith(f"t{n}-")]
        assert own == sorted(own) and [r[1] for r in rows if r[1].startswith(f"t{n}-")] == tokens[n]
    for token in shared:  # a shared token: written by exactly one thread, the other found the same figure
        outcomes = [(fid, wrote) for n in range(2) for t, fid, wrote in results[n] if t == token]
        assert len(outcomes) == 2 and len({fid for fid, _ in outcomes}) == 1
        assert sorted(wrote for _, wrote in outcomes) == [False, True]
    for store in stores:
        store.close()
