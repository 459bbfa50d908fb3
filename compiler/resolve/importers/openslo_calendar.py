"""OpenSLO calendar-aligned time windows (`isRolling: false` with `calendar: {startTime, timeZone}`) as relc's
`window = calendar week|month|quarter` and `timezone`, when the periods they describe are relc's."""
from __future__ import annotations

from datetime import datetime

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.resolve.importers import tree
from relc.compiler.resolve.importers.fields import Fields
from relc.compiler.syntax.tree import Attribute, Value

V1_PERIODS = {"1w": "week", "1M": "month", "1Q": "quarter"}
V1ALPHA_PERIODS = {"Week": "week", "Month": "month", "Quarter": "quarter"}
STARTS = {"week": "a Monday", "month": "the 1st of a month", "quarter": "the 1st of January, April, July or October"}


def calendar_window(window: Fields, period: str | None, written: str, span: Span,
                    diags: list[Diagnostic]) -> list[Attribute] | None:
    """`window = calendar <period>` plus `timezone`, or None with a RELC608 saying what relc cannot follow."""
    if period is None:
        diags.append(dg.make("RELC608", f"a calendar window of {written} cannot be compiled: relc's calendar windows "
                             "are one week, one month or one quarter", span,
                             hint="use 1w, 1M or 1Q (v1alpha: count 1 of Week, Month or Quarter)"))
        return None
    calendar = Fields(window.get("calendar"), "calendar", ("startTime", "timeZone"), diags)
    start = calendar.string("startTime")
    zone = calendar.string("timeZone")
    if start is not None and not _starts_a_period(start.text, period):
        diags.append(dg.make("RELC608", f"calendar {period}s that start at {start.text} cannot be compiled: relc's "
                             f"start at midnight on {STARTS[period]}", start.span,
                             hint=f"a startTime at 00:00:00 on {STARTS[period]} keeps the same periods"))
        return None
    value = Value("calendar", period, span, f"calendar {period}")
    out = [tree.attr("window", value, window.where("duration") if window.has("duration") else span)]
    if zone is not None and zone.text not in ("", "UTC", "Etc/UTC"):
        out.append(tree.attr("timezone", tree.string(zone.text, zone.span), calendar.where("timeZone")))
    return out


def _starts_a_period(text: str, period: str) -> bool:
    """Whether an OpenSLO startTime (`2022-01-01 00:00:00`) is the start of one of relc's periods."""
    try:
        start = datetime.fromisoformat(text.strip().replace("T", " ").rstrip("Z"))
    except ValueError:
        return False
    if (start.hour, start.minute, start.second, start.microsecond) != (0, 0, 0, 0):
        return False
    if period == "week":
        return start.weekday() == 0
    return start.day == 1 and (period == "month" or start.month in (1, 4, 7, 10))
