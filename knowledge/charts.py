"""The progress chart: one horizontal bar per target with a figure, as PNG, for /tiendo and the period report.

Here rather than in a handler because the report (knowledge/reports.py) embeds the same chart in its Word file;
no Telegram in it. The labels are the user's language (locales/), the metric names the plan's own words.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from .i18n import t
from .metrics import Progress
from .text import format_number

GREEN, AMBER, RED = "#2e7d32", "#f9a825", "#c62828"


def bar_colour(percent: float, met: bool) -> str:
    """Green where the target is met (at or above a floor, at or below a ceiling), amber half-way, else red."""
    return GREEN if met else AMBER if percent >= 50 else RED


@dataclass(frozen=True)
class Bar:
    """One bar of the progress chart: the whole name (wrapped, never cut), the figure with its unit, and how
    far it is towards the target (over 100 drawn as it is)."""

    label: str
    percent: float
    met: bool
    figure: str  # "12,5 ha / 50 ha", "15 % / trần 11,47 %"


def chart_bars(progresses: Sequence[Progress], width: int = 30, lang: str = "vi") -> list[Bar]:
    """The bars of the targets that have a figure and a share of the target."""
    bars = []
    for p in progresses:
        m = p.metric
        if p.percent is None or p.value is None or m.target is None:
            continue
        ceiling = t("chart.ceiling", lang) + " " if m.lower_is_better else ""
        target = f"{ceiling}{format_number(m.target)} {m.unit}".strip()
        label = m.name + (f" ({t('chart.lower_better', lang)})" if m.lower_is_better else "")
        bars.append(Bar("\n".join(textwrap.wrap(label, width)), p.percent, bool(p.met),
                        f"{format_number(p.value)} {m.unit}".strip() + f" / {target}"))
    return bars


def progress_chart(bars: Sequence[Bar], title: str, target_label: str = "chỉ tiêu", lang: str = "vi") -> bytes:
    """A horizontal bar chart of the share of each target, as PNG (matplotlib without a screen): each bar
    says its figure and share, the target is the dashed line at 100 %, a bar beyond it goes beyond it."""
    from matplotlib.figure import Figure  # no pyplot: no global state, so a worker thread may draw it

    lines = sum(b.label.count("\n") + 1 for b in bars)
    fig = Figure(figsize=(10, 0.3 * max(4, lines) + 0.2 * len(bars) + 1.3), dpi=110)
    ax = fig.subplots()
    ordered = list(bars)[::-1]
    positions = range(len(ordered))
    values = [b.percent for b in ordered]
    ax.barh(list(positions), values, color=[bar_colour(b.percent, b.met) for b in ordered], height=0.6)
    ax.set_yticks(list(positions), [b.label for b in ordered], fontsize=9)
    top = max([110.0, *values]) * 1.45  # room for the figure written after the longest bar
    ax.set_xlim(0, top)
    ax.axvline(100, color="#333", linewidth=1.2, linestyle="--")
    ax.text(100, -0.7, f" {target_label} (100 %)", fontsize=8, color="#333", va="center")
    ax.set_ylim(-1, len(ordered) - 0.5)
    for y, b in zip(positions, ordered):
        ax.text(b.percent + top * 0.01, y, f"{format_number(b.percent, 0)} % — {b.figure}", va="center",
                fontsize=8.5, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})  # over the target line
    ax.set_xlabel(t("chart.axis", lang))
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
