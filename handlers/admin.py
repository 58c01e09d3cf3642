"""Admins: /canbo them|xoa|ds (/officials add|remove|list), also by replying to a forwarded message; /lienhe
(/contacts) sets the commune's contacts over commune.yaml's."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, BaseHandler, CommandHandler, ContextTypes

from knowledge.kb import CONTACT_KEYS

from . import citizen, official, reports
from .auth import allowed
from .common import SERVICES_KEY, Services, esc, lang_of, logged, send_html, services, tr

ADD = {"them", "thêm", "add"}
REMOVE = {"xoa", "xóa", "xoá", "remove", "del"}
LIST = {"ds", "danh", "list"}
CONTACT_VALUE_MAX = 300  # characters: an address or "Ông …, công chức địa chính, 09…" fits


def _target(update: Update, args: list[str]) -> tuple[int | None, str | None]:
    """The person meant: a user id typed, or the author of the forwarded message replied to."""
    if args and args[0].lstrip("-").isdigit():
        return int(args[0]), " ".join(args[1:]) or None
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is not None:
        origin = replied.forward_origin
        if origin is not None:  # a forward names its author, or hides them: never the admin who forwarded it
            user = getattr(origin, "sender_user", None)
        else:
            user = replied.from_user if replied.from_user and not replied.from_user.is_bot else None
        if user is not None:
            return user.id, " ".join(args) or user.full_name
    return None, None


@logged("/canbo")
async def cmd_officials(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/canbo them <user_id> [tên] | xoa <user_id> | ds."""
    if not await allowed(update, context, "canbo", roles=("admin",)):
        return
    lang = lang_of(update, context)
    s = services(context)
    args = list(context.args or [])
    action = args.pop(0).lower() if args else "ds"
    admin = update.effective_user.id if update.effective_user else None
    if action in LIST:
        people = s.store.people_with_role("official")
        lines = [tr(lang, "officials.list")] + [f"• {pid} — {esc(name or '')}" for pid, name in people]
        await send_html(update, context, "\n".join(lines) if people else tr(lang, "officials.none"))
        return
    user_id, name = _target(update, args)
    if user_id is None or action not in ADD | REMOVE:
        await send_html(update, context, tr(lang, "officials.usage"))
        return
    if action in ADD:
        s.store.set_role(user_id, "official", name, admin)
        await show_menu(context.application, user_id, "official")
        await send_html(update, context, tr(lang, "officials.added", user=user_id, name=name or ""))
    else:
        s.store.set_role(user_id, None, None, admin)
        await show_menu(context.application, user_id, None)
        await send_html(update, context, tr(lang, "officials.removed", user=user_id))


@logged("/lienhe")
async def cmd_contacts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lienhe: the contacts in use; /lienhe <key> <value> sets one; /lienhe <key> - goes back to the file's."""
    if not await allowed(update, context, "lienhe", roles=("admin",)):
        return
    lang = lang_of(update, context)
    s = services(context)
    args = list(context.args or [])
    names = ", ".join(CONTACT_KEYS)
    if not args:
        stored = s.store.contacts()
        lines = [tr(lang, "lienhe.list")]
        for key in CONTACT_KEYS:
            value = s.kb.contact_value(key)
            shown = esc(value) if value else tr(lang, "lienhe.unset")
            mark = " " + tr(lang, "lienhe.from_chat") if key in stored else ""
            lines.append(f"• <code>{key}</code>: {shown}{mark}")
        await send_html(update, context, "\n".join(lines) + "\n\n" + tr(lang, "lienhe.usage", keys=names))
        return
    key = args[0].lower()
    value = " ".join(" ".join(args[1:]).split())
    if key not in CONTACT_KEYS:
        await send_html(update, context, tr(lang, "lienhe.bad_key", item=key[:40], keys=names))
        return
    if not value:
        await send_html(update, context, tr(lang, "lienhe.usage", keys=names))
        return
    if len(value) > CONTACT_VALUE_MAX:
        await send_html(update, context, tr(lang, "lienhe.too_long", limit=CONTACT_VALUE_MAX))
        return
    admin = update.effective_user.id if update.effective_user else None
    s.store.set_contact(key, None if value == "-" else value, admin)  # committed before the admin is told
    s.kb.set_contacts(s.store.contacts())
    if value == "-":
        current = s.kb.contact_value(key) or tr(lang, "lienhe.unset")
        await send_html(update, context, tr(lang, "lienhe.cleared", item=key, value=current))
    else:
        await send_html(update, context, tr(lang, "lienhe.saved", item=key, value=value))


async def show_menu(application: Application, user_id: int, role: str | None) -> None:
    """The command menu in that person's private chat: the officials' (and admins') commands, or the default."""
    scope = BotCommandScopeChat(user_id)
    try:
        if role is None:
            await application.bot.delete_my_commands(scope=scope)
            return
        menu = citizen.command_menu("vi") + official.command_menu("vi") + reports.command_menu("vi")
        if role == "admin":
            menu += admin_menu("vi")
        await application.bot.set_my_commands(menu, scope=scope)
    except TelegramError:  # the person has not started a chat with the bot yet: the menu waits
        return


def admin_menu(lang: str) -> list[BotCommand]:
    return [BotCommand("canbo", tr(lang, "cmd.canbo")), BotCommand("lienhe", tr(lang, "cmd.lienhe")),
            BotCommand("nhomcanbo", tr(lang, "cmd.nhomcanbo"))]


async def register_menus(application: Application) -> None:
    """At start-up: the scoped menus of the admins and of the officials already in the database."""
    s = services_of(application)
    for user_id in s.admin_ids:
        await show_menu(application, user_id, "admin")
    for user_id, _ in s.store.people_with_role("official"):
        await show_menu(application, user_id, "official")


def services_of(application: Application) -> Services:
    return application.bot_data[SERVICES_KEY]


def handlers() -> Sequence[BaseHandler]:
    return [CommandHandler(["canbo", "officials"], cmd_officials), CommandHandler(["lienhe", "contacts"], cmd_contacts)]
