"""OpenSLO (openslo/v1 and openslo/v1alpha) as relc syntax trees: services, SLOs, SLIs and alert policies.

Each objective of an OpenSLO SLO is one relc SLO (named `NAME-0`, `NAME-1`, ... when there are several, as
Sloth names them). Rolling and calendar windows (one week, month or quarter), the Occurrences and Timeslices
budgeting methods have relc equivalents; what does not (RatioTimeslices, other calendar periods, non-Prometheus
sources) is reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.syntax.tree import Attribute, Block
from relc.compiler.resolve.importers import tree
from relc.compiler.resolve.importers.fields import Fields
from relc.compiler.resolve.importers.openslo_calendar import V1_PERIODS, V1ALPHA_PERIODS, calendar_window
from relc.compiler.resolve.importers.openslo_alerts import check_condition, check_policy, policy_attribute
from relc.compiler.resolve.importers.openslo_model import (NOTE, STRUCTURAL, Document, Index, Obj, inline_object, labels_value, shorthand,
                            spec_fields)
from relc.compiler.resolve.importers.openslo_sli import data_source_type, threshold_sli, v1_sli, v1alpha_ratio, v1alpha_source
from relc.compiler.resolve.importers.yamlpos import YNode

__all__ = ["Document", "convert"]

V1_SLO = ("description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives",
          "alertPolicies")
V1ALPHA_SLO = ("description", "service", "indicator", "timeWindows", "budgetingMethod", "objectives")
OBJECTIVE = ("displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow",
             "ratioMetrics", "indicator", "compositeWeight")
V1ALPHA_UNITS = {"Second": 1, "Minute": 60, "Hour": 3600, "Day": 86400, "Week": 7 * 86400}
DEFAULT_WINDOW_S = 30 * 86400


@dataclass
class _Service:
    name: str
    path: str
    span: Span
    name_span: Span
    slos: list[Block] = field(default_factory=list)


def convert(docs: list[Document], diags: list[Diagnostic]) -> list[tuple[str, Block]]:
    """Blocks for every OpenSLO SLO in `docs`, with the service and alert policy blocks they need."""
    index = Index(docs, diags)
    services: dict[str, _Service] = {}
    policies: dict[str, Block] = {}
    policy_paths: dict[str, str] = {}
    for slo in index.of_kind("SLO"):
        service, blocks = _slo(slo, index, policies, diags)
        for name in policies:
            policy_paths.setdefault(name, slo.path)
        if service is None or not blocks:
            continue
        entry = services.setdefault(service.text, _Service(service.text, slo.path, slo.spec.span, service.span))
        entry.slos.extend(blocks)
    out = [(s.path, _service_block(s, index, diags)) for s in services.values()]
    out.extend((policy_paths[name], block) for name, block in policies.items())
    _check_unused(index, diags)
    return out


def _check_unused(index: Index, diags: list[Diagnostic]) -> None:
    """Objects no SLO uses are checked for their shape only: what would make them invalid OpenSLO.

    Whether they could be compiled (their source type, their references to objects in other files) matters
    only once an SLO uses them.
    """
    for obj in index.order:
        if id(obj) in index.used or obj.kind == "SLO":
            continue
        found: list[Diagnostic] = []
        if obj.kind == "SLI":
            v1_sli(obj, None, index, found)
        elif obj.kind == "AlertPolicy":
            check_policy(obj, index, found)
        elif obj.kind == "AlertCondition":
            check_condition(obj, found)
        elif obj.kind == "DataSource":
            data_source_type(obj, found)
        elif obj.kind == "AlertNotificationTarget":
            spec_fields(obj.spec, f"AlertNotificationTarget `{obj.name}` spec", ("description", "target"),
                        found).string("target", required=True)
        elif obj.kind == "Service":
            spec_fields(obj.spec, f"Service `{obj.name}` spec", ("description",), found)
        diags.extend(d for d in found if d.code in STRUCTURAL)


def _service_block(service: _Service, index: Index, diags: list[Diagnostic]) -> Block:
    """The service, with the description and labels of its Service object when there is one."""
    items: list = []
    obj = index.objects.get(("Service", service.name))
    span, kind_span, label_span = service.span, service.name_span, service.name_span
    if obj is not None:
        index.used.add(id(obj))
        spec = spec_fields(obj.spec, f"Service `{obj.name}` spec", ("description",), diags)
        description = spec.string("description")
        if description is not None:
            items.append(tree.attr("description", tree.string(description.text, description.span),
                                   spec.where("description")))
        labels = labels_value(obj.metadata, diags)
        if labels is not None:
            items.append(tree.attr("labels", labels[0], labels[1]))
        span, kind_span, label_span = obj.spec.span, obj.name_span, obj.name_span
    return tree.block("service", service.name, items + service.slos, span, kind_span, label_span)


def _slo(slo: Obj, index: Index, policies: dict[str, Block], diags: list[Diagnostic]) -> tuple[YNode | None, list]:
    v1 = slo.api == "openslo/v1"
    spec = spec_fields(slo.spec, f"SLO `{slo.name}` spec", V1_SLO if v1 else V1ALPHA_SLO, diags)
    service = spec.string("service", required=True)
    window = _window_v1(spec, diags) if v1 else _window_v1alpha(spec, diags)
    budgeting = _budgeting(spec, diags)
    policy = policy_attribute(spec, slo, index, policies, diags) if v1 else \
        tree.attr("alert_policy", tree.ref("none", tree.point(slo.spec.span)), tree.point(slo.spec.span))
    indicator = _indicator(spec, slo, index, diags) if v1 else None
    objectives = spec.sequence("objectives", required=True)
    if objectives is None or (v1 and indicator is None):
        return service, []
    common = _common(spec, slo, window, policy, diags)  # type: ignore[arg-type]
    many = len(objectives.items) > 1
    blocks = [_objective(node, f"{slo.name}-{i}" if many else slo.name, slo, spec, indicator, index, common, diags)
              for i, node in enumerate(objectives.items)]
    if None in (service, window, policy) or not budgeting or None in blocks:
        return service, []
    return service, blocks


def _common(spec: Fields, slo: Obj, window, policy: Attribute, diags: list[Diagnostic]) -> tuple[list, list]:
    """Attributes every objective of the SLO shares: the description before the objective, the rest after it."""
    head: list = []
    description = spec.string("description")
    if description is not None:
        head.append(tree.attr("description", tree.string(description.text, description.span),
                              spec.where("description")))
    tail: list = list(window or ())
    labels = labels_value(slo.metadata, diags)
    if labels is not None:
        tail.append(tree.attr("labels", labels[0], labels[1]))
    tail.append(policy)
    return head, tail


def _objective(node: YNode, name: str, slo: Obj, spec: Fields, indicator: Obj | None, index: Index,
               common: tuple[list, list], diags: list[Diagnostic]) -> Block | None:
    objective = Fields(node, f"SLO `{slo.name}` objective", OBJECTIVE, diags, NOTE)
    if objective.has("compositeWeight"):
        diags.append(dg.make("RELC608", "a composite SLO (objectives weighted by `compositeWeight` into one error "
                             "budget) cannot be compiled: a relc SLO has one SLI and one budget",
                             objective.where("compositeWeight"),
                             hint="write each objective as its own SLO; `depends_on` states how they bound each "
                                  "other"))
        return None
    target = _target(objective, diags)
    if indicator is not None:
        sli = v1_sli(indicator, objective, index, diags)
    else:
        sli = _v1alpha_sli(spec, objective, diags)
    if target is None or sli is None:
        return None
    method = spec.get("budgetingMethod")
    if method is not None and method.text == "Timeslices":
        sli = _timeslices(sli, objective, diags)
        if sli is None:
            return None
    items = [*common[0], target, *common[1], sli]
    label_span = slo.name_span
    return tree.block("slo", name, items, node.span, tree.point(node.span), label_span)


def _timeslices(sli: Block, objective: Fields, diags: list[Diagnostic]) -> Block | None:
    """Timeslices: the SLI read per `timeSliceWindow`, a slice good when it reaches `timeSliceTarget`, as
    `sli timeslices { events { ... } | ratio = ..., slice = ..., good_if = "<= X%" }`."""
    target = objective.number("timeSliceTarget", required=True)
    window = objective.get("timeSliceWindow")
    slice_value = shorthand(window, "timeSliceWindow", diags) if window is not None else None
    if window is None:
        objective.missing("timeSliceWindow", hint="e.g. `timeSliceWindow: 1m`")
    if target is None or slice_value is None:
        return None
    if not 0 < target[0] < 1:
        diags.append(dg.make("RELC609", "`timeSliceTarget` must be between 0 and 1", target[1].span))
        return None
    where = objective.where("timeSliceTarget")
    bound = tree.string(f"<= {tree.fmt_decimal((1 - target[0]) * 100)}%", target[1].span)
    if sli.label == "raw":
        source = [tree.attr("ratio", item.value, item.key_span) for item in sli.items if item.key == "error_ratio"]
    else:
        source = [tree.block("events", None, list(sli.items), sli.span, sli.kind_span)]
    items = [*source, tree.attr("slice", slice_value, objective.where("timeSliceWindow")),
             tree.attr("good_if", bound, where)]
    return tree.block("sli", "timeslices", items, sli.span, sli.kind_span)


def _target(objective: Fields, diags: list[Diagnostic]) -> Attribute | None:
    """`target: 0.999` (or `targetPercent: 99.9`) as `objective = 99.9%`, exactly."""
    if objective.has("targetPercent") and not objective.has("target"):
        found = objective.number("targetPercent")
        return tree.attr("objective", tree.percent(found[0], found[1].span), objective.where("targetPercent")) \
            if found else None
    found = objective.number("target", required=True)
    if found is None:
        return None
    return tree.attr("objective", tree.percent(found[0] * 100, found[1].span), objective.where("target"))


def _indicator(spec: Fields, slo: Obj, index: Index, diags: list[Diagnostic]) -> Obj | None:
    inline, ref = spec.mapping("indicator"), spec.string("indicatorRef")
    if (inline is None) == (ref is None):
        message = "needs `indicator` or `indicatorRef`" if inline is None else "has both `indicator` and `indicatorRef`"
        diags.append(dg.make("RELC606" if inline is None else "RELC609", f"SLO `{slo.name}` {message}",
                             slo.name_span))
        return None
    if ref is not None:
        return index.lookup("SLI", ref, diags)
    body = Fields(inline, "indicator", ("metadata", "spec"), diags, NOTE)
    meta, sli_spec = body.mapping("metadata", required=True), body.mapping("spec", required=True)
    if meta is None or sli_spec is None:
        return None
    return inline_object(meta, sli_spec, slo.api, "SLI", slo.path, diags)


def _v1alpha_sli(spec: Fields, objective: Fields, diags: list[Diagnostic]) -> Block | None:
    """v1alpha: ratioMetrics per objective, or a thresholdMetric on the SLO's indicator."""
    ratio = objective.mapping("ratioMetrics")
    if ratio is not None:
        return v1alpha_ratio(ratio, diags)
    indicator = spec.mapping("indicator")
    if indicator is None:
        diags.append(dg.make("RELC606", "a v1alpha objective needs `ratioMetrics`, or the SLO an `indicator` with a "
                             "`thresholdMetric`", tree.point(objective.span)))
        return None
    threshold = Fields(indicator, "indicator", ("thresholdMetric",), diags, NOTE).mapping("thresholdMetric",
                                                                                          required=True)
    query = v1alpha_source(threshold, "thresholdMetric", diags)
    return threshold_sli(query, objective, indicator, diags) if query is not None else None


