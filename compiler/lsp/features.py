"""Hover, definition, references, completion and outline, as plain data: the server turns them into LSP types.

Positions here are the compiler's, 1-based lines and columns; the server converts from and to the protocol's.
"""
from __future__ import annotations

from dataclasses import dataclass

from relc.compiler.diagnostics import Span
from relc.compiler.lsp.analysis import BUILTIN_POLICIES, REFERENCE_KEYS, Analysis, node_at
from relc.compiler.model import ir
from relc.compiler.syntax.tree import Attribute, Block, Module, Value

TOP_LEVEL = ("service", "alert_policy", "budget_policy", "runbook", "import", "use", "pack")


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str          # service, slo, alert_policy, budget_policy, runbook, tier
    span: Span         # the whole block
    name_span: Span
    children: tuple["Symbol", ...] = ()


def hover(analysis: Analysis, module: Module, line: int, col: int) -> str | None:
    """Markdown for what is under the cursor: an SLO's budget math, a tier's factor and timing, a reference's
    definition."""
    chain = node_at(module, line, col)
    if not chain:
        return None
    ref = _reference(chain)
    if ref is not None:
        return _definition_text(analysis, *ref)
    blocks = [n for n in chain if isinstance(n, Block)]
    if blocks and blocks[-1].kind == "tier":
        policy = next((b for b in reversed(blocks) if b.kind == "alert_policy"), None)
        return _tier_text(analysis, policy.label if policy else "", blocks[-1].label or "")
    slo_block = next((b for b in reversed(blocks) if b.kind == "slo"), None)
    service = next((b for b in blocks if b.kind == "service"), None)
    if slo_block is not None and service is not None and analysis.project is not None:
        slo = analysis.project.find(f"{service.label}/{slo_block.label}")
        return _slo_text(analysis.project, slo) if slo is not None else None
    return None


def definition(analysis: Analysis, module: Module, line: int, col: int) -> Span | None:
    ref = _reference(node_at(module, line, col))
    return analysis.definitions.get(ref) if ref is not None else None


def references(analysis: Analysis, module: Module, line: int, col: int) -> list[Span]:
    """Every use of the name under the cursor (a reference or a definition's label), the definition first."""
    chain = node_at(module, line, col)
    target = _reference(chain) or _defined_here(chain, line, col)
    if target is None:
        return []
    found = [analysis.definitions[target]] if target in analysis.definitions else []
    return found + analysis.uses.get(target, [])


def completions(analysis: Analysis, module: Module, line: int, col: int, prefix_line: str) -> list[tuple[str, str]]:
    """(label, kind) pairs valid at the cursor: a referenced name after `alert_policy =` and friends, an
    attribute or block name inside a block, a top-level block kind outside one."""
    from relc.compiler.check.policies import ALERT_POLICY, BUDGET_POLICY, RUNBOOK, STEP, THRESHOLD, TIER
    from relc.compiler.check.sli import SLI_SHAPES as SHAPES
    from relc.compiler.check.validate import SERVICE, SLO_SHAPE

    before = prefix_line.rstrip()
    for key, kind in REFERENCE_KEYS.items():
        if before.endswith(f"{key} =") or before.endswith(f"{key}="):
            names = sorted(n for k, n in analysis.definitions if k == kind)
            extra = list(BUILTIN_POLICIES) if kind == "alert_policy" else []
            return [(n, "reference") for n in names + extra]
    if "depends_on" in before:
        return [(n, "reference") for k, n in sorted(analysis.definitions) if k == "slo"]
    blocks = [n for n in node_at(module, line, col) if isinstance(n, Block)]
    if not blocks:
        return [(k, "keyword") for k in TOP_LEVEL]
    shapes = {"service": SERVICE, "slo": SLO_SHAPE, "alert_policy": ALERT_POLICY, "tier": TIER,
              "budget_policy": BUDGET_POLICY, "threshold": THRESHOLD, "runbook": RUNBOOK, "step": STEP}
    inner = blocks[-1]
    shape = SHAPES.get(inner.label or "") if inner.kind == "sli" else shapes.get(inner.kind)
    if shape is None:
        return []
    return ([(a, "property") for a in sorted(shape.attrs)] + [(b, "keyword") for b in sorted(shape.blocks)])


