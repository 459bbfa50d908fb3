"""Calendar periods (week, month, quarter) in a time zone, as PromQL that needs no state and no subquery.

PromQL's clock functions (`month()`, `day_of_month()`, ...) read UTC, so local time is `time()` plus the zone's
offset, written as the zone's own transitions between FIRST_YEAR and LAST_YEAR (tzdata, read through zoneinfo):
an offset step function of `time()`. Each period has a key (months since year 0, quarters, ISO weeks since 1970),
and a period-to-date sum reads only the samples recorded while the key, modulo PHASES, was the current one: a
range of RANGE_S always reaches back to the period's start and never as far as the period three back.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

FIRST_YEAR, LAST_YEAR = 2020, 2050   # offsets outside these years hold the nearest year's last offset
PHASES = 3
PHASE_LABEL = "relc_period"
# The range that holds a whole period whatever its length (plus a daylight-saving hour), never three periods.
RANGE_S = {"week": 8 * 86400, "month": 32 * 86400, "quarter": 93 * 86400}
WEEK_EPOCH_S = -3 * 86400   # Monday 1969-12-29: ISO weeks start on Mondays, and every clock since 1970 is after it
_DAY, _WEEK = 86400, 7 * 86400
# Days of a quarter before each month (1-12), not counting 29 February.
_BEFORE_IN_QUARTER = (0, 31, 59, 0, 30, 61, 0, 31, 62, 0, 31, 61)


@lru_cache(maxsize=64)
def transitions(zone: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    """The zone's UTC offset in seconds at the start of FIRST_YEAR, and each (instant, new offset) after it."""
    if not zone:
        return 0, ()
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)

    def offset(t: int) -> int:
        return int(datetime.fromtimestamp(t, tz).utcoffset().total_seconds())  # type: ignore[union-attr]

    t = int(datetime(FIRST_YEAR, 1, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(LAST_YEAR, 1, 1, tzinfo=timezone.utc).timestamp())
    first = current = offset(t)
    found = []
    while t < end:
        step = min(_DAY // 4, end - t)   # no zone changes its offset twice in six hours
        if offset(t + step) != current:
            lo, hi = t, t + step         # offset(lo) == current != offset(hi): find the first second of the new one
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == current else (lo, mid)
            current = offset(hi)
            found.append((hi, current))
        t += step
    return first, tuple(found)


def offset_at(zone: str, t: float) -> int:
    """The offset the generated PromQL uses at unix time t (equal to the zone's own inside the covered years)."""
    first, steps = transitions(zone)
    value = first
    for at, new in steps:
        if t >= at:
            value = new
    return value


def local_time(zone: str) -> str:
    """A scalar expression: the evaluation time on the zone's wall clock, as if it were UTC (record it once, as
    `vector(...)`, and read that series: a zone with daylight saving time has sixty steps to add)."""
    first, steps = transitions(zone)
    if not first and not steps:
        return "time()"
    terms, previous = [], first
    for at, new in steps:
        terms.append(f" + (time() >= bool {at}) * {new - previous}")
        previous = new
    return f"(time() + {first}{''.join(terms)})"


def period_key(calendar: str, clock: str) -> str:
    """An instant vector: the number of the period the wall clock `clock` (an instant vector) falls in."""
    if calendar == "week":
        return f"floor(({clock} + {-WEEK_EPOCH_S}) / {_WEEK})"
    if calendar == "month":
        return f"(year({clock}) * 12 + month({clock}))"
    return f"(year({clock}) * 4 + floor((month({clock}) - 1) / 3))"


def current_phase(calendar: str, clock: str) -> str:
    """One series of value 1 whose PHASE_LABEL is the current period's key modulo PHASES."""
    key = period_key(calendar, clock)
    return " or ".join(f'label_replace(vector(1), "{PHASE_LABEL}", "{p}", "", "") and on() ({key} % {PHASES} == {p})'
                       for p in range(PHASES))


def elapsed_s(calendar: str, clock: str) -> str:
    """An instant vector: wall-clock seconds since the current period started."""
    if calendar == "week":
        return f"({clock} + {-WEEK_EPOCH_S}) % {_WEEK}"
    into_month = f"(day_of_month({clock}) - 1) * {_DAY} + {clock} % {_DAY}"
    if calendar == "month":
        return into_month
    month = f"month({clock})"
    before = " + ".join(f"({month} == bool {m + 1}) * {days}" for m, days in enumerate(_BEFORE_IN_QUARTER) if days)
    return f"({before} + ({month} == bool 3) * {_leap(clock)}) * {_DAY} + {into_month}"


def length_s(calendar: str, clock: str) -> str:
    """An instant vector: the current period's length in wall-clock seconds."""
    if calendar == "week":
        return f"{clock} * 0 + {_WEEK}"
    if calendar == "month":
        return f"days_in_month({clock}) * {_DAY}"
    month = f"month({clock})"
    extra = f"({month} > bool 3) + ({month} > bool 6) + ({month} <= bool 3) * {_leap(clock)}"
    return f"(90 + {extra}) * {_DAY}"


def _leap(clock: str) -> str:
    """1 in a leap year (the Gregorian rule), else 0."""
    year = f"year({clock})"
    return f"(({year} % 4 == bool 0) - ({year} % 100 == bool 0) + ({year} % 400 == bool 0))"


def period_bounds(calendar: str, zone: str, t: float) -> tuple[float, float]:
    """[start, end) in unix seconds of the period holding t, by the same offsets the PromQL uses."""
    shift = offset_at(zone, t)
    local = datetime.fromtimestamp(t + shift, timezone.utc)
    day = local.date()
    if calendar == "week":
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    elif calendar == "month":
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    else:
        first = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        after = (first + timedelta(days=93)).replace(day=1)
    return _utc_of_local(zone, first), _utc_of_local(zone, after)


def _utc_of_local(zone: str, day) -> float:
    """The unix time of local midnight starting `day`, with the offset in force at that instant."""
    naive = datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()
    guess = naive - offset_at(zone, naive)
    return naive - offset_at(zone, guess)