def _budgeting(spec: Fields, diags: list[Diagnostic]) -> bool:
    method = spec.string("budgetingMethod", required=True, hint="relc budgets count events: Occurrences")
    if method is None:
        return False
    if method.text in ("Occurrences", "Timeslices"):
        return True
    if method.text == "RatioTimeslices":
        diags.append(dg.make("RELC608", "budgetingMethod `RatioTimeslices` cannot be compiled: relc's time slices "
                             "are good or bad (Timeslices), not averaged ratios", method.span,
                             hint="use `budgetingMethod: Timeslices` with `timeSliceTarget` and `timeSliceWindow`"))
        return False
    diags.append(dg.make("RELC609", f"unknown budgetingMethod `{method.text}`", method.span,
                         hint="Occurrences, Timeslices or RatioTimeslices"))
    return False


def _window_v1(spec: Fields, diags: list[Diagnostic]) -> list[Attribute] | None:
    """`timeWindow: [{duration: 28d, isRolling: true}]` as `window = 28d`, a calendar one as `window = calendar
    month`; relc's 30d when absent."""
    node = spec.sequence("timeWindow")
    if node is None or not node.items:
        where = spec.where("timeWindow")
        return [tree.attr("window", tree.duration_s(DEFAULT_WINDOW_S, where), where)]
    if len(node.items) > 1:
        diags.append(dg.make("RELC609", "an SLO has one time window", node.items[1].span))
        return None
    window = Fields(node.items[0], "timeWindow", ("duration", "isRolling", "calendar"), diags, NOTE)
    if _calendar(window, window.boolean("isRolling"), diags):
        duration = window.string("duration", required=True)
        if duration is None:
            return None
        return calendar_window(window, V1_PERIODS.get(duration.text), duration.text, duration.span, diags)
    value = shorthand(window.string("duration", required=True), "duration", diags)
    return [tree.attr("window", value, window.where("duration"))] if value is not None else None


