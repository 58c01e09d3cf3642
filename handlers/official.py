"""Officials: /capnhat (log a figure, preview, confirm), /hoantac, /lichsu; /xuat and /tiendo (handlers/reports.py).

Every command checks the role in the database at the moment it runs; a refusal is audited. A figure is
written only by the confirmation button, in one transaction, before the bot says it is saved; the button's
token makes a second press find the first one's figure instead of writing again.
"""

from __future__ import annotations

import datetime as dt
import secrets
import warnings
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from knowledge.figures import FigureRecord
from knowledge.metrics import Metric, Parsed, Registry, describe, plan_change, preview_progress
from knowledge.text import format_number

from .auth import allowed, author_may_still_write, may_press, role
from .common import acknowledge, esc, invalid_button, keyboard, lang_of, logged, send_html, services, tr
from .reports import cmd_export, cmd_progress

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ASK_METRIC, ASK_VALUE, ASK_VILLAGE = range(3)
DRAFT = "capnhat_draft"


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    return dt.datetime.fromtimestamp(timestamp, TZ).strftime("%d/%m/%Y %H:%M")


def registry(context: ContextTypes.DEFAULT_TYPE) -> Registry:
    return services(context).registry


# -- /capnhat ---------------------------------------------------------------------------------------

@logged("/capnhat")
async def cmd_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/capnhat <chỉ số> <giá trị> [đơn vị] [thôn]; with nothing after it, a guided conversation."""
    if not await allowed(update, context, "capnhat"):
        return ConversationHandler.END
    lang = lang_of(update, context)
    text = " ".join(context.args or [])
    if not text.strip():
        rows = [[(m.name[:40], f"cm:{m.key}")] for m in registry(context).metrics]
        await send_html(update, context, tr(lang, "update.ask_metric"), keyboard(rows))
        return ASK_METRIC
    parsed = registry(context).parse(text)
    await _handle(update, context, parsed)
    # "/capnhat trồng rừng": the metric's button comes next, then its value, inside the conversation
    return ASK_METRIC if parsed.choices and parsed.metric is None else ConversationHandler.END


async def _handle(update: Update, context: ContextTypes.DEFAULT_TYPE, parsed: Parsed) -> None:
    """Ask what is missing, explain what is wrong, or preview."""
    lang = lang_of(update, context)
    context.user_data[DRAFT] = parsed  # type: ignore[index]
    if parsed.choices and parsed.metric is None:
        rows = [[(m.name[:40], f"cm:{m.key}")] for m in parsed.choices]
        await send_html(update, context, tr(lang, "update.which_metric"), keyboard(rows))
        return
    if parsed.problem:
        await send_html(update, context, tr(lang, parsed.problem, unit=parsed.unit or "",
                                            expected=parsed.metric.unit if parsed.metric else "",
                                            limit=format_number(parsed.limit) if parsed.limit else "")
                        + "\n" + tr(lang, "update.usage"))
        return
    if parsed.ambiguous:
        big, small = parsed.ambiguous
        rows = [[(format_number(big), f"cv:{big}"), (format_number(small), f"cv:{small}")]]
        await send_html(update, context, tr(lang, "update.ambiguous", raw=parsed.raw), keyboard(rows))
        return
    if parsed.unknown_village:  # never the whole commune in its place: ask, the closest names first
        rows = [[(v, f"cl:{v}")] for v in parsed.village_choices]
        rows.append([(tr(lang, "update.whole_commune"), "cl:")])
        await send_html(update, context, tr(lang, "update.unknown_village", village=esc(parsed.unknown_village)),
                        keyboard(rows))
        return
    await _preview(update, context, parsed)


def _amount(value: float, unit: str) -> str:
    return f"{format_number(value)} {unit}".strip()


def _signed(value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + format_number(abs(value))


async def _preview(update: Update, context: ContextTypes.DEFAULT_TYPE, parsed: Parsed) -> None:
    """What the figure will be, before and after ("Đàn lợn: 610 → 620 con (+10)"), with its progress."""
    lang = lang_of(update, context)
    s = services(context)
    assert parsed.metric is not None and update.effective_user is not None
    metric = parsed.metric
    village = parsed.village or tr(lang, "update.whole_commune")

    def figures_of(key: str) -> list[FigureRecord]:
        return s.store.figures(key, include_undone=False)

    change = None
    if metric.kind == "status":
        after = preview_progress(s.registry, parsed, figures_of(metric.key), s.store.clock())
        lines = [tr(lang, "update.preview", metric=metric.name, value=parsed.status or "", village=village)]
    else:
        change = plan_change(s.registry, parsed, figures_of, s.store.clock())  # stamped as the store will
        if change.problem:
            await send_html(update, context, tr(lang, change.problem, metric=metric.name) + "\n"
                            + tr(lang, "update.usage"))
            return
        after = change.progress
        if metric.cumulative:
            key = "update.preview_sub" if change.stored < 0 else "update.preview_add"
            lines = [tr(lang, key, metric=metric.name, value=_amount(abs(change.stored), metric.unit),
                        village=village, before=format_number(change.before or 0),
                        after=_amount(change.after, metric.unit))]
        elif change.before is None:
            lines = [tr(lang, "update.preview", metric=metric.name, value=_amount(change.after, metric.unit),
                        village=village)]
        else:
            lines = [tr(lang, "update.preview_change", metric=metric.name, before=format_number(change.before),
                        after=_amount(change.after, metric.unit), change=_signed(change.delta or 0),
                        village=village)]
    lines.append(esc(describe(after)))
    if change is not None and change.whole is not None:
        lines.append(esc(describe(change.whole)))
    if change is not None and change.jump:
        lines.append(tr(lang, "update.jump", before=format_number(change.reference or 0),
                        after=_amount(change.after, metric.unit)))
    if parsed.unusual:
        lines.append(tr(lang, "update.unusual"))
    token = secrets.token_hex(8)
    s.store.open_pending(token, update.effective_user.id,
                         parsed.payload(change.stored if change is not None else None))
    rows = [[(tr(lang, "update.confirm"), f"ok:{token}"), (tr(lang, "update.cancel"), f"no:{token}")]]
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    await send_html(update, context, "\n".join(lines), keyboard(rows))


@logged("/capnhat:button")
async def on_update_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The buttons of a /capnhat: which metric, which number, which village, confirm, cancel."""
    query = update.callback_query
    if query is None or not query.data:
        return None
    await acknowledge(update)
    kind, _, value = query.data.partition(":")
    lang = lang_of(update, context)
    if kind in ("ok", "no"):
        await (_confirm if kind == "ok" else _cancel)(update, context, value)
        return ConversationHandler.END
    if not await allowed(update, context, "capnhat"):
        return ConversationHandler.END
    draft: Parsed | None = context.user_data.get(DRAFT)  # type: ignore[union-attr]
    reg = registry(context)
    if kind == "cm":
        metric = reg.get(value)
        if metric is None:
            await invalid_button(update, context)
            return ConversationHandler.END
        if draft is None or (draft.value is None and draft.status is None and not draft.ambiguous):
            context.user_data[DRAFT] = Parsed(raw="", metric=metric)  # type: ignore[index]
            await send_html(update, context, tr(lang, "update.ask_value", metric=metric.name, unit=metric.unit))
            return ASK_VALUE
        if draft.ambiguous:
            draft.metric, draft.choices = metric, []
            await _handle(update, context, draft)
            return ConversationHandler.END
        await _handle(update, context, reg.check(draft, metric, draft.value, draft.unit or ""))
        return ConversationHandler.END
    if kind == "cv" and draft is not None and draft.metric is not None and draft.ambiguous \
            and value in {str(v) for v in draft.ambiguous}:  # one of the two numbers the question offered
        await _handle(update, context, reg.check(draft, draft.metric, float(value), ""))
        return ConversationHandler.END
    if kind == "cl" and draft is not None and draft.metric is not None and (not value or value in reg.villages):
        draft.village = value or None
        draft.unknown_village, draft.village_choices = None, []
        await _preview(update, context, draft)
        return ConversationHandler.END
    await invalid_button(update, context)
    return ConversationHandler.END


