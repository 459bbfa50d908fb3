"""Durations and numbers: exact parsing, and rendering in the forms Prometheus and people read."""
from __future__ import annotations

import re
from decimal import Decimal

UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
           "y": 31_536_000_000}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w|y)")


# The range of every number, percentage and duration, whatever wrote it (a .relc file, an imported spec): wide
# enough for any SLO, narrow enough for a float, an int64 of milliseconds and a person (RELC106 outside it).
MAX_MAGNITUDE = Decimal("1e15")
MIN_MAGNITUDE = Decimal("1e-15")
MAX_DURATION_MS = Decimal(100 * 365 * 86_400_000)  # 100 years


def in_range(kind: str, value: Decimal) -> bool:
    """Whether a value of this kind (`number`, `percent`, `duration`) lies in relc's range; never overflows."""
    size = value.copy_abs()
    if kind == "duration":
        return size <= MAX_DURATION_MS
    return size <= MAX_MAGNITUDE and (size == 0 or size >= MIN_MAGNITUDE)


def parse_duration_ms(text: str) -> Decimal:
    """`1h30m` -> 5400000, `1.5h` -> 5400000, exactly; the grammar guarantees the shape."""
    return sum((Decimal(n) * UNIT_MS[u] for n, u in _PART.findall(text)), Decimal(0))


def prom_duration(seconds: int) -> str:
    """Seconds to the shortest Prometheus duration: 2592000 -> 30d, 5400 -> 1h30m."""
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def human_duration(seconds: float) -> str:
    """A reading for people: 3720 -> `1h 2m`, 43.2*60 -> `43m 12s`; two most significant units."""
    seconds = round(seconds)
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])


def fmt_number(value: float) -> str:
    """Shortest stable decimal: 14.399999999999999 -> 14.4, 0.0010000000000000009 -> 0.001."""
    text = format(value, ".12g")
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{int(exp)}"
    return text


def human_number(value: float) -> str:
    """Four significant digits for people (0.933333333333 -> 0.9333, 14.4 -> 14.4); rules keep full precision."""
    return fmt_number(float(format(value, ".4g")))


def fmt_percent(fraction: float) -> str:
    return fmt_number(fraction * 100) + "%"


def floor_percent(fraction: float) -> str:
    """A ceiling as a percentage, rounded down to a millionth (99.85005% shows as 99.85%): never above itself."""
    import math

    return fmt_percent(math.floor(fraction * 1e6 + 1e-9) / 1e6)


def human_percent(fraction: float) -> str:
    """Three significant digits for derived figures people read: 0.428571 -> 42.9%."""
    return format(fraction * 100, ".3g") + "%"
