"""Sloth's alerting block as a relc alert policy: the Workbook's page and ticket tiers, with Sloth's severities,
and each alert's own labels and annotations on its own tiers (Sloth's `page_alert` and `ticket_alert`)."""
from __future__ import annotations

import re

from relc.compiler import diagnostics as dg
from relc.compiler.check.policies import WORKBOOK, WORKBOOK_WINDOW_S, scaled_tier
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.resolve.importers import tree
from relc.compiler.resolve.importers.fields import Fields
from relc.compiler.resolve.import_settings import ImportSettings
from relc.compiler.resolve.importers.yamlpos import YNode
from relc.compiler.syntax.tree import Block
from relc.compiler.units import prom_duration

IGNORED = "Sloth ignores it, and so does relc"


RENAMED = ("service", "slo", "alert_tier")   # alert labels relc sets itself: kept as exported_<name>


def read_alerting(slo: Fields, service: str, name: str, names: dict, diags: list[Diagnostic], items: list,
                  settings: ImportSettings) -> Block | None:
    """alert_name and alert_policy attributes for one SLO, plus the policy block it needs, if any."""
    node = slo.mapping("alerting")
    if node is None:
        items.append(tree.attr("alert_policy", tree.ref("none", tree.point(slo.span)), tree.point(slo.span)))
        return None
    alerting = Fields(node, "Sloth alerting", ("name", "labels", "annotations", names["page_alert"],
                                               names["ticket_alert"]), diags, IGNORED)
    page = _Alert(alerting, names["page_alert"], "page", diags)
    ticket = _Alert(alerting, names["ticket_alert"], "ticket", diags)
    if page.disabled and ticket.disabled:
        items.append(tree.attr("alert_policy", tree.ref("none", page.disable_span), page.disable_span))
        return None
    alert_name = alerting.string("name")
    if alert_name is not None:
        items.append(tree.attr("alert_name", tree.string(alert_name.text, alert_name.span), alerting.where("name")))
    labels = _renamed(alerting.string_pairs("labels"), diags)
    common = [(k, v) for k, v in labels if k.text != "severity"]
    default = next((v for k, v in labels if k.text == "severity"), None)
    enabled = [a for a in (page, ticket) if not a.disabled]
    for alert in enabled:
        alert.severity = alert.severity or default
        alert.extras = _renamed(alert.extras, diags)
    shared = _shared_extras(enabled)  # what every enabled alert sets alike goes on the policy
    kept = {(k.text, v.text) for k, v in shared}
    for alert in enabled:
        alert.extras = [(k, v) for k, v in alert.extras if (k.text, v.text) not in kept]
    common += shared
    annotations = alerting.string_pairs("annotations")
    defaults = _sloth_annotations(service, name, {k.text for k, _ in annotations}, enabled)
    custom = (common or annotations or defaults or len(enabled) == 1 or settings.sloth_labels
              or any(a.severity is not None or a.extras or a.annotations for a in enabled))
    if not custom:
        return None
    policy_name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{service}-{name}")
    policy_name = policy_name if policy_name[:1].isalpha() else f"sloth-{policy_name}"
    items.append(tree.attr("alert_policy", tree.ref(policy_name, node.span), alerting.where("name")))
    scaling_note(settings, alerting.where("name") if alerting.has("name") else tree.point(node.span), diags)
    return _policy(policy_name, node, common, annotations, enabled, alerting, defaults, settings)


def _renamed(labels: list, diags: list[Diagnostic]) -> list:
    """Alert labels relc sets itself (`service`, ...) kept under `exported_<name>`, as Prometheus renames a
    target label that clashes with its own, and said once each."""
    out = []
    for key, value in labels:
        if key.text in RENAMED:
            diags.append(dg.make("RELC610", f"alert label `{key.text}` is one relc sets itself (`service` is the "
                                 f"service's name); it is kept as `exported_{key.text}`", key.span,
                                 severity=dg.Severity.WARNING,
                                 hint=f"route on `exported_{key.text}` in Alertmanager, or drop the label"))
            key = YNode("scalar", f"exported_{key.text}", key.span)  # type: ignore[call-arg]
        out.append((key, value))
    return out


def _sloth_annotations(service: str, slo: str, given: set[str], enabled: list) -> dict:
    """Sloth's default `title` (per alert) and `summary`, with the service and SLO names Sloth's templates
    would fill in, where the spec leaves them to Sloth."""
    out = {}
    for alert in enabled:
        own = {k.text for k, _ in alert.annotations} | given
        texts = {}
        if "title" not in own:
            texts["title"] = f"({alert.kind}) {service} {slo} SLO error budget burn rate is too fast."
        if "summary" not in own:
            texts["summary"] = f"{service} {slo} SLO error budget burn rate is over expected."
        if texts:
            out[alert.kind] = texts
    return out


