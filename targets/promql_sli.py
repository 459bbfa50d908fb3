"""SLI to PromQL: the error-rate, event-rate and error-ratio expressions the Prometheus rules record."""
from __future__ import annotations

import re
from functools import lru_cache

from relc.compiler import ir
from relc.compiler.promql import quote, render_selector, substitute_window
from relc.compiler.units import fmt_number, prom_duration

_duration = lru_cache(maxsize=1024, typed=True)(prom_duration)  # a handful of windows, asked for thousands of times


def rate(query: ir.Selector | ir.RawQuery, window: str) -> str:
    """Per-second event rate over `window`, aggregated to one series."""
    if isinstance(query, ir.RawQuery):
        return f"sum({substitute_window(query.promql, window)})"
    return f"sum(rate({render_selector(query)}[{window}]))"


def le_matcher(sli: ir.LatencySLI) -> ir.LabelMatcher:
    """Match the threshold bucket whether the exporter wrote `0.3`, `0.30` or `1` vs `1.0` (Prometheus 3)."""
    if sli.le is not None:
        return ir.LabelMatcher(name="le", op="=", value=sli.le)
    text = fmt_number(sli.threshold_seconds)
    if "e" in text or "E" in text:
        return ir.LabelMatcher(name="le", op="=~", value=re.escape(text) + "|" + re.escape(repr(sli.threshold_seconds)))
    pattern = re.escape(text) + ("0*" if "." in text else r"(\.0*)?")
    return ir.LabelMatcher(name="le", op="=~", value=pattern)


def bad_and_total(sli: ir.EventsSLI | ir.LatencySLI, window_s: int) -> tuple[str, str]:
    """Bad-event rate and total-event rate over a window, straight from the source metrics."""
    return Rates(sli).at(window_s)


class Rates:
    """An SLI's bad- and total-event rates with the window left open: its selectors are rendered once, not per
    window (an SLO's rules read them over several windows)."""

    __slots__ = ("_latency", "_total", "_counted", "_bad")

    def __init__(self, sli: ir.EventsSLI | ir.LatencySLI):
        self._latency = isinstance(sli, ir.LatencySLI)
        if isinstance(sli, ir.LatencySLI):
            self._total = (render_selector(sli.histogram, suffix="_count"), False)
            self._counted = (render_selector(sli.histogram, extra=(le_matcher(sli),), suffix="_bucket"), False)
            self._bad = False
        else:
            self._total = _prepared(sli.total)
            self._bad = sli.bad is not None
            self._counted = _prepared(sli.bad if sli.bad is not None else sli.good)  # type: ignore[arg-type]

    def at(self, window_s: int) -> tuple[str, str]:
        """(bad, total) over the window, as bad_and_total writes them."""
        window = _duration(window_s)
        if self._latency:
            count = f"sum(rate({self._total[0]}[{window}]))"
            return f"{count} - (sum(rate({self._counted[0]}[{window}])) or vector(0))", count
        total = _rate(self._total, window)
        if self._bad:
            return f"{_rate(self._counted, window)} or vector(0)", total
        return f"{total} - ({_rate(self._counted, window)} or vector(0))", total


def _prepared(query: ir.Selector | ir.RawQuery) -> tuple[str, bool]:
    """(text, raw): PromQL with `$window` still in it, or the rendered selector."""
    if isinstance(query, ir.RawQuery):
        return query.promql, True
    return render_selector(query), False


def _rate(prepared: tuple[str, bool], window: str) -> str:
    """What rate() writes for the query behind `prepared`."""
    text, raw = prepared
    return f"sum({substitute_window(text, window)})" if raw else f"sum(rate({text}[{window}]))"


def raw_error_ratio(sli: ir.RawSLI, window_s: int) -> str:
    return substitute_window(sli.error_ratio, _duration(window_s))


def slo_selector(slo: ir.SLO) -> str:
    """The label matchers that pick out one SLO's recorded series."""
    return f"{{service={quote(slo.service)},slo={quote(slo.name)}}}"
