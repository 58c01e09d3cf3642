"""Who may do what: the asker's role at the moment a command or a button runs, and the polite, audited refusal.

One module, imported by every handler that guards something (officials' figures, announcements, teaching,
admin): a role is read from the database each time, so removing an official takes effect on their next
message, and a preview's author removed since cannot have their preview confirmed under their name.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from .common import lang_of, note, send_html, services, tr


def role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The asker's role now: admin (ADMIN_IDS), official (the database), or None."""
    user = update.effective_user
    if user is None:
        return None
    s = services(context)
    if user.id in s.admin_ids:
        return "admin"
    found = s.store.role_of(user.id)
    return found if found in ("admin", "official") else None


async def allowed(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str,
                  roles: tuple[str, ...] = ("official", "admin")) -> bool:
    """True for the right role; otherwise a polite refusal, and the attempt goes in the audit log."""
    if role(update, context) in roles:
        return True
    user = update.effective_user
    services(context).store.audit(user.id if user else None, action, "refused: not an official", False)
    note(kind=f"{action}:refused")
    await send_html(update, context, tr(lang_of(update, context), "official.refused"))
    return False


def may_still_write(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    """Whether ``user_id`` holds a role that writes, now: the author of a preview may have been removed since
    (an admin's Xác nhận must not save a figure under a removed official's name)."""
    s = services(context)
    return user_id in s.admin_ids or s.store.role_of(user_id) in ("admin", "official")


async def author_may_still_write(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, owner: int) -> bool:
    """Confirming another's request (an admin's Xác nhận): its author must still hold a role that writes, or
    nothing is written in their name; a refusal is audited and said."""
    user = update.effective_user
    if user is None or owner == user.id or may_still_write(context, owner):
        return True
    services(context).store.audit(user.id, action, f"refused: author {owner} is no longer an official", False)
    await send_html(update, context, tr(lang_of(update, context), "update.author_removed"))
    return False


async def may_press(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, owner: int) -> bool:
    """A preview's or an announcement's button: pressed by its author or an admin, each with a role now
    (refusals audited and explained)."""
    if not await allowed(update, context, action):
        return False
    user = update.effective_user
    lang = lang_of(update, context)
    if user is None:
        return False
    if owner != user.id and role(update, context) != "admin":  # someone else's preview
        services(context).store.audit(user.id, action, f"refused: not the author ({owner})", False)
        await send_html(update, context, tr(lang, "update.not_yours"))
        return False
    return True
