"""OpenSLO objects by kind and name, references between them, and the value forms OpenSLO shares across kinds."""
from __future__ import annotations

import re
from dataclasses import dataclass

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Related, Span
from relc.compiler.check.promql import LABEL_NAME
from relc.compiler.syntax.tree import MapEntry, Value
from relc.compiler.resolve.importers import tree
from relc.compiler.resolve.importers.fields import Fields
from relc.compiler.resolve.importers.yamlpos import YNode

KINDS = {"openslo/v1": ("Service", "SLO", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget",
                        "DataSource"),
         "openslo/v1alpha": ("Service", "SLO")}
METADATA = ("name", "displayName", "labels", "annotations")
SHORTHAND = re.compile(r"([1-9][0-9]*)([mhdwMQY])\Z")
UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
CALENDAR_S = {"M": (30 * 86400, "a month"), "Q": (90 * 86400, "a quarter"), "Y": (365 * 86400, "a year")}
NOTE = "relc does not read it"
MAX_DESCRIPTION = 1050  # OpenSLO's limit on every description
STRUCTURAL = {"RELC305", "RELC601", "RELC602", "RELC603", "RELC604", "RELC605", "RELC606", "RELC609"}
LABEL_ANNOTATION = "relc.dev/label."


@dataclass
class Document:
    """One OpenSLO object as read from a file, before its kind is checked."""

    path: str
    api: str
    node: YNode


@dataclass
class Obj:
    """A named OpenSLO object: its kind, metadata and spec mapping."""

    api: str
    kind: str
    name: str
    name_span: Span
    metadata: Fields
    spec: YNode
    path: str

    @property
    def what(self) -> str:
        return f"{self.kind} `{self.name}`"


class Index:
    """Every object by (kind, name); duplicate names are errors, unknown references are reported where used."""

    def __init__(self, docs: list[Document], diags: list[Diagnostic]):
        self.objects: dict[tuple[str, str], Obj] = {}
        self.order: list[Obj] = []
        self.used: set[int] = set()
        self.diags = diags
        for doc in docs:
            obj = read_object(doc.node, doc.api, doc.path, diags)
            if obj is not None:
                self._add(obj)

    def _add(self, obj: Obj) -> None:
        key = (obj.kind, obj.name)
        if key in self.objects:
            first = self.objects[key]
            self.diags.append(dg.make("RELC305", f"OpenSLO {obj.what} is defined twice", obj.name_span,
                                      related=(Related(first.name_span, "first defined here"),)))
            return
        self.objects[key] = obj
        self.order.append(obj)

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.order if o.kind == kind]

    def lookup(self, kind: str, name: YNode, diags: list[Diagnostic],
               severity: dg.Severity = dg.Severity.ERROR) -> Obj | None:
        """The object a reference names; RELC607 at the reference, with a suggestion, when there is none."""
        found = self.objects.get((kind, name.text))
        if found is not None:
            self.used.add(id(found))
        else:
            known = [n for k, n in self.objects if k == kind]
            hint = dg.did_you_mean(name.text, known) or (f"defined: {', '.join(known)}" if known else
                                                         f"no {kind} is defined in the files read")
            diags.append(dg.make("RELC607", f"unknown {kind} `{name.text}`", name.span, hint=hint, severity=severity))
        return found


def spec_fields(node: YNode | None, what: str, known: tuple[str, ...], diags: list[Diagnostic]) -> Fields:
    """A spec's fields, with OpenSLO's limit on the length of its description checked."""
    fields = Fields(node, what, known, diags, NOTE)
    description = fields.string("description") if "description" in known else None
    if description is not None and len(description.text) > MAX_DESCRIPTION:
        diags.append(dg.make("RELC609", f"`description` in {what} is {len(description.text)} characters long; "
                             f"OpenSLO allows {MAX_DESCRIPTION}", description.span))
    return fields


def read_object(node: YNode, api: str, path: str, diags: list[Diagnostic]) -> Obj | None:
    """The common envelope: apiVersion, kind, metadata.name and a spec mapping."""
    top = Fields(node, "OpenSLO object", ("apiVersion", "kind", "metadata", "spec"), diags, NOTE)
    kind = top.string("kind", required=True)
    if kind is None:
        return None
    if kind.text not in KINDS[api]:
        hint = dg.did_you_mean(kind.text, KINDS[api]) or f"{api} kinds: {', '.join(KINDS[api])}"
        diags.append(dg.make("RELC603", f"unknown OpenSLO kind `{kind.text}` for {api}", kind.span, hint=hint))
        return None
    return _with_metadata(top, api, kind.text, path, diags)


