"""A `use` of a pack: typed parameters substituted into the pack's syntax tree, then the customer's overrides."""
from __future__ import annotations

import re
from dataclasses import replace

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Related
from relc.compiler.resolve.packs import PARAM_KINDS, Pack, version_matches
from relc.compiler.check.reader import Reader, Shape
from relc.compiler.syntax.tree import Attribute, Block, Import, MapEntry, Matcher, Module, SelectorLit, Value

USE = Shape(frozenset({"version", "params"}), frozenset({"service", "runbook", "alert_policy", "budget_policy"}),
            label="named")
INTERPOLATION = re.compile(r"\$\{params\.([A-Za-z_][A-Za-z0-9_-]*)\}")
MERGED_MAPS = ("labels", "annotations")


def apply_use(use: Block, pack: Pack, diags: list[Diagnostic], examples: bool = False) -> list[Module]:
    """The pack's modules as this customer configured them; errors point at the customer's or the pack's text."""
    reader = Reader(use, USE, diags)
    _check_version(reader, pack, diags)
    values = _param_values(reader, pack, diags, examples)
    if values is None:
        _all_found(pack, pack.modules, list(reader.children), diags)  # report bad overrides too
        return []
    overrides = list(reader.children)
    if not _all_found(pack, pack.modules, overrides, diags):
        return []
    merged = [_Overrider(pack, diags).module(m, overrides) for m in pack.modules]
    substitute = _Substituter(values, diags)  # after merging, so overrides may use params too
    return [substitute.module(m) for m in merged]


def _check_version(reader: Reader, pack: Pack, diags: list[Diagnostic]) -> None:
    constraint = reader.string("version")
    if not constraint:
        return
    ok = version_matches(pack.version, constraint)
    span = reader.attrs["version"].value.span
    if ok is None:
        diags.append(dg.make("RELC312", f"\"{constraint}\" is not a version constraint", span,
                             hint='e.g. version = ">=1.2, <2"'))
    elif not ok:
        diags.append(dg.make("RELC206", f"pack `{pack.name}` is version {pack.version}, which does not satisfy "
                             f"\"{constraint}\"", span, related=(dg.Related(pack.manifest_span, "pack manifest"),)))


def _param_values(reader: Reader, pack: Pack, diags: list[Diagnostic], examples: bool) -> dict[str, Value] | None:
    given = reader.attrs["params"].value if "params" in reader.attrs else None
    if given is not None and given.kind != "map":
        diags.append(dg.make("RELC303", "`params` must be a map like { namespace = \"db\" }", given.span))
        return None
    values: dict[str, Value] = {}
    before = len(diags)
    for entry in (given.data if given is not None else ()):  # type: ignore[union-attr]
        param = pack.params.get(entry.key)
        if param is None:
            diags.append(dg.make("RELC306", f"pack `{pack.name}` has no param `{entry.key}`", entry.key_span,
                                 hint=dg.did_you_mean(entry.key, pack.params) or
                                 f"params: {', '.join(sorted(pack.params)) or 'none'}"))
        elif entry.value.kind not in PARAM_KINDS[param.type]:
            diags.append(dg.make("RELC303", f"param `{param.name}` is a {param.type}, got {entry.value.describe()}",
                                 entry.value.span, related=(Related(param.span, "declared here"),)))
        else:
            values[entry.key] = entry.value
    for name, param in pack.params.items():
        if name not in values and param.default is not None:
            values[name] = param.default
        elif name not in values and examples and param.example is not None:
            values[name] = param.example
        elif name not in values:
            diags.append(dg.make("RELC304", f"pack `{pack.name}` needs param `{name}` ({param.type})",
                                 reader.block.kind_span, hint=param.doc or None,
                                 related=(Related(param.span, "declared here"),)))
    return values if len(diags) == before else None


