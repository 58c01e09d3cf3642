"""/baocao (issue 12 item 3): a scripted first quarter of 2024 — three officials, villages, undos, figures just
before and just after the quarter — logged through the real bot on a real SQLite file with the store's clock
turned, then the quarter's report read back from the .docx (python-docx) and the .xlsx (openpyxl) and checked
figure by figure against the log. Also: bad arguments, who may ask, an empty period, the chosen language."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook

from knowledge.kb import KnowledgeBase
from knowledge.store import Store

from . import test_officials
from .chat import texts
from .test_officials import ADMIN, CITIZEN, OFFICIAL, OFFICIAL2, PNG, REFUSED, uploads

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICIAL3 = 5005
NAMES = {OFFICIAL: "Nguyễn Văn A", OFFICIAL2: "Hoàng Thị C", OFFICIAL3: "Lò Thị B"}
A, C, B = OFFICIAL, OFFICIAL2, OFFICIAL3
# (local day, who, what they typed after /capnhat — or "undo" for /hoantac and its confirmation)
SCRIPT = [
    ("2023-12-20", A, "trong rung 4 ha"),  # last year's planting: not in 2024's running total
    ("2023-12-20", A, "dan lon 590"),  # a level from before the quarter, replaced within it
    ("2024-01-10", A, "trong rung 10 ha"),
    ("2024-01-15", C, "dan lon 600"),
    ("2024-02-02", C, "trong rung 5 ha"),
    ("2024-02-03", C, "trong rung 100 ha"),
    ("2024-02-03", C, "undo"),  # the 100 ha was a slip
    ("2024-02-10", B, "xi mang gtnt Còn Nàn 26,7 tấn"),
    ("2024-02-20", B, "xi mang gtnt Bản Vàng 12 tấn"),
    ("2024-03-01", A, "ho ngheo 15%"),
    ("2024-03-05", A, "dan lon 612"),
    ("2024-03-06", A, "undo"),  # the herd is back at C's 600
    ("2024-03-10", C, "an ninh dat"),
    ("2024-03-15", B, "trâu 150"),  # a part: the herd becomes 150 + 66 + 11 + 342
    ("2024-03-31", B, "trong rung 2,5 ha"),  # the quarter's last day, late in the evening
    ("2024-04-01", A, "trong rung 7 ha"),  # the next quarter
    ("2024-04-02", A, "dan lon 640"),
]
LATE = {"2024-03-31": 23}  # hour of the day, when not 9 o'clock


class Clock:
    """The scripted time: the store stamps figures, undos and audit lines with it; the bot reads "today" from it."""

    def __init__(self) -> None:
        self.now = dt.datetime(2024, 1, 1, 9, tzinfo=TZ)

    def timestamp(self) -> float:
        return self.now.timestamp()

    def utc(self) -> dt.datetime:
        return self.now.astimezone(dt.UTC)

    def at(self, day: str, hour: int = 9) -> None:
        self.now = dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


@pytest.fixture
async def clocked(staffed):
    """The staffed desk, with a third official, on the scripted clock (no figures yet)."""
    assert "Đã thêm cán bộ" in texts(await staffed.say(f"/canbo them {OFFICIAL3} Lò Thị B", ADMIN))[0]
    clock = Clock()
    staffed.store.clock = clock.timestamp
    staffed.services.clock = clock.utc
    staffed.clock = clock
    return staffed


@pytest.fixture
async def quarter(clocked):
    """The script, played through the bot; then it is the morning of 3 April 2024."""
    for day, who, action in SCRIPT:
        clocked.clock.at(day, LATE.get(day, 9))
        if action == "undo":
            assert (await clocked.undo(who)).startswith("Đã hoàn tác")
        else:
            await clocked.log(action, who, name=NAMES[who])
    clocked.clock.at("2024-04-03", 8)
    return clocked


def report_files(calls: list[dict]) -> tuple[bytes, bytes]:
    files = uploads(calls)
    [docx] = [data for name, data in files.items() if name.endswith(".docx")]
    [xlsx] = [data for name, data in files.items() if name.endswith(".xlsx")]
    return docx, xlsx


def summary_rows(xlsx: bytes) -> tuple[object, dict[str, dict[str, object]]]:
    """The workbook, and the summary sheet's rows by metric name (the table under the title block)."""
    book = load_workbook(io.BytesIO(xlsx))
    sheet = book["Báo cáo"]
    header_row = next(row[0].row for row in sheet.iter_rows() if row[0].value == "STT")
    header = [c.value for c in sheet[header_row]]
    rows = {}
    for cells in sheet.iter_rows(min_row=header_row + 1):
        row = dict(zip(header, cells))
        rows[str(row["Chỉ tiêu"].value).removeprefix("– ")] = row
    return book, rows


