"""Admins: /canbo them|xoa|ds (/officials add|remove|list), also by replying to a forwarded message."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, BaseHandler, CommandHandler, ContextTypes

from . import citizen, official
from .common import SERVICES_KEY, Services, esc, lang_of, logged, send_html, services, tr
from .official import allowed

ADD = {"them", "thêm", "add"}
REMOVE = {"xoa", "xóa", "xoá", "remove", "del"}
LIST = {"ds", "danh", "list"}


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


async def show_menu(application: Application, user_id: int, role: str | None) -> None:
    """The command menu in that person's private chat: the officials' (and admins') commands, or the default."""
    scope = BotCommandScopeChat(user_id)
    try:
        if role is None:
            await application.bot.delete_my_commands(scope=scope)
            return
        menu = citizen.command_menu("vi") + official.command_menu("vi")
        if role == "admin":
            menu += admin_menu("vi")
        await application.bot.set_my_commands(menu, scope=scope)
    except TelegramError:  # the person has not started a chat with the bot yet: the menu waits
        return


def admin_menu(lang: str) -> list[BotCommand]:
    return [BotCommand("canbo", tr(lang, "cmd.canbo"))]


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
    return [CommandHandler(["canbo", "officials"], cmd_officials)]
