"""bot.py as a program: `ask`, `ask --json`, `ask --jsonl`, `build`, and BOT_SOURCE / BOT_DB.

Every run starts a Python process that builds the knowledge base (about two seconds for the real plan), so the
runs are started together, in parallel, each with its own database, as soon as collection ends (conftest.py),
and this module's tests run last and read their results.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_KEYS = {"q", "answer", "found", "source", "score", "suggestions", "took_ms"}
KINDS = {"answer", "procedure", "contact", "figure", "smalltalk", "handoff", "suggest", "unknown", "empty"}

BUDGET_Q = "Tổng thu ngân sách xã năm 2023 là bao nhiêu?"
BUDGET_FIGURE = "9.439.014.295"
HERD_Q = "Tổng đàn trâu hiện còn bao nhiêu con?"
JUNK_LONG = "qzw " * 5000  # 20,000 characters

# (line sent on stdin, the question the bot should echo as "q" — None for lines it skips, is it junk?)
JSONL_LINES: list[tuple[str, str | None, bool]] = [
    (json.dumps({"q": BUDGET_Q}), BUDGET_Q, False),
    (json.dumps({"q": ""}), "", True),
    (json.dumps({"q": JUNK_LONG}), JUNK_LONG, True),
    (json.dumps({"q": "😀🎉🙏😀"}, ensure_ascii=False), "😀🎉🙏😀", True),
    (json.dumps({"q": "?!... ,;: —"}, ensure_ascii=False), "?!... ,;: —", True),
    (json.dumps({"q": "<b>x</b><script>"}), "<b>x</b><script>", True),
    (json.dumps({"q": "\x00\x07"}), "\x00\x07", True),
    (json.dumps({"q": unicodedata.normalize("NFD", BUDGET_Q)}, ensure_ascii=False),
     unicodedata.normalize("NFD", BUDGET_Q), False),
    (json.dumps({"q": "'; DROP TABLE passages; --"}), "'; DROP TABLE passages; --", True),
    ("{not json", "{not json", True),
    ("", None, False),
    ("   ", None, False),
    (json.dumps({"q": HERD_Q}, ensure_ascii=False), HERD_Q, False),
]

# A second plan, for BOT_SOURCE: the same question about the herd has a different answer here.
PHU_MY = """\
ỦY BAN NHÂN DÂN
XÃ PHÚ MỸ

Số: 07/KH-UBND

Phú Mỹ, ngày 10 tháng 02 năm 2025

KẾ HOẠCH **Phát triển kinh tế - xã hội năm 2025 xã Phú Mỹ**

Phần I

ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN KẾ HOẠCH NĂM 2024

I – KẾT QUẢ ĐẠT ĐƯỢC

1. Về kinh tế

1.1. Sản xuất nông nghiệp

- *Về trồng trọt*: Tổng diện tích gieo trồng cả năm 530,2 ha, sản lượng lương thực đạt 2.910 tấn.

- *Về chăn nuôi*: Tổng đàn trâu hiện còn 75 con, đàn bò 212 con, đàn lợn 1.340 con¹.

Đàn gia cầm có 18.500 con, không có dịch bệnh lớn xảy ra trên địa bàn.

¹ Trong năm tiêm phòng lở mồm long móng cho 287 con trâu, bò.

1.2. Thu, chi ngân sách: Tổng thu ngân sách xã là 3.456.000.000 đồng, đạt 101,2% dự toán huyện giao. \
Chi ngân sách xã là 3.120.000.000 đồng.

2. Về văn hóa - xã hội

2.1. Giáo dục: Trường Tiểu học Phú Mỹ có 14 lớp với 396 học sinh, trường THCS có 9 lớp với 301 học sinh.

2.2. Y tế: Trạm Y tế xã khám bệnh cho 2.760 lượt người trong năm.

2.3. Bảo trợ xã hội: Số hộ nghèo còn 41 hộ, chiếm tỷ lệ 3,1%; số hộ cận nghèo còn 66 hộ.

Phần II

MỤC TIÊU VÀ NHIỆM VỤ NĂM 2025

I – CÁC CHỈ TIÊU CHỦ YẾU NĂM 2025

1) Tổng đàn bò đạt 250 con;
2) Thu ngân sách trên địa bàn 400.000.000 đồng.

Nơi nhận:
- UBND huyện;
- Lưu: VP.

TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH

