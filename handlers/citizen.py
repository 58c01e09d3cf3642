"""What every citizen can do: ask (free text, /hoi, buttons), /start (with its deep links), /trogiup, /chitieu,
/trocap, /thutuc, /ngonngu. Each handler parses the update, asks the knowledge base, and replies with strings
from locales/."""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import BotCommand, Update
from telegram.constants import MessageEntityType
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from knowledge.answer import Reply
from knowledge.faq import FaqEntry
from knowledge.i18n import LANGS, keys
from knowledge.kb import KnowledgeBase, answer_label, render_card
from knowledge.procedures import ProcedureCard, by_deep_link
from knowledge.text import fold

from . import tickets
from .common import (
    acknowledge,
    button_label,
    esc,
    invalid_button,
    keyboard,
    lang_of,
    logged,
    note,
    send_html,
    services,
    short_key,
    tr,
    user_hash,
)

EXAMPLES = 5

# Commands: (Vietnamese name, English alias, locale key of the description).
COMMANDS: list[tuple[str, str, str]] = [
    ("start", "start", "cmd.start"),
    ("trogiup", "help", "cmd.help"),
    ("hoi", "ask", "cmd.hoi"),
    ("chitieu", "targets", "cmd.chitieu"),
    ("trocap", "subsidies", "cmd.trocap"),
    ("thutuc", "procedures", "cmd.thutuc"),
    ("tiendo", "progress", "cmd.tiendo"),
    ("dangky", "subscribe", "cmd.dangky"),
    ("huydangky", "unsubscribe", "cmd.huydangky"),
    ("thon", "village", "cmd.thon"),
    ("tomtat", "summary", "cmd.tomtat"),
    ("phananh", "problem", "cmd.phananh"),
    ("theodoi", "track", "cmd.theodoi"),
    ("ngonngu", "language", "cmd.ngonngu"),
]
BROWSE_KINDS = {"trocap": "subsidy", "thutuc": "procedure"}
OWN_WORDING = {"procedure", "smalltalk", "handoff", "contact"}


# -- answering -------------------------------------------------------------------------------------

def render_reply(reply: Reply, lang: str, hint_commands: bool = True) -> str:
    """A reply as Telegram HTML: the quote escaped (the document's own words), the source in italics."""
    if reply.kind == "answer":
        quote = f"{esc(reply.plain)}\n«{esc(reply.quote)}»" if reply.plain else esc(reply.quote)
        return f"{quote}\n\n<i>{esc(answer_label(reply, lang))}</i>"
    if reply.kind == "empty":
        return tr(lang, "answer.empty")
    if reply.kind == "suggest":
        return tr(lang, "answer.suggest") + ("\n\n" + tr(lang, "answer.unknown_hint") if hint_commands else "")
    text = tr(lang, "answer.unknown")
    if reply.suggestions:
        text += "\n" + tr(lang, "answer.unknown_try")
    if hint_commands:
        text += "\n\n" + tr(lang, "answer.unknown_hint")
    return text


def reply_buttons(reply: Reply, lang: str, context: ContextTypes.DEFAULT_TYPE) -> list[list[tuple[str, str]]]:
    kb = services(context).kb
    rows: list[list[tuple[str, str]]] = []
    if reply.kind == "answer" and reply.passage_key:
        sid = short_key(reply.passage_key)
        rows.append([(tr(lang, "answer.full_button"), f"full:{sid}"), ("👍", f"fb:1:{sid}"), ("👎", f"fb:0:{sid}")])
    if reply.kind == "contact" and (card := kb.card(reply.card_id)) is not None:  # "gặp ai để làm sổ đỏ"
        rows.append([(button_label(card.english.title if lang == "en" else card.title), f"pc:{card.id}")])
    for question in reply.suggestions[:3]:
        entry = kb.faq_by_question.get(question)
        if entry is not None:
            rows.append([(button_label(question), f"faq:{entry.id}"[:64])])
    return rows


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Ask the knowledge base and reply: the answer with its source, suggestions, or an honest "don't know"."""
    s = services(context)
    reply = s.kb.ask(question)
    # A question asked in English is answered in English throughout, whatever language the chat is set to.
    lang = "en" if reply.english else lang_of(update, context)
    note(kind="question", source=reply.source or reply.kind, score=reply.score)
    if not reply.found and reply.kind not in ("empty", "smalltalk", "handoff"):
        # for /chuatraloi: what people ask that the bot cannot answer (a greeting or "cảm ơn" is not that)
        user = update.effective_user
        s.store.record_unanswered(question, " ".join(fold(question).split()), user_hash(user.id if user else None),
                                  reply.kind)
    # A card, a conversation act's reply, a procedure nobody has a card for: the knowledge base words them.
    text = esc(s.kb.render(reply, lang)) if reply.kind in OWN_WORDING or reply.procedure else render_reply(reply, lang)
    # What the bot cannot answer, or a request for a person, can go to the commune's officials (a ticket).
    rows = reply_buttons(reply, lang, context) + tickets.offer_rows(update, context, reply, question, lang)
    await send_html(update, context, text, keyboard(rows))


@logged("question")
async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message is a question."""
    message = update.effective_message
    if message is None:
        return
    text = message.text or message.caption or ""
    if not text.strip():
        await send_html(update, context, tr(lang_of(update, context), "nontext"))
        return
    await answer(update, context, text)


