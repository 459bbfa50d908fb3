"""`relc report`: how reliable each SLO was over a period, from the server's own history.

The headline figure is exact: the SLI's raw counters over the whole period (the compiler's own rate expressions,
over a window as long as the period, times its length: `increase`), or, where the raw series are gone, relc's
recorded 5m series summed over the period. The timeline, the worst day and each alert's share of the budget come
from the same expressions over shorter windows. What the data does not cover is stated, never extrapolated.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from relc.compiler.live.client import PrometheusAPI, QueryFailed, Sample
from relc.compiler.live.periods import Period, calendar
from relc.compiler.model import ir
from relc.targets.shared.promql_sli import Rates, raw_error_ratio, slo_selector

STEPS = (300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400)  # each divides a day
MAX_TIMELINE_POINTS = 1000
ALERT_STEP_S = 60
RAW, RAW_RATIO = "raw counters (increase over the period)", "raw query (ratio over the period)"
RECORDED, NONE = "relc's recorded 5m series", "no data"


@dataclass
class Firing:
    """One alert firing, from the ALERTS series Prometheus writes."""

    alertname: str
    tier: str
    severity: str
    start: float
    end: float
    budget_burned: float | None = None

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass
class SLOReport:
    """One SLO over the period."""

    slo: ir.SLO
    span: int = 0                  # seconds of the period read
    period: Period | None = None   # the report's named period in the SLO's calendar zone, when it has one
    source: str = NONE
    attained: float | None = None
    bad: float | None = None
    total: float | None = None
    coverage: float = 0.0
    data_from: float | None = None
    days: list[tuple[float, float | None, float, float]] = field(default_factory=list)  # start, sli, bad, total
    timeline: list[tuple[float, float | None, float]] = field(default_factory=list)   # t, sli so far, remaining
    alerts: list[Firing] = field(default_factory=list)
    queries: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool | None:
        return None if self.attained is None else self.attained >= self.slo.objective - 1e-12

    @property
    def consumed(self) -> float | None:
        return None if self.attained is None else (1 - self.attained) / self.slo.error_budget

    @property
    def remaining(self) -> float | None:
        return None if self.consumed is None else 1 - self.consumed

    @property
    def worst_day(self) -> tuple[float, float | None, float, float] | None:
        traffic = [d for d in self.days if d[1] is not None]
        return min(traffic, key=lambda d: (d[1], d[0])) if traffic else None


@dataclass
class Report:
    period: Period
    until: float                   # the end of the data read: the period's end, or now while it is in progress
    generated_at: float
    server: str
    slos: list[SLOReport]

    @property
    def in_progress(self) -> bool:
        return self.until < self.period.end


def timeline_step(seconds: float) -> int:
    """The shortest step that divides a day and keeps the timeline under MAX_TIMELINE_POINTS points."""
    return next((s for s in STEPS if seconds / s <= MAX_TIMELINE_POINTS), STEPS[-1])


def build_report(project: ir.Project, api: PrometheusAPI, period: Period, now: float, *, concurrency: int = 8,
                 tick: Callable[[str, int, int], None] = lambda *_: None) -> Report:
    """Every SLO of the project over the period (up to now, if the period has not ended)."""
    until = min(period.end, now)
    if until <= period.start:
        raise QueryFailed(f"the period {period.name} starts in the future")
    slos = project.slos()
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="relc-report") as pool:
        jobs = [pool.submit(_one, slo, api, *_bounds(slo, period, now)) for slo in slos]
        reports = []
        for done, job in enumerate(jobs, 1):
            reports.append(job.result())
            tick("reading history", done, len(jobs))
    return Report(period, until, now, api.connection.shown, reports)


def _bounds(slo: ir.SLO, period: Period, now: float) -> tuple[float, float, Period | None]:
    """The period as this SLO reads it: a named month, week, quarter or day in its calendar's zone, so the report
    lines up with the SLO's own budget periods."""
    if not (period.named and slo.calendar and slo.timezone):
        return period.start, min(period.end, now), None
    own = calendar(period.name, slo.timezone)
    return own.start, max(own.start, min(own.end, now)), own


