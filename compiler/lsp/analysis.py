"""What the language server knows about a project: the compiler's own result, plus where each name is defined and
used, so hover, definition, references and completion answer from the same stages as `relc check`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.model import ir
from relc.compiler.syntax.tree import Attribute, Block, Module, Value

CONFIG_NAME = "relc.yaml"
REFERENCE_KEYS = {"alert_policy": "alert_policy", "budget_policy": "budget_policy", "runbook": "runbook"}
BUILTIN_POLICIES = ("workbook", "pyrra", "none")


@dataclass
class Analysis:
    """One compilation of a project and the name index built from its syntax trees."""

    root: Path
    project: ir.Project | None
    diagnostics: list[Diagnostic]
    modules: dict[str, Module]                                   # by absolute path
    definitions: dict[tuple[str, str], Span] = field(default_factory=dict)   # (kind, name) -> label span
    uses: dict[tuple[str, str], list[Span]] = field(default_factory=dict)    # (kind, name) -> where referenced


def project_root(document: Path, workspace: Path | None) -> Path:
    """The directory `relc check` would be given: the nearest one holding relc.yaml (not above the workspace),
    else the document's own directory."""
    for directory in (document.parent, *document.parent.parents):
        if (directory / CONFIG_NAME).is_file():
            return directory
        if workspace is not None and directory == workspace:
            break
    return document.parent


def analyse(root: Path, overlay: dict[Path, str]) -> Analysis:
    """Compile the project at root with the editor's unsaved texts standing in for the files on disk."""
    from relc.compiler.commands.config import find_config, load_config
    from relc.compiler.pipeline import compile_paths

    config_path = find_config(root)
    config = load_config(config_path)[0] if config_path is not None and config_path.parent == root else None
    here = os.getcwd()
    try:
        os.chdir(root)  # paths in diagnostics relative to the project, as `relc check` run there prints them
        sources = list(config.sources) if config is not None and config.sources else ["."]
        result = compile_paths(sources, config.exclusion if config else None, overlay=overlay,
                               imports=config.imports if config else None)
    finally:
        os.chdir(here)
    analysis = Analysis(root, result.project, _absolute(result.diagnostics, root), _modules(root, result.texts))
    _index(analysis)
    return analysis


def _modules(root: Path, texts: dict[str, str]) -> dict[str, Module]:
    """The syntax tree of every .relc file the compilation read, by absolute path, so every span the index keeps
    names its file wherever the server runs (the texts are the compiler's, editor overlay included)."""
    from relc.compiler.syntax.parser import parse

    found: dict[str, Module] = {}
    for shown, text in texts.items():
        if shown.endswith(".relc"):
            path = str((root / shown).resolve())
            module, _ = parse(path, text)
            if module is not None:
                found[path] = module
    return found


def _absolute(diagnostics: list[Diagnostic], root: Path) -> list[Diagnostic]:
    """Diagnostics with their paths made absolute, so each finds its document."""
    from dataclasses import replace

    out = []
    for d in diagnostics:
        if d.span is not None and d.span.path and not os.path.isabs(d.span.path):
            d = replace(d, span=replace(d.span, path=str((root / d.span.path).resolve())))
        out.append(d)
    return out


def _index(analysis: Analysis) -> None:
    """Definitions (services, SLOs, policies, runbooks) and the attributes that name them."""
    for module in analysis.modules.values():
        for item in module.items:
            if not isinstance(item, Block) or item.label is None:
                continue
            _define(analysis, item.kind, item.label, item.label_span or item.kind_span)
            if item.kind == "service":
                for child in item.items:
                    if isinstance(child, Block) and child.kind == "slo" and child.label:
                        _define(analysis, "slo", f"{item.label}/{child.label}", child.label_span or child.kind_span)
                        _uses_in(analysis, child)


def _define(analysis: Analysis, kind: str, name: str, span: Span) -> None:
    analysis.definitions.setdefault((kind, name), span)


def _uses_in(analysis: Analysis, slo: Block) -> None:
    for attr in (i for i in slo.items if isinstance(i, Attribute)):
        if attr.key in REFERENCE_KEYS and attr.value.kind == "ref":
            analysis.uses.setdefault((REFERENCE_KEYS[attr.key], attr.value.text), []).append(attr.value.span)
        elif attr.key == "depends_on" and attr.value.kind == "list":
            for target in _slo_refs(attr.value):
                analysis.uses.setdefault(("slo", target.text), []).append(target.span)


def _slo_refs(value: Value) -> list[Value]:
    out = []
    for item in value.data:  # type: ignore[union-attr]
        if item.kind == "call":
            item = item.data[1]
        if item.kind == "slo_ref":
            out.append(item)
    return out


def node_at(module: Module, line: int, col: int) -> list:
    """The chain of nodes (outermost first) whose span holds the 1-based position: blocks, attributes, values."""
    chain: list = []
    items = module.items
    while True:
        hit = next((i for i in items if _holds(i.span, line, col)), None)
        if hit is None:
            return chain
        chain.append(hit)
        if isinstance(hit, Block):
            items = hit.items
            continue
        if isinstance(hit, Attribute):
            chain.extend(_values_at(hit.value, line, col))
        return chain


def _values_at(value: Value, line: int, col: int) -> list:
    out = [value] if _holds(value.span, line, col) else []
    if value.kind in ("list",):
        for item in value.data:  # type: ignore[union-attr]
            out += _values_at(item, line, col)
    elif value.kind == "call":
        out += _values_at(value.data[1], line, col)  # type: ignore[index]
    return out


def _holds(span: Span | None, line: int, col: int) -> bool:
    if span is None:
        return False
    after_start = (line, col) >= (span.line, span.col)
    before_end = (line, col) <= (span.end_line, span.end_col)
    return after_start and before_end