@logged("question")
async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group: only a message that mentions the bot or replies to it is a question."""
    message = update.effective_message
    if message is None or not message.text:
        return
    username = context.bot.username or ""
    mentioned = any(
        e.type == MessageEntityType.MENTION and message.parse_entity(e).lstrip("@").lower() == username.lower()
        for e in message.entities
    )
    replied = message.reply_to_message is not None and message.reply_to_message.from_user is not None \
        and message.reply_to_message.from_user.id == context.bot.id
    if not (mentioned or replied):
        return
    question = re.sub(rf"@{re.escape(username)}\b", " ", message.text, flags=re.IGNORECASE).strip()
    await answer(update, context, question)


@logged("non-text")
async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, photo without caption, voice…: say politely that only text is read."""
    await send_html(update, context, tr(lang_of(update, context), "nontext"))


@logged("/hoi")
async def cmd_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hoi <câu hỏi>: the way to ask in a group."""
    question = " ".join(context.args or [])
    if not question.strip():
        await send_html(update, context, tr(lang_of(update, context), "hoi.usage"))
        return
    await answer(update, context, question)


# -- introduction ----------------------------------------------------------------------------------

@logged("/start")
async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: who the bot is, example questions as buttons; /start <payload> (a QR code's deep link) opens
    the place it names instead."""
    payload = (context.args or [""])[0]
    if payload and await _open_deep_link(update, context, payload):
        return
    lang = lang_of(update, context)
    kb = services(context).kb
    user = update.effective_user
    text = "\n\n".join([
        tr(lang, "start.greeting", name=user.first_name if user else "", commune=kb.stats()["commune"]),
        tr(lang, "start.knows"),
    ])
    rows = [[(button_label(tr(lang, f"examples.{i}")), f"ex:{i}")] for i in range(1, EXAMPLES + 1)]
    await send_html(update, context, text + "\n\n" + tr(lang, "start.commands"), keyboard(rows))


