"""Sloth specs (prometheus/v1 and the PrometheusServiceLevel CRD) as relc syntax trees.

Sloth's default SLO period is 30d (its `--default-slo-period`: relc.yaml `sloth.default_slo_period`, or
`relc import sloth --default-slo-period`), its default alert windows are the SRE Workbook's, which is relc's
built-in `workbook` policy; `{{.window}}` in queries is relc's `$window`; queries that all aggregate
`by (...)` make a grouped SLO, one alert per group as in Sloth.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.syntax.tree import Attribute, Block, Value
from relc.compiler.units import parse_duration_ms
from relc.compiler.resolve.importers import tree
from relc.compiler.resolve.importers.fields import Fields
from relc.compiler.resolve.import_settings import DEFAULT, ImportSettings
from relc.compiler.resolve.importers.sloth_alerts import read_alerting
from relc.compiler.resolve.importers.yamlpos import YNode

WINDOW_TEMPLATE = re.compile(r"\{\{-?\s*\.window\s*-?\}\}")
PLAIN = {"error_query": "error_query", "total_query": "total_query", "error_ratio_query": "error_ratio_query",
         "page_alert": "page_alert", "ticket_alert": "ticket_alert", "slo_plugins": "slo_plugins"}
K8S = {"error_query": "errorQuery", "total_query": "totalQuery", "error_ratio_query": "errorRatioQuery",
       "page_alert": "pageAlert", "ticket_alert": "ticketAlert", "slo_plugins": "sloPlugins"}
# Plugins that do not change what an SLO means: the default rule generators and a logger.
NEUTRAL_PLUGINS = {"sloth.dev/core/debug/v1", "sloth.dev/core/sli_rules/v1", "sloth.dev/core/metadata_rules/v1",
                   "sloth.dev/core/alert_rules/v1"}
IGNORED = "Sloth ignores it, and so does relc"


@dataclass
class SlothService:
    """One Sloth document's service: merged with others of the same name by `service_blocks`."""

    name: str
    name_span: Span
    kind_span: Span
    span: Span
    labels: list[tuple[YNode, YNode]]
    labels_attr: Attribute | None
    slos: list[Block] = field(default_factory=list)
    policies: list[Block] = field(default_factory=list)


def read_document(doc: YNode, k8s: bool, diags: list[Diagnostic],
                  settings: ImportSettings = DEFAULT) -> SlothService | None:
    """A prometheus/v1 document, or a PrometheusServiceLevel manifest when `k8s`."""
    names = K8S if k8s else PLAIN
    if k8s:
        top = Fields(doc, "PrometheusServiceLevel", ("apiVersion", "kind", "metadata", "spec", "status"), diags,
                     IGNORED)
        spec = top.mapping("spec", required=True)
        if spec is None:
            return None
        fields = Fields(spec, "PrometheusServiceLevel spec", ("service", "labels", "sloPlugins", "slos"), diags,
                        IGNORED)
    else:
        fields = Fields(doc, "Sloth spec", ("version", "service", "labels", "slo_plugins", "slos"), diags, IGNORED)
    service = fields.string("service", required=True)
    _check_plugins(fields, names["slo_plugins"], diags)
    slos = fields.sequence("slos")
    if slos is None or not slos.items:
        if "slos" not in fields.values or slos is not None:
            fields.missing("slos", hint="a Sloth spec declares at least one SLO under `slos`")
        return None
    if service is None:
        return None
    labels_node, labels = fields.mapping("labels"), fields.string_pairs("labels")
    labels_attr = (tree.attr("labels", tree.string_map(labels, labels_node.span), fields.where("labels"))
                   if labels_node is not None and labels else None)
    part = SlothService(service.text, service.span, fields.where("service"), doc.span, labels, labels_attr)
    for item in slos.items:
        if item.kind != "map":
            diags.append(dg.make("RELC605", f"each entry of `slos` must be a mapping, got {item.describe()}",
                                 item.span))
            continue
        _read_slo(item, part, names, diags, settings)
    return part


def _read_slo(node: YNode, part: SlothService, names: dict, diags: list[Diagnostic],
              settings: ImportSettings) -> None:
    fields = Fields(node, "Sloth SLO", ("name", "description", "objective", "plugins", "labels", "sli", "alerting"),
                    diags, IGNORED)
    name = fields.string("name", required=True)
    objective = fields.number("objective", required=True)
    _check_plugins(fields, "plugins", diags)
    sli = _read_sli(fields, names, diags)
    if name is None or objective is None or sli is None:
        return
    items = []
    description = fields.string("description")
    if description is not None:
        items.append(tree.attr("description", tree.string(description.text, description.span),
                               fields.where("description")))
    items.append(tree.attr("objective", tree.percent(objective[0], objective[1].span), fields.where("objective")))
    items.append(tree.attr("window", tree.duration_s(settings.sloth_period_s, tree.point(node.span)),
                           tree.point(node.span)))
    labels = fields.mapping("labels")
    pairs = fields.string_pairs("labels") if labels is not None else []
    if settings.sloth_labels:  # Sloth's own labels on every series and alert, as its rules carry them
        at = tree.point(node.span)
        pairs += [(YNode("scalar", key, at), YNode("scalar", value, at)) for key, value in (
            ("sloth_id", f"{part.name}-{name.text}"), ("sloth_service", part.name), ("sloth_slo", name.text))]
    if pairs:
        items.append(tree.attr("labels", tree.string_map(pairs, labels.span if labels is not None else node.span),
                               fields.where("labels")))
    group_by = _group_by(sli)
    if group_by is not None:
        items.append(group_by)
    policy = read_alerting(fields, part.name, name.text, names, diags, items, settings)
    items.append(sli)
    part.slos.append(tree.block("slo", name.text, items, node.span, tree.point(node.span), name.span))
    if policy is not None:
        part.policies.append(policy)


