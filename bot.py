"""Trợ lý xã: entry point and command line. It wires; the domain lives in knowledge/.

    python bot.py                      the bot (console chat when TELEGRAM_BOT_TOKEN is not set)
    python bot.py ask "câu hỏi"        one reply, as the bot would send it (--json for one JSON object)
    python bot.py ask --jsonl          JSON lines {"q": …} on stdin → one JSON line per question
    python bot.py build [--source F]   (re)build the knowledge base and print what it found
    python bot.py backup PATH          a consistent copy of the database
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from knowledge.i18n import t
from knowledge.kb import DEFAULT_SOURCE, SOURCE_FORMATS, KnowledgeBase
from knowledge.store import Store

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("troly")


def sources_from_env(cli: list[str] | None = None) -> list[Path]:
    """Sources named on the command line, else in BOT_SOURCE (':'-separated), else the copy in data/."""
    if cli:
        return [Path(s) for s in cli]
    env = os.environ.get("BOT_SOURCE", "").strip()
    if env:
        return [Path(s) for s in env.split(":") if s.strip()]
    return [DEFAULT_SOURCE]


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


def open_kb(sources: list[Path], rebuild: bool = False) -> tuple[KnowledgeBase, Store]:
    check_sources(sources)
    store = Store(db_path())
    kb, report = KnowledgeBase.open(store, sources, rebuild=rebuild)
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
        "source": reply.source,
        "score": reply.score,
        "suggestions": reply.suggestions,
        "took_ms": round(took, 3),
    }


def cmd_ask(args: argparse.Namespace) -> int:
    kb, _ = open_kb(sources_from_env(args.source))
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
    sources = sources_from_env(args.source)
    check_sources(sources)
    store = Store(db_path())
    _, report = KnowledgeBase.open(store, sources, rebuild=True)
    print(t("build.summary", documents=report.documents, sections=report.sections, passages=report.passages,
            footnotes=report.footnotes_attached, attached=report.footnotes_attached,
            found=report.footnotes_found, targets=report.targets, faq=report.faq, ms=round(report.ms)))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    dest = Path(args.path)
    if not dest.parent.is_dir():
        raise UserError(t("error.backup_dir", path=dest.parent))
    store = Store(db_path())
    store.backup(dest)
    print(t("backup.done", path=dest))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    kb, _ = open_kb(sources_from_env(None))
    print(t("console.welcome"))
    while True:
        try:
            line = input(t("console.prompt"))
        except (EOFError, KeyboardInterrupt):
            print()
            break
        if line.strip().lower() in {"thoát", "thoat", "exit", "quit"}:
            break
        print(kb.render(kb.ask(line)))
    print(t("console.bye"))
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
    commands = {"ask": cmd_ask, "build": cmd_build, "backup": cmd_backup}
    try:
        return commands.get(args.command, cmd_run)(args)
    except UserError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
