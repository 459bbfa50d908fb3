"""Pyrra ServiceLevelObjectives (`pyrra.dev/v1alpha1`, also bare `v1alpha1`) as relc syntax trees.

Mapping (docs/interop.md has the table): `ratio` is an events SLI (errors, total), `latency` an events SLI over
the histogram's bucket and count (`good`, `total`: exactly Pyrra's arithmetic), `latencyNative` a latency SLI
on a native histogram, `bool_gauge` a raw SLI (the share of samples that are not 1); `grouping` is `group_by`;
`target` is a percentage; alerts use the built-in `pyrra` policy and Pyrra's alert names, and Pyrra's absent
alert becomes the no-data alert, firing after the time Pyrra waits. The service is the `pyrra.dev/service`
label when set (Pyrra puts it on its rules as `service`), else the namespace, else `default`. Other
`pyrra.dev/*` labels become SLO labels and `pyrra.dev/*` annotations alert annotations, prefix dropped, as
Pyrra propagates them; other metadata labels select the PrometheusRule in Kubernetes and mean nothing here.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from relc.compiler import diagnostics as dg
from relc.compiler.check.pyrra_policy import PYRRA_POLICY, pyrra_policy, round_minute
from relc.compiler.check.promql import syntax_error
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.resolve.importers import tree
from relc.compiler.resolve.importers.fields import Fields
from relc.compiler.resolve.importers.openslo_sli import plain_selector, selector_text, selector_value
from relc.compiler.resolve.importers.yamlpos import YNode
from relc.compiler.syntax.tree import Block, MapEntry, Value
from relc.compiler.units import parse_duration_ms

APIS = ("pyrra.dev/v1alpha1", "v1alpha1")
KIND = "ServiceLevelObjective"
PREFIX = "pyrra.dev/"
DEFAULT_ALERT = "ErrorBudgetBurn"
IGNORED = "Pyrra's controller reads it, relc does not"
METADATA = ("name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
            "creationTimestamp", "managedFields", "finalizers", "ownerReferences", "generateName", "selfLink")
SPEC = ("description", "target", "window", "indicator", "alerting", "partial_response_strategy",
        "performanceOverAccuracy", "ruleOutput")
INDICATORS = ("ratio", "latency", "latencyNative", "bool_gauge")
RESERVED = ("service", "slo", "severity", "alert_tier")


@dataclass(frozen=True)
class PyrraSLO:
    """One objective as a relc `slo` block, and the service it belongs to."""

    service: str
    service_span: Span
    block: Block


def read_document(doc: YNode, diags: list[Diagnostic]) -> PyrraSLO | None:
    """A ServiceLevelObjective as an `slo` block, or None with diagnostics located at the YAML."""
    top = Fields(doc, "ServiceLevelObjective", ("apiVersion", "kind", "metadata", "spec", "status"), diags, IGNORED)
    meta = Fields(top.mapping("metadata", required=True), "metadata", METADATA, diags, IGNORED)
    spec = Fields(top.mapping("spec", required=True), "ServiceLevelObjective spec", SPEC, diags, IGNORED)
    name = meta.string("name", required=True)
    if name is None or spec.node is None:
        return None
    labels = [(k, v) for k, v in meta.string_pairs("labels") if k.text.startswith(PREFIX)]
    service, service_span, labels = _service(meta, labels)
    objective, window = _objective(spec, diags), _window(spec, diags)
    sli, group_by = _indicator(spec, diags)
    if objective is None or window is None or sli is None:
        return None
    items = []
    description = spec.string("description")
    if description is not None and description.text:
        items.append(tree.attr("description", tree.string(description.text, description.span),
                               spec.where("description")))
    items += [objective, window]
    slo_labels = _labels(labels, meta, diags)
    if slo_labels is not None:
        items.append(slo_labels)
    if group_by is not None:
        items.append(group_by)
    items += _alerting(spec, objective, window, diags)
    annotations = [(k, v) for k, v in meta.string_pairs("annotations") if k.text.startswith(PREFIX)]
    if annotations:
        entries = tuple(MapEntry(k.text[len(PREFIX):], k.span, tree.string(v.text, v.span)) for k, v in annotations)
        items.append(tree.attr("annotations", Value("map", entries, annotations[0][0].span), meta.where("annotations")))
    items.append(sli)
    return PyrraSLO(service, service_span, tree.block("slo", name.text, items, doc.span, tree.point(doc.span),
                                                      name.span))


def _service(meta: Fields, labels: list) -> tuple[str, Span, list]:
    """The relc service: `pyrra.dev/service`, else the namespace, else Kubernetes' `default`."""
    for key, value in labels:
        if key.text == PREFIX + "service":
            return value.text, value.span, [(k, v) for k, v in labels if k is not key]
    namespace = meta.string("namespace")
    if namespace is not None and namespace.text:
        return namespace.text, namespace.span, labels
    return "default", tree.point(meta.span) if meta.node is not None else Span.point("", 1, 1), labels


