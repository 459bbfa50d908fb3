"""Stage 3, validate: check every definition and reference, and build the IR when nothing is wrong."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir
from relc.compiler.diagnostics import Diagnostic, Related, Span
from relc.compiler.check.policies import (BUILTIN_POLICY, GUARD_KEYS, RESERVED_LABELS, WORKBOOK, AlertPolicySpec, read_alert_policy, read_annotations,
                       read_budget_policy, read_guards, read_runbook, resolve_tier)
from relc.compiler.check.dependencies import Written, check_dependencies, read_depends_on
from relc.compiler.check.grouping import check_raw_grouping, read_group_by
from relc.compiler.check.pyrra_policy import PYRRA_POLICY, pyrra_policy, reachable_tiers
from relc.compiler.check.windows import read_window
from relc.compiler.check.reader import Reader, Shape, check_name, origin
from relc.compiler.resolve.sources import SourceSet
from relc.compiler.check.sli import read_datadog, read_sli
from relc.compiler.syntax.tree import Attribute, Block, Import

TOP_LEVEL = ("service", "alert_policy", "budget_policy", "runbook")
PACK_KEYWORDS = ("pack", "param", "use")
SERVICE = Shape(frozenset({"description", "owner", "labels"}), frozenset({"slo"}), label="named")
SLO_SHAPE = Shape(frozenset({"description", "objective", "window", "labels", "alert_policy", "budget_policy",
                             "runbook", "alert_name", "disable_tiers", "depends_on", "group_by",
                             "timezone", "annotations"}) | GUARD_KEYS, frozenset({"sli"}),
                  label="named")
ALERT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*\Z")   # what Prometheus and Sloth accept, less spaces and quotes


@dataclass
class _Definitions:
    """Top-level definitions by kind and name, first definition wins."""

    blocks: dict[str, dict[str, Block]] = field(default_factory=lambda: {k: {} for k in TOP_LEVEL})
    alert_policies: dict[str, AlertPolicySpec] = field(default_factory=dict)
    budget_policies: dict[str, ir.BudgetPolicy] = field(default_factory=dict)
    runbooks: dict[str, ir.Runbook] = field(default_factory=dict)
    file_names: dict[str, Block] = field(default_factory=dict)  # services by file_key(name)
    written: dict[str, Written] = field(default_factory=dict)   # `service/slo` -> where its dependencies are


def file_key(name: str) -> str:
    """What a name is as a file name on macOS and Windows (case folded) and as an OpenSLO name (`_` is `-`)."""
    return name.casefold().replace("_", "-")


def _same_file_name(what: str, name: str, other: str, span: Span, other_span: Span) -> Diagnostic:
    return dg.make("RELC305", f"{what} `{name}` and `{other}` differ only in case or `-`/`_`", span,
                   hint="their output files collide on macOS and Windows, and their OpenSLO names are one; "
                        "rename one", related=(Related(other_span, f"`{other}` defined here"),))


def validate(sources: SourceSet) -> tuple[ir.Project | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    defs = _collect(sources, diags)
    for block in defs.blocks["alert_policy"].values():
        defs.alert_policies[block.label] = read_alert_policy(block, diags)  # type: ignore[index]
    for block in defs.blocks["budget_policy"].values():
        defs.budget_policies[block.label] = read_budget_policy(block, diags)  # type: ignore[index]
    for block in defs.blocks["runbook"].values():
        defs.runbooks[block.label] = read_runbook(block, diags)  # type: ignore[index]
    services = [s for s in (_service(b, defs, diags) for b in defs.blocks["service"].values()) if s]
    project = ir.Project(
        services=tuple(services),
        budget_policies=tuple(defs.budget_policies.values()),
        runbooks=tuple(defs.runbooks.values()),
    )
    if defs.written:
        check_dependencies(project, defs.written, diags)
    if dg.has_errors(diags):
        return None, diags
    return project, diags


def _collect(sources: SourceSet, diags: list[Diagnostic]) -> _Definitions:
    defs = _Definitions()
    for module in sources.modules:
        for item in module.items:
            if isinstance(item, Import):
                continue
            if isinstance(item, Attribute):
                diags.append(dg.make("RELC302", f"attribute `{item.key}` is not allowed at the top level",
                                     item.key_span, hint=f"top-level blocks: {', '.join(TOP_LEVEL)}"))
                continue
            _collect_block(item, defs, diags)
    return defs


def _collect_block(block: Block, defs: _Definitions, diags: list[Diagnostic]) -> None:
    if block.kind == "use":
        return  # resolved into the pack's modules by the resolve stage
    if block.kind in PACK_KEYWORDS:
        where = "inside a pack's `pack` block" if block.kind == "param" else "at the top of a pack directory"
        diags.append(dg.make("RELC313", f"`{block.kind}` belongs {where}", block.kind_span,
                             hint="see docs/packs.md"))
        return
    if block.kind not in TOP_LEVEL:
        hint = dg.did_you_mean(block.kind, TOP_LEVEL) or f"top-level blocks: {', '.join(TOP_LEVEL)}"
        diags.append(dg.make("RELC302", f"unknown block `{block.kind}`", block.kind_span, hint=hint))
        return
    what = block.kind.replace("_", " ")
    if block.label is None or not block.has_body:
        diags.append(dg.make("RELC304", f"{'an' if what[0] in 'aeiou' else 'a'} {what} needs a name and a body, e.g. `{block.kind} name {{ ... }}`",
                             block.kind_span))
        return
    if not check_name(block.label, block.label_span, what, diags):
        return
    table = defs.blocks[block.kind]
    if block.kind == "alert_policy" and block.label in (BUILTIN_POLICY, "none"):
        diags.append(dg.make("RELC305", f"`{block.label}` is a built-in alert policy name", block.label_span,
                             hint="choose another name"))
    elif block.label in table:
        first = table[block.label]
        diags.append(dg.make("RELC305", f"{what} `{block.label}` is defined twice", block.label_span,
                             related=(Related(first.label_span, "first defined here"),)))  # type: ignore[arg-type]
    else:
        table[block.label] = block
        if block.kind == "service":
            other = defs.file_names.setdefault(file_key(block.label), block)
            if other is not block:
                diags.append(_same_file_name(what, block.label, other.label, block.label_span,  # type: ignore[arg-type]
                                             other.label_span))  # type: ignore[arg-type]


def _service(block: Block, defs: _Definitions, diags: list[Diagnostic]) -> ir.Service | None:
    reader = Reader(block, SERVICE, diags)
    labels = reader.labels("labels", RESERVED_LABELS)
    slos: list[ir.SLO] = []
    seen: dict[str, Span] = {}
    folded: dict[str, Block] = {}
    for slo_block in reader.blocks("slo"):
        if slo_block.label is None or not check_name(slo_block.label, slo_block.label_span, "SLO", diags):
            if slo_block.label is None:
                diags.append(dg.make("RELC304", "an SLO needs a name, e.g. `slo availability { ... }`",
                                     slo_block.kind_span))
            continue
        if slo_block.label in seen:
            diags.append(dg.make("RELC305", f"SLO `{slo_block.label}` is defined twice in service `{block.label}`",
                                 slo_block.label_span, related=(Related(seen[slo_block.label], "first defined here"),)))
            continue
        seen[slo_block.label] = slo_block.label_span  # type: ignore[assignment]
        other = folded.setdefault(file_key(slo_block.label), slo_block)
        if other is not slo_block:
            diags.append(_same_file_name("SLO", slo_block.label, other.label, slo_block.label_span,  # type: ignore[arg-type]
                                         other.label_span))  # type: ignore[arg-type]
        slo = _slo(slo_block, block.label, labels, defs, diags)  # type: ignore[arg-type]
        if slo is not None:
            slos.append(slo)
    if not reader.blocks("slo"):
        diags.append(dg.make("RELC304", f"service `{block.label}` has no `slo` blocks", block.kind_span,
                             severity=dg.Severity.WARNING))
    return ir.Service(name=block.label, description=reader.string("description"),
                           owner=reader.string("owner"), labels=labels, slos=tuple(slos), origin=origin(block.span))


def _slo(block: Block, service: str, service_labels: dict[str, str], defs: _Definitions,
         diags: list[Diagnostic]) -> ir.SLO | None:
    reader = Reader(block, SLO_SHAPE, diags)
    objective = _objective(reader, diags)
    window = read_window(reader, diags)
    window_s = window.seconds if window is not None else None
    sli_blocks = reader.blocks("sli")
    sli = read_sli(sli_blocks[0], diags) if sli_blocks else None
    datadog = read_datadog(sli_blocks[0], diags) if sli_blocks else None
    if not sli_blocks:
        diags.append(dg.make("RELC304", f"SLO `{block.label}` is missing its `sli` block", block.kind_span,
                             hint="e.g. sli events { bad = ...  total = ... }"))
    for extra in sli_blocks[1:]:
        diags.append(dg.make("RELC314", "an SLO has exactly one `sli` block", extra.kind_span,
                             related=(Related(sli_blocks[0].kind_span, "first sli here"),)))
    labels = {**service_labels, **reader.labels("labels", RESERVED_LABELS)}
    group_by = read_group_by(reader, labels, diags)
    check_raw_grouping(sli, group_by, sli_blocks[0] if sli_blocks else None, diags)
    budget_policy = _lookup(reader, "budget_policy", defs.budget_policies, diags)
    runbook = _lookup(reader, "runbook", defs.runbooks, diags)
    alert_name = reader.string("alert_name", default=_camel(service) + _camel(block.label) + "BudgetBurn")
    if not ALERT_NAME.match(alert_name):
        diags.append(dg.make("RELC307", f"`{alert_name}` is not a valid alert name",
                             reader.attrs["alert_name"].value.span, hint="use letters, digits, `_`, `-`, `.` and `:`"))
    policy = _alert_policy(reader, defs, objective, window_s, diags)
    if isinstance(policy, ir.AlertPolicy) and policy.min_events and isinstance(sli, ir.RawSLI):
        where = reader.attrs["min_events"].value.span if "min_events" in reader.attrs else block.kind_span
        diags.append(dg.make("RELC312", "`min_events` needs an events or latency SLI; a raw error ratio has no "
                             "event count", where))
        return None
    depends_on, dep_spans = read_depends_on(reader, diags)
    if depends_on:
        objective_attr = reader.attrs.get("objective")
        defs.written[f"{service}/{block.label}"] = Written(block.label_span or block.kind_span,
                                                           objective_attr.value.span if objective_attr else None,
                                                           dep_spans)
    if objective is None or window is None or sli is None or policy is False:
        return None
    return ir.SLO(name=block.label, service=service, description=reader.string("description"),
                       objective=float(objective), window_s=window.seconds, calendar=window.calendar,
                       timezone=window.timezone, annotations=read_annotations(reader, diags), labels=dict(sorted(labels.items())), sli=sli,
                       alert_name=alert_name, alert_policy=policy, budget_policy=budget_policy, runbook=runbook,
                       datadog=datadog, depends_on=depends_on, group_by=group_by,
                       origin=origin(block.span))


def _objective(reader: Reader, diags: list[Diagnostic]) -> Decimal | None:
    objective = reader.percent("objective", required=True)
    if objective is None:
        return None
    if not Decimal(0) < objective < Decimal(1):
        value = reader.attrs["objective"].value
        hint = "a 100% objective leaves no error budget to alert on" if objective >= 1 else None
        diags.append(dg.make("RELC301", f"objective must be between 0% and 100% (exclusive), got {value.text}",
                             value.span, hint=hint))
        return None
    return objective


def _lookup(reader: Reader, key: str, table: dict, diags: list[Diagnostic]):
    value = reader.ref(key)
    if value is None:
        return None
    found = table.get(value.text)
    if found is None:
        what = key.replace("_", " ")
        hint = dg.did_you_mean(value.text, table) or (f"defined {what}s: {', '.join(sorted(table))}" if table
                                                      else f"no {what} is defined")
        diags.append(dg.make("RELC306", f"unknown {what} `{value.text}`", value.span, hint=hint))
    return found


def _alert_policy(reader: Reader, defs: _Definitions, objective: Decimal | None, window_s: int | None,
                  diags: list[Diagnostic]) -> ir.AlertPolicy | None | bool:
    """The SLO's policy with tiers resolved for its window; None means no alerts, False means an error."""
    value = reader.ref("alert_policy")
    slo_guards = read_guards(reader, diags)
    if value is not None and value.text == "none":
        for key in sorted(GUARD_KEYS & set(reader.attrs)):
            diags.append(dg.make("RELC302", f"`{key}` has no effect with `alert_policy = none`",
                                 reader.attrs[key].key_span, severity=dg.Severity.WARNING))
        return None
    spec = WORKBOOK
    if value is not None and value.text == PYRRA_POLICY and PYRRA_POLICY not in defs.alert_policies:
        spec = pyrra_policy(window_s or 0)
    elif value is not None and value.text != BUILTIN_POLICY:
        spec = defs.alert_policies.get(value.text)  # type: ignore[assignment]
        if spec is None:
            known = list(defs.alert_policies) + [BUILTIN_POLICY, PYRRA_POLICY, "none"]
            diags.append(dg.make("RELC306", f"unknown alert policy `{value.text}`", value.span,
                                 hint=dg.did_you_mean(value.text, known) or f"alert policies: {', '.join(known)}"))
            return False
    if objective is None or window_s is None:
        return False
    objective_span = reader.attrs["objective"].value.span
    if spec.name == PYRRA_POLICY and spec.origin is None:
        spec, dropped = reachable_tiers(spec, objective)
        diags.extend(dg.make("RELC311", f"Pyrra's `{t.name}` tier fires above {t.burn_rate}x, which an objective of "
                             f"{reader.attrs['objective'].value.text} can never reach; relc leaves it out",
                             objective_span, severity=dg.Severity.WARNING) for t in dropped)
    window_span = reader.attrs["window"].value.span if "window" in reader.attrs else reader.block.label_span
    before = len(diags)
    disabled = _disabled_tiers(reader, spec, diags)
    tiers = [resolve_tier(t, window_s, objective, objective_span, window_span, diags) for t in spec.tiers
             if t.name not in disabled]
    if len(diags) > before:
        return False
    guards = {**spec.guards, **slo_guards}
    return ir.AlertPolicy(name=spec.name, description=spec.description, tiers=tuple(t for t in tiers if t),
                               labels=spec.labels, annotations=spec.annotations, origin=spec.origin, **guards)


def _disabled_tiers(reader: Reader, spec: AlertPolicySpec, diags: list[Diagnostic]) -> set[str]:
    """`disable_tiers = ["ticket-slow"]` drops tiers of the policy for this SLO only."""
    names = reader.strings("disable_tiers")
    known = [t.name for t in spec.tiers]
    for name in names:
        if name not in known:
            diags.append(dg.make("RELC306", f"alert policy `{spec.name}` has no tier `{name}`",
                                 reader.attrs["disable_tiers"].value.span,
                                 hint=dg.did_you_mean(name, known) or f"tiers: {', '.join(known)}"))
    return set(names)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", name) if part)
