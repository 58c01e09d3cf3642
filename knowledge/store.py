"""The one SQLite file: schema, migrations and every query the project makes.

All SQL lives here. The knowledge base built from the plan is cached in it (rebuilt when a source's
content changes), and the tables that later features write (figures, users, subscriptions, deliveries,
unanswered questions, audit) are created by migrations recorded in the database itself.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import sqlite_utils

from .document import Document, Figure, Passage, Target

SCHEMA_VERSION_KEY = "schema_version"
# The parser's output format: bump it when document.py changes what it stores, so caches rebuild.
PARSER_VERSION = "9"


def _m1_knowledge(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["documents"].create(
        {"name": str, "source": str, "sha256": str, "title": str, "meta": str, "sections": str,
         "footnotes_found": int, "footnotes_attached": int, "built_at": float},
        pk="name", if_not_exists=True,
    )
    db["passages"].create(
        {"key": str, "doc": str, "ord": int, "kind": str, "text": str, "section": str, "path": str,
         "titles": str, "context": str, "label": str, "footnotes": str, "footnote_number": int,
         "cited_by": str, "year": int, "stance": str, "target": int},
        pk="key", if_not_exists=True,
    )
    db["targets"].create(
        {"doc": str, "number": int, "field": str, "text": str, "figures": str},
        pk=("doc", "number"), if_not_exists=True,
    )
    db["unanswered"].create(
        {"id": int, "question": str, "normalized": str, "asker": str, "asked_at": float, "resolved": int},
        pk="id", if_not_exists=True,
    )


def _m2_users(db: sqlite_utils.Database) -> None:
    db["users"].create(
        {"id": int, "lang": str, "role": str, "name": str, "created_at": float, "updated_at": float},
        pk="id", if_not_exists=True,
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m1_knowledge, _m2_users]


class Store:
    """The database. One instance per process; every write commits before it returns."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.db = sqlite_utils.Database(conn)
        if str(path) != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def close(self) -> None:
        self.db.conn.close()

    # -- schema ----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        self.db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
        version = int(self.get_meta(SCHEMA_VERSION_KEY) or 0)
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number > version:
                with self.db.conn:
                    migration(self.db)
                    self.db["meta"].upsert({"key": SCHEMA_VERSION_KEY, "value": str(number)}, pk="key")

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db.conn:
            self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    # -- the knowledge base ------------------------------------------------------------------------
    def source_fingerprint(self) -> dict[str, str]:
        """{document name: sha256 of its source} as last built, with the parser version."""
        rows = self.db.execute("SELECT name, sha256 FROM documents").fetchall()
        out = {name: sha for name, sha in rows}
        out["__parser__"] = self.get_meta("parser_version") or ""
        return out

    def replace_documents(self, docs: Iterable[tuple[Document, str, str]]) -> None:
        """Replace the whole knowledge base in one transaction: (document, source path, sha256)."""
        docs = list(docs)
        with self.db.conn:
            self.db.execute("DELETE FROM passages")
            self.db.execute("DELETE FROM targets")
            self.db.execute("DELETE FROM documents")
            now = time.time()
            for doc, source, sha in docs:
                self.db["documents"].insert({
                    "name": doc.name, "source": source, "sha256": sha, "title": doc.title,
                    "meta": json.dumps(doc.meta, ensure_ascii=False),
                    "sections": json.dumps(doc.sections, ensure_ascii=False),
                    "footnotes_found": doc.footnotes_found, "footnotes_attached": doc.footnotes_attached,
                    "built_at": now,
                })
                self.db["passages"].insert_all(
                    ({
                        "key": p.key, "doc": doc.name, "ord": i, "kind": p.kind, "text": p.text,
                        "section": p.section, "path": json.dumps(p.path, ensure_ascii=False),
                        "titles": json.dumps(p.titles, ensure_ascii=False), "label": p.label,
                        "context": json.dumps(p.context, ensure_ascii=False),
                        "footnotes": json.dumps({str(k): v for k, v in p.footnotes.items()}, ensure_ascii=False),
                        "footnote_number": p.footnote_number, "cited_by": p.cited_by, "year": p.year,
                        "stance": p.stance, "target": p.target,
                    } for i, p in enumerate(doc.passages)),
                    batch_size=500,
                )
                self.db["targets"].insert_all(
                    ({
                        "doc": doc.name, "number": t.number, "field": t.field, "text": t.text,
                        "figures": json.dumps([f.__dict__ for f in t.figures], ensure_ascii=False),
                    } for t in doc.targets),
                )
            self.db["meta"].upsert({"key": "parser_version", "value": PARSER_VERSION}, pk="key")

    def load_documents(self) -> list[Document]:
        """The cached knowledge base, as the parser produced it."""
        docs: list[Document] = []
        for row in self.db.execute(
            "SELECT name, title, meta, sections, footnotes_found, footnotes_attached FROM documents ORDER BY rowid"
        ).fetchall():
            name, title, meta, sections, found, attached = row
            passages = [
                Passage(
                    key=r[0], kind=r[1], text=r[2], section=r[3], path=json.loads(r[4]),
                    context=json.loads(r[5]), footnotes={int(k): v for k, v in json.loads(r[6]).items()},
                    footnote_number=r[7], cited_by=r[8], year=r[9], stance=r[10], target=r[11], doc=name,
                    titles=json.loads(r[12] or "[]"), label=r[13] or "",
                )
                for r in self.db.execute(
                    "SELECT key, kind, text, section, path, context, footnotes, footnote_number, cited_by, "
                    "year, stance, target, titles, label FROM passages WHERE doc = ? ORDER BY ord", [name]
                ).fetchall()
            ]
            targets = [
                Target(number=r[0], field=r[1], text=r[2], figures=[Figure(**f) for f in json.loads(r[3])])
                for r in self.db.execute(
                    "SELECT number, field, text, figures FROM targets WHERE doc = ? ORDER BY number", [name]
                ).fetchall()
            ]
            docs.append(Document(name=name, title=title, meta=json.loads(meta), sections=json.loads(sections),
                                 passages=passages, targets=targets, footnotes_found=found,
                                 footnotes_attached=attached))
        return docs

    def passage(self, key: str) -> Passage | None:
        for doc in self.load_documents():
            for p in doc.passages:
                if p.key == key:
                    return p
        return None

    # -- people ----------------------------------------------------------------------------------
    def user_lang(self, user_id: int) -> str | None:
        row = self.db.execute("SELECT lang FROM users WHERE id = ?", [user_id]).fetchone()
        return row[0] if row and row[0] else None

    def set_user_lang(self, user_id: int, lang: str) -> None:
        now = time.time()
        with self.db.conn:
            self.db.execute(
                "INSERT INTO users (id, lang, created_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at",
                [user_id, lang, now, now],
            )

    # -- questions nobody could answer -------------------------------------------------------------
    def record_unanswered(self, question: str, normalized: str, asker: str) -> None:
        with self.db.conn:
            self.db["unanswered"].insert({"question": question, "normalized": normalized, "asker": asker,
                                          "asked_at": time.time(), "resolved": 0})

    # -- backup ----------------------------------------------------------------------------------
    def backup(self, dest: str | Path) -> None:
        """A consistent copy while the bot runs (SQLite's online backup API)."""
        target = sqlite3.connect(str(dest))
        try:
            self.db.conn.backup(target)
        finally:
            target.close()


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
