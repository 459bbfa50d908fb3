"""OpenSLO indicators as relc `sli` blocks, and how OpenSLO's window-less PromQL gets relc's `$window`.

OpenSLO queries carry no window. relc windows them so:
1. a query containing Sloth's `{{.window}}` placeholder has it replaced with `$window` and is used as written;
2. a bare selector over a counter (`counter: true`) becomes a relc selector, so `rate(sel[$window])`;
3. `sum(sel)` or `sum by (...) (sel)` over a counter becomes `sum(rate(sel[$window]))`;
4. any other expression without a range becomes the subquery `rate((expr)[$window:])` (a warning:
   a rate over an aggregate miscounts counter resets);
5. an expression with a fixed range (`[5m]`) cannot be windowed and is reported.
With `counter: false` the samples are counts per scrape and `sum_over_time` takes the place of `rate`.
Threshold metrics become a raw SLI: the share of samples on the wrong side of the objective's value.
"""
from __future__ import annotations

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.model import ir
from relc.compiler.check.promql import render_selector, syntax_error
from relc.compiler.syntax.tree import Block, Matcher, SelectorLit, Value
from relc.compiler.resolve.importers import tree
from relc.compiler.resolve.importers.fields import Fields
from relc.compiler.resolve.importers.openslo_model import NOTE, Index, Obj, spec_fields
from relc.compiler.resolve.importers.sloth import WINDOW_TEMPLATE
from relc.compiler.resolve.importers.yamlpos import YNode

# Metric source types whose queries are PromQL (Nobl9 and the OpenSLO SDK name these); VictoriaMetrics' MetricsQL
# extensions are reported where they do not parse as PromQL.
PROMETHEUS = ("prometheus", "sloth", "amazonprometheus", "thanos", "mimir", "cortex", "victoriametrics",
              "grafanacloud", "grafanamimir", "googlemanagedprometheus")
MATCH_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
BAD_SIDE = {"lt": ">=", "lte": ">", "gt": "<=", "gte": "<"}  # the objective says which samples are good
WINDOW_HINT = "write `{{.window}}` where the range goes, e.g. sum(rate(http_requests_total[{{.window}}]))"


def v1_sli(sli: Obj, objective: Fields | None, index: Index, diags: list[Diagnostic]) -> Block | None:
    """An openslo/v1 SLI spec (ratioMetric or thresholdMetric) for one objective; None for the SLI alone."""
    spec = spec_fields(sli.spec, f"SLI `{sli.name}` spec", ("description", "ratioMetric", "thresholdMetric"), diags)
    ratio, threshold = spec.mapping("ratioMetric"), spec.mapping("thresholdMetric")
    if (ratio is None) == (threshold is None):
        diags.append(dg.make("RELC606" if ratio is None else "RELC609",
                             f"SLI `{sli.name}` needs exactly one of `ratioMetric` or `thresholdMetric`",
                             sli.name_span))
        return None
    if threshold is not None:
        metric = Fields(threshold, "thresholdMetric", ("metricSource",), diags, NOTE)
        query = _v1_source(metric.mapping("metricSource", required=True), index, diags)
        if query is None or objective is None:
            return None
        return threshold_sli(query, objective, threshold, diags)
    return _v1_ratio(Fields(ratio, "ratioMetric", ("counter", "good", "bad", "total", "raw", "rawType"), diags, NOTE),
                     index, diags)


def _v1_ratio(ratio: Fields, index: Index, diags: list[Diagnostic]) -> Block | None:
    if ratio.has("raw"):
        return _v1_raw(ratio, index, diags)
    counter = ratio.boolean("counter")
    if counter is None and not ratio.has("counter"):
        diags.append(dg.make("RELC610", "`counter` is not set; relc reads the queries as counters and takes their "
                             "rate", tree.point(ratio.span), severity=dg.Severity.WARNING,
                             hint="`counter: true` for counters, `counter: false` for per-scrape counts"))
        counter = True
    queries = {}
    for key in ("good", "bad", "total"):
        node = ratio.mapping(key)
        if node is not None:
            side = Fields(node, f"ratioMetric {key}", ("metricSource",), diags, NOTE)
            queries[key] = (_v1_source(side.mapping("metricSource", required=True), index, diags), side)
    return _events(ratio, queries, bool(counter), diags)