class _Substituter:
    """Replaces `params.x` references (and `${params.x}` in plain strings) with typed values."""

    def __init__(self, values: dict[str, Value], diags: list[Diagnostic]):
        self.values = values
        self.diags = diags

    def module(self, module: Module) -> Module:
        items = tuple(self.item(i) for i in module.items if not (isinstance(i, Block) and i.kind == "pack"))
        return Module(module.path, items, tuple(i for i in items if isinstance(i, Import)))

    def item(self, item):
        if isinstance(item, Block):
            return replace(item, items=tuple(self.item(i) for i in item.items))
        if isinstance(item, Attribute):
            return replace(item, value=self.value(item.value))
        return item

    def value(self, value: Value) -> Value:
        if value.kind == "ref" and value.data[0] == "params":  # type: ignore[index]
            found = self._lookup(value.data, value)  # type: ignore[arg-type]
            return replace(found, span=value.span) if found is not None else value
        if value.kind == "string" and "${" in value.data:  # type: ignore[operator]
            return self._interpolate(value)
        if value.kind == "raw" and INTERPOLATION.search(value.data):  # type: ignore[arg-type]
            self.diags.append(dg.make(
                "RELC313", "pack params are never put into a raw string: it is taken as written, and a raw string "
                "is PromQL, where a param could change the query", value.span,
                hint="use a selector with the param as a matcher value, e.g. job=params.job, which relc quotes safely"))
            return value
        if value.kind == "list":
            return replace(value, data=tuple(self.value(v) for v in value.data))  # type: ignore[union-attr]
        if value.kind == "map":
            return replace(value, data=tuple(MapEntry(e.key, e.key_span, self.value(e.value))
                                             for e in value.data))  # type: ignore[union-attr]
        if value.kind == "selector":
            sel = value.data
            return replace(value, data=SelectorLit(sel.metric, tuple(self.matcher(m) for m in sel.matchers)))
        return value

    def matcher(self, matcher: Matcher) -> Matcher:
        if matcher.ref is None:
            return matcher
        found = self._lookup(matcher.ref, None, matcher.span)
        if found is None:
            return matcher
        if found.kind not in ("string", "raw", "number"):
            self.diags.append(dg.make("RELC303", f"a matcher value must be a string, but `{'.'.join(matcher.ref)}` "
                                      f"is {found.describe()}", matcher.span))
            return matcher
        text = found.data if found.kind != "number" else found.text
        return replace(matcher, value=text, ref=None)  # quoted as a PromQL string wherever it is rendered

    def _lookup(self, ref: tuple[str, ...], value: Value | None, span=None) -> Value | None:
        name = ref[1] if len(ref) == 2 else None
        if name in self.values:
            return self.values[name]
        self.diags.append(dg.make("RELC306", f"unknown pack param `{'.'.join(ref)}`", span or value.span,
                                  hint=dg.did_you_mean(name or "", self.values) if name else None))
        return None

    def _interpolate(self, value: Value) -> Value:
        """Text parameters inside plain strings; the result is marked so PromQL contexts can refuse it."""
        def text(match: re.Match) -> str:
            found = self._lookup(("params", match.group(1)), value)
            if found is None:
                return match.group(0)
            return found.data if found.kind in ("string", "raw") else found.text  # type: ignore[return-value]

        data = INTERPOLATION.sub(text, value.data)  # type: ignore[arg-type]
        return replace(value, data=data, tainted=data != value.data)


def _all_found(pack: Pack, modules: list[Module], overrides: list[Block], diags: list[Diagnostic]) -> bool:
    """Every override names something the pack defines, or it is an error at the override."""
    defined = {(b.kind, b.label): b for m in modules for b in m.items if isinstance(b, Block)}
    ok = True
    for block in overrides:
        target = defined.get((block.kind, block.label))
        if target is None:
            names = [label for kind, label in defined if kind == block.kind]
            diags.append(dg.make("RELC306", f"pack `{pack.name}` defines no {block.kind.replace('_', ' ')} "
                                 f"`{block.label}` to override", block.label_span or block.kind_span,
                                 hint=dg.did_you_mean(block.label or "", names) or
                                 (f"it defines: {', '.join(sorted(n for n in names if n))}" if names else None),
                                 related=(Related(pack.manifest_span, "pack manifest"),)))
            ok = False
        elif block.kind == "service":
            slos = {b.label for b in target.items if isinstance(b, Block) and b.kind == "slo"}
            for slo in (b for b in block.items if isinstance(b, Block) and b.kind == "slo"):
                if slo.label not in slos:
                    diags.append(dg.make("RELC306", f"service `{block.label}` of pack `{pack.name}` has no SLO "
                                         f"`{slo.label}` to override", slo.label_span or slo.kind_span,
                                         hint=dg.did_you_mean(slo.label or "", slos),
                                         related=(Related(target.label_span or target.kind_span,
                                                          "service defined here"),)))
                    ok = False
    return ok


class _Overrider:
    """Merges the customer's blocks over the pack's: attributes replace, label maps merge, steps append."""

    def __init__(self, pack: Pack, diags: list[Diagnostic]):
        self.pack = pack
        self.diags = diags

    def module(self, module: Module, overrides: list[Block]) -> Module:
        by_key = {(b.kind, b.label): b for b in overrides}
        items = tuple(self.merge(i, by_key[(i.kind, i.label)]) if isinstance(i, Block) and (i.kind, i.label) in by_key
                      else i for i in module.items)
        return Module(module.path, items, module.imports)

    def merge(self, base: Block, override: Block) -> Block:
        if base.kind in ("alert_policy", "budget_policy"):
            return replace(override, span=override.span)  # a policy is replaced whole
        attrs = {i.key: i for i in override.items if isinstance(i, Attribute)}
        children = {(b.kind, b.label): b for b in override.items if isinstance(b, Block) and b.kind == "slo"}
        items = []
        for item in base.items:
            if isinstance(item, Attribute) and item.key in attrs:
                items.append(self._merge_attribute(item, attrs.pop(item.key)))
            elif isinstance(item, Block) and (item.kind, item.label) in children:
                items.append(self.merge(item, children.pop((item.kind, item.label))))
            elif isinstance(item, Block) and item.kind == "sli" and any(
                    isinstance(o, Block) and o.kind == "sli" for o in override.items):
                continue  # the override brings its own sli
            else:
                items.append(item)
        items.extend(attrs.values())
        items.extend(b for b in override.items if isinstance(b, Block) and b.kind in ("step", "sli"))
        return replace(base, items=tuple(items))

    def _merge_attribute(self, base: Attribute, override: Attribute) -> Attribute:
        if base.key in MERGED_MAPS and base.value.kind == "map" and override.value.kind == "map":
            keys = {e.key for e in override.value.data}  # type: ignore[union-attr]
            merged = tuple(e for e in base.value.data if e.key not in keys) + tuple(override.value.data)  # type: ignore
            return replace(override, value=replace(override.value, data=merged))
        return override
