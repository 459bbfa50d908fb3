"""`group_by`: one SLO per value of some labels, as Sloth's `by (...)` and Pyrra's `grouping` say.

The labels must be label names relc does not set itself, must not collide with the SLO's own labels, and a raw
PromQL query that already aggregates `by (...)` must name the same labels (else the recorded series would not
carry them, or would carry others).
"""
from __future__ import annotations

from relc.compiler import diagnostics as dg
from relc.compiler.check.promql import LABEL_NAME
from relc.compiler.check.reader import Reader
from relc.compiler.diagnostics import Diagnostic, Related
from relc.compiler.model import ir
from relc.compiler.syntax.tree import Attribute, Block

RESERVED = ("le", "__name__")


def read_group_by(reader: Reader, labels: dict[str, str], diags: list[Diagnostic]) -> tuple[str, ...]:
    """The label names of `group_by = [a, b]` (names or strings), checked one by one."""
    attr = reader.attrs.get("group_by")
    if attr is None:
        return ()
    items = attr.value.data if attr.value.kind == "list" else None
    if items is None or not items:
        diags.append(dg.make("RELC303", "`group_by` must be a non-empty list of label names", attr.value.span,
                             hint="e.g. group_by = [tenant, route]"))
        return ()
    found: dict[str, object] = {}
    for item in items:  # type: ignore[union-attr]
        name = item.text if item.kind == "ref" and len(item.data) == 1 else (
            item.data if item.kind in ("string", "raw") else None)
        if name is None:
            diags.append(dg.make("RELC303", f"`group_by` holds label names, not {item.describe()}", item.span))
        elif not LABEL_NAME.match(name) or name.startswith("__"):
            diags.append(dg.make("RELC307", f"`{name}` is not a valid label name", item.span))
        elif name in RESERVED:
            diags.append(dg.make("RELC312", f"`{name}` cannot be a group label", item.span))
        elif name in labels:
            diags.append(dg.make("RELC312", f"`{name}` is both a group label and a fixed label of this SLO",
                                 item.span, hint="a fixed label gives every group the same value; drop one"))
        elif name in found:
            diags.append(dg.make("RELC314", f"`{name}` is listed twice", item.span,
                                 related=(Related(found[name], "first listed here"),)))  # type: ignore[arg-type]
        else:
            found[name] = item.span
            if name in ir.RELC_LABELS:
                diags.append(dg.make("RELC312", f"`{name}` is also a label relc sets: each group's value is kept as "
                                     f"`exported_{name}` on relc's series and alerts", item.span,
                                     severity=dg.Severity.NOTE))
    return tuple(found)


def check_raw_grouping(sli: ir.SLI | None, group_by: tuple[str, ...], sli_block: Block | None,
                       diags: list[Diagnostic]) -> None:
    """A raw query aggregating `by (...)` must group by exactly the SLO's `group_by`."""
    if sli is None or sli_block is None:
        return
    queries = []
    if isinstance(sli, ir.RawSLI):
        queries.append(("error_ratio", sli.error_ratio))
    elif isinstance(sli, ir.EventsSLI):
        queries += [(role, q.promql) for role in ("good", "bad", "total")
                    if isinstance(q := getattr(sli, role), ir.RawQuery)]
    for role, promql in queries:
        grouping = outer_grouping(promql)
        if grouping is None or set(grouping) == set(group_by) or (not grouping and not group_by):
            continue
        attr = next((i for i in sli_block.items if isinstance(i, Attribute) and i.key == role), None)
        where = attr.value.span if attr is not None else sli_block.kind_span
        said = f"by ({', '.join(grouping)})" if grouping else "away every label"
        if group_by:
            diags.append(dg.make(
                "RELC312", f"`{role}` aggregates {said}, but the SLO has group_by = [{', '.join(group_by)}]", where,
                hint=f"aggregate by ({', '.join(group_by)}) in the query, or make group_by name the same labels"))
        else:  # relc sums the groups into one total, as it always has: say so, it is rarely what was meant
            diags.append(dg.make(
                "RELC312", f"`{role}` aggregates {said}, but the SLO has no group_by: relc sums the groups into "
                "one total", where, severity=dg.Severity.WARNING,
                hint=f"write group_by = [{', '.join(grouping)}] on the SLO for one SLO per group"))


def outer_grouping(promql: str) -> tuple[str, ...] | None:
    """The `by (...)` labels of the query's outermost aggregations (None when it has none, or does not parse)."""
    import promql_parser

    from relc.compiler.check.promql import substitute_window

    try:
        tree = promql_parser.parse(substitute_window(promql, "5m"))
    except (ValueError, RuntimeError):
        return None
    found: list = []
    _aggregations(tree, found)
    return found[0] if found else None


def _aggregations(node, found: list) -> None:
    """Aggregations reached from the top without passing another aggregation (binary operands both count)."""
    kind = type(node).__name__
    if kind == "AggregateExpr":
        modifier = getattr(node, "modifier", None)
        if modifier is None:
            found.append(())
        elif str(modifier.type).endswith("By"):
            found.append(tuple(modifier.labels))
        else:
            found.append(None)  # `without (...)`: which labels stay depends on the series
        return
    for attr in ("lhs", "rhs", "expr"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            _aggregations(child, found)
    for child in getattr(node, "args", None) or ():
        _aggregations(child, found)
