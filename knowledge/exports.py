"""Files a person keeps: /xuat's figures, audit log and taught answers as one workbook and CSVs of the same shape.

Headers in the user's language, metric names (not keys), dates as dates and numbers as numbers with formats,
column widths, a bold frozen header row with filters, each figure beside its target and the share it stood at;
the audit log read out (not JSON). Every text cell is inert: a spreadsheet shows it and runs nothing.
The typed table and its writers are shared with the period report (knowledge/reports.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .figures import FigureRecord
from .i18n import DEFAULT_LANG, keys, t
from .metrics import Metric, Progress, Registry, replace_parts
from .text import format_number
from .tickets import Ticket

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "dd/mm/yyyy hh:mm"
CSV_DATE = "%d/%m/%Y %H:%M"


def inert(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (a taught answer or a Telegram name starting with
    "=", "+", "-", "@") gets a leading quote, OWASP's advice for CSV injection: it is shown, never run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    """One column: its header, its width in characters, and what its cells hold (text, number, integer,
    percent as a fraction of 1, datetime in local time)."""

    title: str
    width: float = 14
    kind: str = "text"


@dataclass
class Table:
    """A sheet (and a CSV) of typed cells: numbers stay numbers and dates stay dates until a writer formats them."""

    name: str
    columns: list[Column]
    rows: list[list[object]] = field(default_factory=list)


def number_format(value: float) -> str:
    """Whole numbers with thousands, others with up to three decimals (12,5 not 12,500)."""
    return "#,##0" if float(value).is_integer() else "#,##0.0##"


def csv_text(value: object, kind: str) -> str:
    """A cell as the CSV writes it: the same shape as the workbook, dates and shares written out."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime(CSV_DATE)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if kind == "percent":
            return f"{round(float(value) * 100, 1):g}%"
        return str(int(value)) if float(value).is_integer() else repr(round(float(value), 6))
    return str(inert(value))


def csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_text(v, c.kind) for v, c in zip(row, table.columns)])
    return buffer.getvalue().encode("utf-8-sig")  # -sig: Excel reads Vietnamese right


LINE_HEIGHT = 15  # points per line of 11-point text


def lines_in(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (a spreadsheet does not grow a row
    for wrapped text written by a program, so the writer sets the height itself)."""
    return max(1, math.ceil(len(text) / max(1.0, width - 1)))


def write_sheet(sheet: object, table: Table, header_row: int = 1) -> None:
    """The table into an openpyxl sheet from ``header_row``: bold frozen header with filters, widths, formats,
    rows tall enough for their wrapped text, and a landscape page one sheet wide when printed."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for col, column in enumerate(table.columns, start=1):
        cell = sheet.cell(header_row, col, column.title)  # type: ignore[attr-defined]
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(col)].width = column.width  # type: ignore[attr-defined]
    sheet.row_dimensions[header_row].height = LINE_HEIGHT * max(  # type: ignore[attr-defined]
        lines_in(c.title, c.width) for c in table.columns)
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    for r, row in enumerate(table.rows, start=header_row + 1):
        tallest = 1
        for col, (value, column) in enumerate(zip(row, table.columns), start=1):
            cell = sheet.cell(r, col, inert(value))  # type: ignore[attr-defined]
            cell.alignment = top
            if isinstance(value, dt.datetime):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, int | float) and not isinstance(value, bool):
                cell.number_format = "0.0%" if column.kind == "percent" else number_format(value)
            elif isinstance(value, str) and len(value) > column.width - 1:
                cell.alignment = wrap
                tallest = max(tallest, lines_in(value, column.width))
        if tallest > 1:
            sheet.row_dimensions[r].height = LINE_HEIGHT * min(tallest, 12)  # type: ignore[attr-defined]
    last = get_column_letter(len(table.columns))
    sheet.freeze_panes = f"A{header_row + 1}"  # type: ignore[attr-defined]
    sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(1, len(table.rows))}"  # type: ignore[attr-defined]
    sheet.print_title_rows = f"{header_row}:{header_row}"  # type: ignore[attr-defined]
    sheet.page_setup.orientation = "landscape"  # type: ignore[attr-defined]
    sheet.page_setup.paperSize = 9  # type: ignore[attr-defined]  # A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0  # type: ignore[attr-defined]
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)  # type: ignore[attr-defined]


