"""SLI to PromQL: the error-rate, event-rate and error-ratio expressions the Prometheus rules record."""
from __future__ import annotations

import re

from relc.compiler import ir
from relc.compiler.promql import quote, render_selector, substitute_window
from relc.compiler.units import fmt_number, prom_duration


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
    window = prom_duration(window_s)
    if isinstance(sli, ir.LatencySLI):
        count = f"sum(rate({render_selector(sli.histogram, suffix='_count')}[{window}]))"
        bucket = render_selector(sli.histogram, extra=(le_matcher(sli),), suffix="_bucket")
        return f"{count} - (sum(rate({bucket}[{window}])) or vector(0))", count
    total = rate(sli.total, window)
    if sli.bad is not None:
        return f"{rate(sli.bad, window)} or vector(0)", total
    return f"{total} - ({rate(sli.good, window)} or vector(0))", total  # type: ignore[arg-type]


def raw_error_ratio(sli: ir.RawSLI, window_s: int) -> str:
    return substitute_window(sli.error_ratio, prom_duration(window_s))


def slo_selector(slo: ir.SLO) -> str:
    """The label matchers that pick out one SLO's recorded series."""
    return f"{{service={quote(slo.service)},slo={quote(slo.name)}}}"
