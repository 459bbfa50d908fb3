"""YAML front ends: Sloth, OpenSLO and Pyrra specs become relc syntax trees, so the one validator checks them all.

The trees' spans point at the YAML (file, line, column), so every diagnostic, the importers' own and the
validator's, points at the line the user wrote. Entry points:

- `load_yaml_module(path, text)`: one file, as the resolver reads `.yml`/`.yaml` inputs;
- `load_yaml_modules([(path, text), ...])`: several files at once, so OpenSLO references and Sloth
  services may span files (a project directory);
- `sniff(text)`: whether a YAML file looks like a spec relc reads, for directory scans.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.syntax.tree import Block, Module
from relc.compiler.resolve.importers import openslo, pyrra, sloth, tree
from relc.compiler.resolve.import_settings import DEFAULT, ImportSettings
from relc.compiler.resolve.importers.yamlpos import YNode, load_documents

SLOTH_VERSION = "prometheus/v1"
SLOTH_API = "sloth.slok.dev/v1"
OPENSLO_APIS = ("openslo/v1", "openslo/v1alpha")
_SNIFF = re.compile(r"^\s*-?\s*(?:version:\s*['\"]?prometheus/v\d|apiVersion:\s*['\"]?(?:sloth\.slok\.dev/|openslo"
                    r"|pyrra\.dev/)|kind:\s*['\"]?ServiceLevelObjective\b)", re.M)
RECOGNISED = ("version: prometheus/v1 (Sloth), apiVersion: sloth.slok.dev/v1 (Sloth PrometheusServiceLevel, "
              "AlertWindows), apiVersion: openslo/v1 or openslo/v1alpha (OpenSLO), apiVersion: pyrra.dev/v1alpha1 "
              "(Pyrra ServiceLevelObjective)")


def sniff(text: str) -> bool:
    """Cheap check that a YAML file is a Sloth or OpenSLO spec, before reading it in full."""
    return bool(_SNIFF.search(text[:65536]))


def load_yaml_module(path: str, text: str) -> tuple[Module | None, list[Diagnostic]]:
    """One YAML file as a relc module; None when it is not YAML relc can read at all."""
    modules, diags = load_yaml_modules([(path, text)])
    return modules.get(path), diags


@dataclass
class _Collected:
    """Every document of every file, sorted by format; blocks are assembled once all are read."""

    order: list[str] = field(default_factory=list)
    sloth_parts: list[tuple[str, sloth.SlothService]] = field(default_factory=list)
    blocks: list[tuple[str, Block]] = field(default_factory=list)
    openslo_docs: list[openslo.Document] = field(default_factory=list)
    settings: ImportSettings = DEFAULT
    pyrra_slos: list[tuple[str, pyrra.PyrraSLO]] = field(default_factory=list)


def load_yaml_modules(files: list[tuple[str, str]], settings: ImportSettings = DEFAULT
                      ) -> tuple[dict[str, Module], list[Diagnostic]]:
    """Each readable file's module, by path; references and services are resolved across all of them."""
    diags: list[Diagnostic] = []
    seen = _Collected(settings=settings)
    for path, text in files:
        documents, problems = load_documents(path, text)
        diags.extend(problems)
        if dg.has_errors(problems):
            continue
        seen.order.append(path)
        for doc in documents:
            _classify(path, doc, seen, diags)
    by_path: dict[str, list[Block]] = {path: [] for path in seen.order}
    parts = [part for _, part in seen.sloth_parts]
    paths = {id(part): path for path, part in seen.sloth_parts}
    for part, blk in sloth.service_blocks(parts):
        by_path[paths[id(part)]].append(blk)
    for path, blk in seen.blocks:
        by_path[path].append(blk)
    for path, blk in openslo.convert(seen.openslo_docs, diags):
        by_path[path].append(blk)
    for path, blk in _pyrra_services(seen.pyrra_slos):
        by_path[path].append(blk)
    modules = {path: tree.module(path, blocks) for path, blocks in by_path.items()}
    return modules, list(dict.fromkeys(diags))  # objectives sharing an indicator report its problems once


