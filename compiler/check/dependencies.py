"""`depends_on`: which other SLOs an SLO relies on, checked across the project once every SLO is built.

The ceiling of an SLO is the product of its hard dependencies' objectives: a service that needs a 99.9% database
on every request cannot itself be more than 99.9% available. Soft dependencies (`soft(cache/availability)`) have
their failures absorbed and cost nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from relc.compiler import diagnostics as dg
from relc.compiler.check.reader import Reader
from relc.compiler.diagnostics import Diagnostic, Related, Span
from relc.compiler.model import ir
from relc.compiler.units import floor_percent, fmt_percent


@dataclass(frozen=True)
class Written:
    """Where an SLO's dependencies and objective were written, for diagnostics after the IR is built."""

    slo_span: Span
    objective_span: Span | None
    spans: dict[str, Span]          # dependency key -> its reference


def read_depends_on(reader: Reader, diags: list[Diagnostic]) -> tuple[tuple[ir.Dependency, ...], dict[str, Span]]:
    """The list as written: `service/slo` and `soft(service/slo)` entries; anything else is RELC303."""
    attr = reader.attrs.get("depends_on")
    if attr is None:
        return (), {}
    if attr.value.kind != "list":
        diags.append(dg.make("RELC303", f"`depends_on` must be a list of SLO references, not "
                             f"{attr.value.describe()}", attr.value.span,
                             hint="e.g. depends_on = [postgres/availability, soft(cache/availability)]"))
        return (), {}
    found: list[ir.Dependency] = []
    spans: dict[str, Span] = {}
    for item in attr.value.data:  # type: ignore[union-attr]
        soft, target = False, item
        if item.kind == "call" and item.data[0] == "soft":
            soft, target = True, item.data[1]
        elif item.kind == "call":
            diags.append(dg.make("RELC312", f"unknown qualifier `{item.data[0]}`", item.span,
                                 hint="`soft(service/slo)` marks a dependency whose failures are absorbed"))
            continue
        if target.kind != "slo_ref":
            diags.append(dg.make("RELC303", f"a dependency is `service/slo`, not {target.describe()}", target.span))
            continue
        dep = ir.Dependency(service=target.data[0], slo=target.data[1], soft=soft)
        if dep.key in spans:
            diags.append(dg.make("RELC314", f"`{dep.key}` is listed twice", target.span,
                                 related=(Related(spans[dep.key], "first listed here"),)))
            continue
        spans[dep.key] = target.span
        found.append(dep)
    return tuple(found), spans


def check_dependencies(project: ir.Project, written: dict[str, Written], diags: list[Diagnostic]) -> None:
    """Unknown references (RELC306), cycles (RELC316) and objectives above the ceiling (RELC317)."""
    keys = {f"{slo.service}/{slo.name}" for slo in project.slos()}
    for slo in project.slos():
        key = f"{slo.service}/{slo.name}"
        where = written.get(key)
        for dep in slo.depends_on:
            if dep.key == key and where is not None:
                diags.append(dg.make("RELC316", f"`{key}` depends on itself", where.spans.get(dep.key)))
            elif dep.key not in keys and where is not None:
                hint = dg.did_you_mean(dep.key, keys) or "write `service/slo` of an SLO of this project or its packs"
                diags.append(dg.make("RELC306", f"unknown SLO `{dep.key}`", where.spans.get(dep.key), hint=hint))
    for cycle in _cycles(project):
        first = written.get(cycle[0])
        if first is None:
            continue
        chain = " -> ".join(cycle + [cycle[0]])
        span = first.spans.get(cycle[1] if len(cycle) > 1 else cycle[0])
        diags.append(dg.make("RELC316", f"dependency cycle: {chain}", span,
                             hint="an SLO cannot rely, directly or through others, on itself; mark the edge that "
                                  "is absorbed with soft(...) or remove it"))
    for slo in project.slos():
        where = written.get(f"{slo.service}/{slo.name}")
        if where is not None and slo.depends_on:
            _above_ceiling(project, slo, where, diags)


def _above_ceiling(project: ir.Project, slo: ir.SLO, where: Written, diags: list[Diagnostic]) -> None:
    ceiling, costliest = project.ceiling(slo)
    if costliest is None or slo.objective <= ceiling + 1e-12:
        return
    own = f"{slo.service}/{slo.name}"
    hard = [d for d in slo.depends_on if not d.soft and d.key != own and project.find(d.key)]
    product = " x ".join(fmt_percent(project.find(d.key).objective) for d in hard)  # type: ignore[union-attr]
    shown = f" ({product})" if len(hard) > 1 else f" (`{costliest.service}/{costliest.name}`)"
    diags.append(dg.make(
        "RELC317", f"objective {fmt_percent(slo.objective)} is above the reliability ceiling of its hard "
        f"dependencies, {floor_percent(ceiling)}{shown}", where.objective_span or where.slo_span,
        severity=dg.Severity.WARNING,
        hint=f"`{costliest.service}/{costliest.name}` ({fmt_percent(costliest.objective)}) costs most: raise its "
             "objective (each nine costs ten times more), make it soft if its failures are absorbed, or lower "
             "this objective"))


def _cycles(project: ir.Project) -> list[list[str]]:
    """One cycle per strongly connected group of SLOs (hard and soft edges), as the keys along its shortest
    loop from its smallest key: linear in the project's size whatever the graph (Tarjan, then one search)."""
    edges = {f"{s.service}/{s.name}": sorted({d.key for d in s.depends_on}) for s in project.slos()}
    cycles = []
    for group in _strongly_connected(edges):
        start = min(group)
        if len(group) == 1:  # a lone SLO naming itself is reported as such, not as a cycle
            continue
        cycles.append(_shortest_loop(start, edges, set(group)))
    return sorted(cycles)


def _strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm without recursion (a chain of thousands of dependencies must not overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = [t for t in edges.get(node, ()) if t in edges]
            if child < len(targets):
                work.append((node, child + 1))
                nxt = targets[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def _shortest_loop(start: str, edges: dict[str, list[str]], group: set[str]) -> list[str]:
    """The shortest path from start back to itself inside its group, breadth first."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in edges.get(node, ()):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1]
                if nxt in group and nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return [start]
