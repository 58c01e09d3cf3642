"""How long a spreadsheet of figures takes: reading and checking it, and writing it on confirmation.

What it measures: ``knowledge.imports.read_batch`` on a workbook of N rows (one bad row in 25, the kinds the
tests use: an ambiguous "1.5", an unknown metric, a wrong unit, a bad date), and ``Store.confirm_import`` of
the accepted rows on a fresh SQLite file (one transaction, each row audited), for N = 500 and 5,000 (the
largest sheet accepted). The preview's other work (where each metric will stand) reads the database once per
metric touched and is small beside these. Printed: the time of each step and the accepted/refused counts.

    python3 bench/imports.py
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

from knowledge.imports import read_batch  # noqa: E402
from knowledge.metrics import Registry  # noqa: E402
from knowledge.store import Store  # noqa: E402

GOOD = [["Trồng rừng mới", 0.5, "ha", "Còn Nàn", dt.date(2024, 3, 1)],
        ["Xi măng làm đường giao thông nông thôn đã sử dụng", "3", "tạ", "Nà Va", None],
        ["Đàn lợn", "610", "con", None, "04/03/2024"],
        ["Phổ cập giáo dục mầm non trẻ em 5 tuổi", "đạt", None, None, None]]
BAD = [["Trồng rừng mới", "1.5", "ha", None, None], ["Sông núi", 5, None, None, None],
       ["Trồng rừng mới", 5, "tấn", None, None], ["Đàn lợn", 5, None, None, "31/02/2024"]]


def workbook(rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Số liệu"
    sheet.append(["Chỉ số", "Giá trị", "Đơn vị", "Thôn", "Ngày"])
    for n in range(rows):
        sheet.append(BAD[n % len(BAD)] if n % 25 == 7 else GOOD[n % len(GOOD)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def main() -> None:
    registry = Registry.load()
    for rows in (500, 5000):
        data = workbook(rows)
        started = time.perf_counter()
        batch = read_batch(data, registry, dt.date(2024, 3, 5))
        read_ms = (time.perf_counter() - started) * 1000
        with tempfile.TemporaryDirectory() as folder:
            store = Store(Path(folder) / "bench.db")
            token = secrets.token_hex(8)
            store.open_pending(token, 1, {"import": {"file": "bench.xlsx", "digest": batch.digest,
                                                     "refused": len(batch.refused), "rows": batch.to_payload()}})
            started = time.perf_counter()
            outcome = store.confirm_import(token, "bench")
            write_ms = (time.perf_counter() - started) * 1000
            store.close()
        print(f"{rows:>5} rows ({len(data) // 1024} kB): read and checked in {read_ms:.0f} ms "
              f"({len(batch.accepted)} accepted, {len(batch.refused)} refused); "
              f"written in one transaction in {write_ms:.0f} ms ({outcome.written} figures, each audited)")


if __name__ == "__main__":
    main()