def workbook_bytes(tables: Sequence[Table]) -> bytes:
    from openpyxl import Workbook  # imported when asked: most runs never export

    book = Workbook()
    for n, table in enumerate(tables):
        sheet = book.active if n == 0 else book.create_sheet()
        sheet.title = table.name[:31]
        write_sheet(sheet, table)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def local(timestamp: float | None, tz: str) -> dt.datetime | None:
    """A timestamp as the commune's wall-clock time, without a zone (a spreadsheet has none)."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, ZoneInfo(tz)).replace(tzinfo=None, microsecond=0)


# -- /xuat ---------------------------------------------------------------------------------------------

def standings(registry: Registry, figures: Sequence[FigureRecord]) -> dict[int, tuple[float | None, float | None]]:
    """{figure id: (where its metric stood right after it, the share of the target then)} for live figures.

    Read in one pass, oldest first, by the rules of Registry.progress for the figure's own metric (its parts
    aside): a cumulative figure's running total; a level's latest commune-wide figure, or the sum of each
    village's latest when one was logged after it. Recomputing the whole progress at every figure was
    quadratic: 3,000 figures took seconds."""
    out: dict[int, tuple[float | None, float | None]] = {}
    total: dict[str, float] = {}
    commune: dict[str, tuple[float, float]] = {}  # metric → (latest commune-wide figure, when)
    villages: dict[str, dict[str, tuple[float, float]]] = {}  # metric → village → (its latest figure, when)
    for f in sorted(figures, key=lambda f: (f.created_at, f.id)):
        metric = registry.get(f.metric)
        if not f.live or metric is None or metric.kind == "status" or f.value is None:
            continue
        value = float(f.value)
        if metric.cumulative:
            standing = total[f.metric] = total.get(f.metric, 0.0) + value
        else:
            if f.village:
                villages.setdefault(f.metric, {})[f.village] = (value, f.created_at)
            else:
                commune[f.metric] = (value, f.created_at)
            own, latest = commune.get(f.metric), villages.get(f.metric, {})
            if own is not None and (not latest or own[1] >= max(at for _, at in latest.values())):
                standing = own[0]
            else:
                standing = sum(v for v, _ in latest.values())
        percent = Progress(replace_parts(metric), standing, None, f.created_at, 1, {}).percent
        out[f.id] = (round(standing, 6), percent / 100 if percent is not None else None)
    return out


def figures_table(registry: Registry, figures: Sequence[FigureRecord], names: Mapping[int, str], lang: str,
                  tz: str) -> Table:
    """Each logged figure with its metric's name, its target and where it left the metric (undone ones kept)."""
    columns = [Column(t("export.col_id", lang), 7, "int"), Column(t("export.col_logged_at", lang), 17, "datetime"),
               Column(t("export.col_metric", lang), 44), Column(t("export.col_village", lang), 14),
               Column(t("export.col_value", lang), 13, "number"), Column(t("export.col_status", lang), 14),
               Column(t("export.col_unit", lang), 9), Column(t("export.col_standing", lang), 15, "number"),
               Column(t("export.col_target", lang), 14, "number"), Column(t("export.col_percent", lang), 11, "percent"),
               Column(t("export.col_by", lang), 22), Column(t("export.col_by_id", lang), 13, "int"),
               Column(t("export.col_raw", lang), 34), Column(t("export.col_undone_at", lang), 17, "datetime"),
               Column(t("export.col_undone_by", lang), 22)]
    standing = standings(registry, figures)
    rows = []
    for f in figures:
        metric = registry.get(f.metric)
        after, share = standing.get(f.id, (None, None))
        rows.append([f.id, local(f.created_at, tz), metric.name if metric else f.metric,
                     f.village or t("export.whole_commune", lang), f.value if f.status is None else None, f.status,
                     f.unit or (metric.unit if metric else None) or None, after,
                     metric.target if metric else None, share, f.user_name or names.get(f.user_id), f.user_id,
                     f.raw, local(f.undone_at, tz),
                     (names.get(f.undone_by) or str(f.undone_by)) if f.undone_by is not None else None])
    return Table(t("export.sheet_figures", lang), columns, rows)


