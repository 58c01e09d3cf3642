"""The flood guard forgets idle people (issue 13 item 12): its per-person lists were never pruned, so memory grew
with every new user (+11 MB per 10,000). Now what it keeps is bounded by the people active in the last two
windows, and it still slows down whoever floods. bench/updates.py shows RSS flat over 50,000 people."""

from __future__ import annotations

from handlers.localapi import message_update

from . import test_officials
from .chat import texts

kb, desk = test_officials.kb, test_officials.desk  # the same fixtures
STEP = 0.05  # seconds between updates: 20 a second, so a 10 s window holds 200 people


def location(d, user_id: int) -> dict:
    data = message_update(d.api, "", user_id)
    del data["message"]["text"]
    data["message"]["location"] = {"latitude": 21.85, "longitude": 106.76}
    return data


async def test_idle_people_are_forgotten(desk):
    s = desk.services
    s.flood_limit, clock = 10, [1000.0]
    s.monotonic = lambda: clock[0]
    per_window = int(s.flood_window / STEP)
    for i in range(3000):
        clock[0] += STEP
        await desk.process(location(desk, 7_000_000 + i))
        assert len(s.recent) <= 2 * per_window + 1, (i, len(s.recent))
    assert len(s.recent) <= 2 * per_window + 1 and not s.warned


async def test_a_flood_is_still_slowed_down_across_sweeps(desk):
    s = desk.services
    s.flood_limit, clock = 10, [1000.0]
    s.monotonic = lambda: clock[0]
    flooder = 7_500_000
    notices = 0
    for i in range(60):  # one message every 0.5 s for 30 s, among others: 20 in any 10 s
        clock[0] += 0.25
        await desk.process(location(desk, 8_000_000 + i))
        clock[0] += 0.25
        said = texts(await desk.process(location(desk, flooder)))
        notices += sum("nhanh quá" in t for t in said)
    assert notices >= 2 and flooder in s.recent and flooder in s.warned
    clock[0] += 3 * s.flood_window  # quiet for a while: forgotten, and welcome again
    await desk.process(location(desk, 9_000_000))
    assert flooder not in s.recent and flooder not in s.warned
    assert "nhanh quá" not in " ".join(texts(await desk.process(location(desk, flooder))))
