"""The one SQLite file: schema, migrations and every query the project makes.

All SQL lives here. The knowledge base built from the plan is cached in it (rebuilt when a source's
content changes), and the tables that later features write (figures, users, subscriptions, deliveries,
unanswered questions, audit) are created by migrations recorded in the database itself.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from .announcements import Attachment
from .document import Document, Figure, Passage, Target
from .figures import FigureRecord
from .imports import ImportOutcome, ImportRecord
from .tickets import CLOSED, Draft, OutboxItem, Recipient, Ticket, TicketEvent

SCHEMA_VERSION_KEY = "schema_version"
# The parser's output format: bump it when document.py changes what it stores, so caches rebuild.
PARSER_VERSION = "12"


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


def _m3_figures(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE users ADD COLUMN added_by INTEGER")
    db.execute(
        "CREATE TABLE IF NOT EXISTS figures ("
        " id INTEGER PRIMARY KEY, metric TEXT NOT NULL, value REAL, status TEXT, unit TEXT, village TEXT,"
        " raw TEXT, user_id INTEGER NOT NULL, user_name TEXT, created_at REAL NOT NULL,"
        " undone_at REAL, undone_by INTEGER, request TEXT NOT NULL UNIQUE)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS figures_metric ON figures (metric, created_at)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS pending ("
        " token TEXT PRIMARY KEY, user_id INTEGER NOT NULL, payload TEXT NOT NULL, created_at REAL NOT NULL,"
        " state TEXT NOT NULL DEFAULT 'open')"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS audit ("
        " id INTEGER PRIMARY KEY, at REAL NOT NULL, user_id INTEGER, action TEXT NOT NULL, detail TEXT,"
        " allowed INTEGER NOT NULL)"
    )


def _m4_broadcasts(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS subscriptions ("
        " chat_id INTEGER PRIMARY KEY, chat_type TEXT, lang TEXT, active INTEGER NOT NULL DEFAULT 1,"
        " subscribed_at REAL NOT NULL, ended_at REAL, end_reason TEXT, by_user INTEGER)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS broadcasts ("
        " id INTEGER PRIMARY KEY, kind TEXT NOT NULL, day TEXT, texts TEXT NOT NULL, created_at REAL NOT NULL,"
        " created_by INTEGER, state TEXT NOT NULL DEFAULT 'open', request TEXT UNIQUE)"
    )
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS one_summary_a_day ON broadcasts (day) WHERE kind = 'summary'")
    db.execute(
        "CREATE TABLE IF NOT EXISTS deliveries ("
        " broadcast_id INTEGER NOT NULL, chat_id INTEGER NOT NULL, lang TEXT, state TEXT NOT NULL,"
        " attempts INTEGER NOT NULL DEFAULT 0, message_id INTEGER, error TEXT, updated_at REAL NOT NULL,"
        " PRIMARY KEY (broadcast_id, chat_id))"
    )
    db.execute("CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (broadcast_id, state)")


def _m5_learning(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE unanswered ADD COLUMN kind TEXT NOT NULL DEFAULT 'unknown'")
    db.execute("CREATE INDEX IF NOT EXISTS unanswered_time ON unanswered (asked_at)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS feedback ("
        " id INTEGER PRIMARY KEY, at REAL NOT NULL, asker TEXT, question TEXT, passage_key TEXT, helpful INTEGER)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS curated ("
        " id INTEGER PRIMARY KEY, questions TEXT NOT NULL, answer TEXT NOT NULL, passage_key TEXT,"
        " created_by INTEGER, created_at REAL NOT NULL, updated_at REAL NOT NULL, removed_at REAL)"
    )


def _m6_announcement_body(db: sqlite_utils.Database) -> None:
    """An announcement's own words, apart from the HTML it was sent as: the daily summary quotes them, and
    escaping the sent HTML again showed subscribers "&lt;b&gt;"."""
    db.execute("ALTER TABLE broadcasts ADD COLUMN body TEXT")


def _m7_inbox(db: sqlite_utils.Database) -> None:
    """Each incoming update, stored before Telegram is told it arrived, done once handled (handlers/inbox.py)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS inbox ("
        " update_id INTEGER PRIMARY KEY, raw TEXT NOT NULL, received_at REAL NOT NULL,"
        " state TEXT NOT NULL DEFAULT 'new', attempts INTEGER NOT NULL DEFAULT 0, done_at REAL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS inbox_undone ON inbox (state) WHERE state = 'new'")


def _m8_tickets(db: sqlite_utils.Database) -> None:
    """Questions handed to officials and citizens' reports (knowledge/tickets.py), what officials did with them,
    the outbox of the messages they cause (a ledger, like ``deliveries``), and what is being written."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS tickets ("
        " id INTEGER PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, chat_id INTEGER, lang TEXT NOT NULL,"
        " text TEXT NOT NULL, photo TEXT, latitude REAL, longitude REAL, created_at REAL NOT NULL,"
        " updated_at REAL NOT NULL, closed_at REAL, request TEXT NOT NULL UNIQUE)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, created_at)")
    db.execute("CREATE INDEX IF NOT EXISTS tickets_chat ON tickets (chat_id)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS ticket_events ("
        " id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets (id), kind TEXT NOT NULL,"
        " text TEXT, status TEXT, by_user INTEGER, by_name TEXT, at REAL NOT NULL, curated_id INTEGER,"
        " request TEXT NOT NULL UNIQUE)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS ticket_outbox ("
        " id INTEGER PRIMARY KEY, ticket_id INTEGER, event_id INTEGER, purpose TEXT NOT NULL, chat_id INTEGER,"
        " lang TEXT NOT NULL DEFAULT 'vi', state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL"
        " DEFAULT 0, message_id INTEGER, error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,"
        " sending_at REAL, sent_at REAL, request TEXT UNIQUE)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS ticket_outbox_state ON ticket_outbox (state, id)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS ticket_posts ("
        " chat_id INTEGER NOT NULL, message_id INTEGER NOT NULL, ticket_id INTEGER NOT NULL,"
        " PRIMARY KEY (chat_id, message_id))"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS ticket_offers ("
        " token TEXT PRIMARY KEY, user_id INTEGER NOT NULL, chat_id INTEGER NOT NULL, lang TEXT NOT NULL,"
        " text TEXT NOT NULL, created_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS ticket_drafts ("
        " user_id INTEGER NOT NULL, chat_id INTEGER NOT NULL, kind TEXT NOT NULL, token TEXT NOT NULL,"
        " ticket_id INTEGER, text TEXT NOT NULL DEFAULT '', photo TEXT, latitude REAL, longitude REAL,"
        " lang TEXT NOT NULL DEFAULT 'vi', created_at REAL NOT NULL, PRIMARY KEY (user_id, chat_id))"
    )


def _m9_imports(db: sqlite_utils.Database) -> None:
    """Batches of figures from a spreadsheet: each confirmed batch once (its token), and the same content never
    twice (its digest); a figure keeps the day it is for (``as_of``). Announcements may go to some villages
    only (a subscriber's ``village``) and carry a photo or a file (its Telegram ``file_id``, not the file)."""
    db.execute("ALTER TABLE figures ADD COLUMN as_of TEXT")
    db.execute("ALTER TABLE figures ADD COLUMN fingerprint TEXT")  # an imported row's (knowledge/imports.py)
    db.execute("CREATE INDEX IF NOT EXISTS figures_fingerprint ON figures (fingerprint) WHERE fingerprint IS NOT NULL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS imports ("
        " id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, request TEXT NOT NULL UNIQUE, user_id INTEGER,"
        " file_name TEXT, rows INTEGER NOT NULL, refused INTEGER NOT NULL, created_at REAL NOT NULL)"
    )
    db.execute("ALTER TABLE subscriptions ADD COLUMN village TEXT")
    db.execute("ALTER TABLE broadcasts ADD COLUMN villages TEXT")
    db.execute("ALTER TABLE broadcasts ADD COLUMN attachment TEXT")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m1_knowledge, _m2_users, _m3_figures, _m4_broadcasts, _m5_learning, _m6_announcement_body, _m7_inbox,
    _m8_tickets, _m9_imports,
]


