"""Trợ lý xã: entry point and command line. It wires; the domain lives in knowledge/, Telegram in handlers/.

    python bot.py                      the bot on Telegram (TELEGRAM_BOT_TOKEN), else the console chat
    python bot.py ask "câu hỏi"        one reply, as the bot would send it (--json for one JSON object)
    python bot.py ask --jsonl          JSON lines {"q": …} on stdin → one JSON line per question
    python bot.py build [--source F]   (re)build the knowledge base and print what it found
    python bot.py backup PATH          a consistent copy of the database
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import os
import re
import secrets
import sqlite3
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, Defaults, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest

from handlers import admin, broadcast, citizen, imports, official, reports, teaching, tickets
from handlers.common import SERVICES_KEY, Services, set_log_salt
from handlers.guards import flood_guard, forwarded_command, on_error
from handlers.inbox import Inbox
from handlers.localapi import LocalBotAPI, Sent, callback_update, message_update
from handlers.ordering import PerChatProcessor
from handlers.pollguard import UpdatesGuard
from handlers.ratelimit import StrictRateLimiter
from knowledge.i18n import t
from knowledge.kb import DEFAULT_SOURCE, SOURCE_FORMATS, BuildReport, KnowledgeBase, UnreadableSource
from knowledge.lexicon import DATA_DIR
from knowledge.metrics import LiveFigures, Registry
from knowledge.periods import Calendar
from knowledge.store import NotOurDatabase, Store
from knowledge.summary import parse_time

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("troly")


def data_dir() -> Path:
    """The commune's data folder (BOT_DATA): commune.yaml, metrics.yaml, faq.yaml and its plan(s). Another
    commune runs the same code with its own folder; the language files fall back to the project's data/."""
    return Path(os.environ.get("BOT_DATA") or DATA_DIR)


def sources_from_env(cli: list[str] | None = None) -> list[Path]:
    """Sources named on the command line, else in BOT_SOURCE (':'-separated), else the plan(s) in the data
    folder (data/: Cao Lâu's copy)."""
    if cli:
        return [Path(s) for s in cli]
    env = os.environ.get("BOT_SOURCE", "").strip()
    if env:
        return [Path(s) for s in env.split(":") if s.strip()]
    folder = data_dir()
    if folder == DATA_DIR:
        return [DEFAULT_SOURCE]
    plans = sorted(p for p in folder.iterdir() if p.suffix.lower() in SOURCE_FORMATS) if folder.is_dir() else []
    if not plans:
        raise UserError(t("error.source_missing", path=folder))
    return plans


def db_path() -> Path:
    return Path(os.environ.get("BOT_DB") or ROOT / "var" / "troly.db")


class UserError(Exception):
    """Something the person running the command can fix; printed as one line, no traceback."""


def check_sources(sources: list[Path]) -> None:
    for s in sources:
        if not s.is_file():
            raise UserError(t("error.source_missing", path=s))
        if s.suffix.lower() not in SOURCE_FORMATS:
            raise UserError(t("error.source_format", path=s, formats=", ".join(SOURCE_FORMATS)))


def open_store(path: Path) -> Store:
    """The database at ``path``; a file that is not the project's database (empty, another file, damaged) is a
    UserError naming it and how to restore it, never a fresh database made over it."""
    try:
        store = Store(path)
    except NotOurDatabase as err:
        raise UserError(refusal(err)) from None
    try:
        store.verify()
    except NotOurDatabase as err:
        store.close()
        raise UserError(refusal(err)) from None
    return store


def refusal(err: NotOurDatabase) -> str:
    return t("error.not_our_db", path=err.path, reason=t(f"error.db_{err.reason.replace('-', '_')}"))


def load_kb(sources: list[Path], rebuild: bool = False) -> tuple[KnowledgeBase, Store, BuildReport]:
    """The knowledge base on BOT_DB, built from ``sources`` if they changed; a bad source is a UserError."""
    check_sources(sources)
    store = open_store(db_path())
    try:
        kb, report = KnowledgeBase.open(store, sources, data_dir=data_dir(), rebuild=rebuild)
    except sqlite3.DatabaseError:  # damage the quick check did not reach
        store.close()
        raise UserError(refusal(NotOurDatabase(db_path(), "damaged"))) from None
    except UnreadableSource as err:
        key = "error.source_scanned" if err.scanned else "error.source_unreadable"
        raise UserError(t(key, path=err.path)) from None
    return kb, store, report


def open_kb(sources: list[Path], rebuild: bool = False) -> tuple[KnowledgeBase, Store]:
    kb, store, report = load_kb(sources, rebuild)
    log.info("knowledge base ready: %s", report)
    return kb, store


