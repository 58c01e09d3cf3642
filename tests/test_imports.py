"""Excel in (issue 12 item 4): /mau's template, and a filled-in .xlsx sent back, through the real Application
(handlers.localapi's in-process Bot API serves getFile and the download) on a fresh database file per test.

What is proven: the template is friendly (Vietnamese headers, the metrics with units, the villages, lists to
pick from, an example row that is never imported); 500 rows with 20 bad ones preview the 20 with reasons and
write 480 in one transaction (a database that fails half-way writes none), each audited; numbers as cells or
Vietnamese text, "1.5" refused; formulas read by their cached value, never evaluated; the same file twice is
written once, and so is a confirmation pressed twice or replayed after a restart; only officials, checked at
each step; a file that is not an .xlsx, too big, or without a valid row gets a polite message.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from telegram.error import BadRequest

from handlers.localapi import file_update
from knowledge.imports import MAX_BYTES, NotAWorkbook, read_batch
from knowledge.metrics import Registry

from .chat import buttons, texts
from .test_officials import ADMIN, CITIZEN, OFFICIAL, OFFICIAL2, REFUSED, Desk, uploads

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["Chỉ số", "Giá trị", "Đơn vị", "Thôn", "Ngày"]
VILLAGES = ["Còn Nàn", "Bản Vàng", "Bản Đon", "Bản Rắn", "Nà Va", "Pá Cuồng", "Pò Pháy", "Sông Danh", "Bản Xâm",
            "Nà Thâm"]


NOW = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))  # the plan's year, a Tuesday


def at_now(desk: Desk) -> Desk:
    desk.services.clock = lambda: NOW
    return desk


@pytest.fixture
async def desk(kb, tmp_path):
    async with Desk(kb, tmp_path / "bot.db") as d:
        d.store.set_role(OFFICIAL, "official", "Nguyễn Văn A", ADMIN)
        d.store.set_role(OFFICIAL2, "official", "Hoàng Thị C", ADMIN)
        yield at_now(d)


def workbook(rows: list[list], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Số liệu"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_cached_values(data: bytes, cached: dict[str, str]) -> bytes:
    """The workbook as Excel saves it: each formula ``cached`` names carries the value Excel computed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                text = content.decode()
                for formula, value in cached.items():
                    text = text.replace(f"<f>{formula}</f><v></v>", f"<f>{formula}</f><v>{value}</v>")
                content = text.encode()
            target.writestr(info, content)
    return out.getvalue()


async def send_file(desk: Desk, content: bytes, user: int = OFFICIAL, name: str = "so-lieu.xlsx",
                    mime: str | None = XLSX, **kwargs) -> list[dict]:
    return await desk.process(file_update(desk.api, "document", content=content, file_name=name, mime_type=mime,
                                          user_id=user, **kwargs))


def preview(calls: list[dict]) -> tuple[str, str, int]:
    """The preview's text, its Xác nhận data and message id."""
    sent = [c for c in calls if any(d.startswith("im:") for _, d in buttons([c]))]
    assert len(sent) == 1, texts(calls)
    [(_, confirm), (_, cancel)] = buttons(sent)
    assert cancel == "ix:" + confirm.removeprefix("im:")
    return sent[0]["text"], confirm, sent[0]["_id"]


def figures(desk: Desk) -> int:
    return desk.store.db.execute("SELECT COUNT(*) FROM figures WHERE undone_at IS NULL").fetchone()[0]


