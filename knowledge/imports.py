"""A batch of figures from a spreadsheet: the template /mau sends, and reading one sent back filled in.

One row per figure (chỉ số, giá trị, đơn vị, thôn, ngày). Every row is checked the way a typed /capnhat is
(``Registry.read_fields`` → ``Registry.check``: one place for what a valid update is); this module only
reads the cells: their types, dates, and formulas. A formula is never evaluated: the value the spreadsheet
program cached when it saved the file is read (openpyxl ``data_only``), and a formula cell without one is
refused. Nothing here touches Telegram or SQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace

from .figures import FigureRecord
from .i18n import t
from .metrics import Progress, Registry
from .text import fold, format_number

MAX_BYTES = 2_000_000  # a 5,000-row sheet is ~150 kB; Telegram would let a bot download 20 MB
MAX_UNPACKED = 40_000_000  # what the zip may unpack to: a "zip bomb" is refused before it is read
MAX_ROWS = 5_000
DATA_SHEET = "template.sheet_data"
FIELDS = ("metric", "value", "unit", "village", "date", "note")  # the template's columns, in order
XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SPREADSHEET_ENDINGS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
FIRST_LIST_ROW = 2


class NotAWorkbook(Exception):
    """The file cannot be read as a batch at all; ``reason`` names why (a locale key under "import.")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ImportRecord:
    """A confirmed batch, as the store keeps it."""

    id: int
    digest: str
    request: str
    user_id: int | None
    file_name: str | None
    rows: int
    refused: int
    created_at: float


@dataclass(frozen=True)
class ImportRow:
    """An accepted row: what the store writes, in the metric's unit, with the day the figure is for."""

    row: int
    metric: str
    value: float | None
    status: str | None
    unit: str
    village: str | None
    day: str  # ISO date
    raw: str
    unusual: bool = False  # far above the target: shown in the preview, written if confirmed
    fingerprint: str = ""  # its content and how many equal rows come before it (see _fingerprinted)
    stale: bool = False  # a level older than the figure logged for it: kept as history, not the current value


@dataclass(frozen=True)
class Refusal:
    """A refused row: ``reason`` is a locale key, ``values`` fill its placeholders."""

    row: int
    reason: str
    values: dict[str, str] = field(default_factory=dict)
    cells: str = ""  # what the row held (its metric and value), to find it in the sheet


@dataclass
class Batch:
    """What a sheet holds: accepted rows (in the order of their day, then row), refused rows with reasons."""

    sheet: str
    rows: int = 0  # data rows read (blank rows and the template's example not counted)
    examples: int = 0  # the template's example rows, left out
    accepted: list[ImportRow] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def digest(self) -> str:
        """A hash of the accepted rows' content, independent of their order and row numbers: the same
        figures sent twice (the same file, or its rows sorted differently) are recognised and not written
        twice."""
        canonical = sorted(json.dumps([r.metric, r.value, r.status, r.unit, r.village, r.day], ensure_ascii=False)
                           for r in self.accepted)
        return hashlib.sha256("\n".join(canonical).encode()).hexdigest()

    def to_payload(self, rows: list[ImportRow] | None = None) -> list[dict]:
        return [asdict(r) for r in (self.accepted if rows is None else rows)]


@dataclass(frozen=True)
class ImportOutcome:
    """What a confirmation did: ``written`` rows now, ``skipped`` rows found in the log already (an earlier
    import wrote them), ``again`` when this very preview had been confirmed before; ``record`` the batch that
    holds these figures (this one, or the earlier one with the same content), if any."""

    record: ImportRecord | None
    written: int
    skipped: int = 0
    again: bool = False


# -- the template ---------------------------------------------------------------------------------------

