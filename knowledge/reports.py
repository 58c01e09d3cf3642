"""The period report (/baocao): where every target stood at the period's cut-off, from the officials' log.

``build_report`` reads the log (undone figures left out) as it stood at the end of the period: a level's
latest figure up to then, a cumulative figure's sum over the reporting year to then and over the period alone;
who logged the latest and when; the share of the target and the gap left, read the right way for a ceiling.
``report_docx`` writes it as a Word document a commune office edits and sends (the administrative header,
the period, a section per field, a summary table, the chart); ``report_xlsx`` as a workbook of typed cells.
``progress_lines`` is /tiendo's short text over the same progress. No Telegram here.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .charts import chart_bars, progress_chart
from .exports import Column, Table, local, write_sheet
from .figures import FigureRecord
from .i18n import t
from .metrics import Metric, Progress, Registry
from .periods import DEFAULT_TZ, Period
from .text import format_number


@dataclass(frozen=True)
class Line:
    """One target in the report. ``value`` is where it stood at the cut-off (a cumulative figure: the year's
    running total to then), ``in_period`` what the period itself brought (a cumulative figure: its additions;
    a level: its figure, when one was logged in the period)."""

    metric: Metric
    progress: Progress
    in_period: float | None
    gap: float | None
    met: bool | None
    logged_at: float | None
    logged_by: str | None
    entries: int  # figures logged for it (its parts included) during the period

    @property
    def value(self) -> float | None:
        return self.progress.value

    @property
    def status(self) -> str | None:
        return self.progress.status

    @property
    def percent(self) -> float | None:
        return self.progress.percent

    @property
    def has_figure(self) -> bool:
        return self.value is not None or self.status is not None

    @property
    def part(self) -> bool:
        return self.metric.part_of is not None

    @property
    def from_parts(self) -> bool:
        return self.progress.from_parts


@dataclass(frozen=True)
class Section:
    """A field of the plan ("Lĩnh vực kinh tế") and its targets, in the plan's order."""

    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Header:
    """Who reports: the commune (its name as the configuration writes it, "xã Cao Lâu"), its district and
    province, and the plan's year."""

    commune: str
    district: str = ""
    province: str = ""
    plan_year: int | None = None

    @classmethod
    def from_config(cls, commune: Mapping[str, object] | None, fallback: str, plan_year: int | None) -> Header:
        commune = commune or {}
        name = str(commune.get("name") or "").strip() or (f"xã {fallback}" if fallback else "")
        return cls(name, str(commune.get("district") or ""), str(commune.get("province") or ""), plan_year)

    @property
    def place(self) -> str:
        """"Cao Lâu" for the date line ("Cao Lâu, ngày …")."""
        words = self.commune.split()
        return " ".join(words[1:]) if words and words[0].lower() in ("xã", "phường", "thị") else self.commune


@dataclass(frozen=True)
class Report:
    header: Header
    period: Period
    sections: tuple[Section, ...]
    entries: tuple[FigureRecord, ...]  # the period's live figures, oldest first
    made_at: dt.datetime  # local time
    lang: str = "vi"

    @property
    def lines(self) -> list[Line]:
        return [line for section in self.sections for line in section.lines]

    @property
    def empty(self) -> bool:
        """No figure was logged during the period (the standing at its end may still come from before)."""
        return not self.entries

    @property
    def officials(self) -> list[str]:
        """Who logged the period's figures, each once, in the order they first did."""
        out: list[str] = []
        for f in self.entries:
            name = f.user_name or str(f.user_id)
            if name not in out:
                out.append(name)
        return out

    @property
    def targets(self) -> list[Line]:
        """The lines with a target of their own (the herd's parts have none)."""
        return [line for line in self.lines if not line.part]

    def title(self) -> str:
        return t("report.title", self.lang, period=self.period.name(self.lang))

    def chart_title(self) -> str:
        return t("progress.chart_title", self.lang, year=self.header.plan_year or self.period.year,
                 commune=self.header.commune, date=self.period.end.strftime("%d/%m/%Y"))

    def chart(self) -> bytes | None:
        """The progress chart at the period's cut-off, or None when no target has a share to draw."""
        bars = chart_bars([line.progress for line in self.lines], lang=self.lang)
        if not bars:
            return None
        return progress_chart(bars, self.chart_title(), t("progress.target_line", self.lang), self.lang)


