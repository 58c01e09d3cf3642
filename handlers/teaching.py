"""Learning from what people ask: questions nobody could answer (/chuatraloi), answers officials teach
(/themhoidap, /suahoidap, /xoahoidap), and the 👍/👎 under answers."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence

from rapidfuzz import fuzz
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from knowledge.rank import search
from knowledge.text import fold

from .auth import allowed
from .common import (
    Services,
    acknowledge,
    button_label,
    esc,
    invalid_button,
    keyboard,
    lang_of,
    logged,
    send_html,
    services,
    short_key,
    tr,
    user_hash,
)
from .tickets import feedback_offer

ASK_QUESTIONS, ASK_ANSWER, ASK_PASSAGE = range(10, 13)
DRAFT = "teach_draft"
MONTH = 30 * 24 * 3600


def group_similar(rows: list[dict], threshold: int = 85) -> list[tuple[str, int]]:
    """Questions asked in other words grouped (rapidfuzz on the folded text): (an example, how many)."""
    groups: list[tuple[str, str, int]] = []  # (example, folded, count)
    for row in rows:
        folded = fold(row["question"])
        for i, (example, key, count) in enumerate(groups):
            if fuzz.token_set_ratio(folded, key) >= threshold:
                groups[i] = (example, key, count + 1)
                break
        else:
            groups.append((row["question"], folded, 1))
    return sorted(((e, c) for e, _, c in groups), key=lambda x: -x[1])


@logged("/chuatraloi")
async def cmd_unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/chuatraloi: the most frequent unanswered questions of the last 30 days, and the least helpful answers."""
    if not await allowed(update, context, "chuatraloi"):
        return
    lang = lang_of(update, context)
    s = services(context)
    since = time.time() - MONTH
    groups = group_similar(s.store.unanswered_since(since))
    lines = [tr(lang, "unanswered.title")]
    lines += [f"{count}× {esc(example)}" for example, count in groups[:15]] or [tr(lang, "unanswered.none")]
    worst = s.store.least_helpful(since)
    if worst:
        lines.append(tr(lang, "unanswered.unhelpful"))
        for key, down, up in worst:
            passage = s.kb.passage(key)
            lines.append(f"👎{down} 👍{up} — {esc(passage.section if passage else key)}")
    lines.append(tr(lang, "unanswered.teach"))
    await send_html(update, context, "\n".join(lines))