def template(registry: Registry, lang: str = "vi", today: dt.date | None = None) -> bytes:
    """The workbook to fill in: a data sheet (headers in the official's language, one example row, lists to
    pick the metric and the village from), the metrics with their units and how to write each, the villages,
    and a short guide."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    today = today or dt.date.today()
    book = Workbook()
    data = book.active
    data.title = t(DATA_SHEET, lang)
    lists = book.create_sheet(t("template.sheet_lists", lang))
    guide = book.create_sheet(t("template.sheet_guide", lang))
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")

    data.append([t(f"template.col_{name}", lang) for name in FIELDS])
    example = registry.get("trong_rung") or next((m for m in registry.metrics if m.kind == "number"), None)
    if example is not None:
        data.append([example.name, 12.5, example.unit, registry.villages[0] if registry.villages else None, today,
                     t("template.example_note", lang)])
        data.cell(2, 5).number_format = "DD/MM/YYYY"
        for cell in data[2]:
            cell.font = Font(italic=True, color="808080")
    for cell in data[1]:
        cell.font, cell.fill = bold, header_fill
    for column, width in zip("ABCDEF", (48, 14, 12, 16, 14, 30)):
        data.column_dimensions[column].width = width
    data.freeze_panes = "A2"

    lists.append([t(f"template.list_{name}", lang) for name in ("metric", "unit", "how", "target", "per_village")]
                 + [None, t("template.list_village", lang)])
    for m in registry.metrics:
        if m.kind == "status":
            how = t("template.how_status", lang, values=", ".join(m.values))
        else:
            how = t("template.how_add" if m.cumulative else "template.how_total", lang)
        target = m.target_text or m.target_value or (format_number(m.target) if m.target is not None else "")
        lists.append([m.name, m.unit, how, target, t("template.yes", lang) if m.per_village else ""])
    for n, village in enumerate(registry.villages, start=FIRST_LIST_ROW):
        lists.cell(n, 7, village)
    for cell in lists[1]:
        cell.font, cell.fill = bold, header_fill
    for column, width in zip("ABCDEFG", (52, 10, 44, 22, 10, 2, 16)):
        lists.column_dimensions[column].width = width
    lists.freeze_panes = "A2"

    quoted = "'" + lists.title.replace("'", "''") + "'"
    last_metric = FIRST_LIST_ROW + len(registry.metrics) - 1
    metric_list = DataValidation(type="list", formula1=f"={quoted}!$A${FIRST_LIST_ROW}:$A${last_metric}",
                                 allow_blank=True, showErrorMessage=True,
                                 errorTitle=t("template.col_metric", lang), error=t("template.pick_metric", lang))
    metric_list.add(f"A2:A{MAX_ROWS + 1}")
    data.add_data_validation(metric_list)
    if registry.villages:
        last_village = FIRST_LIST_ROW + len(registry.villages) - 1
        village_list = DataValidation(type="list", formula1=f"={quoted}!$G${FIRST_LIST_ROW}:$G${last_village}",
                                      allow_blank=True, showErrorMessage=True,
                                      errorTitle=t("template.col_village", lang),
                                      error=t("template.pick_village", lang))
        village_list.add(f"D2:D{MAX_ROWS + 1}")
        data.add_data_validation(village_list)
    dates = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                           showErrorMessage=True, errorTitle=t("template.col_date", lang),
                           error=t("template.pick_date", lang))
    dates.add(f"E2:E{MAX_ROWS + 1}")
    data.add_data_validation(dates)

    guide.column_dimensions["A"].width = 110
    for n, line in enumerate(t("template.guide", lang).split("\n"), start=1):
        guide.cell(n, 1, line).alignment = Alignment(wrap_text=True)
    guide.cell(1, 1).font = Font(bold=True, size=13)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# -- reading a filled-in sheet ----------------------------------------------------------------------

def looks_like_spreadsheet(file_name: str | None, mime_type: str | None) -> bool:
    """Any spreadsheet an official may send (so a .xls or .csv is told to be saved as .xlsx)."""
    return (file_name or "").lower().endswith(SPREADSHEET_ENDINGS) or "spreadsheet" in (mime_type or "") \
        or "excel" in (mime_type or "")


def is_xlsx(file_name: str | None, mime_type: str | None) -> bool:
    return (file_name or "").lower().endswith((".xlsx", ".xlsm")) or (mime_type or "") in XLSX_TYPES


def read_batch(data: bytes, registry: Registry, today: dt.date) -> Batch:
    """Every row of the data sheet, accepted or refused with its reason. NotAWorkbook when the file is not
    an .xlsx, too big, has no header row or too many rows."""
    values_book, formulas_book = _open(data)
    try:
        values = _data_sheet(values_book)
        batch = Batch(sheet=values.title)
        written = formulas_book[values.title].iter_rows(values_only=True) if formulas_book else itertools.repeat(None)
        rows = zip(values.iter_rows(values_only=True), written)
        columns, header_row = _header(rows)
        if columns is None:
            raise NotAWorkbook("no_header")
        start = registry.year and dt.date(int(registry.year), 1, 1)
        for number, (cached, written) in enumerate(rows, start=header_row + 1):
            cells = {name: (_at(cached, i), _at(written, i)) for name, i in columns.items()}
            if all(_blank(v) and _blank(f) for v, f in cells.values()):
                continue
            if fold(str(cells.get("note", (None, None))[0] or "")).startswith(_EXAMPLE):
                batch.examples += 1
                continue
            batch.rows += 1
            if batch.rows > MAX_ROWS:
                raise NotAWorkbook("too_many_rows")
            outcome = _row(registry, number, cells, today, start or None)
            if isinstance(outcome, Refusal):
                shown = [_shown(cells[n][0]) for n in ("metric", "value") if n in cells and not _blank(cells[n][0])]
                batch.refused.append(replace(outcome, cells=" · ".join(shown)))
            else:
                batch.accepted.append(outcome)
    finally:
        values_book.close()
        if formulas_book:
            formulas_book.close()
    batch.accepted.sort(key=lambda r: (r.day, r.row))
    batch.accepted = _fingerprinted(batch.accepted)
    return batch


def _fingerprinted(rows: list[ImportRow]) -> list[ImportRow]:
    """Each row with a hash of its content and of how many rows before it hold the same (the second "0,5 ha
    Còn Nàn on 01/03" is another figure than the first). A file sent again after fixing its refused rows holds
    the same fingerprints for the rows already written: those are not written twice."""
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        content = json.dumps([r.metric, r.value, r.status, r.unit, r.village, r.day], ensure_ascii=False)
        seen[content] = seen.get(content, 0) + 1
        digest = hashlib.sha256(f"{content}#{seen[content]}".encode()).hexdigest()[:32]
        out.append(replace(r, fingerprint=digest))
    return out


def mark_stale(registry: Registry, rows: list[ImportRow], figures_of: Callable[[str], list[FigureRecord]],
               day_of: Callable[[FigureRecord], str] | None = None) -> list[ImportRow]:
    """Rows of a level (a herd, a rate, a status: not what adds up) dated before the figure already logged for
    the same metric and village: written, they are history; the newer figure stays the current one (a level
    is its latest figure by the day it is of, ``Registry.standing``). ``day_of``: a logged figure's ISO day
    (by default the registry's, ``Registry.day_of``)."""
    if day_of is None:
        def day_of(f: FigureRecord) -> str:
            return registry.day_of(f).isoformat()

    latest: dict[tuple[str, str | None], str] = {}
    out = []
    for r in rows:
        metric = registry.get(r.metric)
        if metric is None or metric.cumulative:
            out.append(r)
            continue
        key = (r.metric, r.village)
        if key not in latest:
            days = [day_of(f) for f in figures_of(r.metric) if f.live and f.village == r.village]
            latest[key] = max(days, default="")
        out.append(replace(r, stale=r.day < latest[key]))
    return out


def outlook(registry: Registry, rows: list[ImportRow], figures_of: Callable[[str], list[FigureRecord]],
            now: float) -> list[tuple[str, int, Progress]]:
    """(metric name, rows, where it would stand) for each metric the rows touch, in the registry's order; a
    part's whole follows it."""
    pending: dict[str, list[FigureRecord]] = {}
    for n, r in enumerate(rows):
        pending.setdefault(r.metric, []).insert(0, FigureRecord(
            id=(1 << 62) + n, metric=r.metric, value=r.value, status=r.status, unit=r.unit, village=r.village,
            raw=r.raw, user_id=0, user_name=None, created_at=now, as_of=r.day))

    def with_batch(key: str) -> list[FigureRecord]:
        return pending.get(key, []) + figures_of(key)

    out = []
    touched = set(pending)
    wholes = {registry.get(k).part_of for k in touched if registry.get(k) and registry.get(k).part_of}  # type: ignore[union-attr]
    for metric in registry.metrics:
        if metric.key in touched or metric.key in wholes:
            out.append((metric.name, len(pending.get(metric.key, [])), registry.current(metric, with_batch, now)))
    return out


# -- cells ------------------------------------------------------------------------------------------

_EXAMPLE = ("vi du", "example")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a cell's <f> element, with or without a namespace prefix
_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def _open(data: bytes):  # -> (values workbook, formulas workbook)
    from openpyxl import load_workbook

    if len(data) > MAX_BYTES:
        raise NotAWorkbook("too_big")
    if not data.startswith(b"PK\x03\x04"):  # an .xlsx is a zip; .xls, .csv, .ods or a renamed file is not
        raise NotAWorkbook("not_xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise NotAWorkbook("too_big")
            formulas = any(_FORMULA.search(archive.read(name)) for name in archive.namelist()
                           if name.startswith("xl/worksheets/") and name.endswith(".xml"))
        # The cached values, streaming; and, when the sheets hold formulas at all, what was written too (to
        # tell a formula that has no value).
        return (load_workbook(io.BytesIO(data), read_only=True, data_only=True),
                load_workbook(io.BytesIO(data), read_only=True, data_only=False) if formulas else None)
    except NotAWorkbook:
        raise
    # What openpyxl raises on a zip that is not a workbook (an .ods, a .docx, a damaged file).
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError) as err:
        raise NotAWorkbook("not_xlsx") from err
    except Exception as err:  # openpyxl's InvalidFileException and XML parse errors have no common base
        if type(err).__module__.startswith(("openpyxl", "xml")):
            raise NotAWorkbook("not_xlsx") from err
        raise


def _data_sheet(book):  # -> the worksheet holding the rows
    names = {fold(n): n for n in book.sheetnames}
    for lang in ("vi", "en"):
        found = names.get(fold(t(DATA_SHEET, lang)))
        if found:
            return book[found]
    return book[book.sheetnames[0]]


def _header(rows: Iterator[tuple[tuple, tuple]]) -> tuple[dict[str, int] | None, int]:
    """The columns by name, from the first row (within the first ten) that names "chỉ số" and "giá trị"."""
    names = {fold(t(f"template.col_{name}", lang)): name for name in FIELDS for lang in ("vi", "en")}
    for number, (cached, _) in enumerate(rows, start=1):
        found = {}
        for i, cell in enumerate(cached or ()):
            name = names.get(fold(str(cell or "")).strip(" *:"))
            if name and name not in found:
                found[name] = i
        if "metric" in found and "value" in found:
            return found, number
        if number >= 10:
            break
    return None, 0


def _at(row: tuple | None, i: int) -> object:
    return row[i] if row is not None and i < len(row) else None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: object) -> str:
    """A cell as the official sees it, for a reason quoting it."""
    if isinstance(value, float):
        return format_number(value, None)
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()[:60]


def _row(registry: Registry, number: int, cells: dict[str, tuple[object, object]], today: dt.date,
         start: dt.date | None) -> ImportRow | Refusal:
    for name, (cached, written) in cells.items():
        if isinstance(written, str) and written.startswith("=") and cached is None:
            return Refusal(number, "import.formula_without_value", {"cell": t(f"template.col_{name}"),
                                                                    "formula": written[:40]})
    metric_text, value, unit, village = (cells.get(n, (None, None))[0] for n in ("metric", "value", "unit",
                                                                                    "village"))
    if _blank(metric_text):
        return Refusal(number, "import.no_metric")
    if not isinstance(metric_text, str) or not isinstance(unit, str | None) or not isinstance(village, str | None):
        metric_text, unit, village = _shown(metric_text), _shown(unit or ""), _shown(village or "")
    day = _day(cells.get("date", (None, None))[0], today)
    if isinstance(day, Refusal):
        return Refusal(number, day.reason, day.values)
    if day > today:
        return Refusal(number, "import.future_date", {"date": day.strftime("%d/%m/%Y")})
    if start and day < start:
        return Refusal(number, "import.before_year", {"date": day.strftime("%d/%m/%Y"), "year": str(start.year)})
    if isinstance(value, dt.datetime | dt.date):
        return Refusal(number, "update.not_a_number", {"value": _shown(value)})
    parsed = registry.read_fields(str(metric_text), value, str(unit or ""), str(village or ""))
    if parsed.problem == "update.inexact_metric":
        return Refusal(number, "import.inexact_metric", {"metric": _shown(metric_text),
                                                         "choices": "; ".join(m.name for m in parsed.choices[:2])})
    if parsed.choices:
        return Refusal(number, "import.several_metrics", {"metric": _shown(metric_text),
                                                          "choices": "; ".join(m.name for m in parsed.choices)})
    metric = parsed.metric
    assert metric is not None or parsed.problem
    if parsed.unknown_village:
        return Refusal(number, "import.unknown_village", {"village": parsed.unknown_village,
                                                          "choices": ", ".join(parsed.village_choices)})
    if parsed.ambiguous:
        big, small = parsed.ambiguous
        return Refusal(number, "import.ambiguous", {"value": _shown(value), "big": format_number(big),
                                                    "small": format_number(small)})
    if parsed.problem:
        return Refusal(number, parsed.problem, {
            "metric": metric.name if metric else _shown(metric_text), "value": _shown(value),
            "unit": parsed.unit or _shown(unit or ""), "expected": metric.unit if metric else "",
            "limit": format_number(parsed.limit) if parsed.limit else "",
            "values": ", ".join(metric.values) if metric else ""})
    assert metric is not None
    return ImportRow(row=number, metric=metric.key, value=parsed.value, status=parsed.status, unit=metric.unit,
                     village=parsed.village, day=day.isoformat(), raw=parsed.raw[:500], unusual=parsed.unusual)


def _day(value: object, today: dt.date) -> dt.date | Refusal:
    """The day a row's figure is for: a date cell, "dd/mm/yyyy" (or "yyyy-mm-dd") text; blank: today."""
    if _blank(value):
        return today
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20_000 < value < 80_000:
        from openpyxl.utils.datetime import from_excel  # a date cell saved without its date format

        return from_excel(value).date()
    text = str(value).strip()
    try:
        if m := _DATE.fullmatch(text):
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if m := _ISO.fullmatch(text):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:  # 31/02/2024
        pass
    return Refusal(0, "import.bad_date", {"date": _shown(value)})