def clean_question(value: object) -> str:
    """Whatever arrived as "q", as text a reply can echo: None is empty, lone surrogates are replaced."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.encode("utf-8", "replace").decode("utf-8")


def reply_json(kb: KnowledgeBase, question: str) -> dict:
    """One question in the ask protocol's shape (see ../shared/DESIGN.md)."""
    question = clean_question(question)
    started = time.perf_counter()
    reply = kb.ask(question)
    text = kb.render(reply)
    took = (time.perf_counter() - started) * 1000
    return {
        "q": question,
        "answer": text,
        "found": reply.found,
        "kind": reply.kind,
        "source": reply.source,
        "score": reply.score,
        "suggestions": reply.suggestions,
        "took_ms": round(took, 3),
    }


def cmd_ask(args: argparse.Namespace) -> int:
    kb, store = open_kb(sources_from_env(args.source))
    kb.teach(store.curated())
    registry = Registry.load(data_dir())
    registry.calendar = Calendar.lenient(kb.commune)  # the reporting year as /baocao reckons it
    kb.live = LiveFigures(registry, lambda key: store.figures(key, include_undone=False))
    if args.jsonl:
        sys.stdin.reconfigure(errors="replace")  # bytes that are not UTF-8 become U+FFFD, not a crash
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                question = item.get("q", "") if isinstance(item, dict) else item
            except json.JSONDecodeError:
                question = line.strip()
            out = reply_json(kb, clean_question(question))
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    question = " ".join(args.question)
    if args.json:
        print(json.dumps(reply_json(kb, question), ensure_ascii=False))
    else:
        print(kb.render(kb.ask(question)))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    _, _, report = load_kb(sources_from_env(args.source), rebuild=True)
    print(t("build.summary", documents=report.documents, sections=report.sections, passages=report.passages,
            footnotes=report.footnotes_attached, attached=report.footnotes_attached,
            found=report.footnotes_found, targets=report.targets, faq=report.faq, ms=round(report.ms)))
    if report.repaired:
        print(t("build.repaired", words=report.repaired))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    dest = Path(args.path)
    if not dest.parent.is_dir():
        raise UserError(t("error.backup_dir", path=dest.parent))
    if not db_path().exists():  # a backup of nothing would make an empty database at BOT_DB
        raise UserError(t("error.no_db", path=db_path()))
    store = open_store(db_path())  # a damaged file is not copied over a good earlier backup
    try:
        store.backup(dest)
    except NotOurDatabase as err:
        raise UserError(t("error.backup_target", path=err.path)) from None
    print(t("backup.done", path=dest))
    return 0


# -- the Telegram application ---------------------------------------------------------------------

def admin_ids() -> frozenset[int]:
    return frozenset(int(x) for x in re.findall(r"-?\d+", os.environ.get("ADMIN_IDS", "")))


def file_url(base_url: str) -> str:
    """The file-download base for a self-hosted Bot API server: "…/bot" → "…/file/bot"."""
    return re.sub(r"/bot$", "/file/bot", base_url.rstrip("/")) if base_url.rstrip("/").endswith("/bot") \
        else base_url.rstrip("/") + "/file/bot"


async def post_init(application: Application) -> None:
    if isinstance(application.update_queue, Inbox):  # before polling: what the last stop cut short
        await application.update_queue.replay(application.bot)
    await citizen.register_commands(application)
    await admin.register_menus(application)
    await broadcast.on_start(application)
    await tickets.on_start(application)