def audit_table(registry: Registry, audit: Iterable[Mapping[str, object]], figures: Mapping[int, FigureRecord],
                names: Mapping[int, str], lang: str, tz: str) -> Table:
    columns = [Column(t("export.col_id", lang), 7, "int"), Column(t("export.col_at", lang), 17, "datetime"),
               Column(t("export.col_who", lang), 22), Column(t("export.col_by_id", lang), 13, "int"),
               Column(t("export.col_action", lang), 26), Column(t("export.col_detail", lang), 60),
               Column(t("export.col_allowed", lang), 11)]
    rows = []
    for row in audit:
        user = row.get("user_id")
        user_id = int(user) if isinstance(user, int) else None
        allowed = bool(row.get("allowed"))
        action = str(row.get("action") or "")
        rows.append([row.get("id"), local(row.get("at"), tz),  # type: ignore[arg-type]
                     names.get(user_id) if user_id is not None else None, user_id,
                     action_label(action, allowed, lang),
                     audit_detail(registry, action, str(row.get("detail") or ""), figures, lang),
                     t("export.yes" if allowed else "export.no", lang)])
    return Table(t("export.sheet_audit", lang), columns, rows)


def action_label(action: str, allowed: bool, lang: str) -> str:
    """"Ghi số liệu", "Hoàn tác số liệu", "Từ chối /xuat" — not "figure", "undo", "xuat"."""
    if not allowed:
        return t("audit.refused", lang, command="/" + action.split(":")[0])
    key = "audit." + re.sub(r"[^a-z0-9]+", "_", action.lower())
    return t(key, lang) if key in keys(DEFAULT_LANG) else action


def audit_detail(registry: Registry, action: str, detail: str, figures: Mapping[int, FigureRecord], lang: str) -> str:
    """The audit line's detail in words: a figure's payload as "metric: value unit (village) «typed»", an undo
    as the figure it undid, a refusal's reason in the user's language."""
    if action == "figure":
        try:
            payload = json.loads(detail)
        except ValueError:
            return detail
        metric = registry.get(str(payload.get("metric")))
        return figure_words(metric, payload.get("metric"), payload.get("value"), payload.get("status"),
                            payload.get("unit"), payload.get("village"), payload.get("raw"), lang)
    if action == "undo" and detail.isdigit():
        f = figures.get(int(detail))
        if f is None:
            return t("audit.figure_no", lang, id=detail)
        return t("audit.figure_no", lang, id=detail) + ": " + figure_words(
            registry.get(f.metric), f.metric, f.value, f.status, f.unit, f.village, f.raw, lang)
    if detail.startswith("refused: not an official"):
        return t("audit.not_official", lang)
    if match := re.match(r"refused: not the author \((\d+)\)", detail):
        return t("audit.not_author", lang, owner=match.group(1))
    if match := re.match(r"refused: not the author of figure (\d+)", detail):
        return t("audit.not_author_figure", lang, id=match.group(1))
    if match := re.match(r"refused: author (\d+) is no longer an official", detail):
        return t("audit.author_removed", lang, owner=match.group(1))
    return detail


def figure_words(metric: Metric | None, key: object, value: object, status: object, unit: object, village: object,
                 raw: object, lang: str) -> str:
    name = metric.name if metric else str(key)
    if status:
        said = str(status)
    elif isinstance(value, int | float):
        said = f"{format_number(float(value))} {unit or ''}".strip()
    else:
        said = "—"
    text = f"{name}: {said} ({village or t('export.whole_commune', lang)})"
    return text + (f" «{raw}»" if raw else "")


