"""What each SLO reads from the live server: every source selector, by metric, with what it must be.

One definition of the SLI's PromQL stays in the compiler: selectors are rendered by check/promql, raw queries are
read by promql-parser, never re-parsed here by hand.
"""
from __future__ import annotations

from dataclasses import dataclass

from relc.compiler.check.promql import render_selector, substitute_window
from relc.compiler.model import ir

COUNTER, HISTOGRAM, NATIVE, ANY = "counter", "histogram", "native histogram", "any"


@dataclass(frozen=True)
class Probe:
    """One selector an SLO reads: the metric, its matchers, the PromQL text, and the SLO it belongs to."""

    slo: ir.SLO
    role: str                     # total, bad, good, histogram, raw
    metric: str                   # the series name queried (with _bucket/_count for histograms)
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value), without __name__
    text: str                     # the selector as PromQL
    expect: str                   # counter, histogram, any

    @property
    def family(self) -> str:
        """The metric family, as the metadata API names it (a histogram without _bucket/_count)."""
        if self.expect == HISTOGRAM:
            return self.metric.rsplit("_", 1)[0]
        return self.metric


def probes(slo: ir.SLO) -> list[Probe]:
    """Every selector of the SLO's SLI; raw PromQL contributes each selector it contains."""
    sli = slo.sli
    if isinstance(sli, ir.LatencySLI) and sli.native:
        return [_from_selector(slo, "histogram", sli.histogram, "", NATIVE)]
    if isinstance(sli, ir.LatencySLI):
        count = _from_selector(slo, "histogram", sli.histogram, "_count", HISTOGRAM)
        return [count, _from_selector(slo, "histogram", sli.histogram, "_bucket", HISTOGRAM)]
    if isinstance(sli, ir.EventsSLI):
        found = []
        for role in ("total", "bad", "good"):
            query = getattr(sli, role)
            if isinstance(query, ir.Selector):
                found.append(_from_selector(slo, role, query, "", COUNTER))
            elif isinstance(query, ir.RawQuery):
                found += _from_promql(slo, role, query.promql, COUNTER)
        return found
    if sli.slices is not None:  # the slices' source is read like the SLI it would be on its own
        source = sli.slices.source
        if isinstance(source, ir.RawQuery):
            return _from_promql(slo, "raw", source.promql, ANY)
        import dataclasses

        return probes(dataclasses.replace(slo, sli=source))
    return _from_promql(slo, "raw", sli.error_ratio, ANY)


def _from_selector(slo: ir.SLO, role: str, selector: ir.Selector, suffix: str, expect: str) -> Probe:
    matchers = tuple((m.name, m.op, m.value) for m in selector.matchers)
    return Probe(slo, role, selector.metric + suffix, matchers, render_selector(selector, suffix=suffix), expect)


def _from_promql(slo: ir.SLO, role: str, promql: str, expect: str) -> list[Probe]:
    """The vector selectors inside raw PromQL (a counter is expected only where it sits under rate/increase)."""
    import promql_parser

    try:
        tree = promql_parser.parse(substitute_window(promql, "5m"))
    except (ValueError, RuntimeError):
        return []  # relc check already reported it
    found: list[Probe] = []
    _walk(tree, False, lambda node, counted: found.append(_probe_of(slo, role, node, expect if counted else ANY)))
    unique = {p.text: p for p in found}
    return list(unique.values())


COUNTER_FUNCTIONS = {"rate", "irate", "increase", "resets"}


def _walk(node, counted: bool, visit) -> None:
    kind = type(node).__name__
    if kind == "VectorSelector":
        visit(node, counted)
        return
    if kind == "Call":
        counted = str(getattr(node.func, "name", node.func)) in COUNTER_FUNCTIONS
    for attr in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            _walk(child, counted, visit)
    for child in getattr(node, "args", None) or ():
        _walk(child, counted, visit)


def _probe_of(slo: ir.SLO, role: str, node, expect: str) -> Probe:
    matchers, name = [], node.name or ""
    for m in node.matchers.matchers:
        if m.name == "__name__" and str(m.op).endswith("Equal") and not str(m.op).endswith("NotEqual"):
            name = m.value
        else:
            matchers.append((m.name, _OPS.get(str(m.op).rsplit(".", 1)[-1], "="), m.value))
    selector = ir.Selector(metric=name or "", matchers=tuple(ir.LabelMatcher(name=n, op=o, value=v)
                                                               for n, o, v in matchers if n != "__name__"))
    text = render_selector(selector) if name else str(node)
    return Probe(slo, role, name, tuple(matchers), text, expect)


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