def five_hundred_rows() -> tuple[list[list], dict[int, str]]:
    """500 rows (sheet rows 2–501): 480 good, 20 bad, each bad one with a fragment of the reason it gets."""
    good = [
        ["Trồng rừng mới", 0.5, "ha", "Còn Nàn", dt.date(2024, 3, 1)],
        ["Trồng rừng mới", "0,25", "", "Bản Vàng", "02/03/2024"],
        ["Xi măng làm đường giao thông nông thôn đã sử dụng", "3", "tạ", "Nà Va", None],  # tạ → tấn
        ["Đàn lợn", "610", "con", None, "2024-03-04"],
        ["Phổ cập giáo dục mầm non trẻ em 5 tuổi", "đạt", None, None, None],
        ["Thu ngân sách trên địa bàn", "1,2", "triệu", None, None],
    ]
    bad = [
        (["Trồng rừng mới", "1.5", "ha", None, None], "không rõ là 15 hay 1,5"),
        (["Sông núi", 5, "tấn", None, None], "Không nhận ra chỉ số"),
        (["Học sinh bỏ học", 5, "con", None, None], "không phải tên chỉ số nào (gần nhất: Đàn bò)"),
        (["Trồng rừng mới", 5, "tấn", None, None], "Đơn vị «tấn» không dùng được"),
        (["Trồng rừng mới", "nhiều", "ha", None, None], "không phải là một con số"),
        (["Trồng rừng mới", 5, "ha", "Bản Von", None], "không có thôn «Bản Von»"),
        (["Trồng rừng mới", 5, "ha", None, "31/02/2024"], "không đọc được"),
        (["Trồng rừng mới", 5, "ha", None, "06/03/2024"], "chưa đến"),
        (["Trồng rừng mới", -5, "ha", None, None], "không được âm"),
        (["Đàn", 5, "con", None, None], "«Đàn» không phải tên chỉ số nào (gần nhất: Đàn lợn; Đàn gia súc"),
        (["Phổ cập giáo dục mầm non trẻ em 5 tuổi", "tốt", None, None, None], "phải là một trong"),
        (["Trong rung moi", "=1+1", "ha", None, None], "là công thức (=1+1) chưa có giá trị"),
    ]
    rows: list[list] = []
    reasons: dict[int, str] = {}
    for n in range(500):
        sheet_row = n + 2
        if n % 25 == 7:  # 20 bad rows, spread through the file
            row, reason = bad[len(reasons) % len(bad)]
            reasons[sheet_row] = reason
            rows.append(list(row))
        else:
            rows.append(list(good[n % len(good)]))
    assert len(reasons) == 20
    return rows, reasons


# -- the template -------------------------------------------------------------------------------------

async def test_the_template_is_for_officials_and_is_friendly(desk):
    [refused] = texts(await desk.say("/mau", CITIZEN))
    assert REFUSED in refused
    calls = await desk.say("/mau", OFFICIAL)
    [(name, content)] = uploads(calls).items()
    assert name == "mau-nhap-so-lieu.xlsx"
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Số liệu", "Danh mục", "Hướng dẫn"]
    data = book["Số liệu"]
    assert [c.value for c in data[1]][:5] == HEADERS
    example = [c.value for c in data[2]]
    assert example[:4] == ["Trồng rừng mới", 12.5, "ha", "Còn Nàn"] and "Ví dụ" in example[5]
    lists = book["Danh mục"]
    registry = Registry.load()
    listed = {row[0].value: row[1].value for row in lists.iter_rows(min_row=2) if row[0].value}
    assert listed == {m.name: m.unit or None for m in registry.metrics}
    assert [row[6].value for row in lists.iter_rows(min_row=2) if row[6].value] == VILLAGES
    formulas = sorted(str(v.formula1) for v in data.data_validations.dataValidation)
    assert f"='Danh mục'!$A$2:$A${1 + len(registry.metrics)}" in formulas
    assert f"='Danh mục'!$G$2:$G${1 + len(VILLAGES)}" in formulas


async def test_the_template_filled_in_is_imported_and_its_example_row_is_not(desk):
    calls = await desk.say("/mau", OFFICIAL)
    [content] = uploads(calls).values()
    book = load_workbook(io.BytesIO(content))
    book["Số liệu"].append(["Đàn lợn", 620, "con", None, dt.date(2024, 3, 5)])
    buffer = io.BytesIO()
    book.save(buffer)
    text, confirm, message_id = preview(await send_file(desk, buffer.getvalue()))
    assert "Đọc 1 dòng: <b>1</b> dòng hợp lệ" in text and "Bỏ qua 1 dòng ví dụ" in text
    assert "Đàn lợn: 620 con" in text
    await desk.press(confirm, OFFICIAL, message_id)
    assert [(f.metric, f.value) for f in desk.store.figures()] == [("dan_lon", 620.0)]


