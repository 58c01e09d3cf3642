"""Officials: /mau (the Excel template) and a filled-in .xlsx sent back: preview, then one confirmed write.

The role is checked when the file arrives and again when Xác nhận is pressed. The preview lists the rows that
will be written (where each metric will stand) and every refused row with its reason; the confirmation
writes all accepted rows in one transaction (``Store.confirm_import``), once: pressed twice, replayed after a
restart, or the same figures sent in another file, nothing is written again.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import Sequence

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from knowledge.i18n import t
from knowledge.imports import (
    MAX_BYTES,
    MAX_ROWS,
    Batch,
    ImportRow,
    NotAWorkbook,
    is_xlsx,
    looks_like_spreadsheet,
    mark_stale,
    outlook,
    read_batch,
    template,
)
from knowledge.metrics import describe
from knowledge.text import format_number

from . import citizen
from .auth import allowed, author_may_still_write, may_press, role
from .common import esc, keyboard, lang_of, logged, pending_press, send_html, services, tr
from .official import TZ, when

SHOWN_REFUSALS = 60  # refused rows listed in the preview; the rest are counted


@logged("/mau")
async def cmd_template(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mau: the workbook to fill in and send back."""
    if not await allowed(update, context, "mau") or update.effective_chat is None:
        return
    s = services(context)
    lang = lang_of(update, context)
    data = template(s.registry, lang, s.clock().astimezone(TZ).date())
    name = t("template.file_name", lang)
    await context.bot.send_document(update.effective_chat.id, InputFile(io.BytesIO(data), filename=name),
                                    caption=tr(lang, "import.template_caption"))


@logged("xlsx")
async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file sent in a private chat: an official's spreadsheet is read and previewed; anyone else's file
    goes where it went before (a caption is a question, a bare file gets the "text only" reply)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.document is None or user is None:
        return
    doc = message.document
    sheet = looks_like_spreadsheet(doc.file_name, doc.mime_type)
    if role(update, context) is None and not sheet:
        await (citizen.on_text if message.caption else citizen.on_other)(update, context)
        return
    if not await allowed(update, context, "import"):
        return
    lang = lang_of(update, context)
    name = doc.file_name or t("import.unnamed", lang)
    if not is_xlsx(doc.file_name, doc.mime_type):
        await send_html(update, context, tr(lang, "import.not_xlsx"))
        return
    too_big = tr(lang, "import.too_big", limit=f"{MAX_BYTES // 1_000_000} MB")
    if doc.file_size is not None and doc.file_size > MAX_BYTES:
        await send_html(update, context, too_big)
        return
    try:
        data = bytes(await (await context.bot.get_file(doc.file_id)).download_as_bytearray())
    except TelegramError:
        await send_html(update, context, tr(lang, "import.unreadable"))
        return
    s = services(context)
    today = s.clock().astimezone(TZ).date()
    try:
        batch = await asyncio.to_thread(read_batch, data, s.registry, today)  # other chats go on meanwhile
    except NotAWorkbook as err:
        text = too_big if err.reason == "too_big" else tr(lang, f"import.{err.reason}", limit=format_number(MAX_ROWS))
        await send_html(update, context, text)
        return
    if not batch.accepted:
        await send_html(update, context, "\n".join([tr(lang, "import.no_valid_rows", file=name),
                                                    *_refusals(lang, batch)]))
        return
    earlier = s.store.import_by_digest(batch.digest)
    if earlier is not None:
        await send_html(update, context, tr(lang, "import.duplicate", when=when(earlier.created_at),
                                            file=earlier.file_name or ""))
        return
    there = s.store.imported([r.fingerprint for r in batch.accepted])
    fresh = [r for r in batch.accepted if r.fingerprint not in there]
    if not fresh:
        await send_html(update, context, tr(lang, "import.all_imported", count=len(batch.accepted)))
        return
    fresh = mark_stale(s.registry, fresh, lambda key: s.store.figures(key, include_undone=False))
    token = secrets.token_hex(8)
    s.store.open_pending(token, user.id, {"import": {"file": name, "digest": batch.digest,
                                                     "refused": len(batch.refused), "rows": batch.to_payload(fresh)}})
    rows = [[(tr(lang, "update.confirm"), f"im:{token}"), (tr(lang, "update.cancel"), f"ix:{token}")]]
    await send_html(update, context, _preview(update, context, batch, fresh, name), keyboard(rows))