def _classify(path: str, doc: YNode | None, seen: _Collected, diags: list[Diagnostic]) -> None:
    if doc is None or doc.is_null:
        return
    if doc.kind == "seq":  # the OpenSLO SDK's form: a list of objects in one document
        for item in doc.items:
            if item.kind == "map" and _api(item).startswith("openslo"):
                _classify(path, item, seen, diags)
            else:
                diags.append(dg.make("RELC603", "a list of objects must hold OpenSLO objects (apiVersion: openslo/v1)",
                                     item.span))
        return
    if doc.kind != "map":
        diags.append(dg.make("RELC603", f"a spec must be a mapping, got {doc.describe()}", doc.span,
                             hint=f"relc reads {RECOGNISED}"))
        return
    _dispatch(path, doc, seen, diags)


def _api(doc: YNode) -> str:
    node = doc.get("apiVersion")
    return node.text if node is not None and node.kind == "scalar" else ""


def _dispatch(path: str, doc: YNode, seen: _Collected, diags: list[Diagnostic]) -> None:
    version, api, kind = doc.get("version"), doc.get("apiVersion"), doc.get("kind")
    kind_text = kind.text if kind is not None and kind.kind == "scalar" else ""
    if version is not None and api is None:
        if version.text == SLOTH_VERSION:
            _add_sloth(path, sloth.read_document(doc, False, diags, seen.settings), seen)
        else:
            diags.append(dg.make("RELC603", f"unsupported Sloth spec version `{version.text}`", version.span,
                                 hint=f"relc reads Sloth's `version: {SLOTH_VERSION}`"))
    elif api is not None and api.text == SLOTH_API and kind_text == "PrometheusServiceLevel":
        _add_sloth(path, sloth.read_document(doc, True, diags, seen.settings), seen)
    elif api is not None and api.text == SLOTH_API and kind_text == "AlertWindows":
        policy = sloth.window_policy(doc, _windows_name(path), diags)
        if policy is not None:
            seen.blocks.append((path, policy))
    elif api is not None and api.text in OPENSLO_APIS:
        seen.openslo_docs.append(openslo.Document(path, api.text, doc))
    elif api is not None and api.text in pyrra.APIS and kind_text == pyrra.KIND:
        found = pyrra.read_document(doc, diags)
        if found is not None:
            seen.pyrra_slos.append((path, found))
    else:
        _unrecognised(doc, api, kind_text, diags)


def _add_sloth(path: str, part: sloth.SlothService | None, seen: _Collected) -> None:
    if part is not None and part.slos:
        seen.sloth_parts.append((path, part))
    elif part is not None:
        seen.blocks.extend((path, p) for p in part.policies)


def _pyrra_services(found: list[tuple[str, pyrra.PyrraSLO]]) -> list[tuple[str, Block]]:
    """Pyrra objectives of one service (namespace) in one `service` block, in the file where it first appears."""
    services: dict[str, tuple[str, list[pyrra.PyrraSLO]]] = {}
    for path, slo in found:
        services.setdefault(slo.service, (path, []))[1].append(slo)
    out = []
    for name, (path, slos) in services.items():
        first = slos[0]
        out.append((path, tree.block("service", name, [s.block for s in slos], first.block.span,
                                     first.service_span, first.service_span)))
    return out


def _windows_name(path: str) -> str:
    """AlertWindows have no name of their own: the policy is named after the file, e.g. sloth-windows-7d."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", PurePath(path).stem)
    return f"sloth-windows-{stem}"


def _unrecognised(doc: YNode, api: YNode | None, kind: str, diags: list[Diagnostic]) -> None:
    if api is not None and api.text.startswith("openslo"):
        message = (f"OpenSLO `{api.text}` is not supported" if api.text not in OPENSLO_APIS else "")
        diags.append(dg.make("RELC603", message, api.span, hint="relc reads openslo/v1 and openslo/v1alpha"))
    elif api is not None and api.text == SLOTH_API:
        diags.append(dg.make("RELC603", f"unsupported Sloth kind `{kind or '(none)'}`",
                             (doc.get("kind") or api).span, hint="relc reads PrometheusServiceLevel and AlertWindows"))
    else:
        where = api.span if api is not None else tree.point(doc.span)
        what = f"apiVersion `{api.text}`" if api is not None else "no `version` or `apiVersion`"
        diags.append(dg.make("RELC603", f"not a Sloth or OpenSLO document: {what}", where,
                             hint=f"relc reads {RECOGNISED}"))


__all__ = ["load_yaml_module", "load_yaml_modules", "sniff"]