# -- the batch ----------------------------------------------------------------------------------------------

async def test_500_rows_with_20_bad_ones_write_480_in_one_confirmed_transaction(desk):
    rows, reasons = five_hundred_rows()
    text, confirm, message_id = preview(await send_file(desk, workbook(rows)))
    assert "Đọc 500 dòng: <b>480</b> dòng hợp lệ sẽ được lưu, <b>20</b> dòng bị từ chối" in text
    listed = dict(re.findall(r"^Dòng (\d+) \(.*?\): (.*)$", text, re.M))
    assert {int(k) for k in listed} == set(reasons)
    for row, fragment in reasons.items():
        assert fragment in listed[str(row)], (row, listed[str(row)])
    assert "Trồng rừng mới:" in text and "Đàn lợn: 610 con" in text
    assert figures(desk) == 0, "nothing is written before the confirmation"

    [saved] = texts(await desk.press(confirm, OFFICIAL, message_id))
    assert saved == "Đã lưu 480 số liệu từ «so-lieu.xlsx»."
    written = desk.store.figures()
    assert len(written) == 480
    assert len({f.created_at for f in written}) == 1, "one transaction, one moment"
    assert {f.user_id for f in written} == {OFFICIAL} and {f.user_name for f in written} == {"Dân"}
    forest = [f for f in written if f.metric == "trong_rung"]
    typed = [float(str(r[1]).replace(",", ".")) for n, r in enumerate(rows, start=2)
             if n not in reasons and r[0] == "Trồng rừng mới"]
    assert len(forest) == len(typed) and sum(f.value or 0 for f in forest) == pytest.approx(sum(typed))
    cement = [f for f in written if f.metric == "xi_mang_gtnt"]
    assert {(f.value, f.unit, f.village, f.as_of) for f in cement} == {(0.3, "tấn", "Nà Va", "2024-03-05")}
    assert {f.as_of for f in written if f.metric == "dan_lon"} == {"2024-03-04"}
    assert {f.value for f in written if f.metric == "thu_ngan_sach"} == {1_200_000}
    audited = [a for a in desk.store.audit_log() if a["action"] == "figure"]
    assert len(audited) == 480 and all(a["allowed"] for a in audited)
    assert {json.loads(a["detail"])["import"] for a in audited} == {1}