def _preview(update: Update, context: ContextTypes.DEFAULT_TYPE, batch: Batch, fresh: list[ImportRow],
             name: str) -> str:
    lang = lang_of(update, context)
    s = services(context)
    lines = [tr(lang, "import.preview_title", file=name, rows=batch.rows, accepted=len(fresh),
                refused=len(batch.refused))]
    if len(fresh) < len(batch.accepted):
        lines.append(tr(lang, "import.skipped_rows", count=len(batch.accepted) - len(fresh)))
    if batch.examples:
        lines.append(tr(lang, "import.examples_skipped", count=batch.examples))
    lines.append(tr(lang, "import.after"))
    for _, count, progress in outlook(s.registry, fresh, lambda key: s.store.figures(key, include_undone=False),
                                      s.clock().timestamp()):
        lines.append(tr(lang, "import.after_line", line=describe(progress), rows=count) if count
                     else "  " + esc(describe(progress)))
    unusual = [str(r.row) for r in fresh if r.unusual]
    if unusual:
        lines.append(tr(lang, "import.unusual", rows=", ".join(unusual[:20])))
    stale = [str(r.row) for r in fresh if r.stale]
    if stale:
        lines.append(tr(lang, "import.stale", rows=", ".join(stale[:20])))
    if batch.refused:
        lines.append(tr(lang, "import.refused_title"))
        lines += _refusals(lang, batch)
    lines.append(tr(lang, "import.confirm_hint", accepted=len(fresh)))
    return "\n".join(lines)


def _refusals(lang: str, batch: Batch) -> list[str]:
    """One line per refused row ("Dòng 7 (Trồng rừng mới · 1.5): «1.5» không rõ là 15 hay 1,5 …")."""
    # The reason is HTML already (its values escaped): filled in as it is, the row's cells escaped here.
    lines = [t("import.refused_line", lang, row=r.row, cells=esc(r.cells or "—"), reason=tr(lang, r.reason, **r.values))
             for r in batch.refused[:SHOWN_REFUSALS]]
    if len(batch.refused) > SHOWN_REFUSALS:
        lines.append(tr(lang, "import.refused_more", count=len(batch.refused) - SHOWN_REFUSALS))
    return lines


@logged("xlsx:button")
async def on_import_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The preview's Xác nhận (write the batch, once) and Hủy."""
    user = update.effective_user
    if user is None:
        return
    press = await pending_press(update, context, "import", "import.expired")
    if press is None:
        return
    kind, token, owner, state = press.kind, press.token, press.owner, press.state
    lang = lang_of(update, context)
    s = services(context)
    action = "import:cancel" if kind == "ix" else "import:confirm"
    if not await may_press(update, context, action, owner):
        return
    if kind == "ix":
        if s.store.cancel_pending(token):
            key = "update.cancelled"
        else:
            key = "import.already_saved" if state == "done" else "import.was_cancelled"
        await send_html(update, context, tr(lang, key), edit=True)
        return
    if not await author_may_still_write(update, context, action, owner):
        return
    if state == "cancelled":
        await send_html(update, context, tr(lang, "import.was_cancelled"))
        return
    name = user.full_name if owner == user.id else s.store.name_of(owner)
    try:
        outcome = s.store.confirm_import(token, name)  # committed before anything is said
    except LookupError:
        await send_html(update, context, tr(lang, "import.expired"))
        return
    record = outcome.record
    if outcome.again:
        text = tr(lang, "import.already_saved")
    elif outcome.written and record is not None:
        text = tr(lang, "import.saved", count=outcome.written, file=record.file_name or "")
        if outcome.skipped:
            text += "\n" + tr(lang, "import.skipped_rows", count=outcome.skipped)
    elif record is not None:
        text = tr(lang, "import.duplicate", when=when(record.created_at), file=record.file_name or "")
    else:
        text = tr(lang, "import.all_imported", count=outcome.skipped)
    await send_html(update, context, text, edit=True)


def handlers() -> Sequence[BaseHandler]:
    """/mau, files in private chats (an announcement's file, "/thongbao" in its caption, is taken before),
    and the preview's buttons."""
    return [
        CommandHandler(["mau", "template"], cmd_template),
        MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, on_document),
        CallbackQueryHandler(on_import_button, pattern=r"^(im|ix):"),
    ]
