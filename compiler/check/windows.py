"""An SLO's window: a rolling duration (`30d`) or a calendar period (`calendar month`) in a time zone."""
from __future__ import annotations

import re
from dataclasses import dataclass

from relc.compiler import diagnostics as dg
from relc.compiler.check.reader import Reader
from relc.compiler.diagnostics import Diagnostic

DEFAULT_WINDOW_S = 30 * 86400
MIN_WINDOW_S, MAX_WINDOW_S = 3600, 400 * 86400
# A calendar period's nominal length: what burn-rate tiers are scaled against and what budget figures assume.
CALENDAR_S = {"week": 7 * 86400, "month": 30 * 86400, "quarter": 90 * 86400}
# IANA names only: letters, digits, `_+-` and `/` between parts; never a path that climbs (`..`) or starts at `/`.
ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*\Z")


@dataclass(frozen=True)
class Window:
    seconds: int
    calendar: str = ""    # week, month or quarter; "" for a rolling window
    timezone: str = ""    # an IANA zone for a calendar window; "" means UTC


def read_window(reader: Reader, diags: list[Diagnostic]) -> Window | None:
    """The `window` and `timezone` attributes of an SLO, checked."""
    attr = reader.attrs.get("window")
    if attr is not None and attr.value.kind == "calendar":
        period = attr.value.data
        if period not in CALENDAR_S:
            diags.append(dg.make("RELC318", f"`calendar {period}` is not a calendar period", attr.value.span,
                                 hint=dg.did_you_mean(str(period), CALENDAR_S) or "write calendar week, calendar "
                                 "month or calendar quarter"))
            return None
        zone = _timezone(reader, diags)
        return None if zone is None else Window(CALENDAR_S[period], str(period), zone)
    seconds = reader.duration_s("window", default=DEFAULT_WINDOW_S)
    if seconds is not None and not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        diags.append(dg.make("RELC312", "the SLO window must be between 1h and 400d", attr.value.span))
        return None
    if "timezone" in reader.attrs:
        diags.append(dg.make("RELC318", "`timezone` applies to calendar windows only; a rolling window has no start",
                             reader.attrs["timezone"].value.span, severity=dg.Severity.WARNING,
                             hint="write `window = calendar month` (or week, quarter), or drop `timezone`"))
    return None if seconds is None else Window(seconds)


def _timezone(reader: Reader, diags: list[Diagnostic]) -> str | None:
    """The IANA time zone a calendar period starts in; "" for UTC (the default)."""
    name = reader.string("timezone")
    if not name or name in ("UTC", "Etc/UTC"):
        return ""
    span = reader.attrs["timezone"].value.span
    if not ZONE_NAME.match(name) or ".." in name or not _known(name):
        diags.append(dg.make("RELC318", f"unknown time zone {name!r}", span,
                             hint=_zone_hint(name) or 'use an IANA name such as "Europe/Berlin" or "UTC"'))
        return None
    return name


def _known(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def _zone_hint(name: str) -> str | None:
    from zoneinfo import available_timezones

    return dg.did_you_mean(name, available_timezones())