@logged("/trogiup")
async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/trogiup: how to use the bot — what to type, the commands, where answers come from, whom to contact."""
    lang = lang_of(update, context)
    kb = services(context).kb
    await send_html(update, context, tr(lang, "help.text") + "\n\n" + esc(kb.contact(lang)))


async def _open_deep_link(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> bool:
    """``thutuc_<slug>``: that card; ``phananh``: how to report a problem; ``hoi_<topic>``: that topic's
    menu. False for a payload that names nothing known (the caller greets as usual)."""
    kb = services(context).kb
    lang = lang_of(update, context)
    note(kind=f"/start {payload.split('_')[0][:20]}")  # the kind of link, not what it names
    card = by_deep_link(kb.cards, payload)
    if card is not None:
        await _show_card(update, context, card, lang)
        return True
    if payload == "phananh":  # the report begins at once
        await tickets.open_report_link(update, context)
        return True
    if payload.startswith("hoi_"):
        return await _open_topic(update, context, payload.removeprefix("hoi_"), lang)
    return False


async def _open_topic(update: Update, context: ContextTypes.DEFAULT_TYPE, slug: str, lang: str) -> bool:
    """``hoi_<topic>``: a command's menu (thutuc, trocap, chitieu), a procedure topic (hotich, datdai…), or a
    topic of the curated subsidies and procedures."""
    if slug == "thutuc":
        await _show_card_topics(update, context, edit=False)
    elif slug in BROWSE_KINDS:
        await _show_topics(update, context, slug, edit=False)
    elif slug == "chitieu":
        await cmd_targets(update, context)
    elif (index := _topic_index([t for t, _ in _card_topics(services(context).kb)], slug)) is not None:
        await _show_card_topic(update, context, index, lang)
    else:
        for command, kind in BROWSE_KINDS.items():
            index = _topic_index([t for t, _ in _topics(context, kind)], slug)
            if index is not None:
                await _show_topic(update, context, f"{command}:{index}", lang)
                return True
        return False
    return True


def topic_slug(topic: str) -> str:
    """A topic as a deep link writes it: "hộ tịch" → "hotich", "khiếu nại, tố cáo" → "khieunaitocao"."""
    return re.sub(r"[^a-z0-9]", "", fold(topic))


def _topic_index(topics: list[str], slug: str) -> int | None:
    return next((i for i, topic in enumerate(topics) if topic_slug(topic) == slug), None)


# -- targets ---------------------------------------------------------------------------------------

@logged("/chitieu")
async def cmd_targets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/chitieu: the year's targets, grouped by field."""
    lang = lang_of(update, context)
    kb = services(context).kb
    groups = kb.targets_by_field()
    if not groups:
        await send_html(update, context, tr(lang, "targets.none"))
        return
    lines = [tr(lang, "targets.title", year=kb.plan_year or "")]
    for field_title, targets in groups:
        lines.append(f"\n<b>{esc(field_title)}</b>")
        lines.extend(f"{t.number}) {esc(t.text)}" for t in targets)
    await send_html(update, context, "\n".join(lines))


# -- browsing subsidies and procedures -----------------------------------------------------------------

def _topics(context: ContextTypes.DEFAULT_TYPE, kind: str) -> list[tuple[str, list[FaqEntry]]]:
    return services(context).kb.faq_topics(kind)


async def _show_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str, edit: bool) -> None:
    lang = lang_of(update, context)
    topics = _topics(context, BROWSE_KINDS[command])
    title = tr(lang, "browse.subsidies" if command == "trocap" else "browse.procedures")
    if not topics:
        await send_html(update, context, tr(lang, "browse.empty"), edit=edit)
        return
    rows = [[(button_label(topic), f"bt:{command}:{i}")] for i, (topic, _) in enumerate(topics)]
    if command == "thutuc" and services(context).kb.cards:
        rows.append([(tr(lang, "browse.back"), "pk")])  # back to the procedure cards, which /thutuc shows first
    await send_html(update, context, title, keyboard(rows), edit=edit)


@logged("/trocap")
async def cmd_subsidies(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/trocap: subsidies by topic."""
    await _show_topics(update, context, "trocap", edit=False)


@logged("/thutuc")
async def cmd_procedures(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/thutuc: the procedure cards by topic, then the plan's own answers about procedures."""
    await _show_card_topics(update, context, edit=False)


# -- procedure cards ------------------------------------------------------------------------------

def _card_topics(kb: KnowledgeBase) -> list[tuple[str, list[ProcedureCard]]]:
    """The cards grouped by topic, in the order the cards file lists them."""
    topics: dict[str, list[ProcedureCard]] = {}
    for card in kb.cards:
        topics.setdefault(card.topic or "…", []).append(card)
    return list(topics.items())


def _topic_label(topic: str, lang: str) -> str:
    """A topic in the asker's language: the locale's name for it ("topic.hotich"), else as the file writes it."""
    key = f"topic.{topic_slug(topic)}"
    if lang != "vi" and key in keys(lang):
        return tr(lang, key)
    return topic[:1].upper() + topic[1:]


async def _show_card_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, edit: bool) -> None:
    lang = lang_of(update, context)
    topics = _card_topics(services(context).kb)
    if not topics:  # a knowledge base without cards: the plan's answers are what there is
        await _show_topics(update, context, "thutuc", edit=edit)
        return
    rows = [[(button_label(_topic_label(topic, lang)), f"pt:{i}")] for i, (topic, _) in enumerate(topics)]
    if _topics(context, "procedure"):
        rows.append([(tr(lang, "browse.plan_procedures"), "br:thutuc")])
    await send_html(update, context, tr(lang, "browse.cards"), keyboard(rows), edit=edit)


