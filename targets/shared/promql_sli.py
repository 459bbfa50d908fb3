"""SLI to PromQL: the error-rate, event-rate and error-ratio expressions the Prometheus rules record."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from relc.compiler.model import ir as ir
from relc.compiler.check.promql import quote, render_selector, substitute_window
from relc.compiler.units import fmt_number, prom_duration

_duration = lru_cache(maxsize=1024, typed=True)(prom_duration)  # a handful of windows, asked for thousands of times


def rate(query: ir.Selector | ir.RawQuery, window: str, by: str = "") -> str:
    """Per-second event rate over `window`, aggregated to one series (one per group with `by`)."""
    if isinstance(query, ir.RawQuery):
        return f"sum{by}({substitute_window(query.promql, window)})"
    return f"sum{by}(rate({render_selector(query)}[{window}]))"


def by_clause(group_by: tuple[str, ...]) -> str:
    """` by (a, b) ` for `sum{by}(...)`, or "" for an SLO that is not grouped."""
    return f" by ({', '.join(group_by)}) " if group_by else ""


def le_matcher(sli: ir.LatencySLI) -> ir.LabelMatcher:
    """Match the threshold bucket however the exporter spelt its bound: `0.25`, `0.250`, `2.5e-01`, `1e+06`,
    `1000000.0` (Prometheus 3 normalises `1` to `1.0`); `le` written in the source is read as the same number."""
    value = Decimal(sli.le) if sli.le is not None else Decimal(repr(sli.threshold_seconds))
    return ir.LabelMatcher(name="le", op="=~", value=bound_pattern(value))


def bound_pattern(value: Decimal) -> str:
    """A regular expression for every decimal and scientific spelling of one finite, positive number."""
    sign, digits, exponent = value.normalize().as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exponent)  # where the decimal point falls in `text`
    if point <= 0:
        plain = "0\\." + "0" * -point + text + "0*"
    elif point >= len(text):
        plain = text + "0" * (point - len(text)) + r"(\.0*)?"
    else:
        plain = text[:point] + r"\." + text[point:] + "0*"
    mantissa = text[0] + (r"\." + text[1:] + "0*" if len(text) > 1 else r"(\.0*)?")
    power = point - 1
    scientific = mantissa + "[eE]" + (r"\+?0*" + str(power) if power >= 0 else "-0*" + str(-power))
    return f"{plain}|{scientific}"


def bad_and_total(sli: ir.EventsSLI | ir.LatencySLI, window_s: int, group_by: tuple[str, ...] = ()) -> tuple[str, str]:
    """Bad-event rate and total-event rate over a window, straight from the source metrics."""
    return Rates(sli, group_by).at(window_s)


class Rates:
    """An SLI's bad- and total-event rates with the window left open: its selectors are rendered once, not per
    window (an SLO's rules read them over several windows)."""

    __slots__ = ("_latency", "_total", "_counted", "_bad", "_native", "_by", "_group_by")

    def __init__(self, sli: ir.EventsSLI | ir.LatencySLI, group_by: tuple[str, ...] = ()):
        self._by = by_clause(group_by)
        self._group_by = group_by
        self._latency = isinstance(sli, ir.LatencySLI)
        self._native = ""
        if isinstance(sli, ir.LatencySLI) and sli.native:
            self._native = (render_selector(sli.histogram), fmt_number(sli.threshold_seconds))  # type: ignore
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
        bad, total = self._at(window_s)
        return keep_group_labels(bad, self._group_by), keep_group_labels(total, self._group_by)

    def _at(self, window_s: int) -> tuple[str, str]:
        window, by = _duration(window_s), self._by
        if self._native:
            selector, threshold = self._native
            total = f"sum{by}(histogram_count(rate({selector}[{window}])))"
            return (f"{total} * (1 - histogram_fraction(0, {threshold}, sum{by}(rate({selector}[{window}]))))",
                    total)
        if self._latency:
            count = f"sum{by}(rate({self._total[0]}[{window}]))"
            return f"{count} - (sum{by}(rate({self._counted[0]}[{window}])) or {_zero(count, by)})", count
        total = _rate(self._total, window, by)
        if self._bad:
            return f"{_rate(self._counted, window, by)} or {_zero(total, by)}", total
        return f"{total} - ({_rate(self._counted, window, by)} or {_zero(total, by)})", total

    def error_ratio(self, window_s: int) -> str:
        """bad / total over the window, straight from the source."""
        bad, total = self.at(window_s)
        return f"({bad}) / ({total})"


def keep_group_labels(expr: str, group_by: tuple[str, ...]) -> str:
    """Copy group labels relc also sets (`service`, ...) to `exported_<name>` before relc's own value replaces them,
    so each group keeps a series of its own."""
    for name in (g for g in group_by if g in ir.RELC_LABELS):
        expr = f'label_replace({expr}, "exported_{name}", "$1", "{name}", "(.*)")'
    return expr


def _prepared(query: ir.Selector | ir.RawQuery) -> tuple[str, bool]:
    """(text, raw): PromQL with `$window` still in it, or the rendered selector."""
    if isinstance(query, ir.RawQuery):
        return query.promql, True
    return render_selector(query), False


def _rate(prepared: tuple[str, bool], window: str, by: str = "") -> str:
    """What rate() writes for the query behind `prepared`."""
    text, raw = prepared
    return f"sum{by}({substitute_window(text, window)})" if raw else f"sum{by}(rate({text}[{window}]))"


def _zero(total: str, by: str) -> str:
    """No bad events is 0, not no series: one 0 for an SLO, a 0 per group that has traffic for a grouped one."""
    return f"({total}) * 0" if by else "vector(0)"


def raw_error_ratio(sli: ir.RawSLI, window_s: int) -> str:
    """The error ratio over a window; for time slices, the share of bad slices in it."""
    if sli.slices is not None:
        slices = sli.slices
        return f"avg_over_time(({slice_is_bad(slices)})[{_duration(window_s)}:{_duration(slices.slice_s)}])"
    return substitute_window(sli.error_ratio, _duration(window_s))


def slice_is_bad(slices: ir.TimeSlices) -> str:
    """1 for a bad slice, 0 for a good one, nothing for a slice without data: judged over the slice's own range."""
    window, source = _duration(slices.slice_s), slices.source
    if slices.quantile is not None:
        histogram = source.histogram  # type: ignore[union-attr]
        rated = (f"sum(rate({render_selector(histogram)}[{window}]))" if source.native  # type: ignore[union-attr]
                 else f"sum by (le) (rate({render_selector(histogram, suffix='_bucket')}[{window}]))")
        measured = f"histogram_quantile({fmt_number(slices.quantile)}, {rated})"
    elif isinstance(source, ir.RawQuery):
        measured = f"({substitute_window(source.promql, window)})"
    else:
        measured = Rates(source).error_ratio(slices.slice_s)  # type: ignore[arg-type]
    return f"{measured} {'>' if slices.inclusive else '>='} bool {fmt_number(slices.threshold)}"


def slo_selector(slo: ir.SLO) -> str:
    """The label matchers that pick out one SLO's recorded series."""
    return f"{{service={quote(slo.service)},slo={quote(slo.name)}}}"
