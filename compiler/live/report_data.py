"""A report as data: the one dictionary JSON prints and Markdown and HTML render, redacted before any of them.

Its shape is schemas/relc-report.schema.json (REPORT_SCHEMA_URL); a test validates every format's source against it.
"""
from __future__ import annotations

from relc.compiler.live.periods import iso
from relc.compiler.live.report import Report, SLOReport, day_name
from relc.compiler.units import prom_duration

REPORT_SCHEMA_URL = "https://raw.githubusercontent.com/relc-dev/relc/main/schemas/relc-report.schema.json"
VERSION = 1


def report_data(report: Report, *, redact: bool = False) -> dict:
    """Everything the report says; with redact, only service and SLO names, the numbers and relc's own words."""
    data = {
        "$schema": REPORT_SCHEMA_URL,
        "version": VERSION,
        "period": {"name": report.period.name, "start": iso(report.period.start), "end": iso(report.period.end),
                   "read_until": iso(report.until), "in_progress": report.in_progress},
        "generated_at": iso(report.generated_at),
        "redacted": redact,
        "slos": [_slo(each, redact) for each in report.slos],
    }
    if not redact:
        data["server"] = report.server
    data["summary"] = {"slos": len(report.slos), "met": sum(1 for s in report.slos if s.met),
                       "missed": sum(1 for s in report.slos if s.met is False),
                       "no_data": sum(1 for s in report.slos if s.met is None)}
    return data


def _slo(each: SLOReport, redact: bool) -> dict:
    slo = each.slo
    worst = each.worst_day
    out: dict = {
        "service": slo.service, "slo": slo.name, "sli_kind": slo.sli.kind,
        "objective": slo.objective, "window": slo.window_text if slo.calendar else prom_duration(slo.window_s),
        "source": each.source, "attained": each.attained, "met": each.met,
        "events": {"bad": _count(each.bad), "total": _count(each.total)} if each.total is not None else None,
        "error_budget": {"consumed": each.consumed, "remaining": each.remaining},
        "coverage": round(each.coverage, 6),
        "data_from": iso(each.data_from) if each.data_from is not None else None,
        "worst_day": ({"date": day_name(worst[0]), "attained": worst[1], "bad": _count(worst[2]),
                       "total": _count(worst[3])}
                      if worst else None),
        "days": [{"date": day_name(d), "attained": a, "bad": _count(b), "total": _count(n)} for d, a, b, n in each.days],
        "alerts": [{"tier": f.tier, "severity": f.severity, "start": iso(f.start), "end": iso(f.end),
                    "duration_s": f.duration_s, "budget_burned": f.budget_burned} | ({} if redact else
                                                                                     {"alertname": f.alertname})
                   for f in each.alerts],
        "timeline": [{"t": iso(t), "sli": s, "budget_remaining": r} for t, s, r in each.timeline],
        "errors": (["a query failed (details withheld by --redact)"] * len(each.errors)) if redact else each.errors,
    }
    if each.period is not None:
        out["period"] = {"start": iso(each.period.start), "end": iso(each.period.end),
                         "timezone": each.period.timezone}
    if not redact:
        out["description"] = slo.description
        out["queries"] = dict(each.queries)
    return out


def _count(value: float | None) -> float | None:
    """Event counts from rates times seconds: rounded off the float noise (6047999.999999999 is 6048000)."""
    return None if value is None else round(value, 3)