def build_report(registry: Registry, figures: Sequence[FigureRecord], period: Period, header: Header,
                 fields: Mapping[int, str], lang: str = "vi", now: dt.datetime | None = None) -> Report:
    """Every tracked metric as it stood at the end of ``period``, grouped by the plan's fields (``fields``: a
    target's number → its field); ``figures`` the whole log, undone figures included (they are left out)."""
    # Each figure counts by the day it is OF (an imported row's own date, else the day it was logged), by the
    # one rule /tiendo and the live answers read too (Registry.standing): a level as it stood at the cut-off, a
    # cumulative figure over the reporting year to then.
    by_metric: dict[str, list[FigureRecord]] = {}
    for f in figures:
        if f.live and registry.get(f.metric) is not None:
            by_metric.setdefault(f.metric, []).append(f)
    entries = tuple(sorted((f for fs in by_metric.values() for f in fs
                            if period.start <= registry.day_of(f) <= period.end), key=registry.order))
    groups: dict[str, list[Line]] = {}
    for metric in registry.metrics:
        keys = set(registry.keys_of(metric))
        progress = registry.standing(metric, lambda key: by_metric.get(key, []), period.end, period.year_start)
        own = registry.counted([f for key in keys for f in by_metric.get(key, [])], period.end, period.year_start)
        during = [f for f in entries if f.metric in keys]
        if metric.cumulative:
            in_period = sum(float(f.value or 0) for f in during) if during else None
        else:
            in_period = progress.value if during else None
        latest = own[0] if own else None
        line = Line(metric, progress, in_period, gap(metric, progress), met(metric, progress),
                    latest.created_at if latest else None,
                    (latest.user_name or str(latest.user_id)) if latest else None, len(during))
        field = fields.get(metric.target_number or -1) or t("report.other_section", lang)
        groups.setdefault(field, []).append(line)
    made = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(period.tz))
    return Report(header, period, tuple(Section(k, tuple(v)) for k, v in groups.items()), entries, made, lang)


def gap(metric: Metric, progress: Progress) -> float | None:
    """What is left to reach the target: below a floor, how much more; above a ceiling, how much to bring down."""
    if progress.value is None or metric.target is None:
        return None
    if metric.lower_is_better:
        return max(0.0, round(progress.value - metric.target, 6))
    return max(0.0, round(metric.target - progress.value, 6))


def met(metric: Metric, progress: Progress) -> bool | None:
    """Whether the target is met: a number against its floor or ceiling, a status against the one it needs."""
    if metric.kind == "status":
        if progress.status is None or not metric.target_value:
            return None
        return progress.status == metric.target_value
    return progress.met


# -- what each line says -------------------------------------------------------------------------------

