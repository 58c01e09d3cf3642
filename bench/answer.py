"""How fast the answering engine builds and answers, and how much memory it takes, next to plain BM25.

What it measures, on the one plan in ``data/`` and on a knowledge base 100 times larger (100 generated
variants of that plan: other commune and village names, every figure that has a unit scaled per variant):

- build: parse + store + index into a fresh SQLite file (``KnowledgeBase.open(..., rebuild=True)``), and
  opening an already-built file (the start-up path when no source changed);
- ask: per-question latency of ``kb.ask(q)`` over the dev questions, in rounds, median and p99;
- memory: tracemalloc peak of one build plus one round of questions, and the process's ``ru_maxrss``;
- the same for a plain BM25 (``bm25s`` over the same passage texts, ``knowledge.text.tokens``, top-1), as
  a yardstick for what a bare lexical index costs.

Why it is built this way: the figures come from one run on a shared, noisy 2-core machine, so every
timing is a median (p99 for the tail) and the useful reading is a ratio (1 vs 100 documents, engine vs
BM25), not the last digit. Each scenario runs in a fresh interpreter of its own, so ``ru_maxrss`` (a
high-water mark that never goes down) belongs to that scenario alone, and is read before tracemalloc runs.
tracemalloc slows this engine several times over (it allocates many small objects), so it has a pass of
its own, apart from the timed ones, and on 100 documents only with ``--full``. Repeats are bounded by a
time budget (about 3 minutes in all): the first build and the first round of questions always run (so an
engine whose 100-document build alone takes minutes overruns it), more runs only while they fit; the
table says how many runs each figure rests on. Targets are printed next to the figures, never asserted:
this script reports, the tests decide.

    .venv/bin/python bench/answer.py            # from the project root; no network; 1.5-3 minutes
    .venv/bin/python bench/answer.py --full     # every run, and the traced 100-document pass (about 4)
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from the project root: bench/ is sys.path[0]
    sys.path.insert(0, str(ROOT))

from knowledge.text import fold, format_number, parse_number, tokens  # noqa: E402

SOURCE = ROOT / "data" / "ke-hoach-ptktxh-2024-xa-cao-lau.txt"
DEV_SET = Path("/work/shared/eval/dev.jsonl")
FALLBACK_QUESTIONS = [
    "Tổng diện tích gieo trồng năm 2023 là bao nhiêu?",
    "sản lượng lương thực năm 2023 đạt bao nhiêu tấn",
    "Số lượt KCB tại TYT xã năm 2023?",
    "Trang TTĐT xã đăng bao nhiêu bài năm 2023?",
    "tong dan trau hien con bao nhieu con",
    "quyet dinh phe duyet ke hoach kt xh 2024 xa cao lau la so may",
    "How many tonnes of cement were allocated in the last two months of 2023?",
    "tỷ lệ hộ nghèo năm 2024 giảm bao nhiêu",
    "Ai ký kế hoạch này?",
    "giá vé xe buýt lên huyện bao nhiêu tiền",
]

VARIANTS = 100
SEED = 20240
SIZES = (1, VARIANTS)
# Most runs wanted per scenario; the time budget may stop earlier (never before the first).
BUILD_RUNS = {1: 7, VARIANTS: 1}
MIN_BUILD_RUNS = {1: 3, VARIANTS: 1}
OPEN_RUNS = {1: 7, VARIANTS: 1}
MIN_OPEN_RUNS = {1: 3, VARIANTS: 0}
ASK_ROUNDS = {1: 5, VARIANTS: 3}
BM25_BUILD_RUNS = {1: 7, VARIANTS: 3}
BM25_ROUNDS = {1: 5, VARIANTS: 5}
# Seconds: the whole run, what the small scenarios may take, and what is kept for BM25 on 100 documents.
TOTAL_BUDGET_S = 175.0
BUDGET_S = {("engine", 1): 50.0, ("bm25", 1): 15.0, ("bm25", VARIANTS): 25.0}
TRACE_SLOWDOWN = 8.0  # a traced build takes up to this many untraced ones (measured: 5-7x)
WORKER_TIMEOUT_S = 1800

# Targets: printed next to the figures, never asserted.
BUILD_TARGET_MS = 1000.0  # one document
P99_TARGET_MS = {1: 5.0, VARIANTS: 50.0}
MEMORY_TARGET_MB = 150.0

# --- the 100-variant knowledge base -----------------------------------------------------------------

COMMUNE = "Cao Lâu"
VILLAGES = ["Bản Vàng", "Nà Thâm", "Còn Nàn", "Bản Đon", "Bản Rắn", "Nà Va", "Pá Cuồng", "Pò Pháy",
            "Sông Danh", "Bản Xâm"]
_COMMUNE_FIRST = ["Bình", "Tân", "Phú", "Hòa", "Xuân", "Đông", "Yên", "Quang", "Minh", "Thạch", "Vĩnh",
                  "Hưng", "Mỹ", "Long", "Thanh", "Phước", "Gia", "Kim", "Ngọc", "Hồng"]
_COMMUNE_SECOND = ["An", "Lộc", "Sơn", "Thủy", "Lâm", "Hà", "Điền", "Phong", "Thịnh", "Tiến", "Lợi",
                   "Hải", "Khê", "Trung"]
_VILLAGE_FIRST = ["Bản", "Nà", "Khuổi", "Pác", "Còn", "Pò", "Lũng", "Nặm", "Khau", "Phiêng"]
_VILLAGE_SECOND = ["Mạ", "Slam", "Pha", "Cáy", "Luông", "Tẩu", "Rằng", "Cốc", "Khoang", "Lầy", "Hin",
                   "Mìn", "Sliến", "Tềnh"]
# Units after a figure: only such figures are scaled, so heading numbers ("1.1."), dates, document
# numbers ("3768/QĐ-UBND"), fractions ("10/10 thôn") and footnote superscripts stay as they are.
_UNITS = ["triệu đồng", "tỷ đồng", "đồng chí", "học sinh", "học viên", "hồ sơ", "trường hợp", "tài khoản",
          "tờ rơi", "tiêu chí", "cán bộ", "dự án", "vụ việc", "lượt", "đồng", "tấn", "tạ", "kg", "ha", "km",
          "cm", "m²", "m³", "m", "con", "hộ", "người", "thôn", "cây", "lớp", "trẻ", "cháu", "thửa", "đơn",
          "vụ", "bài", "lít", "công", "cuộc", "lần", "đợt", "nhà", "đ", "%"]
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_FIGURE = re.compile(rf"(?<![\w.,/])(\d{{1,3}}(?:\.\d{{3}})+(?:,\d+)?|\d+(?:,\d+)?)(?=\s?(?:{_UNIT_ALT})(?!\w))")


def _names(rng: random.Random, first: list[str], second: list[str], count: int, taken: set[str]) -> list[str]:
    pool = [f"{a} {b}" for a in first for b in second if f"{a} {b}" not in taken]
    return rng.sample(pool, count)


def scale_figures(text: str, factor: float) -> tuple[str, int]:
    """Every figure followed by a unit, times ``factor``, written back the Vietnamese way ("1.023,7")."""
    count = 0

    def scaled(m: re.Match[str]) -> str:
        nonlocal count
        raw = m.group(1)
        try:
            value = parse_number(raw) * factor
        except ValueError:  # AmbiguousNumber is a ValueError too
            return raw
        decimals = len(raw.split(",", 1)[1]) if "," in raw else 0
        count += 1
        return format_number(round(value, decimals) if decimals else float(round(value)), decimals)

    return _FIGURE.sub(scaled, text), count


def rename_places(text: str, place: re.Pattern[str], names: dict[str, str]) -> str:
    return place.sub(lambda m: names[m.group(1)], text)


def write_variants(base: Path, out_dir: Path, count: int = VARIANTS, seed: int = SEED) -> tuple[list[Path], int]:
    """``count`` copies of the plan, each another commune with other villages and scaled figures.

    Returns the files (distinct stems, so distinct document names) and the figures scaled per copy.
    """
    text = base.read_text(encoding="utf-8")
    rng = random.Random(seed)
    communes = _names(rng, _COMMUNE_FIRST, _COMMUNE_SECOND, count, {COMMUNE})
    place = re.compile(r"\b(" + "|".join(re.escape(n) for n in [COMMUNE, *VILLAGES]) + r")\b")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    figures = 0
    for i, commune in enumerate(communes, start=1):
        villages = _names(rng, _VILLAGE_FIRST, _VILLAGE_SECOND, len(VILLAGES), set(VILLAGES))
        renamed = rename_places(text, place, {COMMUNE: commune, **dict(zip(VILLAGES, villages))})
        scaled, n = scale_figures(renamed, rng.uniform(0.6, 1.6))
        figures += n
        path = out_dir / f"ke-hoach-ptktxh-2024-xa-{'-'.join(fold(commune).split())}-{i:03d}.txt"
        path.write_text(scaled, encoding="utf-8")
        paths.append(path)
    return paths, figures // max(1, count)


def load_questions(path: Path = DEV_SET) -> tuple[list[str], str]:
    """The dev questions (field "q"), or a small built-in list when the set is not there."""
    if not path.exists():
        return list(FALLBACK_QUESTIONS), "built-in list (dev set not found)"
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if isinstance(item, dict) and item.get("q"):
                out.append(str(item["q"]))
    return out, str(path)


# --- measuring ----------------------------------------------------------------------------------------


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def p99(values: list[float]) -> float:
    """Nearest-rank 99th percentile."""
    ordered = sorted(values)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def traced_peak_mb(work: Callable[[], object]) -> float:
    """Peak of Python allocations while ``work`` runs (C allocations, e.g. SQLite's own, are not seen)."""
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def timed_round(ask: Callable[[str], object], questions: list[str]) -> list[float]:
    out: list[float] = []
    for q in questions:
        started = time.perf_counter()
        ask(q)
        out.append(ms_since(started))
    return out


class Budget:
    """Wall-clock seconds left to a worker; ``fits`` says whether one more run of a given length does."""

    def __init__(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def fits(self, seconds: float) -> bool:
        return self.deadline is None or time.monotonic() + seconds <= self.deadline


def engine_worker(sources: list[Path], questions: list[str], docs: int, work: Path, budget: Budget,
                  trace: bool) -> dict[str, Any]:
    from knowledge.kb import KnowledgeBase
    from knowledge.store import Store

    rss_imports = maxrss_mb()
    files = iter(range(10**6))

    def build() -> tuple[KnowledgeBase, Store]:
        store = Store(work / f"kb-{docs}-{next(files)}.db")
        kb, _ = KnowledgeBase.open(store, sources, rebuild=True)
        return kb, store

    def build_and_answer() -> None:
        kb, store = build()
        for q in questions:
            kb.ask(q)
        store.close()

    # The first build and round always run; the other rounds ask the same knowledge base, and for one
    # document they leave room for the traced pass. ru_maxrss is read after them.
    started = time.perf_counter()
    kb, store = build()
    build_ms = [ms_since(started)]
    build_s = build_ms[0] / 1000
    ask_ms = timed_round(kb.ask, questions)
    round_s = sum(ask_ms) / 1000
    rounds = 1
    keep_s = TRACE_SLOWDOWN * build_s if trace and docs == 1 else 0.0
    while rounds < ASK_ROUNDS[docs] and budget.fits(round_s + keep_s):
        ask_ms += timed_round(kb.ask, questions)
        rounds += 1
    rss = maxrss_mb()
    found = sum(kb.ask(q).found for q in questions)
    texts = [p.text for d in kb.documents for p in d.passages]
    segments = len(kb.index.segments)
    (work / f"passages-{docs}.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    built = store.path
    store.close()
    del kb  # nothing stays alive across the timed runs below: a big live heap slows the collector

    peak: float | None = None
    trace_s: float | None = None
    if trace and (docs == 1 or budget.fits(TRACE_SLOWDOWN * build_s)):
        started = time.perf_counter()
        peak = traced_peak_mb(build_and_answer)
        trace_s = ms_since(started) / 1000
    # Then more builds, then opens: each beyond its minimum only if it fits.
    while len(build_ms) < BUILD_RUNS[docs] and (len(build_ms) < MIN_BUILD_RUNS[docs] or budget.fits(build_s)):
        gc.collect()
        started = time.perf_counter()
        store = build()[1]  # the knowledge base itself is dropped at once
        build_ms.append(ms_since(started))
        store.close()
    open_ms: list[float] = []
    while len(open_ms) < OPEN_RUNS[docs] and (
        len(open_ms) < MIN_OPEN_RUNS[docs] or budget.fits(max(open_ms or build_ms) / 1000)
    ):
        gc.collect()
        started = time.perf_counter()
        store = Store(built)
        opened = KnowledgeBase.open(store, sources)[1]
        open_ms.append(ms_since(started))
        store.close()
        if opened.rebuilt:
            raise RuntimeError("the built database was rebuilt on open")
    return {
        "build_ms": build_ms, "open_ms": open_ms, "ask_ms": ask_ms, "rounds": rounds, "peak_mb": peak,
        "trace_s": trace_s, "rss_mb": rss, "rss_imports_mb": rss_imports, "found": found,
        "questions": len(questions), "passages": len(texts), "segments": segments,
    }


def bm25_worker(sources: list[Path], questions: list[str], docs: int, work: Path, budget: Budget) -> dict[str, Any]:
    import bm25s

    dump = work / f"passages-{docs}.json"
    if dump.exists():  # the passages the engine worker's knowledge base held
        texts: list[str] = json.loads(dump.read_text(encoding="utf-8"))
    else:  # the engine worker failed: the same passages, straight from the parser
        from knowledge.kb import parse_source

        texts = [p.text for s in sources for p in parse_source(s).passages]
    rss_imports = maxrss_mb()

    def build() -> bm25s.BM25:
        retriever = bm25s.BM25()
        retriever.index([tokens(t) for t in texts], show_progress=False)
        return retriever

    def top1(retriever: bm25s.BM25, question: str) -> int:
        toks = tokens(question) or ["\x00"]  # an unknown token scores nothing; bm25s fails on ""
        found = retriever.retrieve([toks], k=1, show_progress=False, return_as="documents")
        return int(found[0][0])

    def build_and_answer() -> None:
        retriever = build()
        for q in questions:
            top1(retriever, q)

    started = time.perf_counter()
    retriever = build()
    build_ms = [ms_since(started)]
    ask_ms = timed_round(lambda q: top1(retriever, q), questions)
    rss = maxrss_mb()
    peak = traced_peak_mb(build_and_answer)
    round_s = sum(ask_ms) / 1000
    while len(build_ms) < BM25_BUILD_RUNS[docs] and budget.fits(build_ms[0] / 1000):
        del retriever
        gc.collect()
        started = time.perf_counter()
        retriever = build()
        build_ms.append(ms_since(started))
    rounds = 1
    while rounds < BM25_ROUNDS[docs] and budget.fits(round_s):
        ask_ms += timed_round(lambda q: top1(retriever, q), questions)
        rounds += 1
    return {"build_ms": build_ms, "ask_ms": ask_ms, "rounds": rounds, "peak_mb": peak, "rss_mb": rss,
            "rss_imports_mb": rss_imports}


def run_worker(kind: str, docs: int, work: Path, budget_s: float | None, full: bool) -> dict[str, Any]:
    """One scenario in a fresh interpreter, so its ru_maxrss is its own; a failure is reported, not raised."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--docs", str(docs),
           "--work", str(work)]
    if budget_s is not None:
        cmd += ["--budget", f"{budget_s:.1f}"]
    if full:
        cmd.append("--full")
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, cwd=ROOT,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT_S} s", "wall_s": ms_since(started) / 1000}
    if done.returncode != 0 or not done.stdout.strip():
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        return {"error": f"exit {done.returncode}: {tail}", "wall_s": ms_since(started) / 1000}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = ms_since(started) / 1000
    return result


# --- the table ----------------------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    digits = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{digits}f} {unit}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "-"
    return f"{a / b:.1f}x"


def verdict(value: float | None, limit: float | None) -> str:
    if value is None or limit is None:
        return ""
    return "ok" if value < limit else "MISS"


def median_of(result: dict[str, Any], key: str) -> float | None:
    values = result.get(key)
    return statistics.median(values) if values else None


def p99_of(result: dict[str, Any], key: str) -> float | None:
    values = result.get(key)
    return p99(values) if values else None


def rows(engine: dict[str, Any], bm25: dict[str, Any], docs: int) -> Iterator[list[str]]:
    """One line per measure: engine and BM25 side by side, the target, and whether each meets it."""

    def line(measure: str, e: float | None, b: float | None, unit: str, limit: float | None = None) -> list[str]:
        target = f"< {limit:g} {unit}" if limit is not None else ""
        return [str(docs), measure, fmt(e, unit), fmt(b, unit), ratio(e, b), target, verdict(e, limit),
                verdict(b, limit)]

    def runs(result: dict[str, Any]) -> str:
        if "error" in result:
            return "failed"
        parts = [str(len(result["build_ms"])), str(len(result["open_ms"])) if "open_ms" in result else "-"]
        parts.append(f"{result['rounds']}x{len(result['ask_ms']) // max(1, result['rounds'])}")
        return "/".join(parts)

    build_limit = BUILD_TARGET_MS if docs == 1 else None
    yield line("build, fresh file (median)", median_of(engine, "build_ms"), median_of(bm25, "build_ms"), "ms",
               build_limit)
    yield line("open built file (median)", median_of(engine, "open_ms"), None, "ms")
    yield line("ask latency median", median_of(engine, "ask_ms"), median_of(bm25, "ask_ms"), "ms")
    yield line("ask latency p99", p99_of(engine, "ask_ms"), p99_of(bm25, "ask_ms"), "ms", P99_TARGET_MS[docs])
    yield line("memory: tracemalloc peak", engine.get("peak_mb"), bm25.get("peak_mb"), "MB", MEMORY_TARGET_MB)
    yield line("memory: ru_maxrss", engine.get("rss_mb"), bm25.get("rss_mb"), "MB", MEMORY_TARGET_MB)
    yield line("  ru_maxrss at start (imports, data)", engine.get("rss_imports_mb"), bm25.get("rss_imports_mb"), "MB")
    yield [str(docs), "runs: builds/opens/rounds x q", runs(engine), runs(bm25), "", "", "", ""]


def print_table(table: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for n, r in enumerate(table):
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def report(results: dict[tuple[str, int], dict[str, Any]], questions: list[str], origin: str, variants: int,
           figures: int, full: bool, started: float) -> None:
    e1, e100 = results["engine", 1], results["engine", VARIANTS]
    b1, b100 = results["bm25", 1], results["bm25", VARIANTS]
    print("bench/answer.py: the answering engine next to a plain BM25 (bm25s, top-1); one run, medians")
    print(f"questions: {len(questions)} from {origin}")
    print(f"1 doc: {SOURCE.name}, {e1.get('passages', '?')} passages, {e1.get('segments', '?')} segments")
    print(f"{VARIANTS} docs: {variants} generated variants (other commune and village names, ~{figures} figures "
          f"scaled per variant), {e100.get('passages', '?')} passages, {e100.get('segments', '?')} segments")
    print(f"mode: {'--full (no time budget)' if full else f'time budget {TOTAL_BUDGET_S:.0f} s'}; "
          "MB = MiB; the two last columns: engine, bm25 against the target")
    print()
    table = [["docs", "measure", "engine", "bm25", "engine/bm25", "target", "engine", "bm25"]]
    for docs in SIZES:
        table.extend(rows(results["engine", docs], results["bm25", docs], docs))
    print_table(table)
    print()
    for name, one, many in (("engine", e1, e100), ("bm25", b1, b100)):
        print(f"{VARIANTS} docs vs 1 doc, {name}: build "
              f"{ratio(median_of(many, 'build_ms'), median_of(one, 'build_ms'))}, open "
              f"{ratio(median_of(many, 'open_ms'), median_of(one, 'open_ms'))}, ask median "
              f"{ratio(median_of(many, 'ask_ms'), median_of(one, 'ask_ms'))}, p99 "
              f"{ratio(p99_of(many, 'ask_ms'), p99_of(one, 'ask_ms'))}")
    if "found" in e1 and "found" in e100:
        print(f"engine answered (found=true): {e1['found']}/{e1['questions']} on 1 doc, "
              f"{e100['found']}/{e100['questions']} on {VARIANTS} docs")
    if not full and e100.get("peak_mb") is None and "error" not in e100:
        print(f"{VARIANTS} docs, engine: tracemalloc pass not run (a traced build takes ~{TRACE_SLOWDOWN:.0f}x an "
              "untraced one); --full runs it")
    if not full and not e100.get("open_ms") and "error" not in e100:
        print(f"{VARIANTS} docs, engine: open not timed, over the time budget (expect about the build time); "
              "--full times it")
    for (kind, docs), result in results.items():
        if "error" in result:
            print(f"{kind}, {docs} docs FAILED: {result['error']}")
    walls = ", ".join(f"{kind} {docs}: {r['wall_s']:.0f} s" for (kind, docs), r in results.items())
    print(f"wall time: {walls}; total {ms_since(started) / 1000:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build time, latency and memory of the answering engine.")
    parser.add_argument("--full", action="store_true", help="no time budget; trace the 100-document build too")
    parser.add_argument("--worker", choices=["engine", "bm25"], help=argparse.SUPPRESS)
    parser.add_argument("--docs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # inside a fresh interpreter: measure one scenario, print one JSON line
        work: Path = args.work
        questions: list[str] = json.loads((work / "questions.json").read_text(encoding="utf-8"))
        sources = [SOURCE] if args.docs == 1 else sorted((work / "variants").glob("*.txt"))
        budget = Budget(args.budget)
        if args.worker == "engine":
            trace = args.docs == 1 or args.full
            result = engine_worker(sources, questions, args.docs, work, budget, trace)
        else:
            result = bm25_worker(sources, questions, args.docs, work, budget)
        print(json.dumps(result))
        return 0

    started = time.perf_counter()
    questions, origin = load_questions()
    results: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-answer-") as tmp:
        work = Path(tmp)
        (work / "questions.json").write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        variants, figures = write_variants(SOURCE, work / "variants")
        for docs in SIZES:
            for kind in ("engine", "bm25"):  # bm25 reads the passages the engine worker wrote
                if args.full:
                    budget_s = None
                elif (kind, docs) in BUDGET_S:
                    budget_s = BUDGET_S[kind, docs]
                else:  # the 100-document engine: what is left, keeping BM25's share
                    left = TOTAL_BUDGET_S - (time.perf_counter() - started) - BUDGET_S["bm25", VARIANTS]
                    budget_s = max(0.0, left)
                results[kind, docs] = run_worker(kind, docs, work, budget_s, args.full)
    report(results, questions, origin, len(variants), figures, args.full, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