async def test_a_database_failing_half_way_writes_nothing_and_the_confirmation_can_be_pressed_again(desk):
    rows, _ = five_hundred_rows()
    _, confirm, message_id = preview(await send_file(desk, workbook(rows)))
    # The disk fills up at the 300th figure: SQLite itself refuses the insert.
    desk.store.db.execute("CREATE TRIGGER full BEFORE INSERT ON figures WHEN (SELECT COUNT(*) FROM figures) >= 299"
                          " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    [apology] = texts(await desk.press(confirm, OFFICIAL, message_id))
    assert "đã có lỗi" in apology
    assert figures(desk) == 0 and [a for a in desk.store.audit_log() if a["action"] == "figure"] == []
    desk.store.db.execute("DROP TRIGGER full")
    [saved] = texts(await desk.press(confirm, OFFICIAL, message_id))
    assert saved.startswith("Đã lưu 480") and figures(desk) == 480


async def test_numbers_as_cells_or_vietnamese_text_and_an_ambiguous_one_refused(desk):
    data = workbook([
        ["Sản lượng lương thực có hạt", 1105, "tấn", None, None],
        ["Đàn lợn", "1.105", "", None, None],
        ["Đàn gia cầm", "27.905", "con", None, None],
        ["Trồng rừng mới", "279,5", "ha", None, None],
        ["Trồng rừng mới", "1.5", "ha", None, None],
        ["Trồng rừng mới", 1.5, "ha", None, None],  # a number cell is not ambiguous
    ])
    text, confirm, _ = preview(await send_file(desk, data))
    assert "Dòng 6 (Trồng rừng mới · 1.5): «1.5» không rõ là 15 hay 1,5" in text
    await desk.press(confirm, OFFICIAL)
    assert sorted((f.metric, f.value) for f in desk.store.figures()) == [
        ("dan_gia_cam", 27905.0), ("dan_lon", 1105.0), ("luong_thuc", 1105.0), ("trong_rung", 1.5),
        ("trong_rung", 279.5)]


async def test_a_formula_is_read_by_its_cached_value_and_never_evaluated(desk):
    data = with_cached_values(workbook([
        ["Đàn lợn", "=600+20", "con", None, None],  # saved by Excel: its value is there
        ["Đàn gia cầm", "=30000+1000", "con", None, None],  # never computed: refused
        ["Trồng rừng mới", "=2+3", "ha", None, None],  # Excel's cached value wins over what the formula says
    ]), {"600+20": "620", "2+3": "4"})
    text, confirm, _ = preview(await send_file(desk, data))
    assert "Dòng 3 (Đàn gia cầm): ô «Giá trị» là công thức (=30000+1000) chưa có giá trị" in text
    await desk.press(confirm, OFFICIAL)
    assert sorted((f.metric, f.value) for f in desk.store.figures()) == [("dan_lon", 620.0), ("trong_rung", 4.0)]


# -- once only ------------------------------------------------------------------------------------------------

async def test_the_same_file_sent_twice_is_written_once(desk):
    rows, _ = five_hundred_rows()
    data = workbook(rows)
    _, first, first_id = preview(await send_file(desk, data))
    _, second, second_id = preview(await send_file(desk, data))  # previewed again before the first is confirmed
    await desk.press(first, OFFICIAL, first_id)
    [again] = texts(await desk.press(second, OFFICIAL, second_id))
    assert "đã được nhập ngày" in again and "so-lieu.xlsx" in again
    # Sent a third time, in another order: recognised at once, no button to press.
    calls = await send_file(desk, workbook(rows[::-1]), name="lan-ba.xlsx")
    [third] = texts(calls)
    assert "đã được nhập ngày" in third and not buttons(calls)
    assert figures(desk) == 480


async def test_a_confirmation_pressed_twice_or_replayed_after_a_restart_writes_once(kb, tmp_path):
    async with Desk(kb, tmp_path / "bot.db") as desk:
        at_now(desk)
        desk.store.set_role(OFFICIAL, "official", "A", ADMIN)
        _, confirm, message_id = preview(await send_file(desk, workbook([["Đàn lợn", 610, "con", None, None]] * 3)))
        [saved] = texts(await desk.press(confirm, OFFICIAL, message_id))
        [again] = texts(await desk.press(confirm, OFFICIAL, message_id))
        assert saved.startswith("Đã lưu 3") and "đã được lưu trước đó" in again
    async with Desk(kb, tmp_path / "bot.db") as restarted:
        at_now(restarted)

        async def too_old(params: dict) -> bool:  # the press replayed minutes later: Telegram refuses to answer it
            raise BadRequest("Query is too old and response timeout expired or query id is invalid")

        restarted.api._api_answerCallbackQuery = too_old  # type: ignore[method-assign]
        [replayed] = texts(await restarted.press(confirm, OFFICIAL, message_id))
        assert "đã được lưu trước đó" in replayed
        assert figures(restarted) == 3


async def test_cancel_writes_nothing_and_a_later_confirm_says_so(desk):
    _, confirm, message_id = preview(await send_file(desk, workbook([["Đàn lợn", 610, "con", None, None]])))
    [cancelled] = texts(await desk.press("ix:" + confirm.removeprefix("im:"), OFFICIAL, message_id))
    assert "Đã hủy" in cancelled
    [late] = texts(await desk.press(confirm, OFFICIAL, message_id))
    assert "đã bị hủy" in late and figures(desk) == 0


# -- who may ------------------------------------------------------------------------------------------------

async def test_only_officials_import_and_confirm_checked_at_each_step(desk):
    data = workbook([["Đàn lợn", 610, "con", None, None]])
    calls = await send_file(desk, data, user=CITIZEN)
    assert [REFUSED in t for t in texts(calls)] == [True] and not buttons(calls)
    assert "download" not in [c["method"] for c in calls], "a stranger's file is not even downloaded"
    assert desk.store.audit_log(1)[0]["action"] == "import" and not desk.store.audit_log(1)[0]["allowed"]

    _, confirm, message_id = preview(await send_file(desk, data))
    [stranger] = texts(await desk.press(confirm, CITIZEN, message_id))
    [colleague] = texts(await desk.press(confirm, OFFICIAL2, message_id))
    assert REFUSED in stranger and "cán bộ khác" in colleague and figures(desk) == 0
    desk.store.set_role(OFFICIAL, None, None, ADMIN)  # removed between the preview and the confirmation
    [removed] = texts(await desk.press(confirm, OFFICIAL, message_id))
    [by_admin] = texts(await desk.press(confirm, ADMIN, message_id))
    assert REFUSED in removed and "không còn là cán bộ" in by_admin and figures(desk) == 0


# -- files that cannot be read --------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "mime", "content", "wanted"), [
    ("so-lieu.csv", "text/csv", b"Chi so,Gia tri\nDan lon,610\n", "chỉ đọc được tệp Excel <b>.xlsx</b>"),
    ("so-lieu.xls", "application/vnd.ms-excel", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "«Lưu thành» .xlsx"),
    ("so-lieu.xlsx", XLSX, b"this is not a workbook", "chỉ đọc được tệp Excel"),
    ("so-lieu.xlsx", XLSX, b"PK\x03\x04 broken zip", "chỉ đọc được tệp Excel"),
    ("bao-cao.xlsx", XLSX, None, "Không tìm thấy dòng tiêu đề"),
    ("so-lieu.xlsx", XLSX, "bad rows", "Không có dòng nào hợp lệ"),
])
async def test_a_file_that_cannot_be_imported_gets_a_polite_message(desk, name, mime, content, wanted):
    if content is None:
        content = workbook([["x", 1]], headers=["Tên", "Số"])
    elif content == "bad rows":
        content = workbook([["Trồng rừng mới", "1.5", "ha", None, None], ["Sông núi", 3, None, None, None]])
    calls = await send_file(desk, content, name=name, mime=mime)
    [text] = texts(calls)
    assert wanted in text and not buttons(calls) and desk.pending_count() == 0
    if content and "dòng nào" in wanted:
        assert "Dòng 2 (Trồng rừng mới · 1.5)" in text and "Dòng 3 (Sông núi · 3)" in text


