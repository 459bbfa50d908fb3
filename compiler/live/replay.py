"""`relc replay`: what the alert tiers relc generates would have done over the stored history.

Prometheus evaluates each tier's condition itself, as range queries over the history: the same thresholds, windows,
factors and event guard as the generated rule, with each window's error ratio read straight from the source
counters (the rules read it from their recorded 5m series, which a server without relc's rules does not hold; the
two agree up to the recording step). Runs of consecutive steps where the condition holds are the firings.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from relc.compiler.live.budget import ratio_and_presence
from relc.compiler.live.client import PrometheusAPI, QueryFailed
from relc.compiler.live.report import episodes
from relc.compiler.model import ir
from relc.compiler.units import fmt_number
from relc.targets.shared.promql_sli import Rates


@dataclass
class TierReplay:
    tier: ir.AlertTier
    expr: str
    firings: list[tuple[float, float]] = field(default_factory=list)

    @property
    def firing_s(self) -> float:
        return sum(hi - lo for lo, hi in self.firings)


@dataclass
class SLOReplay:
    slo: ir.SLO
    tiers: list[TierReplay]
    has_data: bool = True
    error: str = ""


def tier_condition(slo: ir.SLO, tier: ir.AlertTier, policy: ir.AlertPolicy) -> str:
    """The tier's alert condition over source metrics: both windows above the factor, enough events."""
    budget, factor = fmt_number(slo.error_budget), fmt_number(tier.burn_rate)
    long_ratio, _ = ratio_and_presence(slo, tier.long_window_s)
    short_ratio, _ = ratio_and_presence(slo, tier.short_window_s)
    expr = f"(({long_ratio}) / {budget} > {factor}) and (({short_ratio}) / {budget} > {factor})"
    if policy.min_events and not isinstance(slo.sli, ir.RawSLI):
        total = Rates(slo.sli).at(tier.long_window_s)[1]
        expr += f" and on() (({total}) * {tier.long_window_s} >= {policy.min_events})"
    return expr


def replay(project: ir.Project, api: PrometheusAPI, start: float, end: float, step: int, *,
           concurrency: int = 4, tick: Callable[[str, int, int], None] = lambda *_: None) -> list[SLOReplay]:
    slos = [slo for slo in project.slos() if slo.alert_policy is not None]
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="relc-replay") as pool:
        jobs = [pool.submit(_one, slo, api, start, end, step) for slo in slos]
        out = []
        for done, job in enumerate(jobs, 1):
            out.append(job.result())
            tick("replaying", done, len(jobs))
    return out


def _one(slo: ir.SLO, api: PrometheusAPI, start: float, end: float, step: int) -> SLOReplay:
    policy = slo.alert_policy
    assert policy is not None
    result = SLOReplay(slo, [TierReplay(t, tier_condition(slo, t, policy)) for t in policy.tiers])
    try:
        _, present = ratio_and_presence(slo, 300)
        result.has_data = bool(api.query_range(f"count({present})", start, end, max(step, (end - start) // 500)))
        for tier in result.tiers:
            rows = api.query_range(tier.expr, start, end, step)
            times = sorted({t for row in rows for t, _ in row.points})
            tier.firings = [(lo, min(hi + step, end)) for lo, hi in episodes(times, step * 1.5)]
    except QueryFailed as err:
        result.error = str(err)
    return result