@logged("/themhoidap")
async def cmd_teach(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/themhoidap: a guided conversation — the question (and its variants), the answer, the passage."""
    if not await allowed(update, context, "themhoidap"):
        return ConversationHandler.END
    context.user_data[DRAFT] = {}  # type: ignore[index]
    await send_html(update, context, tr(lang_of(update, context), "teach.ask_questions"))
    return ASK_QUESTIONS


async def _still_allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Every step checks the role again: an official removed mid-conversation teaches nothing."""
    if await allowed(update, context, "themhoidap"):
        return True
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    return False


async def on_questions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await _still_allowed(update, context):
        return ConversationHandler.END
    message = update.effective_message
    questions = [q.strip(" -•") for q in (message.text or "").splitlines() if q.strip(" -•")] if message else []
    if not questions:
        return ASK_QUESTIONS
    context.user_data[DRAFT] = {"questions": questions[:10]}  # type: ignore[index]
    await send_html(update, context, tr(lang_of(update, context), "teach.ask_answer"))
    return ASK_ANSWER


async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not await _still_allowed(update, context):
        return ConversationHandler.END
    message = update.effective_message
    draft = context.user_data.get(DRAFT) or {}  # type: ignore[union-attr]
    if message is None or not (message.text or "").strip() or not draft.get("questions"):
        return ASK_ANSWER
    draft["answer"] = message.text.strip()[:2000]
    s = services(context)
    hits = search(s.kb.index, s.kb.understand(draft["answer"] + " " + draft["questions"][0]))
    seen: list[str] = []
    for hit in hits:
        p = hit.segment.passage
        key = p.cited_by if p.kind in ("faq", "footnote") and p.cited_by else p.key
        if key not in seen and key in s.kb.passages:
            seen.append(key)
    draft["passages"] = seen[:3]
    lang = lang_of(update, context)
    rows = [[(button_label(s.kb.passages[k].text, 58), f"tp:{i}")] for i, k in enumerate(draft["passages"])]
    rows.append([(tr(lang, "teach.no_passage"), "tp:-")])
    await send_html(update, context, tr(lang, "teach.ask_passage"), keyboard(rows))
    return ASK_PASSAGE


async def on_passage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    if query is None or not query.data:
        return ASK_PASSAGE
    await acknowledge(update)
    if not await _still_allowed(update, context):  # the step that writes
        return ConversationHandler.END
    draft = context.user_data.pop(DRAFT, None) or {}  # type: ignore[union-attr]
    choice = query.data.partition(":")[2]
    known = choice == "-" or (choice.isdigit() and int(choice) < len(draft.get("passages") or []))
    if not draft.get("answer") or not known:
        await invalid_button(update, context)
        return ConversationHandler.END
    passage_key = None if choice == "-" else draft["passages"][int(choice)]
    s = services(context)
    user = update.effective_user
    new_id = s.store.add_curated(draft["questions"], draft["answer"], passage_key, user.id if user else None)
    resolved = relearn(s)
    await send_html(update, context, tr(lang_of(update, context), "teach.saved", id=new_id, resolved=resolved),
                    edit=True)
    return ConversationHandler.END


def relearn(s: Services) -> int:
    """Rebuild the index with the taught answers; mark the recorded questions it now answers resolved."""
    s.kb.teach(s.store.curated())
    pending = s.store.unanswered_since(time.time() - MONTH)[-500:]
    now_answered = [row["id"] for row in pending if s.kb.ask(row["question"]).found]
    s.store.resolve_unanswered(now_answered)
    return len(now_answered)


async def cmd_leave(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    await send_html(update, context, tr(lang_of(update, context), "update.left"))
    return ConversationHandler.END


@logged("/suahoidap")
async def cmd_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/suahoidap <số> <câu trả lời mới>."""
    if not await allowed(update, context, "suahoidap"):
        return
    lang = lang_of(update, context)
    args = list(context.args or [])
    s = services(context)
    if len(args) < 2 or not args[0].isdigit():
        await send_html(update, context, tr(lang, "teach.edit_usage") + "\n" + _taught_list(s))
        return
    user = update.effective_user
    ok = s.store.update_curated(int(args[0]), " ".join(args[1:]), user.id if user else None)
    if ok:
        relearn(s)
    await send_html(update, context, tr(lang, "teach.edited" if ok else "teach.not_found", id=args[0]))


@logged("/xoahoidap")
async def cmd_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/xoahoidap <số>."""
    if not await allowed(update, context, "xoahoidap"):
        return
    lang = lang_of(update, context)
    args = list(context.args or [])
    s = services(context)
    if not args or not args[0].isdigit():
        await send_html(update, context, tr(lang, "teach.remove_usage") + "\n" + _taught_list(s))
        return
    user = update.effective_user
    ok = s.store.remove_curated(int(args[0]), user.id if user else None)
    if ok:
        relearn(s)
    await send_html(update, context, tr(lang, "teach.removed" if ok else "teach.not_found", id=args[0]))


def _taught_list(s: Services) -> str:
    return "\n".join(f"{row['id']}: {esc(row['questions'][0])}" for row in s.store.curated())


@logged("feedback")
async def on_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍/👎 under an answer."""
    query = update.callback_query
    if query is None or not query.data:
        return
    _, helpful, short = [*query.data.split(":", 2), "", ""][:3]
    s = services(context)
    key = next((k for k in s.kb.passages if short_key(k) == short), None)
    if helpful not in ("0", "1") or key is None:  # not a button the bot sent: nothing for officials to read
        await acknowledge(update)
        await invalid_button(update, context)
        return
    user = update.effective_user
    s.store.record_feedback(user_hash(user.id if user else None), "", key, helpful == "1")
    lang = lang_of(update, context)
    await acknowledge(update, tr(lang, "feedback.thanks"))
    if helpful == "0":  # the answer did not help: a person may
        text, rows = feedback_offer(lang)
        await send_html(update, context, text, keyboard(rows))


def handlers() -> Sequence[BaseHandler]:
    with warnings.catch_warnings():  # per chat and user on purpose, as /capnhat's (see official.py)
        warnings.filterwarnings("ignore", message=".*per_message=False.*")
        conversation = _conversation()
    return [
        conversation,
        CommandHandler(["chuatraloi", "unanswered"], cmd_unanswered),
        CommandHandler(["suahoidap", "editfaq"], cmd_edit),
        CommandHandler(["xoahoidap", "removefaq"], cmd_remove),
        CallbackQueryHandler(on_feedback, pattern=r"^fb:"),
    ]


def _conversation() -> ConversationHandler:
    return ConversationHandler(
        entry_points=[CommandHandler(["themhoidap", "addfaq"], cmd_teach)],
        states={
            ASK_QUESTIONS: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_questions)],
            ASK_ANSWER: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_answer)],
            ASK_PASSAGE: [CallbackQueryHandler(on_passage, pattern=r"^tp:")],
        },
        fallbacks=[CommandHandler(["huy", "cancel"], cmd_leave)],
        name="themhoidap",
        allow_reentry=True,
    )