def _objective(spec: Fields, diags: list[Diagnostic]):
    """`target: "99.9"` (a string in Pyrra's CRD, a number also read) as `objective = 99.9%`."""
    node = spec.string("target", required=True)
    if node is None:
        return None
    try:
        value = Decimal(node.text.strip())
    except InvalidOperation:
        diags.append(dg.make("RELC605", f"`target` must be a percentage like \"99.9\", got {node.text!r}", node.span))
        return None
    return tree.attr("objective", tree.percent(value, node.span), spec.where("target"))


def _window(spec: Fields, diags: list[Diagnostic]):
    node = spec.string("window", required=True)
    if node is None:
        return None
    try:
        ms = parse_duration_ms(node.text.strip())
    except ValueError:
        ms = None
    if not ms or ms % 1000:
        diags.append(dg.make("RELC605", f"`window` must be a duration like 28d or 4w, got {node.text!r}", node.span))
        return None
    return tree.attr("window", tree.duration_s(int(ms // 1000), node.span), spec.where("window"))


def _indicator(spec: Fields, diags: list[Diagnostic]) -> tuple[Block | None, object]:
    """The SLI block and `group_by`, from the one indicator the spec has."""
    node = spec.mapping("indicator", required=True)
    indicator = Fields(node, "indicator", INDICATORS, diags)
    present = [k for k in INDICATORS if indicator.has(k)]
    if node is None:
        return None, None
    if len(present) != 1:
        diags.append(dg.make("RELC606" if not present else "RELC605", "an indicator has exactly one of "
                             + ", ".join(f"`{k}`" for k in INDICATORS) + (f"; found {len(present)}" if present else ""),
                             indicator.where(present[1]) if len(present) > 1 else node.span))
        return None, None
    kind = present[0]
    fields = Fields(indicator.get(kind), kind, _KEYS[kind], diags)
    group = _group_by(fields)
    return _BUILD[kind](fields, group, diags), group


_KEYS = {"ratio": ("errors", "total", "grouping"), "latency": ("success", "total", "grouping"),
         "latencyNative": ("total", "latency", "grouping"), "bool_gauge": ("metric", "grouping")}


def _group_by(fields: Fields):
    node = fields.sequence("grouping")
    if node is None or not node.items:
        return None
    names = tuple(Value("ref", (item.text,), item.span, item.text) for item in node.items if item.kind == "scalar")
    return tree.attr("group_by", Value("list", names, node.span), fields.where("grouping"))


def _metric(fields: Fields, key: str, diags: list[Diagnostic], nested: bool = True):
    """`errors: {metric: ...}` (or `metric:` itself for bool_gauge): a plain selector, as Pyrra requires."""
    holder = Fields(fields.mapping(key, required=True), key, ("metric",), diags) if nested else fields
    node = holder.string("metric", required=True)
    if node is None:
        return None
    err = syntax_error(node.text)
    if err:
        diags.append(dg.make("RELC308", f"invalid PromQL in Pyrra's `metric`: {err}", node.span))
        return None
    import promql_parser

    expr = promql_parser.parse(node.text)
    if not plain_selector(expr):
        diags.append(dg.make("RELC608", "Pyrra's `metric` is a plain selector (metric{labels}); this is not one",
                             node.span, hint="Pyrra refuses it too"))
        return None
    return expr, node


def _events(role: str, key: str):
    def build(fields: Fields, group, diags: list[Diagnostic]) -> Block | None:
        part, total = _metric(fields, key, diags), _metric(fields, "total", diags)
        if part is None or total is None:
            return None
        items = [tree.attr(role, selector_value(*part), fields.where(key)),
                 tree.attr("total", selector_value(*total), fields.where("total"))]
        return tree.block("sli", "events", items, fields.span, fields.where(key))
    return build


def _native(fields: Fields, group, diags: list[Diagnostic]) -> Block | None:
    total = _metric(fields, "total", diags)
    latency = fields.string("latency", required=True)
    if total is None or latency is None:
        return None
    try:
        ms = parse_duration_ms(latency.text.strip())
    except ValueError:
        diags.append(dg.make("RELC605", f"`latency` must be a duration like 100ms, got {latency.text!r}", latency.span))
        return None
    items = [tree.attr("native_histogram", selector_value(*total), fields.where("total")),
             tree.attr("threshold", Value("duration", Decimal(ms), latency.span, latency.text.strip()),
                       fields.where("latency"))]
    return tree.block("sli", "latency", items, fields.span, fields.where("total"))


def _bool_gauge(fields: Fields, group, diags: list[Diagnostic]) -> Block | None:
    """The share of the gauge's samples that are not 1, as Pyrra counts them."""
    found = _metric(fields, "metric", diags, nested=False)
    if found is None:
        return None
    by = f" by ({', '.join(v.text for v in group.value.data)}) " if group is not None else ""
    sel = selector_text(found[0])
    ratio = (f"1 - sum{by}(sum_over_time({sel}[$window])) / sum{by}(count_over_time({sel}[$window]))")
    return tree.block("sli", "raw", [tree.attr("error_ratio", tree.raw(ratio, found[1].span), fields.where("metric"))],
                      fields.span, fields.where("metric"))


_BUILD = {"ratio": _events("bad", "errors"), "latency": _events("good", "success"), "latencyNative": _native,
          "bool_gauge": _bool_gauge}


def _labels(labels: list, meta: Fields, diags: list[Diagnostic]):
    """`pyrra.dev/team: x` as `labels = { team = "x" }`: the labels Pyrra puts on its rules."""
    kept = []
    for key, value in labels:
        name = key.text[len(PREFIX):]
        if name in RESERVED:
            diags.append(dg.make("RELC610", f"label `{key.text}` would be `{name}`, which relc sets itself; it is "
                                 "dropped", key.span, severity=dg.Severity.WARNING))
            continue
        kept.append(MapEntry(name, key.span, tree.string(value.text, value.span)))
    if not kept:
        return None
    return tree.attr("labels", Value("map", tuple(kept), kept[0].key_span), meta.where("labels"))


def _alerting(spec: Fields, objective, window, diags: list[Diagnostic]) -> list:
    """`alert_policy = pyrra` with Pyrra's alert name, and its absent alert as the no-data alert."""
    node = spec.mapping("alerting")
    alerting = Fields(node, "alerting", ("disabled", "burnrates", "absent", "name", "absentName", "severities"), diags)
    at = spec.where("alerting") if node is not None else objective.key_span
    if alerting.boolean("disabled") or alerting.boolean("burnrates") is False:
        if alerting.boolean("absent") is not False and not alerting.boolean("disabled"):
            diags.append(dg.make("RELC610", "with `burnrates: false` Pyrra still writes its absent alert; relc "
                                 "writes no alerts for this SLO", alerting.where("burnrates"),
                                 severity=dg.Severity.WARNING))
        return [tree.attr("alert_policy", tree.ref("none", at), at)]
    for key in ("severities", "absentName"):
        if alerting.has(key):
            diags.append(dg.make("RELC610", f"`alerting.{key}` is not carried over: relc's `pyrra` policy uses "
                                 "Pyrra's default severities (critical, warning) and names the no-data alert "
                                 "after the SLO's alert", alerting.where(key), severity=dg.Severity.WARNING))
    name = alerting.string("name")
    items = [tree.attr("alert_policy", tree.ref(PYRRA_POLICY, at), at),
             tree.attr("alert_name", tree.string(name.text if name is not None else DEFAULT_ALERT,
                                                 name.span if name is not None else at), at)]
    if alerting.boolean("absent") is not False:
        after = absent_after(objective.value.data / 100, int(window.value.data // 1000))
        items += [tree.attr("no_data_after", tree.duration_s(after, at), at),
                  tree.attr("no_data_severity", tree.string("critical", at), at)]
    return items


def absent_after(objective: Decimal, window_s: int) -> int:
    """When Pyrra's absent alert fires: the fastest tier's long window at 100% errors reaching its threshold, plus
    its `for`, rounded to the minute (absence is read as every event failing)."""
    fastest = pyrra_policy(window_s).tiers[0]
    seconds = int(fastest.burn_rate * (1 - objective) * fastest.long_s) + fastest.for_s  # type: ignore[operator]
    return max(60, round_minute(Decimal(seconds)))