def _events(ratio: Fields, queries: dict, counter: bool, diags: list[Diagnostic]) -> Block | None:
    """`sli events` from good or bad, and total; each query windowed for relc."""
    if ("good" in queries) == ("bad" in queries) or "total" not in queries:
        diags.append(dg.make("RELC606" if "total" not in queries else "RELC609",
                             "a ratio metric needs `total` and exactly one of `good` or `bad`", tree.point(ratio.span)))
        return None
    items = []
    for key in ("good", "bad", "total"):
        if key not in queries or queries[key][0] is None:
            continue
        value = window(queries[key][0], counter, diags)
        if value is None:
            return None
        items.append(tree.attr(key, value, ratio.where(key)))
    if len(items) != 2:
        return None
    return tree.block("sli", "events", items, ratio.span, tree.point(ratio.span))


def _v1_raw(ratio: Fields, index: Index, diags: list[Diagnostic]) -> Block | None:
    """A precomputed ratio: `rawType: failure` is the error ratio, `success` its complement."""
    side = Fields(ratio.mapping("raw", required=True), "ratioMetric raw", ("metricSource",), diags, NOTE)
    query = _v1_source(side.mapping("metricSource", required=True), index, diags)
    raw_type = ratio.string("rawType", required=True, hint="rawType: success or failure")
    if query is None or raw_type is None:
        return None
    if raw_type.text not in ("success", "failure"):
        diags.append(dg.make("RELC609", f"`rawType` must be success or failure, got {raw_type.text!r}", raw_type.span))
        return None
    text = query.text.strip()
    if not WINDOW_TEMPLATE.search(text):
        diags.append(dg.make("RELC608", "a raw ratio query needs `{{.window}}`: relc evaluates it over each window",
                             query.span, hint=WINDOW_HINT))
        return None
    text = WINDOW_TEMPLATE.sub("$window", text)
    text = text if raw_type.text == "failure" else f"1 - (\n{text}\n)"
    items = [tree.attr("error_ratio", tree.raw(text, query.span), ratio.where("raw"))]
    return tree.block("sli", "raw", items, ratio.span, tree.point(ratio.span))


def _v1_source(node: YNode | None, index: Index, diags: list[Diagnostic]) -> YNode | None:
    """The PromQL of a v1 metricSource; its type comes from `type` or from the DataSource it refers to."""
    if node is None:
        return None
    source = Fields(node, "metricSource", ("metricSourceRef", "type", "spec"), diags, NOTE)
    kind = source.string("type")
    ref = source.string("metricSourceRef")
    if kind is None and ref is not None:
        data_source = index.lookup("DataSource", ref, diags)
        if data_source is None:
            return None
        kind = data_source_type(data_source, diags)
    if kind is None:
        source.missing("type", hint="relc compiles metric sources of type Prometheus")
        return None
    spec = source.mapping("spec", required=True)
    if not _is_prometheus(kind, diags) or spec is None:
        return None
    return _query_field(spec, diags)


def data_source_type(data_source: Obj, diags: list[Diagnostic]) -> YNode | None:
    """A DataSource's `type`, which decides whether relc can read the queries that refer to it."""
    spec = spec_fields(data_source.spec, f"DataSource `{data_source.name}` spec",
                       ("description", "type", "connectionDetails"), diags)
    if not spec.has("connectionDetails"):
        spec.missing("connectionDetails")
    return spec.string("type", required=True)


def _query_field(spec: YNode, diags: list[Diagnostic]) -> YNode | None:
    """`query`, or Nobl9's `promql`."""
    query = spec.get("query") or spec.get("promql")
    if query is None or query.kind != "scalar" or query.is_null or not query.text.strip():
        diags.append(dg.make("RELC606", "a Prometheus metric source needs `query` (or Nobl9's `promql`) with "
                             "the PromQL", tree.point(spec.span)))
        return None
    return query


def _is_prometheus(kind: YNode, diags: list[Diagnostic]) -> bool:
    if kind.text.lower() in PROMETHEUS:
        return True
    hint = "relc's SLIs are PromQL; other query languages have no translation"
    if kind.text.lower() == "datadog":
        hint = ("write the SLI in PromQL and put these queries in its `datadog { }` block for relc's Datadog target "
                "(docs/language.md, section 6.5)")
    diags.append(dg.make("RELC608", f"metric source type `{kind.text}` cannot be compiled: relc reads Prometheus "
                         "queries", kind.span, hint=hint))
    return False


def v1alpha_source(node: YNode | None, key: str, diags: list[Diagnostic]) -> YNode | None:
    """A v1alpha `{source, queryType, query}` metric."""
    if node is None:
        return None
    fields = Fields(node, f"ratioMetrics {key}", ("source", "queryType", "query", "metadata"), diags, NOTE)
    source = fields.string("source", required=True)
    if source is None or not _is_prometheus(source, diags):
        return None
    return fields.string("query", required=True)


