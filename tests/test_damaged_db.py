"""A file at BOT_DB that is not the project's database is refused, never replaced (issue 13 item 10): a 0-byte
file used to become a fresh empty database (every figure, official and subscription silently lost), other
damage a long traceback and a crash loop. Now: one line naming the path and how to restore from a backup,
exit code 2, the file untouched. And ``backup`` onto a path that is not a database says so in one line."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import bot
from knowledge.store import NotOurDatabase, Store

from .test_e2e import guarded_env

ROOT = Path(__file__).resolve().parent.parent


def ours(path: Path) -> Path:
    """A real database of the project, with an official and a figure in it."""
    store = Store(path)
    store.set_role(5, "official", "Cán bộ", 1)
    store.open_pending("t1", 5, {"metric": "trong_rung", "value": 1.0, "unit": "ha", "raw": "x"})
    store.confirm_figure("t1", "Cán bộ")
    store.db.execute("CREATE TABLE padding (x TEXT)")
    store.db.conn.executemany("INSERT INTO padding VALUES (?)", [["p" * 500] for _ in range(400)])
    store.close()
    return path


def damaged(path: Path) -> Path:
    """Ours, with pages in the middle overwritten (a disk or a copy gone wrong)."""
    ours(path)
    data = bytearray(path.read_bytes())
    data[4096 * 3: 4096 * 6] = b"\xde\xad\xbe\xef" * (3 * 1024)
    path.write_bytes(bytes(data))
    return path


def foreign(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('Bà Lò Thị B')")
    conn.commit()
    conn.close()
    return path


FILES = {
    "empty": (lambda p: (p.write_bytes(b""), p)[1], "empty"),
    "text": (lambda p: (p.write_text("số liệu xã\n", encoding="utf-8"), p)[1], "not-sqlite"),
    "truncated-header": (lambda p: (p.write_bytes(b"SQLite format"), p)[1], "not-sqlite"),
    "foreign": (foreign, "foreign"),
    "damaged": (damaged, "damaged"),
}


@pytest.mark.parametrize("kind", list(FILES), ids=list(FILES))
def test_the_store_refuses_a_file_that_is_not_its_database(tmp_path, kind):
    make, reason = FILES[kind]
    path = make(tmp_path / "troly.db")
    before = path.read_bytes()
    with pytest.raises(NotOurDatabase) as caught:
        store = Store(path)
        try:
            store.verify()
        finally:
            store.close()
    assert caught.value.reason == reason
    assert path.read_bytes() == before and not Path(f"{path}-wal").exists()


@pytest.mark.parametrize("command", [["ask", "hộ nghèo"], ["build"], ["backup", "copy.db"]],
                         ids=["ask", "build", "backup"])
@pytest.mark.parametrize("kind", list(FILES), ids=list(FILES))
def test_every_command_says_so_in_one_line_and_exits_2(tmp_path, monkeypatch, capsys, kind, command):
    make, _ = FILES[kind]
    path = make(tmp_path / "troly.db")
    before = path.read_bytes()
    monkeypatch.setenv("BOT_DB", str(path))
    monkeypatch.chdir(tmp_path)
    assert bot.main(command) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert str(path) in err and "backup" in err and "Traceback" not in err
    assert path.read_bytes() == before


def test_python_bot_py_refuses_an_empty_database_at_start(tmp_path):
    db = tmp_path / "troly.db"
    db.write_bytes(b"")
    env = guarded_env(tmp_path, "http://127.0.0.1:9/bot", db)
    run = subprocess.run([sys.executable, "bot.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0] and "backup" in lines[0], run.stderr
    assert db.read_bytes() == b""


def test_a_good_database_and_a_fresh_path_still_open(tmp_path):
    store = Store(ours(tmp_path / "ours.db"))
    store.verify()
    assert store.role_of(5) == "official" and len(store.figures()) == 1
    store.close()
    fresh = Store(tmp_path / "new" / "fresh.db")
    fresh.verify()
    fresh.close()


@pytest.mark.parametrize("target", ["text", "directory"])
def test_backup_onto_a_path_that_is_not_a_database_says_so(tmp_path, monkeypatch, capsys, target):
    db = ours(tmp_path / "troly.db")
    monkeypatch.setenv("BOT_DB", str(db))
    dest = tmp_path / "dest"
    if target == "text":
        dest.write_text("ghi chép quan trọng\n", encoding="utf-8")
    else:
        dest.mkdir()
    assert bot.main(["backup", str(dest)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(dest) in err and "Traceback" not in err
    if target == "text":
        assert dest.read_text(encoding="utf-8") == "ghi chép quan trọng\n"


def test_backup_without_a_database_makes_none(tmp_path, monkeypatch, capsys):
    db = tmp_path / "absent.db"
    monkeypatch.setenv("BOT_DB", str(db))
    assert bot.main(["backup", str(tmp_path / "copy.db")]) == 2
    assert str(db) in capsys.readouterr().err and not db.exists()


def test_backup_replaces_an_earlier_copy(tmp_path, monkeypatch, capsys):
    db = ours(tmp_path / "troly.db")
    monkeypatch.setenv("BOT_DB", str(db))
    copy = tmp_path / "copy.db"
    assert bot.main(["backup", str(copy)]) == 0 and bot.main(["backup", str(copy)]) == 0
    restored = Store(copy)
    assert restored.role_of(5) == "official" and len(restored.figures()) == 1
    restored.close()