def curated_table(curated: Iterable[Mapping[str, object]], names: Mapping[int, str], lang: str, tz: str) -> Table:
    columns = [Column(t("export.col_id", lang), 7, "int"), Column(t("export.col_questions", lang), 50),
               Column(t("export.col_answer", lang), 60), Column(t("export.col_passage", lang), 16),
               Column(t("export.col_author", lang), 22), Column(t("export.col_created_at", lang), 17, "datetime"),
               Column(t("export.col_updated_at", lang), 17, "datetime"),
               Column(t("export.col_removed_at", lang), 17, "datetime")]
    rows = []
    for row in curated:
        questions = row.get("questions")
        author = row.get("created_by")
        rows.append([row.get("id"), " | ".join(questions) if isinstance(questions, list) else questions,
                     row.get("answer"), row.get("passage_key"),
                     (names.get(author) or str(author)) if isinstance(author, int) else None,
                     local(row.get("created_at"), tz), local(row.get("updated_at"), tz),  # type: ignore[arg-type]
                     local(row.get("removed_at"), tz)])  # type: ignore[arg-type]
    return Table(t("export.sheet_curated", lang), columns, rows)


def tickets_table(tickets: Iterable[Ticket], lang: str, tz: str) -> Table:
    """The citizens' questions and reports without the chat they came from: an export leaves the bot."""
    columns = [Column(t("export.col_id", lang), 7, "int"), Column(t("export.col_ticket_kind", lang), 12),
               Column(t("export.col_status", lang), 14), Column(t("export.col_ticket_text", lang), 60),
               Column(t("export.col_photo", lang), 8), Column(t("export.col_latitude", lang), 11, "number"),
               Column(t("export.col_longitude", lang), 11, "number"),
               Column(t("export.col_created_at", lang), 17, "datetime"),
               Column(t("export.col_updated_at", lang), 17, "datetime"),
               Column(t("export.col_closed_at", lang), 17, "datetime")]
    rows = [[x.id, t(f"ticket.kind.{x.kind}", lang), t(f"ticket.status.{x.status}", lang), x.text,
             t("export.yes", lang) if x.photo else "", x.latitude, x.longitude, local(x.created_at, tz),
             local(x.updated_at, tz), local(x.closed_at, tz)] for x in tickets]
    return Table(t("export.sheet_tickets", lang), columns, rows)


@dataclass(frozen=True)
class ExportFile:
    """One file /xuat sends: its name, its bytes, and the caption that says what it holds."""

    name: str
    data: bytes
    caption: str


def export_files(registry: Registry, figures: Sequence[FigureRecord], audit: Sequence[Mapping[str, object]],
                 curated: Sequence[Mapping[str, object]], names: Mapping[int, str], lang: str, tz: str,
                 today: dt.date, tickets: Sequence[Ticket] = ()) -> list[ExportFile]:
    """The workbook (four sheets) first, then one CSV per sheet, in the same shape."""
    by_id = {f.id: f for f in figures}
    known = dict(names)
    for f in figures:  # the name a figure was logged under, for people no longer in the users table
        if f.user_name and f.user_id not in known:
            known[f.user_id] = f.user_name
    tables = [figures_table(registry, figures, known, lang, tz), audit_table(registry, audit, by_id, known, lang, tz),
              curated_table(curated, known, lang, tz), tickets_table(tickets, lang, tz)]
    stamp = today.strftime("%Y-%m-%d")
    date = today.strftime("%d/%m/%Y")
    counts = {"figures": len(figures), "audit": len(audit), "curated": len(curated), "tickets": len(tickets)}
    out = [ExportFile(f"troly-xa-{stamp}.xlsx", workbook_bytes(tables),
                      t("export.caption_xlsx", lang, date=date, **counts))]
    for stem, table, key in zip(("so-lieu", "nhat-ky", "hoi-dap", "phan-anh"), tables,
                                ("export.caption_figures", "export.caption_audit", "export.caption_curated",
                                 "export.caption_tickets")):
        out.append(ExportFile(f"{stem}-{stamp}.csv", csv_bytes(table), t(key, lang, date=date, **counts)))
    return out