SQLITE_HEADER = b"SQLite format 3\x00"


class NotOurDatabase(Exception):
    """The file at the database's path exists but is not this project's database: ``reason`` is "empty" (0
    bytes), "not-sqlite" (another kind of file), "foreign" (another program's SQLite file) or "damaged".
    Opening it anyway would start a fresh, empty database in its place and silently lose every figure,
    official and subscription, so the store refuses."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def check_database_file(path: Path) -> None:
    """Raise NotOurDatabase unless ``path`` is absent (a fresh database is made) or starts like SQLite."""
    if not path.exists():
        return
    if not path.is_file():
        raise NotOurDatabase(path, "not-sqlite")
    if path.stat().st_size == 0:
        raise NotOurDatabase(path, "empty")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise NotOurDatabase(path, "not-sqlite")


class Store:
    """The database. One instance per process; every write commits before it returns."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock  # when a figure, an undo and an audit line happen (a test scripts a quarter with it)
        memory = str(path) == ":memory:"
        existed = not memory and self.path.exists()
        if not memory:
            check_database_file(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        try:
            if existed and not conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
                raise NotOurDatabase(self.path, "foreign")  # never our tables over another program's file
            if not memory:
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError:
            conn.close()
            raise NotOurDatabase(self.path, "damaged") from None
        except NotOurDatabase:
            conn.close()
            raise

    def verify(self) -> None:
        """SQLite's quick integrity check (every page readable, indexes in order), before the bot starts on a
        file damage may have reached: NotOurDatabase("damaged") rather than a crash loop later."""
        try:
            rows = self.db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError:
            rows = [("error",)]
        if [r[0] for r in rows] != ["ok"]:
            raise NotOurDatabase(self.path, "damaged")

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: BEGIN IMMEDIATE takes the write lock up front (two writers queue instead of
        deadlocking), COMMIT before returning, ROLLBACK on any error."""
        with self._lock:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.conn.execute("ROLLBACK")
                raise
            self.db.conn.execute("COMMIT")

    # -- schema ----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        self.db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
        version = int(self.get_meta(SCHEMA_VERSION_KEY) or 0)
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number > version:
                with self.transaction():
                    migration(self.db)
                    self.db["meta"].upsert({"key": SCHEMA_VERSION_KEY, "value": str(number)}, pk="key")

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    def delete_meta(self, key: str, by: int | None = None, action: str | None = None) -> bool:
        """Forget one setting (audited when ``action`` names it): the configuration file's value counts again."""
        with self.transaction():
            cur = self.db.execute("DELETE FROM meta WHERE key = ?", [key])
            if action:
                self._audit(by, action, f"{key} cleared", True)
            return cur.rowcount == 1

    # -- the commune's contacts, as admins set them by chat (/lienhe) --------------------------------
    # Kept in ``meta`` under "contact.<key>": a handful of short values, read over commune.yaml's.
    def contacts(self) -> dict[str, str]:
        """{contact key: value} an admin has set; a key absent here is the configuration file's."""
        rows = self.db.execute("SELECT key, value FROM meta WHERE key LIKE 'contact.%'").fetchall()
        return {key.removeprefix("contact."): value for key, value in rows}

    def set_contact(self, key: str, value: str | None, by: int | None) -> None:
        """Set one contact (``None``: forget it, so the file's value counts again), audited with who did it."""
        with self.transaction():
            if value is None:
                self.db.execute("DELETE FROM meta WHERE key = ?", [f"contact.{key}"])
            else:
                self.db["meta"].upsert({"key": f"contact.{key}", "value": value}, pk="key")
            self._audit(by, "lienhe", f"{key}={value if value is not None else '(file)'}", True)

    # -- the knowledge base ------------------------------------------------------------------------
    def source_fingerprint(self) -> dict[str, str]:
        """{document name: sha256 of its source} as last built, with the parser version."""
        rows = self.db.execute("SELECT name, sha256 FROM documents").fetchall()
        out = {name: sha for name, sha in rows}
        out["__parser__"] = self.get_meta("parser_version") or ""
        return out

    def replace_documents(self, docs: Iterable[tuple[Document, str, str]]) -> None:
        """Replace the whole knowledge base in one transaction: (document, source path, sha256).

        ``docs`` may be a generator that parses as it goes: a source that fails to parse rolls the whole
        replacement back, and the knowledge base stays as it was.
        """
        with self.transaction():
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
        """The cached knowledge base, as the parser produced it.

        Equal headings, paths and labels are one object however many passages (and plans) repeat them: a
        hundred plans of the same shape would otherwise hold a hundred copies of every heading.
        """
        lists: dict[str, list[str]] = {}
        texts: dict[str, str] = {}

        def decoded(raw: str | None) -> list[str]:
            raw = raw or "[]"
            if raw not in lists:
                lists[raw] = json.loads(raw)
            return lists[raw]

        def one(text: str) -> str:
            return texts.setdefault(text, text)

        docs: list[Document] = []
        for row in self.db.execute(
            "SELECT name, title, meta, sections, footnotes_found, footnotes_attached FROM documents ORDER BY rowid"
        ).fetchall():
            name, title, meta, sections, found, attached = row
            passages = [
                Passage(
                    key=r[0], kind=one(r[1]), text=r[2], section=one(r[3]), path=decoded(r[4]),
                    context=decoded(r[5]), footnotes={int(k): v for k, v in json.loads(r[6]).items()},
                    footnote_number=r[7], cited_by=r[8], year=r[9], stance=one(r[10]), target=r[11], doc=name,
                    titles=decoded(r[12]), label=one(r[13] or ""),
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
        with self.transaction():
            self.db.execute(
                "INSERT INTO users (id, lang, created_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at",
                [user_id, lang, now, now],
            )
            # Their own chat's daily summary follows (a private chat's id is the person's id).
            self.db.execute("UPDATE subscriptions SET lang = ? WHERE chat_id = ? AND chat_type = 'private'",
                            [lang, user_id])

    # -- roles ---------------------------------------------------------------------------------------
    def role_of(self, user_id: int) -> str | None:
        row = self.db.execute("SELECT role FROM users WHERE id = ?", [user_id]).fetchone()
        return row[0] if row and row[0] else None

    def name_of(self, user_id: int) -> str | None:
        row = self.db.execute("SELECT name FROM users WHERE id = ?", [user_id]).fetchone()
        return row[0] if row else None

    def set_role(self, user_id: int, role: str | None, name: str | None, by: int | None) -> None:
        now = time.time()
        with self.transaction():
            self.db.execute(
                "INSERT INTO users (id, role, name, added_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET role = excluded.role, name = COALESCE(excluded.name, users.name), "
                "added_by = excluded.added_by, updated_at = excluded.updated_at",
                [user_id, role, name, by, now, now],
            )
            self._audit(by, "role" if role else "role-removed", f"{user_id} {role or ''} {name or ''}".strip(), True)

    def names(self) -> dict[int, str]:
        """{user id: name} of everyone the bot knows by name (officials, admins): who logged, undid, taught."""
        return {r[0]: r[1] for r in self.db.execute("SELECT id, name FROM users WHERE name IS NOT NULL").fetchall()}

    def people_with_role(self, role: str) -> list[tuple[int, str | None]]:
        return [(r[0], r[1]) for r in
                self.db.execute("SELECT id, name FROM users WHERE role = ? ORDER BY id", [role]).fetchall()]

    # -- officials' figures ------------------------------------------------------------------------
    def open_pending(self, token: str, user_id: int, payload: dict) -> None:
        """A preview waiting for Xác nhận: kept in the database, so a restart does not lose it."""
        with self.transaction():
            self.db.execute("INSERT INTO pending (token, user_id, payload, created_at) VALUES (?, ?, ?, ?)",
                            [token, user_id, json.dumps(payload, ensure_ascii=False), time.time()])

    def pending(self, token: str) -> tuple[int, dict, str] | None:
        row = self.db.execute("SELECT user_id, payload, state FROM pending WHERE token = ?", [token]).fetchone()
        return (row[0], json.loads(row[1]), row[2]) if row else None

    def close_pending(self, token: str, state: str = "done") -> bool:
        """Close an open preview (acted on: 'done'; or 'cancelled'); False if it was no longer open, so a
        late Hủy learns it came too late."""
        with self.transaction():
            cur = self.db.execute("UPDATE pending SET state = ? WHERE token = ? AND state = 'open'", [state, token])
            return cur.rowcount == 1

    def cancel_pending(self, token: str) -> bool:
        return self.close_pending(token, "cancelled")

    def confirm_figure(self, token: str, user_name: str | None) -> tuple[int, bool]:
        """Write the figure a preview describes, once: (its id, whether this call wrote it). A second press of
        the same button finds the figure the first one wrote (the token is the figure's unique request)."""
        with self.transaction():
            row = self.db.execute("SELECT id FROM figures WHERE request = ?", [token]).fetchone()
            if row:
                return row[0], False
            pend = self.db.execute("SELECT user_id, payload, state FROM pending WHERE token = ?", [token]).fetchone()
            if pend is None or pend[2] != "open":
                raise LookupError(token)
            user_id, payload = pend[0], json.loads(pend[1])
            cur = self.db.execute(
                "INSERT INTO figures (metric, value, status, unit, village, raw, user_id, user_name, created_at,"
                " request) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [payload["metric"], payload.get("value"), payload.get("status"), payload.get("unit"),
                 payload.get("village"), payload.get("raw"), user_id, user_name, self.clock(), token],
            )
            self.db.execute("UPDATE pending SET state = 'done' WHERE token = ?", [token])
            self._audit(user_id, "figure", json.dumps(payload, ensure_ascii=False), True)
            return int(cur.lastrowid or 0), True

    def import_by_digest(self, digest: str) -> ImportRecord | None:
        """The confirmed batch that holds exactly these figures, if one does."""
        row = self.db.execute("SELECT id, digest, request, user_id, file_name, rows, refused, created_at"
                              " FROM imports WHERE digest = ?", [digest]).fetchone()
        return ImportRecord(*row) if row else None

    def imported(self, fingerprints: Sequence[str]) -> set[str]:
        """Which of these imported rows' fingerprints are in the log already (undone ones do not count)."""
        rows = self.db.execute("SELECT fingerprint FROM figures WHERE undone_at IS NULL AND fingerprint IN"
                               " (SELECT value FROM json_each(?))", [json.dumps(list(fingerprints))]).fetchall()
        return {r[0] for r in rows}

    def confirm_import(self, token: str, user_name: str | None) -> ImportOutcome:
        """Write every row of a spreadsheet's preview in one transaction, each audited as a chat update is. Once:
        pressed twice, or replayed after a restart, it finds the batch its token wrote (``again``); the same
        figures confirmed from another preview (the file sent twice) find the batch that wrote them and write
        nothing; a row another import wrote already (a file sent again once its refused rows were fixed) is
        ``skipped``. LookupError: no open preview."""
        select = "SELECT id, digest, request, user_id, file_name, rows, refused, created_at FROM imports"
        with self.transaction():
            row = self.db.execute(select + " WHERE request = ?", [token]).fetchone()
            if row:
                return ImportOutcome(ImportRecord(*row), 0, again=True)
            pend = self.db.execute("SELECT user_id, payload, state FROM pending WHERE token = ?", [token]).fetchone()
            if pend is None or pend[2] != "open" or "import" not in json.loads(pend[1]):
                raise LookupError(token)
            user_id, batch = pend[0], json.loads(pend[1])["import"]
            self.db.execute("UPDATE pending SET state = 'done' WHERE token = ?", [token])
            row = self.db.execute(select + " WHERE digest = ?", [batch["digest"]]).fetchone()
            if row:
                return ImportOutcome(ImportRecord(*row), 0, skipped=len(batch["rows"]))
            there = self.imported([item["fingerprint"] for item in batch["rows"]])
            rows = [item for item in batch["rows"] if item["fingerprint"] not in there]
            if not rows:
                return ImportOutcome(None, 0, skipped=len(batch["rows"]))
            now = time.time()
            cur = self.db.execute(
                "INSERT INTO imports (digest, request, user_id, file_name, rows, refused, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [batch["digest"], token, user_id, batch.get("file"), len(rows), batch.get("refused", 0), now])
            import_id = int(cur.lastrowid or 0)
            for n, item in enumerate(rows):
                self.db.execute(
                    "INSERT INTO figures (metric, value, status, unit, village, raw, user_id, user_name, created_at,"
                    " request, as_of, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [item["metric"], item.get("value"), item.get("status"), item.get("unit"), item.get("village"),
                     item.get("raw"), user_id, user_name, now, f"{token}:{n}", item.get("day"), item["fingerprint"]])
                detail = {k: item.get(k) for k in ("metric", "value", "status", "unit", "village", "raw")}
                detail.update({"as_of": item.get("day"), "import": import_id, "row": item.get("row")})
                self._audit(user_id, "figure", json.dumps(detail, ensure_ascii=False), True)
            record = ImportRecord(import_id, batch["digest"], token, user_id, batch.get("file"), len(rows),
                                  batch.get("refused", 0), now)
            return ImportOutcome(record, len(rows), skipped=len(batch["rows"]) - len(rows))

    def undo_last(self, user_id: int, anyone: bool = False) -> FigureRecord | None:
        """Mark the last figure (the person's own, or anyone's for an admin) undone; the log keeps both."""
        with self.transaction():
            where = "" if anyone else "AND user_id = ?"
            row = self.db.execute(
                f"SELECT id FROM figures WHERE undone_at IS NULL {where} ORDER BY id DESC LIMIT 1",
                [] if anyone else [user_id],
            ).fetchone()
            if row is None:
                return None
            self.db.execute("UPDATE figures SET undone_at = ?, undone_by = ? WHERE id = ?",
                            [self.clock(), user_id, row[0]])
            self._audit(user_id, "undo", str(row[0]), True)
            return self.figure(row[0])

    def last_figure(self, user_id: int, anyone: bool = False) -> FigureRecord | None:
        """The figure /hoantac would undo (the person's own last, or anyone's for an admin), not undoing it."""
        where = "" if anyone else "AND user_id = ?"
        row = self.db.execute(f"SELECT id FROM figures WHERE undone_at IS NULL {where} ORDER BY id DESC LIMIT 1",
                              [] if anyone else [user_id]).fetchone()
        return self.figure(row[0]) if row else None

    def undo_figure(self, figure_id: int, by: int) -> FigureRecord | None:
        """Mark one figure undone, once: the figure, or None when it was undone already (a second press)."""
        with self.transaction():
            cur = self.db.execute("UPDATE figures SET undone_at = ?, undone_by = ? WHERE id = ? AND undone_at IS NULL",
                                  [self.clock(), by, figure_id])
            if cur.rowcount != 1:
                return None
            self._audit(by, "undo", str(figure_id), True)
            return self.figure(figure_id)

    def figure(self, figure_id: int) -> FigureRecord | None:
        cur = self.db.execute("SELECT * FROM figures WHERE id = ?", [figure_id])
        row = cur.fetchone()
        return FigureRecord.from_row([d[0] for d in cur.description], row) if row else None

    def figure_by_request(self, token: str) -> FigureRecord | None:
        """The figure a preview's confirmation wrote, if it was confirmed."""
        row = self.db.execute("SELECT id FROM figures WHERE request = ?", [token]).fetchone()
        return self.figure(row[0]) if row else None

    def figures(self, metric: str | None = None, include_undone: bool = True,
                limit: int | None = None) -> list[FigureRecord]:
        """Figures newest first."""
        sql = "SELECT * FROM figures WHERE 1=1"
        args: list = []
        if metric:
            sql += " AND metric = ?"
            args.append(metric)
        if not include_undone:
            sql += " AND undone_at IS NULL"
        sql += " ORDER BY id DESC"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        cur = self.db.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [FigureRecord.from_row(names, r) for r in cur.fetchall()]

    def audit(self, user_id: int | None, action: str, detail: str, allowed: bool) -> None:
        with self.transaction():
            self._audit(user_id, action, detail, allowed)

    def _audit(self, user_id: int | None, action: str, detail: str, allowed: bool) -> None:
        self.db.execute("INSERT INTO audit (at, user_id, action, detail, allowed) VALUES (?, ?, ?, ?, ?)",
                        [self.clock(), user_id, action, detail, int(allowed)])

    def audit_log(self, limit: int | None = None) -> list[dict]:
        cur = self.db.execute("SELECT * FROM audit ORDER BY id DESC" + (" LIMIT ?" if limit else ""),
                              [limit] if limit else [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    # -- subscriptions ---------------------------------------------------------------------------------
    def subscribe(self, chat_id: int, chat_type: str, lang: str, by_user: int | None) -> bool:
        """True when this starts a subscription (False: it was already active; the language is updated)."""
        now = time.time()
        with self.transaction():
            row = self.db.execute("SELECT active FROM subscriptions WHERE chat_id = ?", [chat_id]).fetchone()
            self.db.execute(
                "INSERT INTO subscriptions (chat_id, chat_type, lang, active, subscribed_at, by_user)"
                " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(chat_id) DO UPDATE SET active = 1, lang = excluded.lang,"
                " chat_type = excluded.chat_type, ended_at = NULL, end_reason = NULL, by_user = excluded.by_user,"
                " subscribed_at = CASE WHEN subscriptions.active = 1 THEN subscriptions.subscribed_at"
                " ELSE excluded.subscribed_at END",
                [chat_id, chat_type, lang, now, by_user],
            )
            return not (row and row[0])

    def unsubscribe(self, chat_id: int, reason: str) -> bool:
        with self.transaction():
            cur = self.db.execute("UPDATE subscriptions SET active = 0, ended_at = ?, end_reason = ?"
                                  " WHERE chat_id = ? AND active = 1", [time.time(), reason, chat_id])
            return cur.rowcount == 1

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup (a new id): its subscription moves with it."""
        with self.transaction():
            if not self.db.execute("SELECT 1 FROM subscriptions WHERE chat_id = ?", [new_id]).fetchone():
                self.db.execute("UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", [new_id, old_id])
            self._audit(None, "migrate_chat", f"{old_id} -> {new_id}", True)

    def subscribers(self) -> list[tuple[int, str]]:
        return [(r[0], r[1] or "vi") for r in self.db.execute(
            "SELECT chat_id, lang FROM subscriptions WHERE active = 1 ORDER BY chat_id").fetchall()]

    def is_subscribed(self, chat_id: int) -> bool:
        row = self.db.execute("SELECT active FROM subscriptions WHERE chat_id = ?", [chat_id]).fetchone()
        return bool(row and row[0])

    # -- broadcasts and their delivery ledger -----------------------------------------------------------
    def create_broadcast(self, kind: str, texts: dict[str, str], day: str | None = None,
                         created_by: int | None = None, request: str | None = None,
                         body: str | None = None, villages: Sequence[str] = (),
                         attachment: Attachment | None = None) -> int | None:
        """A broadcast and one pending delivery per active subscriber (those who live in ``villages``, when it
        names some), in one transaction. None when it exists already: the day's summary (one a day), or an
        announcement confirmed twice (its request). ``texts`` are what is sent (HTML, per language; a caption
        when there is an ``attachment``, a photo or a file by its Telegram file_id); ``body`` is an
        announcement's plain words."""
        now = time.time()
        with self.transaction():
            if request and self.db.execute("SELECT 1 FROM broadcasts WHERE request = ?", [request]).fetchone():
                return None
            if kind == "summary" and self.db.execute(
                    "SELECT 1 FROM broadcasts WHERE kind = 'summary' AND day = ?", [day]).fetchone():
                return None
            cur = self.db.execute(
                "INSERT INTO broadcasts (kind, day, texts, created_at, created_by, request, body, villages,"
                " attachment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [kind, day, json.dumps(texts, ensure_ascii=False), now, created_by, request, body,
                 json.dumps(list(villages), ensure_ascii=False) if villages else None,
                 json.dumps(attachment.as_dict()) if attachment else None],
            )
            broadcast_id = int(cur.lastrowid or 0)
            where, args = self._audience(villages)
            self.db.execute(
                "INSERT INTO deliveries (broadcast_id, chat_id, lang, state, updated_at)"
                " SELECT ?, chat_id, lang, 'pending', ? FROM subscriptions WHERE " + where,
                [broadcast_id, now, *args],
            )
            return broadcast_id

    @staticmethod
    def _audience(villages: Sequence[str]) -> tuple[str, list]:
        """The subscriptions a broadcast goes to: every active one, or those in ``villages``."""
        if not villages:
            return "active = 1", []
        return "active = 1 AND village IN (SELECT value FROM json_each(?))", [json.dumps(list(villages))]

    def audience_size(self, villages: Sequence[str] = ()) -> int:
        """How many chats a broadcast to ``villages`` (none: everyone) would reach now."""
        where, args = self._audience(villages)
        return self.db.execute("SELECT COUNT(*) FROM subscriptions WHERE " + where, args).fetchone()[0]

    def broadcast_attachment(self, broadcast_id: int) -> Attachment | None:
        """The photo or file a broadcast carries, or None."""
        row = self.db.execute("SELECT attachment FROM broadcasts WHERE id = ?", [broadcast_id]).fetchone()
        return Attachment.from_dict(json.loads(row[0])) if row and row[0] else None

    def set_subscriber_village(self, chat_id: int, village: str | None) -> bool:
        """The village a subscriber lives in (announcements for it reach them); False: not subscribed."""
        with self.transaction():
            cur = self.db.execute("UPDATE subscriptions SET village = ? WHERE chat_id = ? AND active = 1",
                                  [village, chat_id])
            return cur.rowcount == 1

    def subscriber_village(self, chat_id: int) -> str | None:
        row = self.db.execute("SELECT village FROM subscriptions WHERE chat_id = ? AND active = 1",
                              [chat_id]).fetchone()
        return row[0] if row else None

    def open_broadcasts(self) -> list[tuple[int, str, dict[str, str]]]:
        return [(r[0], r[1], json.loads(r[2])) for r in self.db.execute(
            "SELECT id, kind, texts FROM broadcasts WHERE state = 'open' ORDER BY id").fetchall()]

    def summary_exists(self, day: str) -> bool:
        return bool(self.db.execute("SELECT 1 FROM broadcasts WHERE kind = 'summary' AND day = ?", [day]).fetchone())

    def next_pending(self, broadcast_id: int, limit: int = 50) -> list[tuple[int, str, int]]:
        """(chat, language, attempts so far): first those not yet tried, so a failing chat waits its turn."""
        return [(r[0], r[1] or "vi", r[2]) for r in self.db.execute(
            "SELECT chat_id, lang, attempts FROM deliveries WHERE broadcast_id = ? AND state = 'pending'"
            " ORDER BY attempts, chat_id LIMIT ?", [broadcast_id, limit]).fetchall()]

    def mark_delivery(self, broadcast_id: int, chat_id: int, state: str, message_id: int | None = None,
                      error: str | None = None, attempt: bool = False) -> None:
        """Move one delivery on; 'sending' is committed before the message goes out (the crash marker)."""
        with self.transaction():
            self.db.execute(
                "UPDATE deliveries SET state = ?, message_id = COALESCE(?, message_id), error = ?,"
                " attempts = attempts + ?, updated_at = ? WHERE broadcast_id = ? AND chat_id = ?",
                [state, message_id, error, int(attempt), time.time(), broadcast_id, chat_id],
            )
            if state == "blocked":
                self.db.execute("UPDATE subscriptions SET active = 0, ended_at = ?, end_reason = ?"
                                " WHERE chat_id = ? AND active = 1", [time.time(), error or "blocked", chat_id])

    def finish_broadcast(self, broadcast_id: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE broadcasts SET state = 'done' WHERE id = ? AND NOT EXISTS"
                            " (SELECT 1 FROM deliveries WHERE broadcast_id = ? AND state IN ('pending', 'sending'))",
                            [broadcast_id, broadcast_id])

    def recover_in_flight(self) -> int:
        """At start-up: deliveries that were 'sending' when the process died may or may not have reached the
        chat (Telegram has no idempotency key): they become 'unknown', never re-sent."""
        with self.transaction():
            cur = self.db.execute("UPDATE deliveries SET state = 'unknown', updated_at = ? WHERE state = 'sending'",
                                  [time.time()])
            return cur.rowcount

    def delivery_counts(self, broadcast_id: int | None = None, since: float | None = None) -> dict[str, int]:
        sql = "SELECT state, COUNT(*) FROM deliveries WHERE 1=1"
        args: list = []
        if broadcast_id is not None:
            sql += " AND broadcast_id = ?"
            args.append(broadcast_id)
        if since is not None:
            sql += " AND updated_at >= ?"
            args.append(since)
        return {r[0]: r[1] for r in self.db.execute(sql + " GROUP BY state", args).fetchall()}

    def deliveries(self, broadcast_id: int) -> list[dict]:
        cur = self.db.execute("SELECT * FROM deliveries WHERE broadcast_id = ? ORDER BY chat_id", [broadcast_id])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def announcements_since(self, since: float) -> list[str]:
        """The announcements' plain words (not HTML) that went to everyone (the summary goes to everyone; one
        for some villages reached them already); one sent before bodies were kept is read back from its
        Vietnamese HTML, without its header line."""
        rows = self.db.execute("SELECT body, texts FROM broadcasts WHERE kind = 'announcement' AND created_at >= ?"
                               " AND villages IS NULL ORDER BY id", [since]).fetchall()
        out = []
        for body, texts in rows:
            if body is None:
                sent = json.loads(texts).get("vi", "")
                lines = sent.split("\n")
                body = html.unescape(re.sub(r"<[^>]+>", "", "\n".join(lines[1:] if len(lines) > 1 else lines)))
            out.append(body)
        return out

    def figures_since(self, since: float) -> list[FigureRecord]:
        cur = self.db.execute("SELECT * FROM figures WHERE created_at >= ? AND undone_at IS NULL ORDER BY id",
                              [since])
        names = [d[0] for d in cur.description]
        return [FigureRecord.from_row(names, r) for r in cur.fetchall()]

    # -- the inbox of incoming updates ------------------------------------------------------------------
    def inbox_add(self, update_id: int, raw: str) -> bool:
        """Store an update as it arrives; False when it is already stored (Telegram delivering again an update
        it was never told had arrived, after a crash): it is handled from the inbox, not a second time."""
        with self.transaction():
            cur = self.db.execute("INSERT OR IGNORE INTO inbox (update_id, raw, received_at) VALUES (?, ?, ?)",
                                  [update_id, raw, time.time()])
            return cur.rowcount == 1

    def inbox_done(self, update_id: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE inbox SET state = 'done', done_at = ? WHERE update_id = ? AND state = 'new'",
                            [time.time(), update_id])

    def inbox_undone(self) -> list[tuple[int, str, int]]:
        """(update id, raw JSON, times replayed) of the updates not handled to the end, oldest first."""
        return [(r[0], r[1], r[2]) for r in self.db.execute(
            "SELECT update_id, raw, attempts FROM inbox WHERE state = 'new' ORDER BY update_id").fetchall()]

    def inbox_begun(self, update_id: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ?", [update_id])

    def inbox_abandon(self, update_id: int) -> None:
        """An update whose handling was cut short again and again (it may be what kills the process): no more."""
        with self.transaction():
            self.db.execute("UPDATE inbox SET state = 'abandoned', done_at = ? WHERE update_id = ?",
                            [time.time(), update_id])

    def inbox_prune(self, before: float) -> int:
        """Forget handled updates received before ``before`` (the inbox is not an archive)."""
        with self.transaction():
            cur = self.db.execute("DELETE FROM inbox WHERE state != 'new' AND received_at < ?", [before])
            return cur.rowcount

    def inbox_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state").fetchall()}

    # -- questions nobody could answer -------------------------------------------------------------
    def record_unanswered(self, question: str, normalized: str, asker: str, kind: str = "unknown") -> None:
        with self.transaction():
            self.db.execute("INSERT INTO unanswered (question, normalized, asker, asked_at, resolved, kind)"
                            " VALUES (?, ?, ?, ?, 0, ?)",
                            [question[:1000], normalized[:1000], asker, time.time(), kind])

    def unanswered_since(self, since: float) -> list[dict]:
        cur = self.db.execute("SELECT id, question, normalized, asked_at, kind FROM unanswered"
                              " WHERE resolved = 0 AND asked_at >= ? ORDER BY id", [since])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def resolve_unanswered(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.transaction():
            self.db.conn.executemany("UPDATE unanswered SET resolved = 1 WHERE id = ?", [[i] for i in ids])

    # -- feedback -----------------------------------------------------------------------------------
    def record_feedback(self, asker: str, question: str, passage_key: str, helpful: bool) -> None:
        """One vote per person per answer: pressing again (or changing one's mind) replaces the vote."""
        with self.transaction():
            self.db.execute("DELETE FROM feedback WHERE asker = ? AND passage_key = ?", [asker, passage_key])
            self.db.execute("INSERT INTO feedback (at, asker, question, passage_key, helpful) VALUES (?, ?, ?, ?, ?)",
                            [time.time(), asker, question[:1000], passage_key, int(helpful)])

    def least_helpful(self, since: float, limit: int = 5) -> list[tuple[str, int, int]]:
        """(passage key, 👎, 👍) of the answers with the most 👎."""
        return [(r[0], r[1], r[2]) for r in self.db.execute(
            "SELECT passage_key, SUM(helpful = 0), SUM(helpful = 1) FROM feedback WHERE at >= ?"
            " GROUP BY passage_key HAVING SUM(helpful = 0) > 0 ORDER BY 2 DESC LIMIT ?", [since, limit]).fetchall()]

    # -- answers officials teach ----------------------------------------------------------------------
    def add_curated(self, questions: list[str], answer: str, passage_key: str | None, by: int | None) -> int:
        now = time.time()
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO curated (questions, answer, passage_key, created_by, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [json.dumps(questions, ensure_ascii=False), answer, passage_key, by, now, now])
            self._audit(by, "faq-add", f"{cur.lastrowid}: {questions[0]}", True)
            return int(cur.lastrowid or 0)

    def update_curated(self, curated_id: int, answer: str, by: int | None) -> bool:
        with self.transaction():
            cur = self.db.execute("UPDATE curated SET answer = ?, updated_at = ? WHERE id = ? AND removed_at IS NULL",
                                  [answer, time.time(), curated_id])
            self._audit(by, "faq-edit", str(curated_id), cur.rowcount == 1)
            return cur.rowcount == 1

    def remove_curated(self, curated_id: int, by: int | None) -> bool:
        with self.transaction():
            cur = self.db.execute("UPDATE curated SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
                                  [time.time(), curated_id])
            self._audit(by, "faq-remove", str(curated_id), cur.rowcount == 1)
            return cur.rowcount == 1

    def curated(self, include_removed: bool = False) -> list[dict]:
        sql = "SELECT * FROM curated" + ("" if include_removed else " WHERE removed_at IS NULL") + " ORDER BY id"
        cur = self.db.execute(sql)
        names = [d[0] for d in cur.description]
        out = [dict(zip(names, r)) for r in cur.fetchall()]
        for row in out:
            row["questions"] = json.loads(row["questions"])
        return out

    # -- tickets: questions handed to officials, citizens' reports (knowledge/tickets.py) ----------------
    def _rows(self, cls: type, sql: str, args: list | tuple = ()) -> list:
        cur = self.db.execute(sql, list(args))
        names = [d[0] for d in cur.description]
        return [cls.from_row(names, r) for r in cur.fetchall()]

    def ticket(self, ticket_id: int) -> Ticket | None:
        found = self._rows(Ticket, "SELECT * FROM tickets WHERE id = ?", [ticket_id])
        return found[0] if found else None

    def ticket_by_request(self, request: str) -> Ticket | None:
        found = self._rows(Ticket, "SELECT * FROM tickets WHERE request = ?", [request])
        return found[0] if found else None

    def create_ticket(self, kind: str, status: str, chat_id: int, lang: str, text: str, request: str,
                      recipients: list[Recipient], photo: str | None = None, latitude: float | None = None,
                      longitude: float | None = None, drop_draft: tuple[int, int] | None = None,
                      ) -> tuple[Ticket, bool]:
        """A ticket and its posts to the officials, in one transaction: (the ticket, whether this call made
        it). ``request`` is unique: a second press, or an update replayed after a crash, finds the first."""
        now = time.time()
        with self.transaction():
            row = self.db.execute("SELECT id FROM tickets WHERE request = ?", [request]).fetchone()
            if row:
                return self.ticket(row[0]), False  # type: ignore[return-value]
            cur = self.db.execute(
                "INSERT INTO tickets (kind, status, chat_id, lang, text, photo, latitude, longitude, created_at,"
                " updated_at, request) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [kind, status, chat_id, lang, text, photo, latitude, longitude, now, now, request])
            ticket_id = int(cur.lastrowid or 0)
            purposes = ["post"] + (["photo"] if photo else []) + (["location"] if latitude is not None else [])
            for r in recipients:
                for purpose in purposes:
                    self._outbox(ticket_id, None, purpose, r.chat_id, r.lang, now)
            if drop_draft is not None:
                self.db.execute("DELETE FROM ticket_drafts WHERE user_id = ? AND chat_id = ?", list(drop_draft))
            return self.ticket(ticket_id), True  # type: ignore[return-value]

    def _outbox(self, ticket_id: int | None, event_id: int | None, purpose: str, chat_id: int | None, lang: str,
                now: float, request: str | None = None) -> None:
        self.db.execute("INSERT OR IGNORE INTO ticket_outbox (ticket_id, event_id, purpose, chat_id, lang,"
                        " created_at, updated_at, request) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [ticket_id, event_id, purpose, chat_id, lang, now, now, request])

    def ticket_event(self, event_id: int) -> TicketEvent | None:
        found = self._rows(TicketEvent, "SELECT * FROM ticket_events WHERE id = ?", [event_id])
        return found[0] if found else None

    def ticket_events(self, ticket_id: int) -> list[TicketEvent]:
        return self._rows(TicketEvent, "SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", [ticket_id])

    def add_ticket_event(self, ticket_id: int, kind: str, request: str, by_user: int | None, by_name: str | None,
                         text: str | None = None, status: str | None = None, closes: bool = False,
                         expect_status: str | None = None) -> tuple[TicketEvent, bool]:
        """An official's answer or a report's new status, the ticket moved, and the message to the citizen in
        the outbox, in one transaction: (the event, whether this call made it; ``request`` is unique, so the
        same reply replayed after a crash, or the same button pressed twice, records nothing more)."""
        now = time.time()
        with self.transaction():
            row = self.db.execute("SELECT id FROM ticket_events WHERE request = ?", [request]).fetchone()
            if row:
                return self.ticket_event(row[0]), False  # type: ignore[return-value]
            ticket = self.db.execute("SELECT chat_id, lang, status FROM tickets WHERE id = ?", [ticket_id]).fetchone()
            if ticket is None:
                raise LookupError(ticket_id)
            if expect_status is not None and ticket[2] != expect_status:  # moved meanwhile (another official)
                raise ValueError(ticket[2])
            cur = self.db.execute(
                "INSERT INTO ticket_events (ticket_id, kind, text, status, by_user, by_name, at, request)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [ticket_id, kind, text, status, by_user, by_name, now, request])
            event_id = int(cur.lastrowid or 0)
            self.db.execute(
                "UPDATE tickets SET status = COALESCE(?, status), updated_at = ?,"
                " closed_at = CASE WHEN ? THEN COALESCE(closed_at, ?) ELSE closed_at END WHERE id = ?",
                [status, now, int(closes), now, ticket_id])
            if ticket[0] is not None:
                self._outbox(ticket_id, event_id, kind, ticket[0], ticket[1] or "vi", now)
            self._audit(by_user, f"ticket-{kind}", f"#{ticket_id} {status or ''}".strip(), True)
            return self.ticket_event(event_id), True  # type: ignore[return-value]

    def keep_ticket_answer(self, event_id: int, questions: list[str], answer: str, by: int | None) -> int | None:
        """An answer kept as a taught answer, once: the new curated id, or None when it was kept already."""
        now = time.time()
        with self.transaction():
            row = self.db.execute("SELECT curated_id FROM ticket_events WHERE id = ? AND kind = 'answer'",
                                  [event_id]).fetchone()
            if row is None or row[0] is not None:
                return None
            cur = self.db.execute(
                "INSERT INTO curated (questions, answer, passage_key, created_by, created_at, updated_at)"
                " VALUES (?, ?, NULL, ?, ?, ?)", [json.dumps(questions, ensure_ascii=False), answer, by, now, now])
            curated_id = int(cur.lastrowid or 0)
            self.db.execute("UPDATE ticket_events SET curated_id = ? WHERE id = ?", [curated_id, event_id])
            self._audit(by, "faq-add", f"{curated_id}: {questions[0]} (ticket answer {event_id})", True)
            return curated_id

    def open_tickets(self) -> list[Ticket]:
        """Oldest first."""
        marks = ", ".join("?" * len(CLOSED))
        return self._rows(Ticket, f"SELECT * FROM tickets WHERE status NOT IN ({marks}) ORDER BY created_at, id",
                          CLOSED)

    def tickets_of_chat(self, chat_id: int, limit: int = 10) -> list[Ticket]:
        """A chat's own tickets, newest first."""
        return self._rows(Ticket, "SELECT * FROM tickets WHERE chat_id = ? ORDER BY id DESC LIMIT ?",
                          [chat_id, limit])

    def all_tickets(self) -> list[Ticket]:
        return self._rows(Ticket, "SELECT * FROM tickets ORDER BY id")

    def add_ticket_post(self, chat_id: int, message_id: int, ticket_id: int) -> None:
        """A message of the bot's that stands for a ticket in an officials' chat: a reply to it answers it."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO ticket_posts (chat_id, message_id, ticket_id) VALUES (?, ?, ?)",
                            [chat_id, message_id, ticket_id])

    def ticket_of_post(self, chat_id: int, message_id: int) -> int | None:
        row = self.db.execute("SELECT ticket_id FROM ticket_posts WHERE chat_id = ? AND message_id = ?",
                              [chat_id, message_id]).fetchone()
        return row[0] if row else None

    # the outbox: one worker sends it; 'sending' is committed before the call (the crash marker)
    def outbox_pending(self, limit: int = 50) -> list[OutboxItem]:
        return self._rows(OutboxItem, "SELECT * FROM ticket_outbox WHERE state = 'pending'"
                          " ORDER BY attempts, id LIMIT ?", [limit])

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        found = self._rows(OutboxItem, "SELECT * FROM ticket_outbox WHERE id = ?", [item_id])
        return found[0] if found else None

    def outbox_mark(self, item_id: int, state: str, message_id: int | None = None, error: str | None = None,
                    attempt: bool = False) -> None:
        now = time.time()
        with self.transaction():
            self.db.execute(
                "UPDATE ticket_outbox SET state = ?, message_id = COALESCE(?, message_id), error = ?,"
                " attempts = attempts + ?, updated_at = ?,"
                " sending_at = CASE WHEN ? = 'sending' THEN ? ELSE sending_at END,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
                [state, message_id, error, int(attempt), now, state, now, state, now, item_id])
            if state == "sent" and message_id is not None:
                row = self.db.execute("SELECT ticket_id, chat_id, purpose FROM ticket_outbox WHERE id = ?",
                                      [item_id]).fetchone()
                if row and row[0] is not None and row[2] in ("post", "photo", "location"):
                    self.db.execute("INSERT OR REPLACE INTO ticket_posts (chat_id, message_id, ticket_id)"
                                    " VALUES (?, ?, ?)", [row[1], message_id, row[0]])

    def outbox_recover(self, again: tuple[str, ...] = ()) -> tuple[int, int]:
        """At start-up: rows 'sending' when the process died may or may not have arrived (Telegram has no
        idempotency key). Those whose purpose is in ``again`` (a post to the officials: a second copy is
        harmless, a lost one leaves a question unseen) go back to 'pending'; the others (what a citizen
        receives) become 'unknown', never sent again. Returns (sent again, unknown)."""
        now = time.time()
        with self.transaction():
            marks = ", ".join("?" * len(again)) or "NULL"
            resent = self.db.execute(f"UPDATE ticket_outbox SET state = 'pending', updated_at = ? WHERE state ="
                                     f" 'sending' AND purpose IN ({marks})", [now, *again]).rowcount
            unknown = self.db.execute("UPDATE ticket_outbox SET state = 'unknown', updated_at = ? WHERE state ="
                                      " 'sending'", [now]).rowcount
            return resent, unknown

    def outbox_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute(
            "SELECT state, COUNT(*) FROM ticket_outbox GROUP BY state").fetchall()}

    def outbox_of_ticket(self, ticket_id: int) -> list[OutboxItem]:
        return self._rows(OutboxItem, "SELECT * FROM ticket_outbox WHERE ticket_id = ? ORDER BY id", [ticket_id])

    def queue_digest(self, day: str, recipients: list[Recipient]) -> bool:
        """The officials' daily count of open tickets, once a day (its request is the day and the chat)."""
        now = time.time()
        with self.transaction():
            if self.db.execute("SELECT 1 FROM ticket_outbox WHERE request LIKE ?", [f"digest:{day}:%"]).fetchone():
                return False
            for r in recipients:
                self._outbox(None, None, "digest", r.chat_id, r.lang, now, request=f"digest:{day}:{r.chat_id}")
            return True

    # "Gửi câu hỏi cho cán bộ xã" under a reply: the question kept under the button's token until pressed
    def open_offer(self, token: str, user_id: int, chat_id: int, lang: str, text: str) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO ticket_offers (token, user_id, chat_id, lang, text, created_at)"
                            " VALUES (?, ?, ?, ?, ?, ?)", [token, user_id, chat_id, lang, text, time.time()])

    def drop_offer(self, token: str) -> None:
        """Once the question is a ticket, the offer's copy of it goes."""
        with self.transaction():
            self.db.execute("DELETE FROM ticket_offers WHERE token = ?", [token])

    def offer(self, token: str) -> tuple[int, int, str, str] | None:
        """(the asker, their chat, the language, the question) kept under an offer's button."""
        row = self.db.execute("SELECT user_id, chat_id, lang, text FROM ticket_offers WHERE token = ?",
                              [token]).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    # what someone is writing: a report, a question after "Gửi câu hỏi cho cán bộ xã", an official's answer
    def draft(self, user_id: int, chat_id: int) -> Draft | None:
        found = self._rows(Draft, "SELECT * FROM ticket_drafts WHERE user_id = ? AND chat_id = ?", [user_id, chat_id])
        return found[0] if found else None

    def put_draft(self, user_id: int, chat_id: int, kind: str, token: str, lang: str, text: str = "",
                  ticket_id: int | None = None) -> None:
        """Begin a draft (one per person and chat: a new one replaces the last)."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO ticket_drafts (user_id, chat_id, kind, token, ticket_id, text,"
                            " lang, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [user_id, chat_id, kind, token, ticket_id, text, lang, time.time()])

    def add_to_draft(self, user_id: int, chat_id: int, text: str | None = None, photo: str | None = None,
                     latitude: float | None = None, longitude: float | None = None, limit: int = 2000) -> Draft | None:
        with self.transaction():
            if text:
                self.db.execute("UPDATE ticket_drafts SET text = substr(CASE WHEN text = '' THEN ? ELSE"
                                " text || char(10) || ? END, 1, ?) WHERE user_id = ? AND chat_id = ?",
                                [text, text, limit, user_id, chat_id])
            if photo:
                self.db.execute("UPDATE ticket_drafts SET photo = ? WHERE user_id = ? AND chat_id = ?",
                                [photo, user_id, chat_id])
            if latitude is not None:
                self.db.execute("UPDATE ticket_drafts SET latitude = ?, longitude = ? WHERE user_id = ? AND"
                                " chat_id = ?", [latitude, longitude, user_id, chat_id])
        return self.draft(user_id, chat_id)

    def drop_draft(self, user_id: int, chat_id: int) -> bool:
        with self.transaction():
            cur = self.db.execute("DELETE FROM ticket_drafts WHERE user_id = ? AND chat_id = ?", [user_id, chat_id])
            return cur.rowcount == 1

    def forget_ticket_chats(self, closed_before: float, stale_before: float) -> int:
        """Privacy: closed tickets older than the limit lose their chat (the ticket, the outbox rows, the posts
        of nobody's chat stay); drafts and offers not sent within a day are dropped. Returns the tickets
        forgotten."""
        with self.transaction():
            cur = self.db.execute("UPDATE tickets SET chat_id = NULL WHERE chat_id IS NOT NULL AND closed_at IS NOT"
                                  " NULL AND closed_at < ?", [closed_before])
            forgotten = cur.rowcount
            self.db.execute("UPDATE ticket_outbox SET chat_id = NULL WHERE purpose IN ('answer', 'status') AND"
                            " ticket_id IN (SELECT id FROM tickets WHERE chat_id IS NULL)")
            self.db.execute("DELETE FROM ticket_drafts WHERE created_at < ?", [stale_before])
            self.db.execute("DELETE FROM ticket_offers WHERE created_at < ?", [stale_before])
            return forgotten

    # -- backup ----------------------------------------------------------------------------------
    def backup(self, dest: str | Path) -> None:
        """A consistent copy while the bot runs (SQLite's online backup API). It replaces an earlier copy (or an
        empty file), never a file that is not a database: NotOurDatabase."""
        dest = Path(dest)
        if dest.exists() and not (dest.is_file() and dest.stat().st_size == 0):
            check_database_file(dest)
        try:
            target = sqlite3.connect(str(dest))
        except sqlite3.Error:
            raise NotOurDatabase(dest, "not-sqlite") from None
        try:
            self.db.conn.backup(target)
        except sqlite3.DatabaseError:
            raise NotOurDatabase(dest, "damaged") from None
        finally:
            target.close()


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
