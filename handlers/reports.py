"""Reports: /baocao (the period's report as .docx and .xlsx, officials only), /xuat (the log as files a person
keeps, officials only) and /tiendo (progress as a short text and a chart, for everyone).

Thin: parse the arguments, ask knowledge/reports.py and knowledge/exports.py, send what they made. The role is
read from the database when the command runs; a refusal is audited.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import BotCommand, InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from knowledge.charts import chart_bars, progress_chart
from knowledge.exports import export_files
from knowledge.metrics import Registry
from knowledge.periods import BadPeriod, Calendar, parse_request
from knowledge.reports import Header, Report, build_report, progress_lines, report_docx, report_xlsx

from .auth import allowed
from .common import esc, lang_of, logged, send_html, services, tr

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


def _tz(context: ContextTypes.DEFAULT_TYPE) -> str:
    return str(services(context).kb.commune.get("timezone") or DEFAULT_TZ)


@logged("/baocao")
async def cmd_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/baocao [thang|quy|6thang|nam] [kỳ]: the period's progress report as a Word file and a workbook."""
    if not await allowed(update, context, "baocao") or update.effective_chat is None:
        return
    lang = lang_of(update, context)
    s = services(context)
    try:
        request = parse_request(list(context.args or []))
    except BadPeriod as err:
        await send_html(update, context, tr(lang, err.key, **err.values) + "\n" + tr(lang, "report.usage"))
        return
    try:
        calendar = Calendar.from_config(s.kb.commune)
    except ValueError as err:  # commune.yaml's report_cutoff is not a day: the office must fix the file
        await send_html(update, context, tr(lang, "report.bad_config", reason=str(err)))
        return
    now = s.clock()
    period = calendar.resolve(request, now.astimezone(ZoneInfo(calendar.tz)).date())
    fields = {target.number: field for field, targets in s.kb.targets_by_field() for target in targets}
    header = Header.from_config(s.kb.commune, str(s.kb.stats()["commune"] or ""), s.registry.year)
    report = build_report(s.registry, s.store.figures(), period, header, fields, lang, now)
    docx, xlsx = await asyncio.to_thread(_report_files, report, s.registry)  # other chats go on meanwhile
    user = update.effective_user
    asked = f"{period.name()} ({period.start:%d/%m/%Y}–{period.end:%d/%m/%Y})"  # the audit log's words
    s.store.audit(user.id if user else None, "baocao", asked, True)
    name = period.name(lang)
    said = tr(lang, "report.ready", period=name, start=period.start.strftime("%d/%m/%Y"),
              end=period.end.strftime("%d/%m/%Y"))
    if report.empty:
        said += "\n" + tr(lang, "report.empty", period=name)
    await send_html(update, context, said)
    chat = update.effective_chat.id
    await context.bot.send_document(chat, InputFile(io.BytesIO(docx), filename=f"bao-cao-{period.slug}.docx"),
                                    caption=tr(lang, "report.caption_docx", period=name))
    await context.bot.send_document(chat, InputFile(io.BytesIO(xlsx), filename=f"bao-cao-{period.slug}.xlsx"),
                                    caption=tr(lang, "report.caption_xlsx", period=name))


def _report_files(report: Report, registry: Registry) -> tuple[bytes, bytes]:
    """The chart, the Word file and the workbook: a second or so of drawing and writing, off the event loop."""
    chart = report.chart()
    return report_docx(report, chart), report_xlsx(report, registry, chart)


@logged("/xuat")
async def cmd_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/xuat: the figures, the audit log, the taught answers and the tickets (without chat ids) as a workbook and
    CSVs, each with a caption."""
    if not await allowed(update, context, "xuat") or update.effective_chat is None:
        return
    lang = lang_of(update, context)
    s = services(context)
    tz = _tz(context)
    files = await asyncio.to_thread(export_files, s.registry, s.store.figures(), s.store.audit_log(),
                                    s.store.curated(include_removed=True), s.store.names(), lang, tz,
                                    s.clock().astimezone(ZoneInfo(tz)).date(),  # openpyxl is slow: off the loop
                                    s.store.all_tickets())
    for file in files:
        await context.bot.send_document(update.effective_chat.id, InputFile(io.BytesIO(file.data),
                                                                            filename=file.name),
                                        caption=esc(file.caption))


@logged("/tiendo")
async def cmd_progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tiendo: the targets with a figure and their share, how many have none yet, and the chart."""
    lang = lang_of(update, context)
    s = services(context)
    now = s.clock()
    year = s.registry.year_of(now)  # a cumulative figure counts in the reporting year today is in, as /baocao's
    progresses = [s.registry.current(m, lambda key: s.store.figures(key, include_undone=False), now)
                  for m in s.registry.metrics]
    lines, missing = progress_lines(progresses, lang)
    today = now.astimezone(ZoneInfo(year.tz)).date()
    text = [tr(lang, "progress.title", year=s.registry.year or ""),
            tr(lang, "progress.year", year=year.year, start=year.start.strftime("%d/%m/%Y"),
               today=today.strftime("%d/%m/%Y"))]
    text += [esc(line) for line in lines] or [tr(lang, "progress.nothing_yet")]
    if missing and lines:
        text.append(tr(lang, "progress.missing", count=missing))
    await send_html(update, context, "\n".join(text))
    if update.effective_chat is None:
        return
    bars = chart_bars(progresses, lang=lang)
    if not bars:
        await send_html(update, context, tr(lang, "progress.no_chart"))
        return
    tz = ZoneInfo(_tz(context))
    title = tr(lang, "progress.chart_title", year=s.registry.year or "", commune=s.kb.stats()["commune"] or "",
               date=s.clock().astimezone(tz).strftime("%d/%m/%Y"))
    png = await asyncio.to_thread(progress_chart, bars, title, tr(lang, "progress.target_line"), lang)
    await context.bot.send_photo(update.effective_chat.id, InputFile(io.BytesIO(png), filename="tien-do.png"),
                                 caption=title)


REPORT_COMMANDS: list[tuple[str, str, str]] = [("baocao", "report", "cmd.baocao")]


def command_menu(lang: str) -> list[BotCommand]:
    """The officials' menu entry for /baocao (admin.show_menu adds it beside the other officials' commands)."""
    return [BotCommand(vi, tr(lang, key)) for vi, _, key in REPORT_COMMANDS]


def handlers() -> Sequence[BaseHandler]:
    """/baocao (/report). /xuat and /tiendo are registered with the officials' handlers (official.handlers)."""
    return [CommandHandler(["baocao", "report"], cmd_report)]