def _read_sli(slo: Fields, names: dict, diags: list[Diagnostic]) -> Block | None:
    node = slo.mapping("sli", required=True)
    if node is None:
        return None
    sli = Fields(node, "Sloth SLI", ("raw", "events", "plugin"), diags, IGNORED)
    present = [k for k in ("events", "raw", "plugin") if sli.has(k)]
    if len(present) != 1:
        message = ("a Sloth SLI needs one of `events`, `raw` or `plugin`" if not present else
                   f"a Sloth SLI has exactly one of `events`, `raw` or `plugin`, not {' and '.join(present)}")
        diags.append(dg.make("RELC606" if not present else "RELC609", message, slo.where("sli")))
        return None
    kind = present[0]
    body = sli.mapping(kind)
    if body is None:
        return None
    if kind == "plugin":
        _plugin_sli(Fields(body, "Sloth SLI plugin", ("id", "options"), diags, IGNORED), diags)
        return None
    if kind == "raw":
        raw = Fields(body, "Sloth raw SLI", (names["error_ratio_query"],), diags, IGNORED)
        ratio = _query(raw, names["error_ratio_query"])
        if ratio is None:
            return None
        items = [tree.attr("error_ratio", ratio, raw.where(names["error_ratio_query"]))]
    else:
        events = Fields(body, "Sloth events SLI", (names["error_query"], names["total_query"]), diags, IGNORED)
        bad, total = _query(events, names["error_query"]), _query(events, names["total_query"])
        if bad is None or total is None:
            return None
        items = [tree.attr("bad", bad, events.where(names["error_query"])),
                 tree.attr("total", total, events.where(names["total_query"]))]
    return tree.block("sli", kind, items, node.span, slo.where("sli"), sli.where(kind))


def _group_by(sli: Block):
    """Queries that all aggregate `by (host)` make one SLO per host, as Sloth's alerts fire per host."""
    from relc.compiler.check.grouping import outer_grouping

    found = {outer_grouping(a.value.data) for a in sli.items if isinstance(a, Attribute)}
    if len(found) != 1:
        return None
    (labels,) = found
    if not labels:
        return None
    names = tuple(Value("ref", (label,), sli.span, label) for label in labels)
    return tree.attr("group_by", Value("list", names, sli.span), tree.point(sli.span))


def _query(fields: Fields, key: str):
    node = fields.string(key, required=True, hint="Sloth queries use `{{.window}}` where the range goes")
    if node is None:
        return None
    return tree.raw(WINDOW_TEMPLATE.sub("$window", node.text.strip()), node.span)


def _plugin_sli(plugin: Fields, diags: list[Diagnostic]) -> None:
    ident = plugin.string("id")
    name = f"`{ident.text}` " if ident is not None else ""
    diags.append(dg.make(
        "RELC608", f"Sloth plugin SLIs cannot be compiled: plugin {name}builds its PromQL in Go code that relc "
        "does not run", ident.span if ident is not None else plugin.span,
        hint="run `sloth generate` to see the queries the plugin writes, then use `sli.events` or `sli.raw` "
             "with them"))


def _check_plugins(fields: Fields, key: str, diags: list[Diagnostic]) -> None:
    """SLO plugins rewrite Sloth's generated rules; only the neutral ones can be dropped without changing meaning."""
    node = fields.mapping(key)
    if node is None:
        return
    plugins = Fields(node, "Sloth SLO plugins", ("overridePrevious", "chain"), diags, IGNORED)
    chain = plugins.sequence("chain")
    for item in chain.items if chain is not None else ():
        entry = Fields(item, "Sloth SLO plugin", ("id", "config", "priority"), diags, IGNORED)
        ident = entry.string("id", required=True)
        if ident is not None and ident.text not in NEUTRAL_PLUGINS:
            diags.append(dg.make(
                "RELC608", f"Sloth SLO plugin `{ident.text}` cannot be compiled: it rewrites Sloth's rules in Go "
                "code that relc does not run", ident.span,
                hint="remove it and express its effect in relc (labels, an alert_policy); the core debug and "
                     "rule plugins are accepted and have no effect"))