def build_application(services: Services, token: str, *, base_url: str | None = None,
                      request: BaseRequest | None = None,
                      rate_limiter: BaseRateLimiter | None = None) -> Application:
    """The Application with every handler, in the order they are tried."""
    inbox = Inbox(services.store)  # every update stored before Telegram is told it arrived
    builder = (
        ApplicationBuilder()
        .token(token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(post_init)
        .update_queue(inbox)
        # Chats side by side, each chat in order; the inbox learns when an update's handling begins and ends.
        .concurrent_updates(PerChatProcessor(on_start=inbox.starting, on_done=inbox.done))
    )
    if base_url:
        builder = builder.base_url(base_url).base_file_url(file_url(base_url))
    # getUpdates goes through UpdatesGuard: one update the library cannot parse must not stop polling.
    if request is not None:
        builder = builder.request(request).get_updates_request(UpdatesGuard(request))
    else:
        builder = builder.get_updates_request(UpdatesGuard(HTTPXRequest(connection_pool_size=1)))  # PTB's own
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    # Order matters: the flood guard (group -3) runs before anything else and can stop an update; then a
    # command inside a forwarded message is stopped (group -2: it is not the forwarder's command); then what
    # belongs to a ticket (group -1: an official's reply to a ticket's post, a citizen's report being written),
    # which stops the update there and otherwise lets it through; then commands before free text (handlers()
    # lists them in that order); one error handler last.
    application.add_handler(TypeHandler(Update, flood_guard), group=-3)
    application.add_handler(TypeHandler(Update, forwarded_command), group=-2)
    application.add_handlers(tickets.early_handlers(), group=-1)
    # Officials' and admins' first: /capnhat's conversation must see its steps' messages before the
    # citizens' free-text handler takes every private message as a question.
    application.add_handlers(official.handlers())
    application.add_handlers(reports.handlers())  # /baocao (/xuat and /tiendo come with official's)
    application.add_handlers(teaching.handlers())
    application.add_handlers(admin.handlers())
    application.add_handlers(broadcast.handlers())
    # Files: an announcement's ("/thongbao" in the caption) is broadcast's, above; any other private file here,
    # before the citizens' handlers, which it hands back what is not an official's spreadsheet.
    application.add_handlers(imports.handlers())
    application.add_handlers(tickets.handlers())
    application.add_handlers(citizen.handlers())
    application.add_error_handler(on_error)
    return application


def open_services(sources: list[Path]) -> Services:
    kb, store = open_kb(sources)
    kb.teach(store.curated())
    registry = Registry.load(data_dir())
    registry.calendar = Calendar.lenient(kb.commune)  # the reporting year as /baocao reckons it
    services = Services(kb=kb, store=store, registry=registry, admin_ids=admin_ids(),
                        summary_time=parse_time(os.environ.get("DAILY_SUMMARY_TIME", "07:00")))
    kb.live = LiveFigures(registry, lambda key: store.figures(key, include_undone=False),
                          lambda: services.clock().timestamp())
    return services


def log_salt(token: str) -> str:
    """Logs name people by a keyed hash: the token (secret, never logged) or LOG_SALT is the key."""
    return os.environ.get("LOG_SALT") or token or os.urandom(16).hex()


class RedactToken(logging.Filter):
    """No log line carries the token, whoever writes it (PTB quotes it when Telegram rejects it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "***"), None
        if record.exc_info and record.exc_info[1] is not None and self.token in str(record.exc_info[1]):
            record.exc_info, record.exc_text = None, None  # the traceback would print it again
        return True


def run_telegram(token: str) -> int:
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
    services = open_services(sources_from_env(None))
    set_log_salt(log_salt(token))
    # Telegram's ceiling is about 30 messages a second; TELEGRAM_RATE_LIMIT changes it (a self-hosted server,
    # or a test server that runs faster).
    rate = int(os.environ.get("TELEGRAM_RATE_LIMIT", "30") or 30)
    application = build_application(services, token, base_url=os.environ.get("TELEGRAM_BASE_URL") or None,
                                    rate_limiter=StrictRateLimiter(overall_per_second=rate))
    webhook = os.environ.get("WEBHOOK_URL", "").strip()
    try:
        _serve(application, services.store, webhook)
    except InvalidToken:  # its message quotes the token: say it without
        raise UserError(t("error.bad_token")) from None
    return 0


def webhook_secrets(store: Store, env: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """(URL path, secret_token) of the webhook: WEBHOOK_PATH and WEBHOOK_SECRET, else random ones made once and
    kept in the database (the same URL after a restart). Never derived from the token: the path is in every
    proxy's access log, and a path made of the token put 32 of its 35 secret characters there."""
    def kept(name: str, meta_key: str) -> str:
        value = re.sub(r"[^A-Za-z0-9_-]", "", env.get(name, ""))
        if value:
            return value
        value = store.get_meta(meta_key) or ""
        if not value:
            value = secrets.token_urlsafe(32)
            store.set_meta(meta_key, value)
        return value

    return kept("WEBHOOK_PATH", "webhook_path"), kept("WEBHOOK_SECRET", "webhook_secret")


def _serve(application: Application, store: Store, webhook: str) -> None:
    if webhook:
        path, secret = webhook_secrets(store)
        # The server listens on the public URL's own path plus the random part, so a proxy that passes the
        # path through unchanged (the usual set-up) needs no rewriting.
        prefix = urlsplit(webhook).path.strip("/")
        application.run_webhook(listen=os.environ.get("WEBHOOK_LISTEN", "0.0.0.0"),
                                port=int(os.environ.get("PORT", "8443")),
                                url_path=f"{prefix}/{path}" if prefix else path,
                                webhook_url=f"{webhook.rstrip('/')}/{path}", secret_token=secret,
                                allowed_updates=Update.ALL_TYPES)
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)


