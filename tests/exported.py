"""Reading what /xuat and /baocao sent: a file by the start of its name, a CSV or a sheet as rows by header."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet


def named(files: dict[str, bytes], prefix: str, suffix: str) -> bytes:
    """The one file whose name starts with ``prefix`` and ends with ``suffix`` ("so-lieu-", ".csv")."""
    found = [data for name, data in files.items() if name.startswith(prefix) and name.endswith(suffix)]
    assert len(found) == 1, f"{prefix}…{suffix} in {sorted(files)}"
    return found[0]


def csv_header_and_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the Vietnamese right
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data))


def sheet_rows(sheet: Worksheet, header_row: int = 1) -> tuple[list[str], list[dict[str, object]]]:
    """The header and the rows under it, each a {header: the cell's typed value}."""
    rows = list(sheet.iter_rows(min_row=header_row, values_only=True))
    header = [str(h) for h in rows[0]]
    return header, [dict(zip(header, r)) for r in rows[1:]]