def service_blocks(parts: list[SlothService]) -> list[tuple[SlothService, Block]]:
    """One service block per service name; labels that differ between documents move down to their SLOs."""
    groups: dict[str, list[SlothService]] = {}
    for part in parts:
        groups.setdefault(part.name, []).append(part)
    out = []
    for group in groups.values():
        first = group[0]
        same = len({tuple((k.text, v.text) for k, v in p.labels) for p in group}) == 1
        items: list = [first.labels_attr] if same and first.labels_attr is not None else []
        owners = {v.text: v for p in group for k, v in p.labels if k.text == "owner"}
        if len(owners) == 1 and all(any(k.text == "owner" for k, _ in p.labels) for p in group):
            (owner,) = owners.values()  # Sloth's `labels.owner` is who owns the service: relc's `owner`
            items.insert(0, tree.attr("owner", tree.string(owner.text, owner.span), owner.span))
        for part in group:
            items.extend(part.slos if same else [_push_labels(s, part) for s in part.slos])
        out.append((first, tree.block("service", first.name, items, first.span, first.kind_span, first.name_span)))
        out.extend((part, policy) for part in group for policy in part.policies)
    return out


def _push_labels(slo: Block, part: SlothService) -> Block:
    """The document's service labels merged under the SLO's own labels (the SLO's value wins)."""
    if part.labels_attr is None:
        return slo
    own = next((i for i in slo.items if isinstance(i, Attribute) and i.key == "labels"), None)
    own_entries = tuple(own.value.data) if own is not None else ()  # type: ignore[arg-type]
    own_keys = {e.key for e in own_entries}
    inherited = tuple(e for e in part.labels_attr.value.data if e.key not in own_keys)  # type: ignore[union-attr]
    where = own if own is not None else part.labels_attr
    merged = tree.attr("labels", Value("map", inherited + own_entries, where.value.span), where.key_span)
    items = [merged if i is own else i for i in slo.items] if own is not None else [merged, *slo.items]
    return tree.replace_items(slo, items)


def window_policy(doc: YNode, name: str, diags: list[Diagnostic]) -> Block | None:
    """A Sloth AlertWindows manifest as an alert_policy: same budget shares and windows, named after its file."""
    top = Fields(doc, "AlertWindows", ("apiVersion", "kind", "metadata", "spec"), diags, IGNORED)
    spec = top.mapping("spec", required=True)
    if spec is None:
        return None
    fields = Fields(spec, "AlertWindows spec", ("sloPeriod", "page", "ticket"), diags, IGNORED)
    tiers = []
    for severity in ("page", "ticket"):
        group = fields.mapping(severity, required=True)
        windows = Fields(group, f"AlertWindows {severity}", ("quick", "slow"), diags, IGNORED)
        for speed, suffix in (("quick", "fast"), ("slow", "slow")):
            tier = _window_tier(windows, speed, f"{severity}-{suffix}", severity, diags) if group else None
            tiers.append(tier)
    if any(t is None for t in tiers):
        return None
    period = fields.string("sloPeriod")
    text = f"Sloth AlertWindows for a {period.text} SLO period" if period else "Sloth AlertWindows"
    items = [tree.attr("description", tree.string(text, spec.span), fields.where("sloPeriod")), *tiers]
    return tree.block("alert_policy", name, items, doc.span, top.where("kind"), tree.point(doc.span))


def _window_tier(windows: Fields, speed: str, name: str, severity: str, diags: list[Diagnostic]) -> Block | None:
    node = windows.mapping(speed, required=True)
    if node is None:
        return None
    fields = Fields(node, f"AlertWindows {severity}.{speed}", ("errorBudgetPercent", "shortWindow", "longWindow"),
                    diags, IGNORED)
    budget = fields.number("errorBudgetPercent", required=True)
    short, long = duration(fields, "shortWindow", diags), duration(fields, "longWindow", diags)
    if budget is None or short is None or long is None:
        return None
    items = [tree.attr("severity", tree.string(severity, node.span), tree.point(node.span)),
             tree.attr("budget", tree.percent(budget[0], budget[1].span), fields.where("errorBudgetPercent")),
             tree.attr("long", long, fields.where("longWindow")),
             tree.attr("short", short, fields.where("shortWindow"))]
    return tree.block("tier", name, items, node.span, windows.where(speed))


PROM_DURATION = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|y))+\Z")


def duration(fields: Fields, key: str, diags: list[Diagnostic]):
    """A Prometheus duration such as 5m or 1h30m, as a relc duration value."""
    node = fields.string(key, required=True)
    if node is None:
        return None
    if not PROM_DURATION.match(node.text):
        diags.append(dg.make("RELC609", f"`{key}` must be a duration like 5m, 1h or 3d, got {node.text!r}",
                             node.span))
        return None
    return Value("duration", parse_duration_ms(node.text), node.span, node.text)