async def _show_card_topic(update: Update, context: ContextTypes.DEFAULT_TYPE, index: int, lang: str) -> None:
    topics = _card_topics(services(context).kb)
    if not 0 <= index < len(topics):
        await invalid_button(update, context)
        return
    topic, cards = topics[index]
    rows = [[(button_label(card.english.title if lang == "en" else card.title), f"pc:{card.id}")] for card in cards]
    rows.append([(tr(lang, "browse.back"), "pk")])
    await send_html(update, context, tr(lang, "browse.card_topic", topic=_topic_label(topic, lang)), keyboard(rows),
                    edit=True)


def card_text(card: ProcedureCard, lang: str) -> str:
    """A card in full, as Telegram HTML: its title in bold, every part, its legal basis, when it was checked."""
    title, _, body = render_card(card, (), lang, whole=True).partition("\n")
    parts = body.split("\n")
    checked = parts.pop()  # render_card ends with the date the card was checked: it stays last
    lines = [f"<b>{esc(title)}</b>", *map(esc, parts), tr(lang, "card.legal_basis")]
    lines.extend(f"• {esc(basis)}" for basis in card.legal_basis)
    lines.append(f"<i>{esc(checked)}</i>")
    return "\n".join(lines)


async def _show_card(update: Update, context: ContextTypes.DEFAULT_TYPE, card: ProcedureCard, lang: str) -> None:
    topics = [topic for topic, _ in _card_topics(services(context).kb)]
    back = topics.index(card.topic or "…")
    rows = [[(tr(lang, "browse.back"), f"pt:{back}"), (tr(lang, "browse.all_cards"), "pk")]]
    await send_html(update, context, card_text(card, lang), keyboard(rows), edit=True)


# -- language -----------------------------------------------------------------------------------

@logged("/ngonngu")
async def cmd_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ngonngu: Tiếng Việt or English, kept per person."""
    rows = [[("Tiếng Việt", "lang:vi"), ("English", "lang:en")]]
    await send_html(update, context, tr(lang_of(update, context), "lang.choose"), keyboard(rows))


# -- buttons ------------------------------------------------------------------------------------

@logged("button")
async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button: examples, suggestions, the whole passage, browsing (cards too), language."""
    query = update.callback_query
    if query is None or not query.data:
        return
    await acknowledge(update)
    kind, _, value = query.data.partition(":")
    kb = services(context).kb
    lang = lang_of(update, context)
    note(kind=f"button:{kind}")
    if kind == "ex" and value.isdigit() and 1 <= int(value) <= EXAMPLES:
        await answer(update, context, tr(lang, f"examples.{int(value)}"))
    elif kind == "faq" and kb.faq_entry(value) is not None:
        await answer(update, context, kb.faq_entry(value).questions[0])  # type: ignore[union-attr]
    elif kind == "full":
        key = next((k for k in kb.passages if short_key(k) == value), None)
        text = kb.full_passage(key, lang) if key else None
        await send_html(update, context, esc(text) if text else tr(lang, "answer.gone"))
    elif kind == "lang" and value in LANGS and update.effective_user:
        services(context).store.set_user_lang(update.effective_user.id, value)
        await send_html(update, context, tr(value, "lang.set"), edit=True)
    elif kind == "br" and value in BROWSE_KINDS:
        await _show_topics(update, context, value, edit=True)
    elif kind == "bt":
        await _show_topic(update, context, value, lang)
    elif kind == "bf":
        await _show_entry(update, context, value, lang)
    elif kind == "pk" and not value:
        await _show_card_topics(update, context, edit=True)
    elif kind == "pt" and value.isdigit():
        await _show_card_topic(update, context, int(value), lang)
    elif kind == "pc" and kb.card(value) is not None:
        await _show_card(update, context, kb.card(value), lang)  # type: ignore[arg-type]
    else:  # data the bot never sent (forged), or a button of a flow that has ended
        await invalid_button(update, context)