def _one(slo: ir.SLO, api: PrometheusAPI, start: float, until: float, own: Period | None = None) -> SLOReport:
    span = int(until - start)
    report = SLOReport(slo, span, own)
    if span <= 0:
        report.errors.append(f"the period has not started yet in {slo.timezone}")
        return report
    try:
        _headline(report, api, span, until)
        _timeline(report, api, start, until)
        _alerts(report, api, start, until)
    except QueryFailed as err:
        report.errors.append(str(err))
    return report


def _events_query(sli, window_s: int) -> str:
    """Bad and total event rates over a window, tagged, in one query (the compiler's own expressions)."""
    bad, total = Rates(sli).at(window_s)
    return (f'label_replace(({bad}), "relc_q", "bad", "", "") or '
            f'label_replace(({total}), "relc_q", "total", "", "")')


def _recorded_events(slo: ir.SLO, window_s: int) -> str:
    """relc's recorded 5m rates summed over a window: proportional to the events (the unit cancels in ratios)."""
    from relc.compiler.units import prom_duration

    sel, window = slo_selector(slo), prom_duration(window_s)
    return (f'label_replace(sum(sum_over_time(relc_slo:bad_events:rate5m{sel}[{window}])), "relc_q", "bad", "", "")'
            f' or label_replace(sum(sum_over_time(relc_slo:total_events:rate5m{sel}[{window}])), "relc_q", "total",'
            ' "", "")')


def _split(rows: list[Sample]) -> dict[str, Sample]:
    return {row.labels.get("relc_q", ""): row for row in rows}


def _headline(report: SLOReport, api: PrometheusAPI, span: int, until: float) -> None:
    slo = report.slo
    if isinstance(slo.sli, ir.RawSLI):
        query = raw_error_ratio(slo.sli, span)
        report.queries["attained"] = f"1 - ({query})"
        rows = api.query(query, until)
        if rows and rows[0].value == rows[0].value:
            report.source, report.attained = RAW_RATIO, 1 - rows[0].value
            return
    else:
        query = _events_query(slo.sli, span)
        report.queries["attained"] = query
        found = _split(api.query(query, until))
        total = found.get("total")
        if total is not None and total.value > 0:
            bad = found["bad"].value if "bad" in found else 0.0
            report.source, report.bad, report.total = RAW, bad * span, total.value * span
            report.attained = 1 - bad / total.value
            return
    _recorded(report, api, span, until)


def _recorded(report: SLOReport, api: PrometheusAPI, span: int, until: float) -> None:
    """relc's recorded series over the period, when the raw ones are no longer there."""
    from relc.compiler.units import prom_duration

    sel, window = slo_selector(report.slo), prom_duration(span)
    if isinstance(report.slo.sli, ir.RawSLI):
        query = (f"sum(sum_over_time(relc_slo:error_ratio:rate5m{sel}[{window}])) / "
                 f"sum(count_over_time(relc_slo:error_ratio:rate5m{sel}[{window}]))")
    else:
        query = (f"sum(sum_over_time(relc_slo:bad_events:rate5m{sel}[{window}])) / "
                 f"sum(sum_over_time(relc_slo:total_events:rate5m{sel}[{window}]))")
    rows = api.query(query, until)
    if rows and rows[0].value == rows[0].value:
        report.source, report.attained = RECORDED, 1 - rows[0].value
        report.queries["attained"] = query


