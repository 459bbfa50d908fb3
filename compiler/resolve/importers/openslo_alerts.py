"""OpenSLO alert policies and burn-rate alert conditions as relc alert policies and tiers.

A condition `{kind: burnrate, op: gt, threshold: T, lookbackWindow: L, alertAfter: A}` is the tier
`burn_rate = T, long = L, short = A`: the budget must burn faster than T times the sustainable rate over
the last L and, to show the burn is still going on, over the last A (relc's short window). relc alerts
fire as soon as both windows agree; there is no separate `for:` delay.
"""
from __future__ import annotations

import re

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.syntax.tree import Attribute, Block, Value
from relc.compiler.resolve.importers import tree
from relc.compiler.resolve.importers.fields import Fields
from relc.compiler.resolve.importers.openslo_model import NOTE, Index, Obj, ref_or_inline, shorthand, spec_fields
from relc.compiler.resolve.importers.yamlpos import YNode

POLICY_FIELDS = ("description", "alertWhenNoData", "alertWhenResolved", "alertWhenBreaching", "conditions",
                 "notificationTargets")
CONDITION_FIELDS = ("kind", "op", "threshold", "lookbackWindow", "alertAfter")


def policy_attribute(spec: Fields, slo: Obj, index: Index, policies: dict[str, Block],
                     diags: list[Diagnostic]) -> Attribute | None:
    """`alert_policy = NAME` (adding the policy block to `policies`), `none` without policies, None on errors."""
    node = spec.sequence("alertPolicies")
    if node is None or not node.items:
        where = spec.where("alertPolicies")
        return tree.attr("alert_policy", tree.ref("none", where), where)
    found = [ref_or_inline(item, "AlertPolicy", "alertPolicyRef", slo.api, index, diags) for item in node.items]
    if any(p is None for p in found):
        return None
    objects = [p for p in found if p is not None]
    tier_lists = [_tiers(p, index, diags) for p in objects]
    if len(objects) < len(found) or any(t is None for t in tier_lists):
        return None
    if len(objects) == 1:
        name, description = objects[0].name, _description(objects[0])
    else:
        name, description = f"{slo.name}-alerts", "OpenSLO alert policies " + ", ".join(p.name for p in objects)
    if name not in policies:
        where = spec.where("alertPolicies")
        items = [tree.attr("description", tree.string(description, node.span), where)] if description else []
        tiers = _unique([t for tiers in tier_lists for t in tiers or ()])
        policies[name] = tree.block("alert_policy", name, items + tiers, node.span, where, objects[0].name_span)
    return tree.attr("alert_policy", tree.ref(name, node.span), spec.where("alertPolicies"))


def _description(policy: Obj) -> str:
    node = policy.spec.get("description")
    return node.text if node is not None and node.kind == "scalar" and not node.is_null else ""


def _tiers(policy: Obj, index: Index, diags: list[Diagnostic]) -> list[Block] | None:
    spec = spec_fields(policy.spec, f"AlertPolicy `{policy.name}` spec", POLICY_FIELDS, diags)
    conditions = spec.sequence("conditions", required=True)
    if spec.sequence("notificationTargets") is None and not spec.has("notificationTargets"):
        spec.missing("notificationTargets", hint="relc does not use them (Alertmanager routes alerts), but OpenSLO "
                                                 "requires at least one")
    if spec.boolean("alertWhenNoData"):
        diags.append(dg.make("RELC610", "`alertWhenNoData` is not carried over: relc alerts on missing data after a "
                             "duration you choose", spec.where("alertWhenNoData"), severity=dg.Severity.WARNING,
                             hint="set `no_data_after = 30m` (for example) on the SLO or its alert policy"))
    _check_targets(spec, policy, index, diags)
    if conditions is None:
        return None
    if len(conditions.items) > 1:
        diags.append(dg.make("RELC609", "an OpenSLO v1 AlertPolicy has exactly one condition", conditions.items[1].span,
                             hint="write one AlertPolicy per condition and list them all in the SLO's alertPolicies"))
        return None
    tiers = []
    for item in conditions.items:
        condition = ref_or_inline(item, "AlertCondition", "conditionRef", policy.api, index, diags)
        tier = _tier(condition, diags) if condition is not None else None
        if tier is None:
            return None
        tiers.append(tier)
    if not tiers:
        spec.missing("conditions")
        return None
    return tiers