# -- the console chat --------------------------------------------------------------------------------

class ConsolePrinter:
    """Prints what the bot sends as plain text; buttons become numbered choices; files (the chart, the
    exports) are written to a folder and their path printed."""

    def __init__(self, files: Path) -> None:
        self.choices: list[str] = []
        self.files = files

    def __call__(self, sent: Sent) -> None:
        for filename, content in (sent.params.get("_files") or {}).values():
            self.files.mkdir(parents=True, exist_ok=True)
            path = self.files / Path(str(filename)).name
            path.write_bytes(content if isinstance(content, bytes) else content.read())
            print(f"\n[{path}]")
        text = str(sent.params.get("text") or sent.params.get("caption") or "")
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
        if text:
            print(f"\n{text}")
        markup = sent.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        rows = (markup or {}).get("inline_keyboard") or []
        self.choices = [b.get("callback_data", "") for row in rows for b in row]
        labels = [b.get("text", "") for row in rows for b in row]
        for n, label in enumerate(labels, start=1):
            print(f"  [{n}] {label}")


async def console_chat(services: Services, user_id: int) -> None:
    """The same Application and handlers, with a Bot API that lives in this process and prints to the terminal."""
    printer = ConsolePrinter(db_path().parent / "console-files")
    api = LocalBotAPI(on_send=printer)
    services.flood_limit = 10**9  # one person at a keyboard (or a pasted script) is not a flood
    application = build_application(services, "0:console", request=api)
    loop = asyncio.get_running_loop()
    print(t("console.welcome"))
    async with application:
        await application.start()
        await post_init(application)  # what run_polling would do: menus, the daily job, resumed broadcasts
        await application.process_update(Update.de_json(message_update(api, "/start", user_id), application.bot))
        while True:
            try:
                line = await loop.run_in_executor(None, input, t("console.prompt"))
            except (EOFError, KeyboardInterrupt):
                print()
                break
            line = line.strip()
            if line.lower() in {"thoát", "thoat", "exit", "quit"}:
                break
            if not line:
                continue
            if line.isdigit() and 1 <= int(line) <= len(printer.choices):
                data = callback_update(api, printer.choices[int(line) - 1], user_id)
            else:
                data = message_update(api, line, user_id)
            await application.process_update(Update.de_json(data, application.bot))
        await application.stop()
    print(t("console.bye"))


def cmd_run(args: argparse.Namespace) -> int:
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if token:
        return run_telegram(token)
    services = open_services(sources_from_env(None))
    set_log_salt(log_salt(""))
    user_id = args.user_id if args.user_id is not None else (min(services.admin_ids) if services.admin_ids else 1)
    asyncio.run(console_chat(services, user_id))
    return 0


LIBRARY_LOGGERS = ("telegram", "httpx", "httpcore", "apscheduler", "tornado", "asyncio")


def configure_logging(env: Mapping[str, str] = os.environ, default: str = "INFO") -> None:
    """The bot logs at INFO by default: the one line per update the README promises (a keyed hash of the user,
    what, source, score, time); the one-shot commands (ask, build, backup) at WARNING, their output is the
    answer. The libraries stay at WARNING unless LOG_LEVEL_LIBRARIES asks: at DEBUG PTB logs whole updates,
    with raw ids, names and texts. httpx never goes below WARNING: its request lines hold the token."""
    def level(name: str, default: str) -> int:
        value = logging.getLevelName((env.get(name) or default).strip().upper())
        return value if isinstance(value, int) else logging.getLevelName(default)

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level("LOG_LEVEL", default))
    libraries = level("LOG_LEVEL_LIBRARIES", "WARNING")
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(libraries)
    logging.getLogger("httpx").setLevel(max(libraries, logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="Trợ lý xã")
    parser.add_argument("--user-id", type=int, default=None, help="who you are in the console chat")
    sub = parser.add_subparsers(dest="command")
    ask = sub.add_parser("ask", help="answer questions as the bot would")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--jsonl", action="store_true")
    ask.add_argument("--source", action="append")
    build = sub.add_parser("build", help="(re)build the knowledge base")
    build.add_argument("--source", action="append")
    backup = sub.add_parser("backup", help="copy the database")
    backup.add_argument("path")
    args = parser.parse_args(argv)
    serving = args.command is None and bool(os.environ.get("TELEGRAM_BOT_TOKEN", "").strip())
    configure_logging(default="INFO" if serving else "WARNING")  # the console chat: the chat, not log lines
    commands = {"ask": cmd_ask, "build": cmd_build, "backup": cmd_backup}
    try:
        return commands.get(args.command, cmd_run)(args)
    except UserError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