Trần Văn Bình
"""
PHU_MY_BUDGET_Q = "Tổng thu ngân sách xã năm 2024 là bao nhiêu?"
PHU_MY_QUESTIONS = [
    "Số hộ nghèo năm 2024 là bao nhiêu?",
    "Đàn gia cầm có bao nhiêu con?",
    HERD_Q,
    BUDGET_Q,  # the default plan's question: its figure must not come back
    PHU_MY_BUDGET_Q,
]


@dataclass
class Run:
    rc: int
    stdout: bytes
    stderr: str
    db: Path

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8")

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.out.splitlines()]


def _env(workdir: Path, env_extra: dict | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_SOURCE", "TELEGRAM_BOT_TOKEN", "LOG_LEVEL"}}
    env["BOT_DB"] = str(workdir / "troly.db")
    env.update(env_extra or {})
    return env


def _run(workdir: Path, args: list[str], stdin: bytes | None = None, env_extra: dict | None = None) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "bot.py", *args], cwd=ROOT, env=_env(workdir, env_extra), input=stdin,
        capture_output=True, timeout=180, check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"), workdir / "troly.db")


def _conversation(workdir: Path, questions: list[str], env_extra: dict) -> tuple[list[bytes | None], Run]:
    """ask --jsonl as a harness drives it: one question, wait for its reply, then the next (needs flushing)."""
    workdir.mkdir(parents=True, exist_ok=True)
    err_path = workdir / "stderr.txt"
    replies: list[bytes | None] = []
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "bot.py", "ask", "--jsonl"], cwd=ROOT, env=_env(workdir, env_extra),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
        )
        try:
            for q in questions:
                proc.stdin.write((json.dumps({"q": q}) + "\n").encode())
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], 90)
                if not ready:  # no reply while stdin is still open: not flushed
                    replies.append(None)
                    break
                replies.append(proc.stdout.readline())
            proc.stdin.close()
            rest = proc.stdout.read()
            rc = proc.wait(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return replies, Run(rc, rest, err_path.read_text("utf-8", "replace"), workdir / "troly.db")


def _jsonl_input() -> bytes:
    return "".join(line + "\n" for line, _, _ in JSONL_LINES).encode("utf-8")


class _Batch:
    """Every run of this module, started once and together; see :func:`start_runs`."""

    base: Path | None = None
    pool: ThreadPoolExecutor | None = None
    futures: dict[str, Future] | None = None


def start_runs() -> dict[str, Future]:
    """Start every run in parallel, each with its own database (idempotent).

    conftest.py calls this as soon as collection ends and runs this module's tests last, so the processes
    work while the in-process tests run.
    """
    if _Batch.futures is not None:
        return _Batch.futures
    base = Path(tempfile.mkdtemp(prefix="troly-cli-"))
    phu_my = base / "ke-hoach-2025-xa-phu-my.txt"
    phu_my.write_text(PHU_MY, encoding="utf-8")
    docx = base / "ke-hoach.docx"
    docx.write_bytes(b"PK\x03\x04 not really a docx")
    small = {"BOT_SOURCE": str(phu_my)}  # the small plan starts in a fraction of the time
    encoding_input = (
        b'{"q": "\\ud800 ng\\u00e2n s\\u00e1ch"}\n'  # a lone surrogate, escaped: valid JSON, not valid text
        b"\xff\xfe t\xe1\xbb\x95ng thu\n"  # bytes that are not UTF-8
        + json.dumps({"q": BUDGET_Q}).encode() + b"\n"
    )
    specs = {  # the two that need the real plan first: they take longest
        "jsonl": (["ask", "--jsonl"], _jsonl_input(), None),
        "build": (["build"], None, None),
        "text": (["ask", PHU_MY_QUESTIONS[0]], None, small),
        "json": (["ask", "--json", PHU_MY_QUESTIONS[1]], None, small),
        "encoding": (["ask", "--jsonl"], encoding_input, small),
        "missing-source": (["ask", "tổng thu ngân sách"], None, {"BOT_SOURCE": str(base / "khong-co.txt")}),
        "backup-no-dir": (["backup", str(base / "no-such-dir" / "copy.db")], None, small),
        "docx-source": (["build", "--source", str(docx)], None, None),
    }
    _Batch.base = base
    _Batch.pool = ThreadPoolExecutor(max_workers=3)  # two cores are common; more processes only thrash
    _Batch.futures = {name: _Batch.pool.submit(_run, base / name, *spec) for name, spec in specs.items()}
    # BOT_SOURCE, asked the way a harness does: one question, wait for the reply, the next
    _Batch.futures["source"] = _Batch.pool.submit(_conversation, base / "source", PHU_MY_QUESTIONS, small)
    return _Batch.futures


def stop_runs() -> None:
    """Wait for the runs and remove their directory (idempotent; conftest.py calls it when the session ends)."""
    if _Batch.pool is not None:
        _Batch.pool.shutdown(wait=True)
    if _Batch.base is not None:
        shutil.rmtree(_Batch.base, ignore_errors=True)
    _Batch.base = _Batch.pool = None


@pytest.fixture(scope="module")
def runs() -> dict[str, Future]:
    yield start_runs()
    stop_runs()


def check_contract(obj: dict) -> None:
    assert set(obj) - {"kind"} == CONTRACT_KEYS  # "kind" is the contract's optional field
    assert obj.get("kind", "answer") in KINDS
    assert isinstance(obj["q"], str)
    assert isinstance(obj["answer"], str) and obj["answer"].strip()
    assert isinstance(obj["found"], bool)
    assert isinstance(obj["score"], (int, float)) and not isinstance(obj["score"], bool)
    assert isinstance(obj["took_ms"], (int, float)) and not isinstance(obj["took_ms"], bool)
    assert obj["took_ms"] >= 0
    assert isinstance(obj["suggestions"], list) and len(obj["suggestions"]) <= 3
    assert all(isinstance(s, str) and s.strip() for s in obj["suggestions"])
    if obj["found"]:
        assert isinstance(obj["source"], str) and obj["source"].strip()
    else:
        assert obj["source"] is None


def no_traceback(run: Run) -> None:
    at = run.stderr.find("Traceback")
    assert at < 0, run.stderr[at : at + 3000]


# -- ask ------------------------------------------------------------------------------------------


def test_ask_prints_the_reply_as_text(runs):
    run = runs["text"].result()
    assert run.rc == 0, run.stderr[-3000:]
    no_traceback(run)
    out = run.out.strip()
    assert out and not out.startswith("{")
    assert "41 hộ" in out
    assert "2.3" in out  # names its section


def test_ask_json_prints_one_contract_object(runs):
    run = runs["json"].result()
    assert run.rc == 0, run.stderr[-3000:]
    no_traceback(run)
    lines = run.out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    check_contract(obj)
    assert obj["q"] == PHU_MY_QUESTIONS[1]
    assert obj["found"] is True
    assert "18.500 con" in obj["answer"]
    assert obj["source"] == "Mục 1.1. Sản xuất nông nghiệp"


# -- ask --jsonl ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jsonl(runs) -> list[tuple[dict, str, bool]]:
    """(reply, question sent, junk?) for every line the bot should answer, in order."""
    run = runs["jsonl"].result()
    assert run.rc == 0, run.stderr[-3000:]
    no_traceback(run)
    replies = run.lines()
    expected = [(q, junk) for _, q, junk in JSONL_LINES if q is not None]
    assert len(replies) == len(expected)
    return [(reply, q, junk) for reply, (q, junk) in zip(replies, expected)]


def reply_to(jsonl, question: str) -> dict:
    return next(reply for reply, q, _ in jsonl if q == question)


def test_jsonl_one_reply_per_line_in_order_with_the_contract(jsonl):
    for reply, question, _ in jsonl:
        check_contract(reply)
        assert reply["q"] == question


JUNK = [q for _, q, junk in JSONL_LINES if junk]
HTML_JUNK = "<b>x</b><script>"


@pytest.mark.parametrize(
    "question",
    [
        pytest.param(
            q, id=repr(q[:12]),
        )
        for q in JUNK
    ],
)
def test_jsonl_junk_is_not_found(jsonl, question):
    reply = reply_to(jsonl, question)
    assert reply["found"] is False, reply["answer"][:200]


def test_jsonl_junk_lines_are_all_there():
    assert len(JUNK) == 8 and HTML_JUNK in JUNK


def test_jsonl_long_question_is_answered_quickly(jsonl):
    assert reply_to(jsonl, JUNK_LONG)["took_ms"] < 5000


def test_jsonl_real_questions_are_answered(jsonl):
    budget = reply_to(jsonl, BUDGET_Q)
    assert budget["found"] is True and BUDGET_FIGURE in budget["answer"]
    assert budget["source"] == "Mục 1.4. Thu, chi ngân sách"
    herd = reply_to(jsonl, HERD_Q)
    assert herd["found"] is True and "140 con" in herd["answer"]


def test_jsonl_nfd_question_gets_the_same_answer(jsonl):
    composed = reply_to(jsonl, BUDGET_Q)
    decomposed = reply_to(jsonl, unicodedata.normalize("NFD", BUDGET_Q))
    assert decomposed["found"] is True
    assert (decomposed["answer"], decomposed["source"]) == (composed["answer"], composed["source"])


def test_jsonl_sql_looking_text_leaves_the_database_alone(runs, jsonl):
    conn = sqlite3.connect(runs["jsonl"].result().db)
    try:
        count = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
    finally:
        conn.close()
    assert count > 100


def test_jsonl_survives_undecodable_input(runs):
    run = runs["encoding"].result()
    no_traceback(run)
    assert run.rc == 0
    replies = [json.loads(line) for line in run.stdout.decode("utf-8").splitlines()]
    assert len(replies) == 3
    for reply in replies:
        check_contract(reply)


# -- build and the environment --------------------------------------------------------------------


def test_build_prints_the_counts(runs):
    run = runs["build"].result()
    assert run.rc == 0, run.stderr[-3000:]
    no_traceback(run)
    assert "15/15" in run.out
    assert run.db.exists()
    conn = sqlite3.connect(run.db)
    try:
        assert conn.execute("SELECT count(*) FROM targets").fetchone()[0] == 15
    finally:
        conn.close()


@pytest.fixture(scope="module")
def source_replies(runs) -> dict[str, dict]:
    replies, run = runs["source"].result()
    assert run.rc == 0, run.stderr[-3000:]
    no_traceback(run)
    assert None not in replies, "no reply before the next question was sent: output not flushed"
    assert run.stdout == b""
    parsed = [json.loads(raw) for raw in replies]
    assert [r["q"] for r in parsed] == PHU_MY_QUESTIONS
    for reply in parsed:
        check_contract(reply)
    return {r["q"]: r for r in parsed}


def test_jsonl_replies_as_it_goes(source_replies):
    """Each reply is written and flushed before the next question arrives (a harness waits for it)."""
    assert len(source_replies) == len(PHU_MY_QUESTIONS)


def test_bot_source_is_honoured(runs, source_replies):
    poor = source_replies["Số hộ nghèo năm 2024 là bao nhiêu?"]
    assert poor["found"] is True and "41 hộ" in poor["answer"]
    assert poor["source"] == "Mục 2.3. Bảo trợ xã hội"
    poultry = source_replies["Đàn gia cầm có bao nhiêu con?"]
    assert poultry["found"] is True and "18.500 con" in poultry["answer"]
    # the default plan is not loaded: its figures appear nowhere
    herd = source_replies[HERD_Q]
    if herd["found"]:
        assert "75 con" in herd["answer"]
    assert "140 con" not in herd["answer"]
    assert BUDGET_FIGURE not in source_replies[BUDGET_Q]["answer"]
    _, run = runs["source"].result()
    conn = sqlite3.connect(run.db)
    try:
        docs = [r[0] for r in conn.execute("SELECT name FROM documents")]
    finally:
        conn.close()
    assert docs == ["ke-hoach-2025-xa-phu-my"]


def test_bot_source_budget_question(source_replies):
    budget = source_replies[PHU_MY_BUDGET_Q]
    assert budget["found"] is True
    assert "3.456.000.000" in budget["answer"]
    assert budget["source"] == "Mục 1.2. Thu, chi ngân sách"


@pytest.mark.parametrize("name", ["missing-source", "backup-no-dir", "docx-source"])
def test_user_errors_get_a_message_not_a_traceback(runs, name):
    run = runs[name].result()
    assert run.rc != 0
    assert run.stderr.strip()
    no_traceback(run)


def test_another_commune_runs_the_same_code_with_its_own_data_folder(tmp_path):
    """BOT_DATA names a folder with the commune's plan and configuration; nothing else changes."""
    folder = tmp_path / "xa-moi"
    folder.mkdir()
    plan = (ROOT / "data" / "ke-hoach-ptktxh-2024-xa-cao-lau.txt").read_text(encoding="utf-8")
    (folder / "ke-hoach-xa-hong-phong.txt").write_text(plan.replace("Cao Lâu", "Hồng Phong"), encoding="utf-8")
    (folder / "commune.yaml").write_text("name: xã Hồng Phong\nvillages: [Khòn Pát, Bản Tấu]\n", encoding="utf-8")
    run = _run(tmp_path / "w", ["ask", "--json", "tổng đàn trâu có bao nhiêu con"],
               env_extra={"BOT_DATA": str(folder)})
    assert run.rc == 0, run.stderr
    reply = json.loads(run.out)
    assert reply["found"] and "Trâu hiện còn 140 con" in reply["answer"]
    conn = sqlite3.connect(run.db)
    assert [r[0] for r in conn.execute("SELECT name FROM documents")] == ["ke-hoach-xa-hong-phong"]

    from knowledge.metrics import Registry  # the commune's villages, for officials' per-village figures
    assert Registry.load(folder).villages == ["Khòn Pát", "Bản Tấu"]

    empty = tmp_path / "trong"
    empty.mkdir()
    run = _run(tmp_path / "w2", ["ask", "hộ nghèo"], env_extra={"BOT_DATA": str(empty)})
    assert run.rc == 2 and "Traceback" not in run.stderr and str(empty) in run.stderr