def _check_targets(spec: Fields, policy: Obj, index: Index, diags: list[Diagnostic]) -> None:
    """Notification targets are Alertmanager's business in relc; references are still checked (as warnings)."""
    targets = spec.sequence("notificationTargets")
    for item in targets.items if targets is not None else ():
        ref_or_inline(item, "AlertNotificationTarget", "targetRef", policy.api, index, diags,
                      severity=dg.Severity.WARNING)


def check_policy(policy: Obj, index: Index, diags: list[Diagnostic]) -> None:
    """An AlertPolicy no SLO uses, read for its shape alone."""
    _tiers(policy, index, diags)


def check_condition(condition: Obj, diags: list[Diagnostic]) -> None:
    """An AlertCondition no SLO uses, read for its shape alone."""
    _tier(condition, diags)


def _tier(condition: Obj, diags: list[Diagnostic]) -> Block | None:
    spec = spec_fields(condition.spec, f"AlertCondition `{condition.name}` spec",
                       ("description", "severity", "condition"), diags)
    severity = spec.string("severity", required=True)
    body = spec.mapping("condition", required=True)
    if severity is None or body is None:
        return None
    fields = Fields(body, f"AlertCondition `{condition.name}` condition", CONDITION_FIELDS, diags, NOTE)
    kind, op = fields.string("kind", required=True), fields.string("op")
    threshold = fields.number("threshold", required=True)
    long = shorthand(fields.string("lookbackWindow", required=True), "lookbackWindow", diags)
    after_node = fields.string("alertAfter")   # optional: 0m by the v1 README and the Go SDK
    if after_node is not None and re.fullmatch(r"0+[smhdwMQY]?", after_node.text.strip()):
        after_node = None
    after = shorthand(after_node, "alertAfter", diags) if after_node is not None else None
    if kind is None or threshold is None or long is None or (after_node is not None and after is None) \
            or not _supported(kind, op, diags):
        return None
    items = [tree.attr("severity", tree.string(severity.text, severity.span), spec.where("severity")),
             tree.attr("burn_rate", tree.number(threshold[0], threshold[1].span), fields.where("threshold")),
             tree.attr("long", long, fields.where("lookbackWindow")),
             tree.attr("short", _short(long, after, diags), fields.where("alertAfter"))]
    return tree.block("tier", condition.name, items, condition.spec.span, condition.name_span, condition.name_span)


def _short(long: Value, after: Value | None, diags: list[Diagnostic]) -> Value:
    """`alertAfter` as the short window; when it is absent (0m), a twelfth of the lookback, the Workbook's ratio;
    when it is not shorter than the lookback, the same, with a warning."""
    if after is None or not after.data:
        return tree.duration_s(max(60, int(long.data // 12000)), long.span)  # type: ignore[operator]
    if after.data < long.data:  # type: ignore[operator]
        return after
    short = tree.duration_s(max(60, int(long.data // 12000)), after.span)  # type: ignore[operator]
    diags.append(dg.make("RELC610", f"`alertAfter` ({after.text}) is not shorter than `lookbackWindow` ({long.text}); "
                         f"relc uses a short window of {short.text}, a twelfth of it", after.span,
                         severity=dg.Severity.WARNING))
    return short


def _supported(kind: YNode, op: YNode | None, diags: list[Diagnostic]) -> bool:
    """Burn-rate conditions that fire above the threshold; without `op`, that is what a burn-rate alert means."""
    if kind.text != "burnrate":
        diags.append(dg.make("RELC608", f"alert condition kind `{kind.text}` cannot be compiled: relc alerts on "
                             "burn rates", kind.span, hint="use `kind: burnrate`"))
        return False
    if op is None:
        return True
    if op.text in ("lt", "lte"):
        diags.append(dg.make("RELC608", f"`op: {op.text}` alerts while the budget burns slowly, which relc's burn-rate "
                             "alerts cannot express", op.span, hint="budget-burn alerts use `op: gt`"))
        return False
    if op.text not in ("gt", "gte"):
        diags.append(dg.make("RELC609", f"`op` must be lt, lte, gt or gte, got {op.text!r}", op.span))
        return False
    return True


def _unique(tiers: list[Block]) -> list[Block]:
    """Tier names must be unique in a policy: a repeated condition name gets a numeric suffix."""
    seen: dict[str, int] = {}
    out = []
    for tier in tiers:
        count = seen.get(tier.label or "", 0)
        seen[tier.label or ""] = count + 1
        if count:
            tier = Block(tier.kind, f"{tier.label}-{count + 1}", tier.items, tier.span, tier.kind_span,
                         tier.label_span, tier.has_body)
        out.append(tier)
    return out