def amount(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{format_number(value)} {unit}".strip()


def share(percent: float) -> str:
    return format_number(percent, 0 if percent >= 10 else 1)


def target_words(metric: Metric, lang: str) -> str:
    """"50 ha", "trần 11,47 %" (a ceiling), the status it needs ("đạt"), or the plan's words."""
    if metric.kind == "status":
        return metric.target_value or metric.target_text or "—"
    if metric.target is None:
        return "—"
    if metric.lower_is_better:
        return t("report.ceiling", lang, value=amount(metric.target, metric.unit))
    return amount(metric.target, metric.unit)


def line_sentence(line: Line, lang: str, tz: str = DEFAULT_TZ) -> str:
    """One target in words: "Trồng rừng mới: trong kỳ 12,5 ha; đến cuối kỳ 30 ha / kế hoạch 50 ha, đạt 60 %,
    còn 20 ha (cập nhật 15/03/2024, Nguyễn Văn A)." A ceiling says whether the figure is under it."""
    m = line.metric
    if m.kind == "status":
        said = t("report.status_is", lang, status=line.status or "—")
    else:
        parts = []
        if m.cumulative and line.in_period is not None:
            parts.append(t("report.in_period_is", lang, value=amount(line.in_period, m.unit)))
        standing = amount(line.value, m.unit)
        if m.target is not None:
            standing += " / " + target_words(m, lang)
        parts.append(t("report.cumulative_is" if m.cumulative else "report.level_is", lang, value=standing))
        said = "; ".join(parts)
        if m.per_village and line.progress.by_village:
            said += " " + t("report.by_village", lang, villages="; ".join(
                f"{village} {amount(value, m.unit)}" for village, value in sorted(line.progress.by_village.items())))
        if line.from_parts:
            said += " " + t("report.from_parts", lang)
        if line.percent is not None and m.lower_is_better:
            said += ", " + t("report.ceiling_met" if line.met else "report.ceiling_missed", lang,
                             gap=amount(line.gap, m.unit))
            if not line.met and m.baseline is not None and m.target is not None and m.baseline > m.target:
                said += t("report.reduced", lang, percent=share(line.percent))
        elif line.percent is not None:
            said += ", " + t("report.reached", lang, percent=share(line.percent))
            if line.gap:
                said += ", " + t("report.left", lang, gap=amount(line.gap, m.unit))
    when = local(line.logged_at, tz) if line.logged_at else None
    stamp = t("report.logged", lang, when=when.strftime("%d/%m/%Y"), who=line.logged_by) if when else ""
    return f"{m.name}: {said}" + (f" ({stamp})" if stamp else "") + "."


# -- the Word document -----------------------------------------------------------------------------------

FONT = "Times New Roman"  # Nghị định 30/2020/NĐ-CP: administrative documents in Times New Roman, 13–14 pt


def report_docx(report: Report, chart: bytes | None = None) -> bytes:
    """The report as .docx: the administrative header, the title and period, the overview, a section per field,
    the chart (an inline picture), the signature block, then the summary table as a landscape appendix."""
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    lang = report.lang
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    page = doc.sections[0]
    page.orientation = WD_ORIENT.PORTRAIT
    page.page_width, page.page_height = Cm(21), Cm(29.7)
    page.left_margin, page.right_margin = Cm(3), Cm(2)
    page.top_margin, page.bottom_margin = Cm(2), Cm(2)
    centre, justify = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY

    def para(text: str = "", bold: bool = False, italic: bool = False, align: object = None,
             size: float | None = None, cell: object = None, after: float = 4, first: bool = False) -> object:
        """A paragraph (in ``cell`` when given; a cell's own first paragraph is used first)."""
        if cell is not None and first:
            p = cell.paragraphs[0]  # type: ignore[attr-defined]
        else:
            p = cell.add_paragraph() if cell is not None else doc.add_paragraph()  # type: ignore[attr-defined]
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
        if align is not None:
            p.alignment = align
        p.paragraph_format.space_after = Pt(after)
        return p

    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    _widths(head, [Cm(6.5), Cm(9.5)])
    para(t("report.authority", lang), bold=True, align=centre, cell=left, size=12, after=0, first=True)
    para(report.header.commune.upper(), bold=True, align=centre, cell=left, size=12, after=6)
    para(t("report.number", lang), align=centre, cell=left, size=12)
    para(t("report.nation", lang), bold=True, align=centre, cell=right, size=12, after=0, first=True)
    para(t("report.motto", lang), bold=True, align=centre, cell=right, after=6)
    made = report.made_at
    para(t("report.place_date", lang, place=report.header.place, day=f"{made.day:02d}", month=f"{made.month:02d}",
           year=made.year), italic=True, align=centre, cell=right)

    para()
    para(t("report.kind", lang), bold=True, align=centre, size=14, after=0)
    para(report.title(), bold=True, align=centre, size=14, after=0)
    p = report.period
    para(t("report.period_line", lang, start=p.start.strftime("%d/%m/%Y"), end=p.end.strftime("%d/%m/%Y")),
         italic=True, align=centre, after=12)

    para(t("report.overview", lang), bold=True)
    for sentence in overview(report):
        para(sentence, align=justify)
    para(t("report.by_field", lang), bold=True)
    for n, sec in enumerate(report.sections, start=1):
        para(f"{n}. {sec.title}", bold=True, italic=True)
        for line in sec.lines:
            if line.has_figure:
                para(("+ " if line.part else "- ") + line_sentence(line, lang, report.period.tz), align=justify)
        missing = [line.metric.name for line in sec.lines if not line.has_figure and not line.part]
        if missing:
            para("- " + t("report.no_figure_yet", lang, names="; ".join(missing)), italic=True, align=justify)
    para(t("report.chart_heading", lang), bold=True)
    if chart:
        doc.add_picture(io.BytesIO(chart), width=Cm(16))
        doc.paragraphs[-1].alignment = centre
        para(report.chart_title(), italic=True, align=centre, size=11)
    else:
        para(t("progress.no_chart", lang), italic=True)
    para(t("report.appendix_note", lang), align=justify)

    sign = doc.add_table(rows=1, cols=2)
    recipients, signer = sign.rows[0].cells
    _widths(sign, [Cm(7), Cm(9)])
    para(t("report.recipients", lang), bold=True, italic=True, cell=recipients, size=12, after=0, first=True)
    for who in t("report.recipients_list", lang).split("\n"):
        para(who, cell=recipients, size=11, after=0)
    para(t("report.sign_for", lang), bold=True, align=centre, cell=signer, size=13, after=0, first=True)
    para(t("report.sign_title", lang), bold=True, align=centre, cell=signer)
    para(t("report.made_by", lang, when=made.strftime("%d/%m/%Y %H:%M")), italic=True, size=10)

    appendix = doc.add_section(WD_SECTION.NEW_PAGE)  # the table is wide: a landscape page of its own
    appendix.orientation = WD_ORIENT.LANDSCAPE
    appendix.page_width, appendix.page_height = Cm(29.7), Cm(21)
    appendix.left_margin = appendix.right_margin = Cm(1.5)
    para(t("report.appendix", lang), bold=True, align=centre, after=0)
    para(t("report.appendix_title", lang, period=p.name(lang)), bold=True, align=centre, after=0)
    para(t("report.period_line", lang, start=p.start.strftime("%d/%m/%Y"), end=p.end.strftime("%d/%m/%Y")),
         italic=True, align=centre)
    table = summary_table(report)
    shown = [i for i in range(len(table.columns)) if i != FIELD_COLUMN]  # the field is a row of its own here
    grid = doc.add_table(rows=1, cols=len(shown))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [Cm(WORD_WIDTHS.get(i, 2.0)) for i in shown]

    def fill(cells: Sequence[object], values: Sequence[str], bold: bool = False, right: Sequence[bool] = ()) -> None:
        for n, (cell, text) in enumerate(zip(cells, values)):
            p = cell.paragraphs[0]  # type: ignore[attr-defined]
            run = p.add_run(text)
            run.bold, run.font.size = bold, Pt(10)
            p.paragraph_format.space_after = Pt(0)
            if n < len(right) and right[n]:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    fill(grid.rows[0].cells, [table.columns[i].title for i in shown], bold=True)
    current = None
    numeric = [table.columns[i].kind != "text" for i in shown]
    for row in table.rows:
        if row[FIELD_COLUMN] != current:  # each field opens with its own row across the table
            current = row[FIELD_COLUMN]
            cells = grid.add_row().cells
            whole = cells[0].merge(cells[-1])
            run = whole.paragraphs[0].add_run(str(current))
            run.bold, run.font.size = True, Pt(10)
        fill(grid.add_row().cells, [cell_text(row[i], table.columns[i]) for i in shown], right=numeric)
    _widths(grid, widths)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _widths(table: object, widths: Sequence[int]) -> None:
    """Fix a Word table's column widths (EMU), in its grid and in every cell (a merged cell: the sum of those
    it spans), so that Word and LibreOffice both lay it out so, instead of sharing the page equally."""
    from docx.oxml.ns import qn

    table.autofit = False  # type: ignore[attr-defined]
    tbl = table._tbl  # type: ignore[attr-defined]
    for col, width in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(int(width) // 635))  # EMU → twentieths of a point
    for tr in tbl.findall(qn("w:tr")):
        position = 0
        for tc in tr.findall(qn("w:tc")):
            span = tc.grid_span
            tc.width = sum(widths[position:position + span])
            position += span


FIELD_COLUMN = 1  # the summary table's field column
# Centimetres per column of the Word table (landscape A4 holds 26,7 cm between its margins).
WORD_WIDTHS = {0: 1.1, 2: 5.2, 3: 1.3, 4: 2.3, 5: 2.0, 6: 2.0, 7: 1.7, 8: 1.6, 9: 1.8, 10: 1.6, 11: 2.3, 12: 2.3,
               13: 1.5}


def overview(report: Report) -> list[str]:
    """The report's first paragraph: how much was logged, by how many officials, how many targets have a figure
    and how many meet theirs; or that the period has no figure at all."""
    lang = report.lang
    targets = report.targets
    with_figure = [line for line in targets if line.has_figure]
    reached = [line for line in with_figure if line.met]
    out = []
    if report.empty:
        out.append(t("report.empty", lang, period=report.period.name(lang)))
    else:
        out.append(t("report.logged_count", lang, count=len(report.entries), officials=len(report.officials),
                     names=", ".join(report.officials)))
    out.append(t("report.targets_count", lang, with_figure=len(with_figure), total=len(targets),
                 met=len(reached), date=report.period.end.strftime("%d/%m/%Y"),
                 year=report.header.plan_year or report.period.year))
    return out


def cell_text(value: object, column: Column) -> str:
    """A summary cell as the Word table prints it (Vietnamese numbers and dates)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, int | float):
        return f"{share(value * 100)} %" if column.kind == "percent" else format_number(float(value))
    return str(value)


# -- the summary table (Word and Excel) -------------------------------------------------------------------

def summary_table(report: Report) -> Table:
    """One row per metric: its field, name, unit, target, the period's figure, the standing at the cut-off, the
    share, the gap, met or not, and the latest figure's date, author and the period's count."""
    lang = report.lang
    columns = [Column(t("report.col_no", lang), 5, "int"), Column(t("report.col_field", lang), 30),
               Column(t("report.col_metric", lang), 44), Column(t("report.col_unit", lang), 8),
               Column(t("report.col_target", lang), 13, "number"),
               Column(t("report.col_in_period", lang), 13, "number"),
               Column(t("report.col_standing", lang), 13, "number"), Column(t("report.col_status", lang), 12),
               Column(t("report.col_percent", lang), 10, "percent"), Column(t("report.col_gap", lang), 12, "number"),
               Column(t("report.col_met", lang), 11), Column(t("report.col_logged_at", lang), 17, "datetime"),
               Column(t("report.col_logged_by", lang), 22), Column(t("report.col_entries", lang), 10, "int")]
    rows: list[list[object]] = []
    number = 0
    for sec in report.sections:
        for line in sec.lines:
            m = line.metric
            if not line.part:
                number += 1
            name = ("– " if line.part else "") + m.name + (f" ({t('chart.lower_better', lang)})"
                                                           if m.lower_is_better else "")
            verdict = None if line.met is None else t("report.met_yes" if line.met else "report.met_no", lang)
            rows.append([None if line.part else number, sec.title, name, m.unit or None,
                         m.target if m.kind != "status" else None, line.in_period, line.value,
                         line.status,
                         line.percent / 100 if line.percent is not None else None, line.gap, verdict,
                         local(line.logged_at, report.period.tz), line.logged_by, line.entries])
    return Table(t("report.sheet_summary", lang), columns, rows)


def entries_table(report: Report, registry: Registry) -> Table:
    """The period's figures one by one (undone ones left out): the evidence behind the summary."""
    lang = report.lang
    columns = [Column(t("export.col_id", lang), 7, "int"), Column(t("export.col_logged_at", lang), 17, "datetime"),
               Column(t("export.col_metric", lang), 44), Column(t("export.col_village", lang), 14),
               Column(t("export.col_value", lang), 13, "number"), Column(t("export.col_status", lang), 14),
               Column(t("export.col_unit", lang), 9), Column(t("export.col_by", lang), 22),
               Column(t("export.col_raw", lang), 34)]
    rows: list[list[object]] = []
    for f in report.entries:
        metric = registry.get(f.metric)
        rows.append([f.id, local(f.created_at, report.period.tz), metric.name if metric else f.metric,
                     f.village or t("export.whole_commune", lang), f.value if f.status is None else None, f.status,
                     f.unit or None, f.user_name or str(f.user_id), f.raw])
    return Table(t("report.sheet_entries", lang), columns, rows)


def report_xlsx(report: Report, registry: Registry, chart: bytes | None = None) -> bytes:
    """The report as a workbook: the summary (a title block above a filtered, frozen table), the period's
    figures, and the chart on a sheet of its own."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lang = report.lang
    book = Workbook()
    sheet = book.active
    sheet.title = t("report.sheet_summary", lang)[:31]
    p = report.period
    title_rows = [f"{t('report.authority', lang)} {report.header.commune.upper()}",
                  t("report.kind", lang) + " " + report.title(),
                  t("report.period_line", lang, start=p.start.strftime("%d/%m/%Y"), end=p.end.strftime("%d/%m/%Y")),
                  *overview(report)]
    for n, text in enumerate(title_rows, start=1):
        sheet.cell(n, 1, text).font = Font(bold=n <= 2, size=13 if n <= 2 else 11)
    write_sheet(sheet, summary_table(report), header_row=len(title_rows) + 2)
    entries = book.create_sheet(t("report.sheet_entries", lang)[:31])
    table = entries_table(report, registry)
    write_sheet(entries, table)
    if not table.rows:
        entries.cell(2, 1, t("report.empty", lang, period=p.name(lang)))
    if chart:
        from openpyxl.drawing.image import Image

        drawing = book.create_sheet(t("report.sheet_chart", lang)[:31])
        drawing.cell(1, 1, report.chart_title()).font = Font(bold=True)
        image = Image(io.BytesIO(chart))
        drawing.add_image(image, "A3")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# -- /tiendo's text ----------------------------------------------------------------------------------------

def progress_lines(progresses: Sequence[Progress], lang: str = "vi") -> tuple[list[str], int]:
    """/tiendo in a few lines: each target with a figure and its share (a ceiling read as a ceiling, a status as
    it is), each logged part under its whole; and how many targets have no figure yet (said in one line)."""
    lines: list[str] = []
    missing = 0
    for p in progresses:
        m = p.metric
        if p.value is None and p.status is None:
            missing += 0 if m.part_of else 1
            continue
        lines.append(("  – " if m.part_of else "• ") + progress_line(p, lang))
    return lines, missing


def progress_line(p: Progress, lang: str) -> str:
    m = p.metric
    if m.kind == "status":
        return f"{m.name}: {p.status}"
    if m.target is None:
        text = f"{m.name}: {amount(p.value, m.unit)}"
    elif m.lower_is_better:
        verdict = "progress.ceiling_met" if p.met else "progress.ceiling_missed"
        text = f"{m.name}: {amount(p.value, m.unit)} — " + t(verdict, lang, ceiling=amount(m.target, m.unit))
        if not p.met and p.percent is not None and m.baseline is not None and m.baseline > m.target:
            text += t("report.reduced", lang, percent=share(p.percent))
    else:
        text = f"{m.name}: {format_number(p.value or 0)} / {amount(m.target, m.unit)}"
        if p.percent is not None:
            text += f" — {share(p.percent)} %" + (" ✓" if p.met else "")
    if p.from_parts:
        text += " " + t("report.from_parts", lang)
    return text
