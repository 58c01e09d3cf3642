"""knowledge/store.py and KnowledgeBase.open: the SQLite cache, rebuilds, backup, WAL. A fresh database per test."""

from __future__ import annotations

import shutil
import sqlite3

from knowledge.document import parse_file
from knowledge.kb import KnowledgeBase
from knowledge.store import PARSER_VERSION, Store, sha256_of


def snapshot(kb: KnowledgeBase) -> list:
    return [p for d in kb.documents for p in d.passages]


def test_open_builds_once_then_reads_the_cache(tmp_path, plan_path):
    db = tmp_path / "t.db"
    store = Store(db)
    kb, report = KnowledgeBase.open(store, [plan_path])
    assert report.rebuilt is True
    assert report.documents == 1
    assert (report.footnotes_found, report.footnotes_attached) == (15, 15)
    assert report.targets == 15
    assert report.passages == len(snapshot(kb)) > 0
    first = snapshot(kb)
    store.close()

    store = Store(db)
    kb2, report2 = KnowledgeBase.open(store, [plan_path])
    assert report2.rebuilt is False
    assert snapshot(kb2) == first
    assert (report2.footnotes_found, report2.footnotes_attached, report2.targets) == (15, 15, 15)

    # what the next open compares: a parser version change (as recorded in the database) must differ
    wanted = {plan_path.stem: sha256_of(plan_path), "__parser__": PARSER_VERSION}
    assert store.source_fingerprint() == wanted
    store.set_meta("parser_version", "0-old")
    assert store.source_fingerprint() != wanted
    store.close()


def test_changed_source_triggers_rebuild(tmp_path, plan_path):
    source = tmp_path / plan_path.name
    shutil.copyfile(plan_path, source)
    store = Store(tmp_path / "t.db")
    # the cache as a previous build left it (written directly: the first build is tested above)
    store.replace_documents([(parse_file(source), str(source), sha256_of(source))])
    assert store.source_fingerprint() == {source.stem: sha256_of(source), "__parser__": PARSER_VERSION}

    with source.open("a", encoding="utf-8") as fh:
        fh.write("\nDòng thêm vào cuối tệp để thử việc dựng lại.\n")

    _, report = KnowledgeBase.open(store, [source])
    assert report.rebuilt is True
    assert store.source_fingerprint()[source.stem] == sha256_of(source)
    assert (report.footnotes_found, report.footnotes_attached, report.targets) == (15, 15, 15)
    store.close()


def test_store_round_trips_the_parsed_document(tmp_path, plan_path):
    doc = parse_file(plan_path)
    store = Store(tmp_path / "t.db")
    store.replace_documents([(doc, str(plan_path), sha256_of(plan_path))])
    assert store.load_documents() == [doc]
    some = doc.passages[5]
    assert store.passage(some.key) == some
    assert store.passage("no-such-key") is None
    # replacing is a replacement, not an append
    store.replace_documents([(doc, str(plan_path), sha256_of(plan_path))])
    count = store.db.execute("SELECT count(*) FROM passages").fetchone()[0]
    assert count == len(doc.passages)
    store.close()


def test_backup_is_a_readable_copy(tmp_path, plan_path):
    doc = parse_file(plan_path)
    store = Store(tmp_path / "t.db")
    store.replace_documents([(doc, str(plan_path), sha256_of(plan_path))])
    dest = tmp_path / "backup.db"
    store.backup(dest)
    assert dest.exists()
    conn = sqlite3.connect(dest)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        targets = conn.execute("SELECT count(*) FROM targets").fetchone()[0]
    finally:
        conn.close()
    original = store.db.execute("SELECT count(*) FROM passages").fetchone()[0]
    assert copied == original == len(doc.passages)
    assert targets == 15
    store.close()


def test_database_is_in_wal_mode_and_migrated_once(tmp_path):
    db = tmp_path / "t.db"
    store = Store(db)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    version = store.get_meta("schema_version")
    assert version is not None and int(version) >= 1
    store.close()
    # WAL is persistent: a plain connection sees it too, and reopening does not re-run migrations
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"meta", "documents", "passages", "targets", "unanswered"} <= tables
    store = Store(db)
    assert store.get_meta("schema_version") == version
    store.close()


MINI_PLAN = """\
Số: 01/KH-UBND

KẾ HOẠCH Phát triển kinh tế - xã hội năm 2025 xã {name}

Phần I

ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN KẾ HOẠCH NĂM 2024

I – KẾT QUẢ ĐẠT ĐƯỢC

1. Về kinh tế

Tổng thu ngân sách xã {name} là {budget} đồng, đạt 100% dự toán huyện giao.
"""


def _write_mini(path, name: str, budget: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MINI_PLAN.format(name=name, budget=budget), encoding="utf-8")
    return path


def test_two_sources_make_two_documents(tmp_path):
    one = _write_mini(tmp_path / "ke-hoach-xa-mot.txt", "Một", "1.000.000")
    two = _write_mini(tmp_path / "ke-hoach-xa-hai.txt", "Hai", "2.000.000")
    store = Store(tmp_path / "t.db")
    kb, report = KnowledgeBase.open(store, [one, two])
    assert report.documents == 2
    assert [d.name for d in kb.documents] == ["ke-hoach-xa-mot", "ke-hoach-xa-hai"]
    texts = " ".join(p.text for p in kb.passages.values())
    assert "1.000.000" in texts and "2.000.000" in texts
    store.close()


def test_two_sources_with_the_same_file_name(tmp_path):
    one = _write_mini(tmp_path / "2024" / "ke-hoach.txt", "Một", "1.000.000")
    two = _write_mini(tmp_path / "2025" / "ke-hoach.txt", "Hai", "2.000.000")
    store = Store(tmp_path / "t.db")
    try:
        kb, report = KnowledgeBase.open(store, [one, two])
        assert report.documents == 2
        texts = " ".join(p.text for p in kb.passages.values())
        assert "1.000.000" in texts and "2.000.000" in texts
    finally:
        store.close()