async def on_value(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The guided conversation's value ("12,5", "12,5 ha", "Còn Nàn 26,7 tấn", "đạt")."""
    lang = lang_of(update, context)
    draft: Parsed | None = context.user_data.get(DRAFT)  # type: ignore[union-attr]
    message = update.effective_message
    if draft is None or draft.metric is None or message is None or not message.text:
        return ConversationHandler.END
    if not await allowed(update, context, "capnhat"):  # removed since the conversation began
        context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
        return ConversationHandler.END
    parsed = registry(context).parse(f"{draft.metric.name} {message.text}")
    if parsed.metric is None or parsed.metric.key != draft.metric.key:
        parsed = registry(context).parse(f"{draft.metric.aliases[0] if draft.metric.aliases else draft.metric.name}"
                                         f" {message.text}")
    if parsed.metric is None or parsed.metric.key != draft.metric.key:  # no value in it ("nhiều lắm")
        await send_html(update, context, tr(lang, "update.no_value") + "\n"
                        + tr(lang, "update.ask_value", metric=draft.metric.name, unit=draft.metric.unit))
        return ASK_VALUE
    if parsed.problem:  # explain, keep the chosen metric, ask again
        await _handle(update, context, parsed)
        context.user_data[DRAFT] = draft  # type: ignore[index]
        return ASK_VALUE
    if parsed.ambiguous or parsed.unknown_village:
        await _handle(update, context, parsed)
        return ConversationHandler.END
    if parsed.metric.per_village and parsed.village is None:
        context.user_data[DRAFT] = parsed  # type: ignore[index]
        rows = [[(tr(lang, "update.whole_commune"), "cl:")]]
        rows += [[(v, f"cl:{v}")] for v in registry(context).villages]
        await send_html(update, context, tr(lang, "update.ask_village"), keyboard(rows))
        return ASK_VILLAGE
    await _preview(update, context, parsed)
    return ConversationHandler.END


async def cmd_leave(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/huy: leave the guided conversation."""
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    await send_html(update, context, tr(lang_of(update, context), "update.left"))
    return ConversationHandler.END


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, token: str) -> None:
    lang = lang_of(update, context)
    s = services(context)
    pending = s.store.pending(token)
    user = update.effective_user
    if pending is None or user is None:
        await send_html(update, context, tr(lang, "update.expired"))
        return
    owner, payload, state = pending
    if "metric" not in payload:  # another kind's token (an announcement's) pressed as a figure's
        await invalid_button(update, context)
        return
    if not await may_press(update, context, "capnhat:confirm", owner):
        return
    if not await author_may_still_write(update, context, "capnhat:confirm", owner):
        return
    if state == "cancelled":
        await send_html(update, context, tr(lang, "update.was_cancelled"))
        return
    # The figure is the official's who previewed it (an admin confirming it is in the audit log).
    name = user.full_name if owner == user.id else s.store.name_of(owner)
    _, wrote = s.store.confirm_figure(token, name)  # committed before anything is said
    metric = s.registry.get(payload["metric"])
    progress = (s.registry.current(metric, lambda key: s.store.figures(key, include_undone=False), s.clock())
                if metric else None)
    key = "update.saved" if wrote else "update.already_saved"
    await send_html(update, context, tr(lang, key) + ("\n" + esc(describe(progress)) if progress else ""), edit=True)


async def _cancel(update: Update, context: ContextTypes.DEFAULT_TYPE, token: str) -> None:
    store = services(context).store
    pending = store.pending(token)
    if pending is None:
        await send_html(update, context, tr(lang_of(update, context), "update.expired"))
        return
    if "metric" not in pending[1]:
        await invalid_button(update, context)
        return
    if not await may_press(update, context, "capnhat:cancel", pending[0]):
        return
    if store.cancel_pending(token):
        key = "update.cancelled"
    else:  # a stale keyboard or a double tap: say what became of it, not "nothing saved"
        key = "update.already_saved" if store.figure_by_request(token) else "update.expired"
    await send_html(update, context, tr(lang_of(update, context), key), edit=True)


# -- /hoantac, /lichsu, /xuat -------------------------------------------------------------------------

@logged("/hoantac")
async def cmd_undo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hoantac: show the figure it would undo (one's own last; an admin: anyone's) and ask first."""
    if not await allowed(update, context, "hoantac") or update.effective_user is None:
        return
    lang = lang_of(update, context)
    s = services(context)
    figure = s.store.last_figure(update.effective_user.id, anyone=role(update, context) == "admin")
    if figure is None:
        await send_html(update, context, tr(lang, "undo.nothing"))
        return
    metric = s.registry.get(figure.metric)
    who = figure.user_name or s.store.name_of(figure.user_id) or str(figure.user_id)
    text = tr(lang, "undo.ask", metric=esc(metric.name if metric else figure.metric),
              value=esc(_figure_value(figure)), village=f" ({esc(figure.village)})" if figure.village else "",
              who=esc(who), when=when(figure.created_at))
    rows = [[(tr(lang, "undo.confirm"), f"uo:{figure.id}"), (tr(lang, "undo.keep"), f"ux:{figure.id}")]]
    await send_html(update, context, text, keyboard(rows))


@logged("/hoantac:button")
async def on_undo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hoantac's buttons: undo the figure shown (once), or keep it."""
    query = update.callback_query
    user = update.effective_user
    if query is None or not query.data or user is None:
        return
    await acknowledge(update)
    if not await allowed(update, context, "hoantac"):
        return
    lang = lang_of(update, context)
    s = services(context)
    kind, _, raw_id = query.data.partition(":")
    figure = s.store.figure(int(raw_id)) if raw_id.isdigit() else None
    if figure is None:
        await invalid_button(update, context)
        return
    if figure.user_id != user.id and role(update, context) != "admin":
        s.store.audit(user.id, "hoantac", f"refused: not the author of figure {figure.id}", False)
        await send_html(update, context, tr(lang, "undo.not_yours"))
        return
    if kind == "ux":
        await send_html(update, context, tr(lang, "undo.kept"), edit=True)
        return
    undone = s.store.undo_figure(figure.id, user.id)
    if undone is None:
        await send_html(update, context, tr(lang, "undo.already"), edit=True)
        return
    metric = s.registry.get(undone.metric)
    await send_html(update, context, tr(lang, "undo.done", metric=metric.name if metric else undone.metric,
                                        value=_figure_value(undone), when=when(undone.created_at)), edit=True)


def _figure_value(figure: FigureRecord) -> str:
    if figure.status:
        return str(figure.status)
    return f"{format_number(float(figure.value or 0))} {figure.unit or ''}".strip()


@logged("/lichsu")
async def cmd_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lichsu [chỉ số]: recent figures with who and when."""
    if not await allowed(update, context, "lichsu"):
        return
    lang = lang_of(update, context)
    s = services(context)
    metric: Metric | None = None
    if context.args:
        found = s.registry.find(" ".join(context.args))
        metric = found[0] if found else None
    figures = s.store.figures(metric.key if metric else None, limit=15)
    if not figures:
        await send_html(update, context, tr(lang, "history.empty"))
        return
    lines = [tr(lang, "history.title")]
    for f in figures:
        m = s.registry.get(f.metric)
        line = f"{when(f.created_at)} — {esc(f.user_name or f.user_id)}: " \
               f"{esc(m.name if m else f.metric)} {esc(_figure_value(f))}"
        if f.village:
            line += f" ({esc(f.village)})"
        if f.undone_at:
            line += " " + tr(lang, "history.undone")
        lines.append(line)
    await send_html(update, context, "\n".join(lines))


# -- wiring -------------------------------------------------------------------------------------------

OFFICIAL_COMMANDS: list[tuple[str, str, str]] = [
    ("capnhat", "update", "cmd.capnhat"),
    ("hoantac", "undo", "cmd.hoantac"),
    ("lichsu", "history", "cmd.lichsu"),
    ("xuat", "export", "cmd.xuat"),
    ("mau", "template", "cmd.mau"),
    ("thongbao", "announce", "cmd.thongbao"),
    ("chuatraloi", "unanswered", "cmd.chuatraloi"),
    ("themhoidap", "addfaq", "cmd.themhoidap"),
    ("hoidap", "tickets", "cmd.hoidap"),
]


def command_menu(lang: str) -> list[BotCommand]:
    return [BotCommand(vi, tr(lang, key)) for vi, _, key in OFFICIAL_COMMANDS]


def handlers() -> Sequence[BaseHandler]:
    """Officials' handlers; /capnhat's guided conversation first, so its steps see their messages."""
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button is tracked per chat and user, not per message:
        # that is the intent (one /capnhat at a time per official; the buttons carry their own tokens).
        warnings.filterwarnings("ignore", message=".*per_message=False.*")
        conversation = ConversationHandler(
            entry_points=[CommandHandler(["capnhat", "update"], cmd_update)],
            states={
                ASK_METRIC: [CallbackQueryHandler(on_update_button, pattern=r"^cm:")],
                ASK_VALUE: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_value)],
                ASK_VILLAGE: [CallbackQueryHandler(on_update_button, pattern=r"^cl:")],
            },
            fallbacks=[CommandHandler(["huy", "cancel"], cmd_leave)],
            name="capnhat",
            allow_reentry=True,
        )
    return [
        conversation,
        CallbackQueryHandler(on_update_button, pattern=r"^(ok|no|cm|cv|cl):"),
        CommandHandler(["hoantac", "undo"], cmd_undo),
        CallbackQueryHandler(on_undo_button, pattern=r"^(uo|ux):"),
        CommandHandler(["lichsu", "history"], cmd_history),
        CommandHandler(["xuat", "export"], cmd_export),
        CommandHandler(["tiendo", "progress"], cmd_progress),
    ]
