"""Report periods: a calendar month (2026-11), ISO week (2026-W47), quarter (2026-Q4), day, or --from/--to."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone


class PeriodError(ValueError):
    """A period the user wrote that relc cannot read."""


@dataclass(frozen=True)
class Period:
    """[start, end) in unix seconds, UTC, and how the user named it."""

    name: str
    start: float
    end: float
    named: bool = False      # a month, week, quarter or day by name: it can be taken in another time zone
    timezone: str = ""       # "" for UTC

    @property
    def seconds(self) -> int:
        return int(self.end - self.start)


def _utc(d: date, zone: str = "") -> float:
    """Midnight starting day d, in UTC or in an IANA zone (the first instant of that day where midnight is skipped)."""
    if not zone:
        return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()
    from zoneinfo import ZoneInfo

    return datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(zone)).timestamp()


def calendar(text: str, zone: str = "") -> Period:
    """A named calendar period, in UTC or in the given IANA zone (a calendar SLO's own)."""
    name, first, after = _days(text)
    return Period(name, _utc(first, zone), _utc(after, zone), True, zone)


def _days(text: str) -> tuple[str, date, date]:
    """A named period's first day and the day after it."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"no month {month} in {text!r}")
        return text, date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", text):
        try:
            first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError as err:
            raise PeriodError(f"{text!r}: {err}") from None
        return text, first, first + timedelta(days=7)
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        year, quarter = int(m[1]), int(m[2])
        return text, date(year, 3 * quarter - 2, 1), date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = _date(text)
        return text, day, day + timedelta(days=1)
    raise PeriodError(f"cannot read period {text!r}: write a month (2026-11), an ISO week (2026-W47), a quarter "
                      "(2026-Q4) or a day (2026-11-30), or use --from and --to")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise PeriodError(f"{text!r}: {err}") from None


def instant(text: str) -> float:
    """RFC 3339 (2026-11-01T00:00:00Z), a date (midnight UTC) or unix seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return _utc(_date(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PeriodError(f"cannot read time {text!r}: write RFC 3339 (2026-11-01T00:00:00Z), a date or "
                          "unix seconds") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def explicit(start: str, end: str) -> Period:
    lo, hi = instant(start), instant(end)
    if hi <= lo:
        raise PeriodError(f"--to ({end}) is not after --from ({start})")
    return Period(f"{iso(lo)} to {iso(hi)}", lo, hi)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