class _Alert:
    """page_alert or ticket_alert: whether it is on, its severity label, and its other labels and annotations."""

    def __init__(self, alerting: Fields, key: str, kind: str, diags: list[Diagnostic]):
        self.kind = kind
        node = alerting.mapping(key)
        fields = Fields(node, f"Sloth {key}", ("disable", "labels", "annotations"), diags, IGNORED)
        self.disabled = bool(fields.boolean("disable")) if node is not None else False
        self.disable_span = fields.where("disable") if node is not None else alerting.where(key)
        labels = fields.string_pairs("labels") if node is not None else []
        self.severity = next((v for k, v in labels if k.text == "severity"), None)
        self.extras = [(k, v) for k, v in labels if k.text != "severity"]
        self.annotations = fields.string_pairs("annotations") if node is not None else []


def _shared_extras(enabled: list[_Alert]) -> list[tuple[YNode, YNode]]:
    """Labels every enabled alert sets to the same value: relc can put those on the whole policy."""
    if not enabled:
        return []
    first = enabled[0].extras
    others = [{(k.text, v.text) for k, v in a.extras} for a in enabled[1:]]
    return [(k, v) for k, v in first if all((k.text, v.text) in o for o in others)]


def _policy(name: str, node: YNode, labels: list, annotations: list, enabled: list[_Alert], alerting: Fields,
            defaults: dict, settings: ImportSettings) -> Block:
    """The workbook tiers of the enabled alerts, with Sloth's severities; labels and annotations every alert has
    go on the policy, an alert's own on its tiers (a tier's win over the policy's, as in Sloth)."""
    items = []
    if labels:
        items.append(tree.attr("labels", tree.string_map(labels, node.span), alerting.where("labels")))
    if annotations:
        where = alerting.where("annotations")
        items.append(tree.attr("annotations", tree.string_map(annotations, where), where))
    for alert in enabled:
        severity = alert.severity.text if alert.severity is not None else alert.kind
        where = alert.severity.span if alert.severity is not None else tree.point(node.span)
        own_labels = list(alert.extras)
        if settings.sloth_labels:
            own_labels.append((YNode("scalar", "sloth_severity", where), YNode("scalar", alert.kind, where)))
        own_notes = [(YNode("scalar", k, where), YNode("scalar", v, where))  # type: ignore[call-arg]
                     for k, v in defaults.get(alert.kind, {}).items()] + list(alert.annotations)
        for tier in (t for t in WORKBOOK.tiers if t.severity == alert.kind):
            scaled = scaled_tier(tier, settings.sloth_period_s)
            share = (tree.attr("budget", tree.percent(tier.budget * 100, where), where) if scaled is tier  # type: ignore
                     else tree.attr("burn_rate", tree.number(scaled.burn_rate, where), where))  # type: ignore[arg-type]
            tier_items = [tree.attr("severity", tree.string(severity, where), where), share,
                          tree.attr("long", tree.duration_s(scaled.long_s, where), where),
                          tree.attr("short", tree.duration_s(scaled.short_s, where), where)]
            if own_labels:
                tier_items.append(tree.attr("labels", tree.string_map(own_labels, where), where))
            if own_notes:
                tier_items.append(tree.attr("annotations", tree.string_map(own_notes, where), where))
            items.append(tree.block("tier", tier.name, tier_items, where))
    return tree.block("alert_policy", name, items, node.span, alerting.where("name"), tree.point(node.span))


def scaling_note(settings: ImportSettings, where, diags: list[Diagnostic]) -> None:
    """Below 30d Sloth keeps the Workbook's windows, so its slowest ticket fires under 1x (0.93x at 28d), while
    the SLO is met; relc keeps the Workbook's factors and shortens the windows instead, and says so."""
    if settings.sloth_period_s < WORKBOOK_WINDOW_S:
        slowest = scaled_tier(WORKBOOK.tiers[-1], settings.sloth_period_s)
        diags.append(dg.make("RELC610", f"at a {prom_duration(settings.sloth_period_s)} period Sloth's ticket tier "
                             f"fires above {float(WORKBOOK.tiers[-1].budget * settings.sloth_period_s / WORKBOOK.tiers[-1].long_s):.2f}x, "
                             "while the SLO is still met; relc keeps the Workbook's factors and shortens the windows "
                             f"in proportion (the slowest tier: 1x over {prom_duration(slowest.long_s)}/"
                             f"{prom_duration(slowest.short_s)})", where, severity=dg.Severity.WARNING))