def local(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, TZ).replace(tzinfo=None, microsecond=0)


def docx_text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


# Where each logged metric stood at the end of the quarter, worked out by hand from SCRIPT:
# (in the period, at the end of it, share of the target, gap, assessment, the latest figure's day and author,
# live figures logged for it in the period)
EXPECTED = {
    "Trồng rừng mới": (17.5, 17.5, 0.35, 32.5, "Chưa đạt", "2024-03-31", "Lò Thị B", 3),
    "Đàn lợn": (600, 600, 1.0, 0, "Đạt", "2024-01-15", "Hoàng Thị C", 1),
    "Xi măng làm đường giao thông nông thôn đã sử dụng": (38.7, 38.7, None, None, None, "2024-02-20", "Lò Thị B", 2),
    "Tỷ lệ hộ nghèo, cận nghèo (càng thấp càng tốt)": (
        15, 15, (22.31 - 15) / (22.31 - 11.47), 3.53, "Chưa đạt", "2024-03-01", "Nguyễn Văn A", 1),
    "Đàn gia súc (trâu, bò, ngựa, dê)": (569, 569, 569 / 600, 31, "Chưa đạt", "2024-03-15", "Lò Thị B", 1),
    "Đàn trâu": (150, 150, None, None, None, "2024-03-15", "Lò Thị B", 1),
}


async def test_the_quarters_workbook_holds_every_figure_of_the_log_typed(quarter):
    calls = await quarter.say("/baocao quy 1", OFFICIAL)
    names = sorted(uploads(calls))
    assert names == ["bao-cao-quy-1-2024.docx", "bao-cao-quy-1-2024.xlsx"]
    [said] = texts(calls)
    assert said.startswith("<b>Báo cáo quý I năm 2024</b> (số liệu từ 01/01/2024 đến hết 31/03/2024)")
    assert all(c["caption"] for c in calls if c["method"] == "sendDocument")
    book, rows = summary_rows(report_files(calls)[1])
    log = [f for f in quarter.store.figures() if f.live]
    for name, (in_period, standing, share, gap, verdict, day, who, count) in EXPECTED.items():
        row = rows[name]
        assert row["Thực hiện trong kỳ"].value == pytest.approx(in_period), name
        assert row["Đến cuối kỳ"].value == pytest.approx(standing), name
        assert (row["Tỷ lệ đạt"].value is None) == (share is None), name
        if share is not None:
            assert row["Tỷ lệ đạt"].value == pytest.approx(share) and row["Tỷ lệ đạt"].number_format == "0.0%"
        assert row["Còn lại"].value == (None if gap is None else pytest.approx(gap)), name
        assert (row["Đánh giá"].value, row["Người cập nhật"].value, row["Số lần cập nhật trong kỳ"].value) == (
            verdict, who, count), name
        latest = row["Cập nhật lần cuối"].value
        assert isinstance(latest, dt.datetime) and latest.date().isoformat() == day, name
        assert latest in {local(f.created_at) for f in log}  # the date is the logged figure's own
        for cell in (row["Thực hiện trong kỳ"], row["Đến cuối kỳ"]):  # numbers as numbers, with a format
            assert cell.data_type == "n" and cell.number_format in ("#,##0", "#,##0.0##")
    status = rows["An ninh chính trị, trật tự an toàn xã hội"]
    assert (status["Trạng thái"].value, status["Đánh giá"].value, status["Người cập nhật"].value) == (
        "đạt", "Đạt", "Hoàng Thị C")
    silent = [n for n, r in rows.items() if n not in EXPECTED and n != "An ninh chính trị, trật tự an toàn xã hội"]
    assert silent and all(rows[n]["Đến cuối kỳ"].value is None and rows[n]["Số lần cập nhật trong kỳ"].value == 0
                          for n in silent)  # nothing logged: nothing made up
    assert rows["Trồng rừng mới"]["Kế hoạch năm"].value == 50
    assert rows["Đàn lợn"]["Lĩnh vực"].value == "Lĩnh vực kinh tế"

    # The period's figures one by one: exactly the live ones logged inside the quarter, as the log has them.
    start, end = dt.datetime(2024, 1, 1, tzinfo=TZ).timestamp(), dt.datetime(2024, 4, 1, tzinfo=TZ).timestamp()
    inside = sorted((f for f in log if start <= f.created_at < end), key=lambda f: f.id)
    entries = book["Số liệu trong kỳ"]
    header = [c.value for c in entries[1]]
    got = [dict(zip(header, (c.value for c in row))) for row in entries.iter_rows(min_row=2)]
    assert [r["Số TT"] for r in got] == [f.id for f in inside] and len(inside) == 9
    for row, f in zip(got, inside):
        assert row["Thời điểm ghi"] == local(f.created_at) and row["Người ghi"] == f.user_name
        assert row["Giá trị"] == f.value and row["Thôn"] == (f.village or "Toàn xã")
    assert entries.freeze_panes == "A2" and entries.auto_filter.ref.startswith("A1:")
    assert "Biểu đồ" in book.sheetnames and book["Biểu đồ"]._images  # the chart, there too