def _with_metadata(top: Fields, api: str, kind: str, path: str, diags: list[Diagnostic]) -> Obj | None:
    meta_node = top.mapping("metadata", required=True)
    optional = kind == "Service" and "spec" not in top.values  # the spec and the Go SDK need no Service spec
    spec = YNode("map", (), tree.point(top.span)) if optional else top.mapping("spec", required=True)
    if meta_node is None or spec is None:
        return None
    return inline_object(meta_node, spec, api, kind, path, diags)


def inline_object(meta_node: YNode, spec: YNode, api: str, kind: str, path: str,
                  diags: list[Diagnostic]) -> Obj | None:
    """An object written inside another one (an inline indicator, alert condition or policy)."""
    metadata = Fields(meta_node, f"{kind} metadata", METADATA, diags, NOTE)
    name = metadata.string("name", required=True)
    if name is None:
        return None
    return Obj(api, kind, name.text, name.span, metadata, spec, path)


def ref_or_inline(item: YNode, kind: str, ref_key: str, api: str, index: Index, diags: list[Diagnostic],
                  severity: dg.Severity = dg.Severity.ERROR) -> Obj | None:
    """A list entry that is `{ref_key: name}`, a bare name, or an inline `{kind, metadata, spec}` object."""
    if item.kind == "scalar" and not item.is_null:
        return index.lookup(kind, item, diags, severity)
    if item.kind != "map":
        diags.append(dg.make("RELC605", f"an entry of {kind}s must be a mapping, got {item.describe()}", item.span))
        return None
    entry = Fields(item, f"{kind} entry", (ref_key, "kind", "metadata", "spec"), diags, NOTE)
    ref = entry.string(ref_key)
    if ref is not None:
        if entry.has("spec") or entry.has("metadata"):
            diags.append(dg.make("RELC609", f"an entry of {kind}s has either `{ref_key}` or an inline object, "
                                 "not both", entry.where(ref_key)))
        return index.lookup(kind, ref, diags, severity)
    meta, spec = entry.mapping("metadata"), entry.mapping("spec")
    if meta is None or spec is None:
        diags.append(dg.make("RELC606", f"an entry of {kind}s needs `{ref_key}`, or `kind`, `metadata` and `spec`",
                             item.span))
        return None
    return inline_object(meta, spec, api, kind, entry.span.path, diags)


def shorthand(node: YNode | None, key: str, diags: list[Diagnostic]) -> Value | None:
    """An OpenSLO duration shorthand (`28d`, `1h`, `2w`) as a relc duration; months and longer are approximated."""
    if node is None:
        return None
    match = SHORTHAND.match(node.text) if node.kind == "scalar" else None
    if match is None:
        diags.append(dg.make("RELC609", f"`{key}` must be a duration like 5m, 1h, 28d or 2w, got {node.text!r}",
                             node.span, hint="OpenSLO durations are a whole number and one unit: m h d w M Q Y"))
        return None
    count, unit = int(match.group(1)), match.group(2)
    if unit in CALENDAR_S:
        size, what = CALENDAR_S[unit]
        diags.append(dg.make("RELC610", f"`{node.text}` is read as {count * size // 86400}d: relc windows have fixed "
                             f"lengths and {what} does not", node.span, severity=dg.Severity.WARNING))
        return tree.duration_s(count * size, node.span)
    return tree.duration_s(count * UNIT_S[unit], node.span)


def labels_value(metadata: Fields, diags: list[Diagnostic]) -> tuple[Value, Span] | None:
    """metadata.labels as relc labels: lists of values are joined with commas; names Prometheus rejects are dropped.

    Annotations `relc.dev/label.NAME` are labels too: relc's OpenSLO target writes there the label values that
    OpenSLO's label rules reject (such as `myorg/myservice`).
    """
    node = metadata.mapping("labels")
    annotations = metadata.mapping("annotations")
    extra = [(YNode("scalar", k.text[len(LABEL_ANNOTATION):], k.span, "str"), v) for k, v in
             (annotations.pairs if annotations is not None else ()) if k.text.startswith(LABEL_ANNOTATION)]
    if node is None and not extra:
        return None
    entries = []
    for key, value in [*(node.pairs if node is not None else ()), *extra]:
        if key.kind != "scalar" or not LABEL_NAME.match(key.text) or key.text.startswith("__"):
            diags.append(dg.make("RELC610", f"label `{key.text}` is not a Prometheus label name; it is dropped",
                                 key.span, severity=dg.Severity.WARNING))
            continue
        parts = [v.text for v in value.items] if value.kind == "seq" else [value.text]
        if value.kind == "map" or any(v.kind != "scalar" for v in value.items):
            diags.append(dg.make("RELC605", f"label `{key.text}` must be a string or a list of strings", value.span))
            continue
        entries.append(MapEntry(key.text, key.span, tree.string(",".join(parts), value.span)))
    if not entries:
        return None
    where = node if node is not None else annotations
    return Value("map", tuple(entries), where.span), metadata.where("labels" if node is not None else "annotations")
