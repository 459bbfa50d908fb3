"""Detection-time charts, as in the SRE Workbook: how long each alert tier takes to fire at each error rate.

Plain SVG text, no plotting library, so the output is byte-for-byte deterministic. Both axes are
logarithmic: tiers span minutes to days, and on log-log axes each tier's detection time
`burn_rate × error_budget × long_window / error_rate` is a straight line. A chart shows a shape (window,
objective, alert tiers), never one SLO, so every SLO of that shape links the same file in `_charts/`.
"""
from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter
from typing import Iterable, NamedTuple

from relc.compiler.model import ir as ir
from relc.compiler.units import fmt_number, fmt_percent, human_duration, prom_duration
from relc.targets.runbook.view import figure

CHART_DIR = "_charts"    # service names start with a letter, index names are files: no service can take it
DIGEST_HEX = 12          # 48 bits of sha256 in a file name; longer only if two charts of a build share them
WIDTH, HEIGHT = 800, 420
LEFT, RIGHT, TOP, BOTTOM = 78, 560, 44, 360          # plot area; the legend sits right of it
COLORS = ("#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
DASHES = ("", "8 4", "3 3", "10 3 3 3")              # overlapping tiers (same budget spent) stay visible
OVERLAP_SHIFT = 3.5                                   # pixels between lines that would lie on each other
DURATION_TICKS = (1, 10, 60, 300, 900, 3600, 21600, 86400, 259200, 604800, 2592000, 7776000, 31536000)
_UNSAFE = re.compile(r"[^A-Za-z0-9.]+")


class TierKey(NamedTuple):
    """What the chart shows of a tier, hashable, so SLOs with the same objective and policy share a plot."""

    name: str
    severity: str
    burn_rate: float
    long_window_s: int


class ChartKey(NamedTuple):
    """Everything a chart depends on: SLOs with equal keys get the same bytes, so they share one file."""

    window_s: int
    objective: float
    budget: float
    tiers: tuple[TierKey, ...]


class Chart(NamedTuple):
    """One rendered chart and its two possible file names, with a short and with the whole digest."""

    svg: str
    short: str
    full: str


def chart_key(slo: ir.SLO) -> ChartKey | None:
    """What the SLO's chart shows, or None for an SLO without burn-rate tiers (it gets no chart)."""
    tiers = tuple(TierKey(t.name, t.severity, t.burn_rate, t.long_window_s)
                  for t in (slo.alert_policy.tiers if slo.alert_policy else ()))
    return ChartKey(slo.window_s, slo.objective, slo.error_budget, tiers) if tiers else None


def shared_charts(slos: Iterable[ir.SLO]) -> tuple[dict[int, str], dict[str, str]]:
    """Each SLO's chart path under the runbook directory (by `id(slo)`) and each chart file's SVG, once per shape."""
    keys = {id(slo): key for slo in slos if (key := chart_key(slo)) is not None}
    charts = {key: shared_chart(key) for key in keys.values()}
    taken = Counter(chart.short for chart in set(charts.values()))  # identical SVGs count once
    names = {key: f"{CHART_DIR}/{chart.short if taken[chart.short] == 1 else chart.full}"
             for key, chart in charts.items()}
    return {slo: names[key] for slo, key in keys.items()}, {names[key]: charts[key].svg for key in charts}


@functools.lru_cache(maxsize=512, typed=True)
def shared_chart(key: ChartKey) -> Chart:
    """The SVG document of one shape, named by its window, objective and a digest of its bytes."""
    title = f"Time to detect vs error rate: {fmt_percent(key.objective)} over {human_duration(key.window_s)}"
    svg = f"{_header(title, key.window_s)}\n{_plot(key.window_s, key.budget, key.tiers)}"
    digest = hashlib.sha256(svg.encode("utf-8")).hexdigest()
    prefix = _prefix(key.window_s, key.objective)
    return Chart(svg, f"{prefix}-{digest[:DIGEST_HEX]}.svg", f"{prefix}-{digest}.svg")


def _prefix(window_s: int, objective: float) -> str:
    """`30d-99.9`: what a reader of the directory needs to tell charts apart; the digest does the rest."""
    parts = (prom_duration(window_s), fmt_number(objective * 100))
    return "-".join(_UNSAFE.sub("_", part) for part in parts)


def _plot(window_s: int, budget: float, tiers: tuple[TierKey, ...]) -> str:
    """Everything below the title: the grid, the budget line, a line per tier and the legend."""
    x_lo = min(t.burn_rate for t in tiers) * budget / 1.5
    y_lo = min(t.burn_rate * budget * t.long_window_s for t in tiers) / 1.5
    y_hi = window_s * budget / x_lo * 1.2
    scale = _Scale(x_lo, 1.0, y_lo, y_hi)
    parts = [*_grid(scale), _budget_line(window_s * budget, scale)]
    for index, (tier, rank) in enumerate(zip(tiers, _overlap_ranks(tiers))):
        parts.append(_tier_line(tier, budget, scale, index, rank))
    parts += _legend(tiers, budget)
    parts.append("</svg>\n")
    return "\n".join(parts)


class _Scale:
    """Log-log mapping from (error rate, seconds) to SVG coordinates."""

    def __init__(self, x_lo: float, x_hi: float, y_lo: float, y_hi: float):
        self.x_lo, self.x_hi, self.y_lo, self.y_hi = x_lo, x_hi, y_lo, y_hi

    def x(self, rate: float) -> float:
        share = math.log10(rate / self.x_lo) / math.log10(self.x_hi / self.x_lo)
        return LEFT + share * (RIGHT - LEFT)

    def y(self, seconds: float) -> float:
        share = math.log10(seconds / self.y_lo) / math.log10(self.y_hi / self.y_lo)
        return BOTTOM - share * (BOTTOM - TOP)


def _header(title: str, window_s: int) -> str:
    """The root element with a title and description for screen readers, on a white ground for dark themes."""
    desc = (f"One line per alert tier: how long the tier takes to fire at a constant error rate. "
            f"The dashed grey line is when the whole {human_duration(window_s)} error budget is spent.")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="title desc" '
            f'font-family="sans-serif" font-size="12">\n'
            f'<title id="title">{escape(title)}</title>\n<desc id="desc">{escape(desc)}</desc>\n'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>\n'
            f'<text x="{LEFT}" y="24" font-size="14" font-weight="bold">{escape(title)}</text>')