async def test_the_quarters_word_report_says_each_figure_and_holds_the_chart(quarter):
    docx, _ = report_files(await quarter.say("/baocao quy 1", OFFICIAL))
    document = Document(io.BytesIO(docx))
    header = "\n".join(c.text for c in document.tables[0].rows[0].cells)
    assert "ỦY BAN NHÂN DÂN\nXÃ CAO LÂU" in header and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header
    assert "Cao Lâu, ngày 03 tháng 04 năm 2024" in header
    text = docx_text(document)
    assert "Kết quả thực hiện các chỉ tiêu phát triển kinh tế - xã hội quý I năm 2024" in text
    assert "(Số liệu từ ngày 01/01/2024 đến hết ngày 31/03/2024)" in text
    assert "Trong kỳ có 9 lần cập nhật số liệu của 3 cán bộ (Nguyễn Văn A, Hoàng Thị C, Lò Thị B)." in text
    for sentence in [
        "- Trồng rừng mới: trong kỳ 17,5 ha; lũy kế đến cuối kỳ 17,5 ha / 50 ha, đạt 35 % kế hoạch năm, còn 32,5 ha "
        "(cập nhật 31/03/2024, Lò Thị B).",
        "- Đàn lợn: đến cuối kỳ 600 con / 600 con, đạt 100 % kế hoạch năm (cập nhật 15/01/2024, Hoàng Thị C).",
        "- Xi măng làm đường giao thông nông thôn đã sử dụng: trong kỳ 38,7 tấn; lũy kế đến cuối kỳ 38,7 tấn "
        "(theo thôn: Bản Vàng 12 tấn; Còn Nàn 26,7 tấn) (cập nhật 20/02/2024, Lò Thị B).",
        "- Tỷ lệ hộ nghèo, cận nghèo: đến cuối kỳ 15 % / trần 11,47 %, chưa đạt, còn phải giảm 3,53 %; mới giảm "
        "được 67 % mức cần giảm (cập nhật 01/03/2024, Nguyễn Văn A).",
        "- An ninh chính trị, trật tự an toàn xã hội: đạt (cập nhật 10/03/2024, Hoàng Thị C).",
        "+ Đàn trâu: đến cuối kỳ 150 con (cập nhật 15/03/2024, Lò Thị B).",
    ]:
        assert sentence in text.split("\n"), sentence
    assert "1. Lĩnh vực kinh tế" in text and "Chưa có số liệu: Sản lượng lương thực có hạt" in text
    # the chart: one inline picture, a PNG
    [picture] = document.inline_shapes
    blob = document.part.related_parts[picture._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
    assert blob.startswith(PNG) and len(blob) > 5000
    assert "Tiến độ chỉ tiêu năm 2024 — xã Cao Lâu, đến ngày 31/03/2024" in text
    # the appendix table says what the workbook says
    [table] = [t for t in document.tables if t.rows[0].cells[0].text == "STT"]
    cells = {row.cells[1].text: [c.text for c in row.cells] for row in table.rows[1:]}
    forest = cells["Trồng rừng mới"]
    header = [c.text for c in table.rows[0].cells]
    assert [dict(zip(header, forest))[k] for k in ("Kế hoạch năm", "Thực hiện trong kỳ", "Đến cuối kỳ",
                                                   "Tỷ lệ đạt", "Còn lại", "Đánh giá", "Người cập nhật")] == [
        "50", "17,5", "17,5", "35 %", "32,5", "Chưa đạt", "Lò Thị B"]
    assert document.sections[-1].page_width > document.sections[-1].page_height  # the wide table lies landscape


async def test_the_next_quarter_adds_up_the_year_and_leaves_the_first_behind(quarter):
    _, rows = summary_rows(report_files(await quarter.say("/baocao quy 2/2024", OFFICIAL))[1])
    forest, pigs = rows["Trồng rừng mới"], rows["Đàn lợn"]
    assert (forest["Thực hiện trong kỳ"].value, forest["Đến cuối kỳ"].value) == (7, 24.5)  # 17,5 before + 7
    assert (pigs["Thực hiện trong kỳ"].value, pigs["Đến cuối kỳ"].value) == (640, 640)
    assert rows["Đàn trâu"]["Thực hiện trong kỳ"].value is None and rows["Đàn trâu"]["Đến cuối kỳ"].value == 150
    _, year = summary_rows(report_files(await quarter.say("/baocao nam 2024", OFFICIAL))[1])
    assert year["Trồng rừng mới"]["Thực hiện trong kỳ"].value == 24.5  # not December 2023's 4 ha


async def test_no_period_given_is_the_one_running_today(quarter):
    calls = await quarter.say("/baocao", OFFICIAL)  # 3 April 2024: this month
    assert sorted(uploads(calls)) == ["bao-cao-thang-04-2024.docx", "bao-cao-thang-04-2024.xlsx"]
    calls = await quarter.say("/report quy", OFFICIAL)  # the English alias, the running quarter
    assert sorted(uploads(calls)) == ["bao-cao-quy-2-2024.docx", "bao-cao-quy-2-2024.xlsx"]


async def test_a_period_without_figures_still_gives_a_report_that_says_so(clocked):
    calls = await clocked.say("/baocao quy 1 2024", OFFICIAL)
    [said] = texts(calls)
    assert "Trong quý I năm 2024 chưa có số liệu nào được cập nhật" in said
    docx, xlsx = report_files(calls)
    document = Document(io.BytesIO(docx))
    text = docx_text(document)
    assert "Trong quý I năm 2024 chưa có số liệu nào được cập nhật" in text
    assert "Chưa có chỉ tiêu nào có số liệu để vẽ biểu đồ" in text and not document.inline_shapes
    book, rows = summary_rows(xlsx)
    assert rows and all(r["Đến cuối kỳ"].value is None for r in rows.values())
    assert "chưa có số liệu nào" in str(book["Số liệu trong kỳ"]["A2"].value)


@pytest.mark.parametrize(("args", "says"), [
    ("quy 7", "Kỳ «7» không có: kỳ này đánh số từ 1 đến 4."),
    ("abc", "Tôi chưa hiểu kỳ báo cáo «abc»"),
    ("thang 13", "kỳ này đánh số từ 1 đến 12"),
    ("nam hai", "Năm «hai» không hợp lệ"),
    ("quy 1 24", "Năm «24» không hợp lệ"),
])
async def test_bad_arguments_get_a_polite_message_with_the_usage(clocked, args, says):
    calls = await clocked.say(f"/baocao {args}", OFFICIAL)
    [text] = texts(calls)
    assert says in text and "Cách dùng: /baocao [thang|quy|6thang|nam] [kỳ]" in text
    assert not [c for c in calls if c["method"] == "sendDocument"]


async def test_only_officials_may_ask_checked_when_they_ask(clocked):
    calls = await clocked.say("/baocao quy 1", CITIZEN)
    assert [REFUSED in t for t in texts(calls)] == [True]
    assert not [c for c in calls if c["method"] == "sendDocument"]
    assert (CITIZEN, "baocao", 0) in [(r["user_id"], r["action"], r["allowed"]) for r in clocked.store.audit_log()]
    assert uploads(await clocked.say("/baocao quy 1", OFFICIAL2))  # an official, now
    await clocked.say(f"/canbo xoa {OFFICIAL2}", ADMIN)
    calls = await clocked.say("/baocao quy 1", OFFICIAL2)  # removed since: refused at once
    assert [REFUSED in t for t in texts(calls)] == [True] and not uploads(calls)


async def test_the_report_is_in_the_officials_language(quarter):
    quarter.store.set_user_lang(OFFICIAL, "en")
    calls = await quarter.say("/report quy 1", OFFICIAL)
    assert texts(calls)[0].startswith("<b>Report for Q1 2024</b>")
    docx, xlsx = report_files(calls)
    text = docx_text(Document(io.BytesIO(docx)))
    assert "REPORT" in text and "Progress of the socio-economic development targets, Q1 2024" in text
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames[:2] == ["Report", "Figures in the period"]


async def test_the_menu_of_an_official_offers_the_report(desk):
    await desk.say(f"/canbo them {OFFICIAL} Nguyễn Văn A", ADMIN)
    [menu] = [c.params for c in desk.api.sent("setMyCommands")]
    assert "baocao" in {c["command"] for c in menu["commands"]}


@pytest.fixture(scope="module")
def kb_cut_on_the_14th(tmp_path_factory, plan_path):
    """The plan with a commune folder whose commune.yaml sets report_cutoff: 14 (Nghị định 09/2019's rhythm)."""
    folder = tmp_path_factory.mktemp("commune")
    data = Path(plan_path).parent
    for name in ("metrics.yaml", "faq.yaml", plan_path.name):
        shutil.copy(data / name, folder / name)
    (folder / "commune.yaml").write_text((data / "commune.yaml").read_text(encoding="utf-8").replace(
        "\nreport_cutoff:\n", "\nreport_cutoff: 14\n"), encoding="utf-8")
    kb, _ = KnowledgeBase.open(Store(folder / "kb.db"), [folder / plan_path.name], data_dir=folder)
    assert kb.commune.get("report_cutoff") == 14
    return kb


async def test_the_cut_off_day_in_commune_yaml_decides_the_period(kb_cut_on_the_14th, tmp_path):
    async with test_officials.Desk(kb_cut_on_the_14th, tmp_path / "bot.db") as office:
        await office.say(f"/canbo them {OFFICIAL} Nguyễn Văn A", ADMIN)
        clock = Clock()
        office.store.clock, office.services.clock = clock.timestamp, clock.utc
        for day, text in (("2023-12-16", "trong rung 1 ha"), ("2024-03-14", "trong rung 2 ha"),
                          ("2024-03-15", "trong rung 4 ha")):
            clock.at(day)
            await office.log(text, OFFICIAL, name="Nguyễn Văn A")
        clock.at("2024-03-20")
        first = await office.say("/baocao quy 1", OFFICIAL)
        assert "(số liệu từ 15/12/2023 đến hết 14/03/2024)" in texts(first)[0]
        _, rows = summary_rows(report_files(first)[1])
        assert rows["Trồng rừng mới"]["Thực hiện trong kỳ"].value == 3  # 16 December and 14 March, not the 15th
        second = await office.say("/baocao quy", OFFICIAL)  # 20 March is already in the second quarter
        assert "(số liệu từ 15/03/2024 đến hết 14/06/2024)" in texts(second)[0]
        _, rows = summary_rows(report_files(second)[1])
        assert (rows["Trồng rừng mới"]["Thực hiện trong kỳ"].value, rows["Trồng rừng mới"]["Đến cuối kỳ"].value) == (
            4, 7)
