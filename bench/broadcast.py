"""How close a broadcast comes to Telegram's ceiling of about 30 messages a second, and how many 429s it draws.

What it measures: the daily summary delivered to ``-n`` subscribers (default 10,000) by the bot's own code —
the Application ``bot.build_application`` builds, python-telegram-bot's HTTP client, the StrictRateLimiter,
``handlers.broadcast``'s Deliverer and its ledger in SQLite — against a fake Telegram over HTTP on 127.0.0.1
(tests/fake_bot_api_limits.py) that counts sending calls in a strict one-second sliding window and answers
any call over the ceiling ``429 Too Many Requests`` with ``retry_after``. Printed: the sustained send rate
(successful messages / the time from the first to the last, as the server saw them), as a fraction of the
ceiling; the number of 429s; ok/MISS against the targets (≥ 90 % of the ceiling, at most a handful — 5 — of
429s). Nothing is asserted: it is a measurement.

Why time-scaled: 10,000 messages at 30/s take 5½ minutes. Everything runs ``--scale`` (default 10) times
faster, so the run takes about 35 s: the server allows 300 calls a second, the bot's limiter is set to the
same (as bot.py sets it from TELEGRAM_RATE_LIMIT: at the ceiling, not under it), the server's retry_after is
0.1 s (Telegram's shortest, 1 s, scaled), and the bot's other clocks are scaled with it (the Deliverer's
back-off, the one-message-a-second-per-chat window: tests/fake_bot_api_limits.ScaledRateLimiter). The rate
is reported as a fraction of the ceiling, which is what carries over to Telegram's clock. What does not
scale is the bot's own CPU time per message (a few ms): at 300/s it is a large part of the 3.3 ms a message
may take, at 30/s a small part of 33 ms, so the scaled run is the harder one.

Options: ``--faults`` adds the tests' server errors (2 % of sendMessage answered 5xx, 1 % of the chats
blocked); ``--rtt-ms`` puts the server that far away (on Telegram's clock; scaled like the rest), which
matters because the Deliverer keeps one message in flight at a time; ``--limit`` sets the bot's limiter to
another rate than the ceiling. One run on a shared, noisy machine: read the fraction, not the last digit.

    .venv/bin/python bench/broadcast.py                 # from the project root; no network; about 40 s
    .venv/bin/python bench/broadcast.py -n 3000 --faults --rtt-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from the project root: bench/ is sys.path[0]
    sys.path.insert(0, str(ROOT))

import bot  # noqa: E402
from handlers.broadcast import DELIVERER, Deliverer, today_summary  # noqa: E402
from handlers.common import Services  # noqa: E402
from knowledge.kb import KnowledgeBase  # noqa: E402
from knowledge.metrics import Registry  # noqa: E402
from knowledge.store import Store  # noqa: E402
from tests.fake_bot_api import Call  # noqa: E402
from tests.fake_bot_api_limits import LimitedBotAPI, ScaledRateLimiter  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TOKEN = "424242:BENCH-token"
TARGET_FRACTION = 0.90
TARGET_429 = 5
BACKOFF = 0.5  # the Deliverer's first back-off in production, seconds


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def is_summary(call: Call) -> bool:
    return call.error is None and call.text.startswith(("<b>Tóm tắt ngày", "<b>Summary for"))


async def run(args: argparse.Namespace, tmp: Path) -> None:
    ceiling = round(args.ceiling * args.scale)  # calls in any one second, on the scaled clock
    limit = args.limit or ceiling
    store = Store(tmp / "bench.db")
    kb, _ = KnowledgeBase.open(store, bot.sources_from_env(None))
    for i in range(args.n):  # private chats, one in four in English
        store.subscribe(80_000_000 + i, "private", "en" if i % 4 == 3 else "vi", None)
    now = dt.datetime.now(TZ)
    services = Services(kb=kb, store=store, registry=Registry.load(), clock=lambda: now)
    server = LimitedBotAPI(token=TOKEN, rate=ceiling, retry_after=1 / args.scale,
                           error_rate=0.02 if args.faults else 0.0, blocked_share=0.01 if args.faults else 0.0,
                           latency=args.rtt_ms / 1000 / args.scale, seed=1)
    limiter = ScaledRateLimiter(limit, args.scale)
    with server:
        application = bot.build_application(services, TOKEN, base_url=server.base_url, rate_limiter=limiter)
        application.bot_data[DELIVERER] = deliverer = Deliverer(services, backoff=BACKOFF / args.scale)
        await application.initialize()
        try:
            broadcast_id = today_summary(services, now.replace(hour=23, minute=59))
            assert broadcast_id is not None
            started = time.perf_counter()
            await deliverer.run_open(application.bot)
            wall = time.perf_counter() - started
        finally:
            await application.shutdown()
        sent = [c for c in server.calls_to("sendMessage") if is_summary(c)]
        counts = dict(server.counts)
        peak = server.peak

    span = sent[-1].at - sent[0].at if len(sent) > 1 else float("nan")
    rate = (len(sent) - 1) / span
    fraction = rate / ceiling
    too_many = counts.get("429", 0)
    ledger = store.delivery_counts(broadcast_id)
    extras = []
    if args.faults:
        extras.append("2 % 5xx, 1 % of chats blocked")
    if args.rtt_ms:
        extras.append(f"{args.rtt_ms:g} ms round trip")
    print(f"Trợ lý xã — a broadcast to {args.n:,} subscribers; Telegram's ceiling {args.ceiling:g} msg/s, "
          f"time {args.scale:g}× faster")
    print(f"  fake Telegram: {ceiling} calls in any 1 s window, retry_after {1 / args.scale:g} s"
          f"{'; ' + ', '.join(extras) if extras else ''}; the bot's limiter: {limit}/s")
    print(f"  sent {len(sent):,} in {wall:.1f} s: sustained {rate:.1f} msg/s = {fraction * 100:.1f} % of the ceiling "
          f"({rate / args.scale:.1f} msg/s on Telegram's clock)   target ≥ {TARGET_FRACTION * 100:.0f} %: "
          f"{verdict(fraction >= TARGET_FRACTION)}")
    print(f"  429 Too Many Requests: {too_many} (the limiter waited out {limiter.retries}; busiest window "
          f"{peak} calls)   target ≤ {TARGET_429}: {verdict(too_many <= TARGET_429)}")
    print(f"  ledger: {dict(sorted(ledger.items()))}; server: {dict(sorted(counts.items()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="subscribers (default 10,000)")
    parser.add_argument("--ceiling", type=float, default=30, help="Telegram's messages/s (default 30)")
    parser.add_argument("--scale", type=float, default=10, help="how many times faster time runs (default 10)")
    parser.add_argument("--limit", type=int, default=0, help="the bot's limiter, calls/s on the scaled clock "
                                                              "(default: the ceiling, as bot.py sets it)")
    parser.add_argument("--faults", action="store_true", help="2 %% of sendMessage 5xx, 1 %% of chats blocked")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="the server's round trip on Telegram's clock")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)  # bot.py's default LOG_LEVEL
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        asyncio.run(run(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