def symbols(module: Module) -> list[Symbol]:
    """The outline: services with their SLOs, policies with their tiers, runbooks."""
    out = []
    for item in module.items:
        if not isinstance(item, Block) or item.label is None:
            continue
        children = tuple(Symbol(c.label, c.kind, c.span, c.label_span or c.kind_span) for c in item.items
                         if isinstance(c, Block) and c.label and c.kind in ("slo", "tier"))
        out.append(Symbol(item.label, item.kind, item.span, item.label_span or item.kind_span, children))
    return out


def format_document(text: str, path: str) -> str | None:
    """`relc fmt`'s text for the document; None when it does not parse (the diagnostics say why)."""
    from relc.compiler.commands.fmt import format_source

    formatted, _ = format_source(text, path)
    return formatted


def _reference(chain: list) -> tuple[str, str] | None:
    """(kind, name) of the reference under the cursor, if the innermost node is one."""
    attrs = [n for n in chain if isinstance(n, Attribute)]
    values = [n for n in chain if isinstance(n, Value)]
    if not attrs or not values:
        return None
    attr, value = attrs[-1], values[-1]
    if attr.key in REFERENCE_KEYS and value.kind == "ref":
        return REFERENCE_KEYS[attr.key], value.text
    if value.kind == "slo_ref":
        return "slo", value.text
    return None


def _defined_here(chain: list, line: int, col: int) -> tuple[str, str] | None:
    blocks = [n for n in chain if isinstance(n, Block)]
    if not blocks:
        return None
    inner = blocks[-1]
    span = inner.label_span
    if inner.label is None or span is None or not (span.line == line and span.col <= col <= span.end_col):
        return None
    if inner.kind == "slo" and len(blocks) > 1:
        return "slo", f"{blocks[-2].label}/{inner.label}"
    return inner.kind, inner.label


def _definition_text(analysis: Analysis, kind: str, name: str) -> str | None:
    if kind == "alert_policy" and name in BUILTIN_POLICIES:
        return {"workbook": "Built-in `workbook` policy: the SRE Workbook's page (2%/1h, 5%/6h) and ticket (10%/1d, "
                            "10%/3d) tiers.",
                "pyrra": "Built-in `pyrra` policy: Pyrra's 14x, 7x, 2x and 1x tiers, scaled to the SLO's window.",
                "none": "No burn-rate or no-data alerts for this SLO."}[name]
    span = analysis.definitions.get((kind, name))
    if span is None:
        return f"`{name}`: not defined in this project"
    try:
        with open(span.path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    shown = "\n".join(lines[span.line - 1:span.line + 5])
    return f"```relc\n{shown}\n```\n{span.path}:{span.line}"


def _slo_text(project: ir.Project, slo: ir.SLO) -> str:
    from relc.compiler.commands.explain import facts, slo_math

    math = slo_math(slo, project)
    rows = "\n".join(f"- **{k}**: {v}" for k, v in facts(math))
    return f"**{slo.service}/{slo.name}**\n\n{rows}"


def _tier_text(analysis: Analysis, policy: str, tier: str) -> str | None:
    """The tier as the first SLO that uses its policy sees it: factor, thresholds and detection time."""
    from relc.compiler.commands.explain import tier_math
    from relc.compiler.units import human_duration

    if analysis.project is None:
        return None
    for slo in analysis.project.slos():
        found = next((t for t in slo.alert_policy.tiers if t.name == tier), None) \
            if slo.alert_policy is not None and slo.alert_policy.name == policy else None
        if found is not None:
            m = tier_math(slo, found)
            return (f"**tier {tier}** ({found.severity}) for {slo.service}/{slo.name}: fires above "
                    f"{m['burn_rate']}x the sustainable burn rate ({float(m['error_rate']) * 100:g}% errors) over "
                    f"{human_duration(found.long_window_s)} and {human_duration(found.short_window_s)}; "
                    f"{float(m['budget_consumed']) * 100:g}% of the budget is spent when it fires; a total outage "
                    f"is detected in {human_duration(int(float(m['detect_total_outage_s'])))}.")
    return f"**tier {tier}**: no SLO uses policy `{policy}` yet"
