"""The dev set's floors, measured the way the team's tool measures them: `bot.py ask --jsonl` as a program.

Floors (issue 2): in-scope ≥ 92 %, out-of-scope ≥ 85 %, no style below 85 %, median answer < 300 characters.
A separate, unseen set measures the same engine: these floors guard against regressions, not a target to fit.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    if not (EVAL / "run_eval.py").exists() or not (EVAL / "dev.jsonl").exists():
        pytest.skip("../shared/eval is not beside this checkout")
    db = tmp_path_factory.mktemp("eval") / "eval.db"
    cmd = f'BOT_DB="{db}" "{sys.executable}" "{ROOT / "bot.py"}" ask --jsonl'
    done = subprocess.run(
        [sys.executable, str(EVAL / "run_eval.py"), "--set", str(EVAL / "dev.jsonl"), "--cmd", cmd],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_dev_set_floors(report):
    last = report.strip().splitlines()[-1]
    m = re.match(r"ACC=([\d.]+) OOS=([\d.]+) ALL=([\d.]+) LEN=([\d.]+) N=(\d+)", last)
    assert m, last
    acc, oos, _, length, n = float(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[5])
    assert n > 100
    assert acc >= 92.0, report
    assert oos >= 85.0, report
    assert length < 300, report


def test_no_style_below_floor(report):
    styles = report.split("per style:")[1].split("per topic:")[0]
    for line in styles.strip().splitlines():
        name, pct = line.split()[0], float(line.split()[1].rstrip("%"))
        assert pct >= 85.0, f"style {name}: {pct} %\n{report}"


def test_answers_are_fast(report):
    m = re.search(r"took_ms: median=([\d.]+) p99=([\d.]+)", report)
    assert m, report
    assert float(m[1]) < 50  # generous: the benchmark measures the real figure, this only catches a blow-up