def _grid(scale: _Scale) -> list[str]:
    """Axes, gridlines at decades of error rate and at round durations, and axis titles."""
    out = [f'<rect x="{LEFT}" y="{TOP}" width="{RIGHT - LEFT}" height="{BOTTOM - TOP}" fill="none" stroke="#444"/>']
    for rate in _rate_ticks(scale.x_lo):
        x = _n(scale.x(rate))
        out.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{BOTTOM}" stroke="#ddd"/>')
        out.append(f'<text x="{x}" y="{BOTTOM + 16}" text-anchor="middle">{fmt_number(rate * 100)}%</text>')
    for seconds in _duration_ticks(scale.y_lo, scale.y_hi):
        y = _n(scale.y(seconds))
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{RIGHT}" y2="{y}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{_n(scale.y(seconds) + 4)}" text-anchor="end">'
                   f'{human_duration(seconds)}</text>')
    mid_x, mid_y = _n((LEFT + RIGHT) / 2), _n((TOP + BOTTOM) / 2)
    out.append(f'<text x="{mid_x}" y="{BOTTOM + 38}" text-anchor="middle">error rate (share of bad events, '
               f'log scale)</text>')
    out.append(f'<text x="18" y="{mid_y}" text-anchor="middle" transform="rotate(-90 18 {mid_y})">'
               f'time to detect (log scale)</text>')
    return out


def _rate_ticks(x_lo: float) -> list[float]:
    """Decades from the lowest threshold to 100%; with 1-2-5 steps when that spans fewer than two decades."""
    low = math.floor(math.log10(x_lo))
    decades = [float(f"1e{e}") for e in range(low, 1) if x_lo <= float(f"1e{e}")]
    if len(decades) >= 3:
        return decades
    ticks = [float(f"{s}e{e}") for e in range(low, 1) for s in (1, 2, 5)]
    return [t for t in ticks if x_lo <= t <= 1.0]


def _duration_ticks(lo: float, hi: float) -> list[int]:
    """Round durations people read at a glance, at most about nine of them."""
    ticks = [t for t in DURATION_TICKS if lo <= t <= hi]
    stride = max(1, math.ceil(len(ticks) / 9))
    return ticks[::stride]


