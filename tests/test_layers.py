"""The import graph of relc has no circles, and the layers hold: a target reads only the model and the
small shared helpers, never the front end or the CLI; the front end never reaches into targets or commands.

Every import counts, at module level or inside a function (a lazy import still ties two modules together);
`from . import submodule` counts as importing the submodule, not its package."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = {"relc.compiler": ROOT / "compiler", "relc.targets": ROOT / "targets", "relc.grammar": ROOT / "grammar"}
# What every target may use from the compiler: the model, diagnostics as data, and pure helpers.
TARGET_MAY_USE = {"relc.compiler", "relc.compiler.model", "relc.compiler.model.ir", "relc.compiler.diagnostics",
                  "relc.compiler.model.naming", "relc.compiler.check", "relc.compiler.check.promql",
                  "relc.compiler.units"}
# The layers, lowest first: a module imports only from its own layer or lower ones. Resolving (files, packs,
# Sloth/OpenSLO) and checking share a layer: importers check PromQL and policies as they read them.
LAYERS = [("relc.grammar", "relc.compiler.diagnostics", "relc.compiler.units"), ("relc.compiler.syntax",),
          ("relc.compiler.model",), ("relc.compiler.resolve", "relc.compiler.check", "relc.compiler.render"),
          ("relc.compiler.pipeline",), ("relc.compiler.output", "relc.targets"), ("relc.compiler.live",), ("relc.compiler.commands", "relc.compiler.lsp"),
          ("relc.compiler.entry", "relc.compiler.__main__")]


def layer(module: str) -> int:
    """The layer of a module; the package `relc.compiler` itself (a docstring and a version) is the lowest."""
    if module == "relc.compiler":
        return 0
    for rank, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [p for p in path.relative_to(folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()


def imported(name: str, path: Path) -> set[str]:
    """The relc modules `name` imports anywhere in its text."""
    base = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            package = node.module or ""
            if node.level:
                parts = base.split(".")
                package = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            submodules = {f"{package}.{alias.name}" for alias in node.names} & MODULES.keys()
            out |= submodules or ({package} & MODULES.keys())
            if submodules and len(submodules) < len(node.names) and package in MODULES:
                out.add(package)  # names defined in the package itself, beside its submodules
        elif isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names} & MODULES.keys()
    out.discard(name)
    return out


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circles():
    assert circles(GRAPH) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_targets_use_only_the_model_and_shared_helpers():
    wrong = {name: sorted(m for m in deps if m.startswith("relc.compiler") and m not in TARGET_MAY_USE)
             for name, deps in GRAPH.items() if name.startswith("relc.targets")}
    assert {k: v for k, v in wrong.items() if v} == {}


def test_every_module_imports_only_its_layer_or_lower_ones():
    upward = sorted(f"{name} -> {dep}" for name, deps in GRAPH.items() for dep in deps if layer(dep) > layer(name))
    assert upward == []
