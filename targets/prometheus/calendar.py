"""Rules for SLOs with a calendar window: the budget counts from the start of this week, month or quarter.

A service's calendar group records its zones' wall clocks once per evaluation, and from them each calendar's
phase (the current period's number modulo 3, as a label), the time elapsed in the period and its length. Each
calendar SLO records its 5m rates again labelled with the phase they were recorded in, so a sum over a range a
little longer than the period, kept to the current phase, is exactly the period so far: no state, no subquery.
Other groups read the calendar series as of their own evaluation, so a period starts for them within one
evaluation interval of its wall-clock start (documented in docs/language.md).
"""
from __future__ import annotations

from relc.compiler.model import ir as ir
from relc.compiler.units import prom_duration
from relc.targets.prometheus.rule import matchers as _matchers, record as _record
from relc.targets.shared.promql_calendar import (PHASE_LABEL, RANGE_S, current_phase, elapsed_s, length_s,
                                                 local_time)

CLOCK = "relc_calendar:wall_clock:seconds"
PHASE = "relc_calendar:period:phase"
ELAPSED = "relc_calendar:elapsed:seconds"
LENGTH = "relc_calendar:length:seconds"
BAD_BY_PERIOD = "relc_slo:bad_events:rate5m_by_period"
TOTAL_BY_PERIOD = "relc_slo:total_events:rate5m_by_period"
RATIO_BY_PERIOD = "relc_slo:error_ratio:rate5m_by_period"
PERIOD_RATIO = "relc_slo:error_ratio:period"
PERIOD_BURN = "relc_slo:burn_rate:period"


def zone_label(slo: ir.SLO) -> str:
    return slo.timezone or "UTC"


def calendar_group(service: ir.Service) -> dict | None:
    """The service's wall clocks and calendar periods, recorded once per evaluation for all its calendar SLOs."""
    used = sorted({(slo.calendar, slo.timezone) for slo in service.slos if slo.calendar})
    if not used:
        return None
    rules = []
    for zone in sorted({zone for _, zone in used}):
        labels = {"service": service.name, "timezone": zone or "UTC"}
        rules.append(_record(CLOCK, f"vector({local_time(zone)})", labels))
    for calendar, zone in used:
        clock = CLOCK + _matchers({"service": service.name, "timezone": zone or "UTC"})
        labels = {"service": service.name, "calendar": calendar, "timezone": zone or "UTC"}
        rules += [_record(PHASE, current_phase(calendar, clock), labels),
                  _record(ELAPSED, elapsed_s(calendar, clock), labels),
                  _record(LENGTH, length_s(calendar, clock), labels)]
    return {"name": f"relc-{service.name}-calendar", "rules": rules}


def calendar_series(slo: ir.SLO, name: str) -> str:
    """One of the service's calendar series for this SLO's calendar and zone."""
    return name + _matchers({"service": slo.service, "calendar": slo.calendar, "timezone": zone_label(slo)})


def period_rules(slo: ir.SLO, labels: dict[str, str], exact: str, sel: str, by: str,
                 sources: tuple[str, ...]) -> list[dict]:
    """The 5m series (bad and total rates, or a raw SLI's ratio) labelled with their period's phase, then the error
    ratio over the period so far: a ratio of sums, or a raw ratio's mean."""
    phase = calendar_series(slo, PHASE)
    tag = f" * on() group_left({PHASE_LABEL}) {phase}"
    window = prom_duration(RANGE_S[slo.calendar])

    def this_period(name: str, fn: str) -> str:
        return f"sum{by}({fn}({name}{sel}[{window}]) and on({PHASE_LABEL}) {phase})"

    if len(sources) == 2:
        bad, total = sources
        return [_record(BAD_BY_PERIOD, f"{bad}{exact}{tag}", labels),
                _record(TOTAL_BY_PERIOD, f"{total}{exact}{tag}", labels),
                _record(PERIOD_RATIO, f"{this_period(BAD_BY_PERIOD, 'sum_over_time')} / "
                                      f"{this_period(TOTAL_BY_PERIOD, 'sum_over_time')}", labels)]
    return [_record(RATIO_BY_PERIOD, f"{sources[0]}{exact}{tag}", labels),
            _record(PERIOD_RATIO, f"{this_period(RATIO_BY_PERIOD, 'sum_over_time')} / "
                                  f"{this_period(RATIO_BY_PERIOD, 'count_over_time')}", labels)]


def coverage_expr(slo: ir.SLO, since: str) -> str:
    """The share of the period behind the figures: elapsed (or since relc's data began, if later) over its length."""
    elapsed, length = calendar_series(slo, ELAPSED), calendar_series(slo, LENGTH)
    return f"clamp_max(clamp_max(time() - {since}, scalar({elapsed})) / scalar({length}), 1)"


def period_days(slo: ir.SLO) -> str:
    return f"sum({calendar_series(slo, LENGTH)}) / 86400"