def _budget_line(budget_s: float, scale: _Scale) -> str:
    """When the whole budget (`budget_s` of total outage) is gone at each error rate: the ceiling every tier must
    stay under."""
    x1, x2 = scale.x_lo, 1.0
    return (f'<line x1="{_n(scale.x(x1))}" y1="{_n(scale.y(budget_s / x1))}" x2="{_n(scale.x(x2))}" '
            f'y2="{_n(scale.y(budget_s / x2))}" stroke="#888" stroke-width="1.5" stroke-dasharray="6 4"/>')


def _overlap_ranks(tiers: tuple[TierKey, ...]) -> list[tuple[int, int]]:
    """Tiers that spend the same budget when they fire (burn rate x long window) lie on one line where both are
    drawn (ticket-fast 3x/1d and ticket-slow 1x/3d): each tier's rank among them, and how many there are."""
    def spent(tier: TierKey) -> float:
        return float(f"{tier.burn_rate * tier.long_window_s:.9g}")

    sizes = Counter(spent(tier) for tier in tiers)
    seen: Counter = Counter()
    ranks = []
    for tier in tiers:
        ranks.append((seen[spent(tier)], sizes[spent(tier)]))
        seen[spent(tier)] += 1
    return ranks


def _tier_line(tier: TierKey, budget: float, scale: _Scale, index: int, overlap: tuple[int, int] = (0, 1)) -> str:
    """From the tier's threshold (it fires after one long window) to a total outage. A line that would lie on an
    earlier one is drawn thinner, on top of it and shifted by a few pixels, so both stay visible."""
    threshold = tier.burn_rate * budget
    at = tier.burn_rate * budget * tier.long_window_s
    color, dash = COLORS[index % len(COLORS)], DASHES[index % len(DASHES)]
    rank, sharing = overlap
    shift = rank * OVERLAP_SHIFT
    x1, y1 = _n(scale.x(threshold)), _n(scale.y(at / threshold) + shift)
    x2, y2 = _n(scale.x(1.0)), _n(scale.y(at) + shift)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    width = "4.5" if rank == 0 and sharing > 1 else "2.5"  # the first of a shared line is wide, later ones on top
    return (f'<g><title>{escape(_tier_label(tier, budget))}</title>\n'
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{color}" stroke-width="{width}"{dash_attr}/>\n'
            f'<circle cx="{x1}" cy="{y1}" r="4" fill="{color}"/></g>')


def _legend(tiers: tuple[TierKey, ...], budget: float) -> list[str]:
    """Name, severity and threshold per tier, beside the plot so no line is hidden under it."""
    out = []
    x = RIGHT + 20
    for index, tier in enumerate(tiers):
        y = TOP + 10 + index * 34
        color, dash = COLORS[index % len(COLORS)], DASHES[index % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{color}" stroke-width="2.5"{dash_attr}/>')
        out.append(f'<text x="{x + 30}" y="{y + 4}">{escape(tier.name)}</text>')
        out.append(f'<text x="{x + 30}" y="{y + 18}" fill="#555" font-size="11">'
                   f'{escape(_tier_caption(tier, budget))}</text>')
    y = TOP + 10 + len(tiers) * 34
    out.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="#888" stroke-width="1.5" '
               f'stroke-dasharray="6 4"/>')
    out.append(f'<text x="{x + 30}" y="{y + 4}">whole budget spent</text>')
    return out


def _tier_caption(tier: TierKey, budget: float) -> str:
    """Severity is free text: cut it so the legend stays inside the picture."""
    return f"{tier.severity[:18]}, above {figure(tier.burn_rate * budget * 100)}% errors"


def _tier_label(tier: TierKey, budget: float) -> str:
    """The hover text of a tier's line."""
    return (f"{tier.name} ({tier.severity}): fires above {figure(tier.burn_rate * budget * 100)}% errors, "
            f"after {human_duration(tier.long_window_s)} at that rate")


def _n(value: float) -> str:
    """Coordinates to one decimal, written the same way on every platform."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def escape(text: str) -> str:
    """XML text: markup escaped, and characters XML 1.0 forbids (or that break a line) made visible."""
    text = _NOT_XML.sub("\ufffd", re.sub(r"[\r\n\t]", " ", text))
    # what xml.sax.saxutils.escape does; importing it (urllib, http.client) cost more than drawing every chart
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