def _timeline(report: SLOReport, api: PrometheusAPI, start: float, until: float) -> None:
    """Per-step events (or ratios) over the period: coverage, days, the SLI so far and the budget left."""
    slo = report.slo
    step = timeline_step(until - start)
    first = start + step
    if first > until:
        return
    if isinstance(slo.sli, ir.RawSLI):
        rows = api.query_range(raw_error_ratio(slo.sli, step), first, until, step)
        points = {t: (v * step, float(step)) for row in rows[:1] for t, v in row.points if v == v}
    else:
        query = _recorded_events(slo, step) if report.source == RECORDED else _events_query(slo.sli, step)
        found = _split(api.query_range(query, first, until, step))
        bad = dict(found["bad"].points) if "bad" in found else {}
        points = {t: (bad.get(t, 0.0) * step, v * step) for t, v in found["total"].points
                  if v == v} if "total" in found else {}
    grid = [first + i * step for i in range(int((until - first) // step) + 1)]
    seen = [t for t in grid if t in points and points[t][1] > 0]
    report.coverage = len(seen) / len(grid) if grid else 0.0
    report.data_from = (seen[0] - step) if seen else None
    _days_and_burn(report, points, grid, start, step)


def _days_and_burn(report: SLOReport, points: dict, grid: list[float], start: float, step: int) -> None:
    budget = report.slo.error_budget
    all_total = sum(p[1] for p in points.values())
    cum_bad = cum_total = 0.0
    days: dict[float, list[float]] = {}
    for t in grid:
        bad, total = points.get(t, (0.0, 0.0))
        cum_bad, cum_total = cum_bad + bad, cum_total + total
        sli = 1 - cum_bad / cum_total if cum_total else None
        remaining = 1 - cum_bad / (budget * all_total) if all_total else 1.0
        report.timeline.append((t, sli, remaining))
        day = ((t - step) // 86400) * 86400  # UTC days; the first and last may be partial
        acc = days.setdefault(day, [0.0, 0.0])
        acc[0] += bad
        acc[1] += total
    report.days = [(day, (1 - b / n) if n else None, b, n) for day, (b, n) in sorted(days.items())]


def _alerts(report: SLOReport, api: PrometheusAPI, start: float, until: float) -> None:
    """Each firing of this SLO's alerts (ALERTS, alertstate=firing), and the budget burned while it lasted.

    The query reads each sample's own time (`timestamp`), not whether a sample is within the lookback, so a
    firing ends at its last evaluation, not five minutes later."""
    slo = report.slo
    sel = slo_selector(slo)[1:-1]
    rows = api.query_range(f'timestamp(ALERTS{{alertstate="firing",{sel}}})', start, until, ALERT_STEP_S)
    for row in rows:
        times = sorted({v for _, v in row.points if start <= v <= until})
        for lo, hi, interval in sample_runs(times, ALERT_STEP_S):
            report.alerts.append(Firing(row.labels.get("alertname", ""), row.labels.get("alert_tier", ""),
                                        row.labels.get("severity", ""), lo, min(hi + interval, until)))
    report.alerts.sort(key=lambda f: (f.start, f.tier, f.alertname))
    for firing in report.alerts:
        firing.budget_burned = _burned(report, api, firing)


def sample_runs(times: list[float], step: float) -> list[tuple[float, float, float]]:
    """Runs of samples written at a regular interval, as (first, last, interval): a gap of more than two and a
    half intervals (the smallest gap seen, at least `step`) starts a new run."""
    gaps = [b - a for a, b in zip(times, times[1:]) if b > a]
    interval = max(step, min(gaps)) if gaps else step
    return [(lo, hi, interval) for lo, hi in episodes(times, interval * 2.5)]


def episodes(times: list[float], gap: float) -> list[tuple[float, float]]:
    """Runs of times no more than `gap` apart, as (first, last)."""
    out: list[tuple[float, float]] = []
    for t in sorted(times):
        if out and t - out[-1][1] <= gap:
            out[-1] = (out[-1][0], t)
        else:
            out.append((t, t))
    return out


def _burned(report: SLOReport, api: PrometheusAPI, firing: Firing) -> float | None:
    """Bad events while the alert fired, as a share of the period's budget (allowed bad events)."""
    span = int(firing.duration_s)
    budget = report.slo.error_budget
    if span <= 0:
        return None
    if isinstance(report.slo.sli, ir.RawSLI):  # a time-weighted ratio: the period's budget is budget x its length
        rows = api.query(raw_error_ratio(report.slo.sli, span), firing.end)
        return rows[0].value * span / (budget * report.span) if rows and report.span else None
    if not report.total:
        return None
    found = _split(api.query(_events_query(report.slo.sli, span), firing.end))
    bad = found["bad"].value * span if "bad" in found else 0.0
    return bad / (budget * report.total)


def day_name(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d")


