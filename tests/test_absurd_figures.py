"""Absurd figures are refused, not stored (issue 13 item 7): a 400-digit value (inf), 10^30 pigs, nan, and a value
so small it would be rounded to 0. Each is explained to the official, and nothing is pending or written."""

from __future__ import annotations

import math

import pytest

from knowledge.metrics import Registry

from . import test_officials
from .chat import buttons, texts
from .test_officials import OFFICIAL, preview_of

kb, desk, staffed = test_officials.kb, test_officials.desk, test_officials.staffed  # the same fixtures

ABSURD = {
    "400-digits": ("trong rung " + "9" * 400 + " ha", "update.too_large"),
    "10^30-pigs": ("dan lon 1" + "0" * 30, "update.too_large"),
    "a-billion-ha": ("trong rung 1.000.000.000 ha", "update.too_large"),
    "ten-thousand-percent": ("gia dinh van hoa 10.000 %", "update.too_large"),
    "rounds-to-zero": ("trong rung 0,0000001 ha", "update.too_small"),
    "grams-of-cement": ("xi mang gtnt 1 kg", None),  # 0,001 tấn: small, but kept as typed
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.mark.parametrize("case", list(ABSURD), ids=list(ABSURD))
def test_absurd_values_are_refused_with_a_reason(registry, case):
    typed, problem = ABSURD[case]
    parsed = registry.parse(typed)
    assert parsed.problem == problem, (typed, parsed)
    if problem:
        assert parsed.value is None
    else:
        assert parsed.value and math.isfinite(parsed.value)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_a_non_finite_value_is_never_accepted(registry, value):
    parsed = registry.parse("trong rung 1 ha")
    checked = registry.check(parsed, parsed.metric, value, "")
    assert checked.problem == "update.too_large" and checked.value is None


def test_a_believable_large_figure_is_only_a_warning(registry):
    parsed = registry.parse("dan lon 100.000")
    assert parsed.problem is None and parsed.unusual and parsed.value == 100_000
    assert registry.parse("tuyen quan 116,6").value == 116.6  # over 100 % happens: recruits over the quota


@pytest.mark.parametrize("case", [c for c, (_, p) in ABSURD.items() if p], ids=[c for c, (_, p) in ABSURD.items() if p])
async def test_an_absurd_update_is_explained_and_nothing_is_pending(staffed, case):
    typed, problem = ABSURD[case]
    calls = await staffed.say(f"/capnhat {typed}", OFFICIAL)
    [text] = texts(calls)
    assert ("lớn quá" if problem == "update.too_large" else "làm tròn thành 0") in text, text
    assert not buttons(calls) and staffed.pending_count() == 0 and staffed.store.figures() == []


async def test_the_guided_conversation_refuses_an_absurd_value_and_asks_again(staffed):
    await staffed.say("/capnhat", OFFICIAL)
    await staffed.press("cm:trong_rung", OFFICIAL)
    [text] = texts(await staffed.say("9" * 400, OFFICIAL))
    assert "lớn quá" in text and "1.000.000 ha" in text
    text, _, _ = preview_of(await staffed.say("3 ha", OFFICIAL))
    assert "thêm 3 ha" in text


@pytest.mark.parametrize("metric", [m for m in Registry.load().metrics if m.kind == "number"], ids=lambda m: m.key)
def test_every_metric_refuses_just_over_its_ceiling(registry, metric):
    parsed = registry.check(registry.parse(f"{metric.name} 1"), metric, metric.ceiling * 1.01, "")
    assert parsed.problem == "update.too_large" and parsed.value is None