async def test_a_file_too_big_is_refused_before_it_is_downloaded(desk):
    calls = await send_file(desk, b"PK\x03\x04", file_size=MAX_BYTES + 1)
    [text] = texts(calls)
    assert "Tệp lớn quá (tối đa 2 MB)" in text and "download" not in [c["method"] for c in calls]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 50_000_000 + b">")
    assert len(buffer.getvalue()) < MAX_BYTES
    with pytest.raises(NotAWorkbook) as err:
        read_batch(buffer.getvalue(), Registry.load(), dt.date(2024, 3, 5))
    assert err.value.reason == "too_big"


async def test_a_citizens_other_files_are_handled_as_before(desk):
    [nontext] = texts(await send_file(desk, b"%PDF-1.4", user=CITIZEN, name="don.pdf", mime="application/pdf"))
    assert nontext == "Tôi chỉ đọc được tin nhắn chữ. Bạn hãy gõ câu hỏi nhé."


def test_dates_before_the_plans_year_are_refused(tmp_path: Path):
    batch = read_batch(workbook([["Đàn lợn", 610, "con", None, "31/12/2023"], ["Đàn lợn", 610, "con", None,
                                                                                dt.datetime(2024, 1, 1)]]),
                       Registry.load(), dt.date(2024, 3, 5))
    assert [(r.row, r.reason) for r in batch.refused] == [(2, "import.before_year")]
    assert [r.day for r in batch.accepted] == ["2024-01-01"]