async def _show_topic(update: Update, context: ContextTypes.DEFAULT_TYPE, value: str, lang: str) -> None:
    command, _, index = value.partition(":")
    topics = _topics(context, BROWSE_KINDS.get(command, ""))
    if not index.isdigit() or int(index) >= len(topics):
        await invalid_button(update, context)
        return
    topic, entries = topics[int(index)]
    rows = [[(button_label(e.questions[0]), f"bf:{command}:{index}:{e.id}"[:64])] for e in entries]
    rows.append([(tr(lang, "browse.back"), f"br:{command}")])
    await send_html(update, context, tr(lang, "browse.topic", topic=topic), keyboard(rows), edit=True)


async def _show_entry(update: Update, context: ContextTypes.DEFAULT_TYPE, value: str, lang: str) -> None:
    command, index, entry_id = [*value.split(":", 2), "", ""][:3]
    entry = services(context).kb.faq_entry(entry_id)
    if entry is None or entry.passage is None:
        await send_html(update, context, tr(lang, "answer.gone"))
        return
    text = (f"<b>{esc(entry.questions[0])}</b>\n{esc(entry.answer)}\n\n«{esc(entry.quote)}»\n"
            f"<i>{tr(lang, 'answer.source', source=entry.passage.section)}</i>")
    rows = [[(tr(lang, "answer.full_button"), f"full:{short_key(entry.passage.key)}")],
            [(tr(lang, "browse.back"), f"bt:{command}:{index}")]]
    await send_html(update, context, text, keyboard(rows), edit=True)


# -- silence is never the answer --------------------------------------------------------------------

@logged("/huy")
async def cmd_nothing_to_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/huy, /cancel outside a conversation: nothing is under way, and saying so beats silence."""
    await send_html(update, context, tr(lang_of(update, context), "cancel.nothing"))


@logged("unknown-command")
async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have (a typo, an old one): name it and point to /trogiup."""
    message = update.effective_message
    command = (message.text or "").split()[0] if message and message.text else "/"
    name, _, addressee = command.partition("@")
    if message is not None and message.chat.type != "private" and \
            addressee.lower() != (context.bot.username or "").lower():
        return  # in a group, a command not addressed to this bot may be another bot's
    await send_html(update, context, tr(lang_of(update, context), "command.unknown", command=name[:40]))


# -- wiring -------------------------------------------------------------------------------------

def command_menu(lang: str) -> list[BotCommand]:
    """The command menu in one language: Vietnamese names for Vietnamese, the English aliases for English."""
    return [BotCommand(vi if lang == "vi" else en, tr(lang, key)) for vi, en, key in COMMANDS]


def handlers() -> Sequence[BaseHandler]:
    """The citizen handlers, in the order they must be tried (commands before free text)."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    return [
        CommandHandler("start", cmd_start),
        CommandHandler(["trogiup", "help"], cmd_help),
        CommandHandler(["hoi", "ask"], cmd_ask),
        CommandHandler(["chitieu", "targets"], cmd_targets),
        CommandHandler(["trocap", "subsidies"], cmd_subsidies),
        CommandHandler(["thutuc", "procedures"], cmd_procedures),
        CommandHandler(["ngonngu", "language"], cmd_language),
        CallbackQueryHandler(on_button),
        # Free text: every private message is a question; in groups, only what is addressed to the bot.
        MessageHandler(private & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, on_text),
        MessageHandler(groups & filters.TEXT & ~filters.COMMAND, on_group_text),
        MessageHandler(private & ~filters.TEXT & ~filters.CAPTION & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
                       on_other),
        # Last: /huy with nothing to leave (the conversations take it first when one is open), then any other
        # command: in a private chat, or in a group when addressed to this bot (/lenh@bot).
        CommandHandler(["huy", "cancel"], cmd_nothing_to_cancel),
        MessageHandler(filters.COMMAND, on_unknown_command),
    ]


async def register_commands(application: Application) -> None:
    """The command menu per language (Telegram shows the one matching the person's app language)."""
    await application.bot.set_my_commands(command_menu("vi"))
    await application.bot.set_my_commands(command_menu("en"), language_code="en")

