"""Error budget left in an SLO's current window, read from the server: what `relc gate` decides on.

The same arithmetic as relc's recorded `relc_slo:error_budget_remaining:ratio`: the burn rate over the part of
the window that has data, times the share of the window it covers, so a young install is not judged on a month
it has not lived.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from relc.compiler.live.client import PrometheusAPI
from relc.compiler.model import ir
from relc.compiler.units import prom_duration
from relc.targets.shared.promql_sli import Rates, raw_error_ratio

COVERAGE_POINTS = 720  # resolution of "since when is there data" within the window


@dataclass(frozen=True)
class Budget:
    slo: ir.SLO
    error_ratio: float | None      # over the covered part of the window
    coverage: float                # share of the window with data, 0..1
    query: str

    @property
    def remaining(self) -> float | None:
        if self.error_ratio is None:
            return None
        return 1 - (self.error_ratio / self.slo.error_budget) * self.coverage


def ratio_and_presence(slo: ir.SLO, window_s: int) -> tuple[str, str]:
    """(error ratio over the window, a 5m expression present whenever the SLI has data)."""
    if isinstance(slo.sli, ir.RawSLI):
        return raw_error_ratio(slo.sli, window_s), raw_error_ratio(slo.sli, 300)
    rates = Rates(slo.sli)
    return rates.error_ratio(window_s), rates.at(300)[1]


def remaining_budget(slo: ir.SLO, api: PrometheusAPI, now: float) -> Budget:
    window_s, elapsed, length = _window(slo, now)
    ratio, present = ratio_and_presence(slo, window_s)
    step = max(60, window_s // COVERAGE_POINTS)
    since = f"min_over_time(timestamp({present})[{prom_duration(window_s)}:{prom_duration(step)}])"
    query = f'label_replace({ratio}, "relc_q", "ratio", "", "") or label_replace({since}, "relc_q", "since", "", "")'
    rows = {row.labels.get("relc_q"): row.value for row in api.query(query, now)}
    value = rows.get("ratio")
    if value is None or value != value or "since" not in rows:
        return Budget(slo, None, 0.0, ratio)
    coverage = min(1.0, max(0.0, min(now - rows["since"] + step, elapsed) / length))
    return Budget(slo, value, coverage, ratio)


def _window(slo: ir.SLO, now: float) -> tuple[int, float, float]:
    """The range to read (whole seconds), the time it has run and its whole length: the rolling window, or for a
    calendar SLO the period so far (at least one 5m rate) and the period's wall-clock elapsed time and length, as
    the recorded rules count them."""
    if not slo.calendar:
        return slo.window_s, slo.window_s, slo.window_s
    from relc.targets.shared.promql_calendar import offset_at, period_bounds

    start, end = period_bounds(slo.calendar, slo.timezone, now)
    wall = lambda t: t + offset_at(slo.timezone, t)  # noqa: E731 - the zone's clock, as the rules read it
    return max(300, math.ceil(now - start)), wall(now) - wall(start), wall(end) - wall(start)
