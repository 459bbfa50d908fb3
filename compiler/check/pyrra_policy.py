"""The built-in `pyrra` alert policy: Pyrra's four multi-window burn-rate tiers, scaled to the SLO's window.

Pyrra writes its windows for a 28-day SLO (1h/5m at 14x, 6h/30m at 7x, 1d/2h at 2x, 4d/6h at 1x) and
divides any other window the same way, rounding to the minute; each tier holds for a `for` of half its short
window. Imported Pyrra specs use this policy, so relc's alerts fire when Pyrra's would; its labels `long`,
`short` and `exhaustion` are Pyrra's too, so Alertmanager routes written for Pyrra keep matching.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from relc.compiler.check.policies import AlertPolicySpec, TierSpec
from relc.compiler.diagnostics import Span
from relc.compiler.units import prom_duration

PYRRA_POLICY = "pyrra"
# (tier, severity, factor, window / long, window / short, window / for), as Pyrra divides a 28d window
PYRRA_TIERS = (("fast", "critical", 14, 672, 8064, 20160), ("medium", "critical", 7, 112, 1344, 2688),
               ("slow", "warning", 2, 28, 336, 672), ("long-term", "warning", 1, 7, 112, 224))


def pyrra_policy(window_s: int) -> AlertPolicySpec:
    """Pyrra's tiers for an SLO window."""
    tiers = []
    for name, severity, factor, long_div, short_div, for_div in PYRRA_TIERS:
        long_s, short_s = _minutes(window_s, long_div), _minutes(window_s, short_div)
        labels = {"long": _go_duration(long_s), "short": _go_duration(short_s),
                  "exhaustion": _go_duration(window_s // factor)}
        tiers.append(TierSpec(name, severity, None, Decimal(factor), long_s, max(60, short_s),
                              Span.point("<builtin>", 1, 1), labels=labels, for_s=_minutes(window_s, for_div)))
    return AlertPolicySpec(PYRRA_POLICY, "Pyrra's multi-window, multi-burn-rate alerts", tuple(tiers), {}, {}, None)


def _minutes(window_s: int, divisor: int) -> int:
    """window / divisor rounded to the minute."""
    return round_minute(Decimal(window_s) / divisor)


def round_minute(seconds: Decimal) -> int:
    """Seconds rounded to the minute, halves away from zero (Go's Duration.Round)."""
    return int((seconds / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 60


def _go_duration(seconds: int) -> str:
    """A duration as Prometheus' model.Duration prints it: weeks when whole (2w), else days, hours, minutes."""
    if seconds and seconds % (7 * 86400) == 0:
        return f"{seconds // (7 * 86400)}w"
    return prom_duration(seconds)


def reachable_tiers(spec: AlertPolicySpec, objective: Decimal) -> tuple[AlertPolicySpec, list[TierSpec]]:
    """Pyrra writes every tier, even one no error rate can trip (14x at a 90% objective); relc leaves those out
    and says so, rather than refusing a spec Pyrra accepts."""
    ceiling = Decimal(1) / (Decimal(1) - objective)
    kept = tuple(t for t in spec.tiers if t.burn_rate is None or t.burn_rate < ceiling)
    dropped = [t for t in spec.tiers if t not in kept]
    return AlertPolicySpec(spec.name, spec.description, kept, spec.labels, spec.annotations, spec.origin,
                           spec.guards), dropped