def v1alpha_ratio(node: YNode, diags: list[Diagnostic]) -> Block | None:
    """v1alpha `ratioMetrics`: `incremental` plays the part of v1's `counter`."""
    ratio = Fields(node, "ratioMetrics", ("good", "bad", "total", "incremental"), diags, NOTE)
    counter = ratio.boolean("incremental")
    queries = {key: (v1alpha_source(ratio.mapping(key), key, diags), None) for key in ("good", "bad", "total")
               if ratio.has(key)}
    return _events(ratio, queries, counter is not False, diags)


def threshold_sli(query: YNode, objective: Fields, at: YNode, diags: list[Diagnostic]) -> Block | None:
    """Each sample is an event, bad when on the wrong side of the objective's `op` and `value`."""
    op, value = objective.string("op", required=True), objective.number("value", required=True)
    if op is None or value is None:
        return None
    if op.text not in BAD_SIDE:
        diags.append(dg.make("RELC609", f"`op` must be lt, lte, gt or gte, got {op.text!r}", op.span))
        return None
    text = WINDOW_TEMPLATE.sub("$window", query.text.strip())
    err = syntax_error(text.replace("$window", "5m"))
    if err:
        diags.append(dg.make("RELC308", f"invalid PromQL in the OpenSLO query: {err}", query.span))
        return None
    ratio = f"avg_over_time((({text}) {BAD_SIDE[op.text]} bool {tree.fmt_decimal(value[0])})[$window:])"
    items = [tree.attr("error_ratio", tree.raw(ratio, query.span), tree.point(query.span))]
    return tree.block("sli", "raw", items, at.span, tree.point(at.span))


def window(query: YNode, counter: bool, diags: list[Diagnostic]) -> Value | None:
    """The query as a relc query value with `$window`, by the rules in this module's docstring."""
    text = query.text.strip()
    if WINDOW_TEMPLATE.search(text):
        return tree.raw(WINDOW_TEMPLATE.sub("$window", text), query.span)
    err = syntax_error(text)
    if err:
        diags.append(dg.make("RELC308", f"invalid PromQL in the OpenSLO query: {err}", query.span))
        return None
    if has_range(text):
        diags.append(dg.make("RELC608", "this query has a fixed range, so relc cannot evaluate it over each alert "
                             "window", query.span, hint=WINDOW_HINT))
        return None
    import promql_parser

    expr = promql_parser.parse(text)
    func = "rate" if counter else "sum_over_time"
    if plain_selector(expr):
        return selector_value(expr, query) if counter else tree.raw(f"{func}({text}[$window])", query.span)
    if type(expr).__name__ == "AggregateExpr" and str(expr.op) == "sum" and expr.param is None \
            and plain_selector(expr.expr):
        return tree.raw(f"sum({func}({selector_text(expr.expr)}[$window]))", query.span)
    diags.append(dg.make("RELC610", f"this query is windowed as the subquery {func}((...)[$window:])", query.span,
                         severity=dg.Severity.WARNING,
                         hint="a rate over an aggregate miscounts counter resets; " + WINDOW_HINT))
    return tree.raw(f"{func}(({text})[$window:])", query.span)


def plain_selector(expr) -> bool:
    return (type(expr).__name__ == "VectorSelector" and bool(expr.name) and expr.offset is None
            and expr.at is None and not expr.matchers.or_matchers)


def selector_text(expr) -> str:
    """A selector as relc renders one: `metric` alone when it has no matchers, not `metric{}`."""
    matchers = tuple(ir.LabelMatcher(name=m.name, op=MATCH_OPS[str(m.op).split(".")[-1]], value=m.value)
                     for m in expr.matchers.matchers if m.name != "__name__")
    return render_selector(ir.Selector(metric=expr.name, matchers=matchers))


def selector_value(expr, query: YNode) -> Value:
    matchers = tuple(Matcher(m.name, MATCH_OPS[str(m.op).split(".")[-1]], m.value, query.span)
                     for m in expr.matchers.matchers if m.name != "__name__")
    return Value("selector", SelectorLit(expr.name, matchers), query.span, expr.name)


def has_range(text: str) -> bool:
    """Whether PromQL text has a `[` outside string literals: a range or subquery."""
    quote = None
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch == "[":
            return True
    return False