def _window_v1alpha(spec: Fields, diags: list[Diagnostic]) -> list[Attribute] | None:
    """`timeWindows: [{unit: Day, count: 28, isRolling: true}]` as `window = 28d`; `unit: Month, count: 1` with
    `isRolling: false` as `window = calendar month`."""
    node = spec.sequence("timeWindows")
    if node is None or not node.items:
        where = spec.where("timeWindows")
        return [tree.attr("window", tree.duration_s(DEFAULT_WINDOW_S, where), where)]
    window = Fields(node.items[0], "timeWindows", ("unit", "count", "isRolling", "calendar"), diags, NOTE)
    rolling = window.boolean("isRolling")
    calendar = _calendar(window, True if rolling is None and not window.has("calendar") else rolling, diags)
    unit, count = window.string("unit", required=True), window.number("count", required=True)
    if unit is None or count is None:
        return None
    if calendar:
        period = V1ALPHA_PERIODS.get(unit.text) if count[0] == 1 else None
        return calendar_window(window, period, f"{count[1].text} {unit.text}", unit.span, diags)
    if unit.text not in V1ALPHA_UNITS or count[0] <= 0 or count[0] != int(count[0]):
        diags.append(dg.make("RELC609", f"a rolling window of {count[1].text} {unit.text} cannot be compiled",
                             unit.span, hint="units: " + ", ".join(V1ALPHA_UNITS) + "; counts are whole numbers"))
        return None
    seconds = int(count[0] * Decimal(V1ALPHA_UNITS[unit.text]))
    return [tree.attr("window", tree.duration_s(seconds, count[1].span), window.where("count"))]


def _calendar(window: Fields, rolling: bool | None, diags: list[Diagnostic]) -> bool:
    """Whether the window is calendar-aligned: `isRolling: false` (or a `calendar` without `isRolling`)."""
    if rolling is None and not window.has("calendar"):
        window.missing("isRolling", hint="`isRolling: true` for a rolling window, `false` with `calendar` for one "
                                         "that resets each period")
    return rolling is False or (rolling is None and window.has("calendar"))