async def test_the_file_sent_again_with_its_refused_rows_fixed_writes_only_those(desk):
    rows, reasons = five_hundred_rows()
    _, confirm, message_id = preview(await send_file(desk, workbook(rows)))
    await desk.press(confirm, OFFICIAL, message_id)
    fixed = [row if n not in reasons else ["Đàn gia cầm", 30_000 + n, "con", None, None]
             for n, row in enumerate(rows, start=2)]
    text, confirm, message_id = preview(await send_file(desk, workbook(fixed), name="da-sua.xlsx"))
    assert "Đọc 500 dòng: <b>20</b> dòng hợp lệ sẽ được lưu, <b>0</b> dòng bị từ chối" in text
    assert "480 dòng đã được nhập trước đó" in text
    [saved] = texts(await desk.press(confirm, OFFICIAL, message_id))
    assert saved == "Đã lưu 20 số liệu từ «da-sua.xlsx»."
    assert figures(desk) == 500
    # Two equal rows in one file are two figures (the second half of a day's planting), not one.
    _, confirm, _ = preview(await send_file(desk, workbook([["Trồng rừng mới", 0.7, "ha", "Nà Va", None]] * 2)))
    await desk.press(confirm, OFFICIAL)
    assert figures(desk) == 502


async def test_a_level_dated_before_the_figure_already_logged_is_kept_as_history(desk):
    _, confirm, _ = preview(await send_file(desk, workbook([["Đàn lợn", 610, "con", None, "04/03/2024"]])))
    await desk.press(confirm, OFFICIAL)
    text, _, _ = preview(await send_file(desk, workbook([["Đàn lợn", 600, "con", None, "01/03/2024"],
                                                          ["Trồng rừng mới", 1, "ha", None, "01/03/2024"]])))
    assert ("Dòng 2: ngày cũ hơn số đã ghi cho chỉ số (và thôn) đó; sẽ được lưu làm số liệu lịch sử, không thay đổi"
            " số hiện tại.") in text, "a cumulative figure (row 3) is never stale"
    assert "Đàn lợn: 610 con" in text, text  # the 4 March figure stays the current one


async def test_an_english_speaking_official_gets_english_headers_and_they_are_read_back(desk):
    desk.store.set_user_lang(OFFICIAL, "en")
    [(name, content)] = uploads(await desk.say("/template", OFFICIAL)).items()
    assert name == "figures-template.xlsx"
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Figures", "Lists", "Guide"]
    assert [c.value for c in book["Figures"][1]] == ["Metric", "Value", "Unit", "Village", "Date", "Note"]
    book["Figures"].append(["Đàn lợn", "1.105", None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    text, confirm, _ = preview(await send_file(desk, buffer.getvalue()))
    assert "1 rows read: <b>1</b> valid rows will be saved" in text and "example row(s) left out" in text
    [saved] = texts(await desk.press(confirm, OFFICIAL))
    assert saved == "Saved 1 figures from «so-lieu.xlsx»." and desk.store.figures()[0].value == 1105


async def test_a_preview_survives_a_restart_and_is_confirmed_after_it(kb, tmp_path):
    async with Desk(kb, tmp_path / "bot.db") as desk:
        at_now(desk).store.set_role(OFFICIAL, "official", "A", ADMIN)
        _, confirm, message_id = preview(await send_file(desk, workbook([["Đàn lợn", 610, "con", None, None]])))
    async with Desk(kb, tmp_path / "bot.db") as restarted:
        at_now(restarted)
        [saved] = texts(await restarted.press(confirm, OFFICIAL, message_id))
        assert saved.startswith("Đã lưu 1") and figures(restarted) == 1
