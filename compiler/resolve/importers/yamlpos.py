"""YAML to a positioned tree, safely: every node keeps its file position so diagnostics point into the YAML.

The tree is built from the parser's event stream without recursion, so hostile input cannot exhaust the
stack, and with budgets: input size, nesting depth, and nodes counted with every alias expanded (a
"billion laughs" document is refused after the budget, not expanded). Only the standard YAML tags are
accepted: no Python objects, no custom types.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Related, Span

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000
_YAML_TAGS = {f"tag:yaml.org,2002:{t}": t for t in ("str", "int", "float", "bool", "null", "timestamp",
                                                    "binary", "merge", "value")}
_RESOLVER = yaml.resolver.Resolver()
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, eq=False)
class YNode:
    """A YAML node: `kind` is map, seq or scalar; scalars carry their resolved `tag` (str, int, float, ...)."""

    kind: str
    value: object  # str for scalars, tuple of YNode for seq, tuple of (key, value) pairs for map
    span: Span
    tag: str = ""
    size: int = 1

    @property
    def pairs(self) -> tuple[tuple["YNode", "YNode"], ...]:
        return self.value if self.kind == "map" else ()  # type: ignore[return-value]

    @property
    def items(self) -> tuple["YNode", ...]:
        return self.value if self.kind == "seq" else ()  # type: ignore[return-value]

    @property
    def is_null(self) -> bool:
        return self.kind == "scalar" and self.tag == "null"

    @property
    def text(self) -> str:
        return self.value if self.kind == "scalar" else ""  # type: ignore[return-value]

    def get(self, key: str) -> "YNode | None":
        for k, v in self.pairs:
            if k.kind == "scalar" and k.value == key:
                return v
        return None

    def describe(self) -> str:
        if self.kind != "scalar":
            return {"map": "a mapping", "seq": "a list"}[self.kind]
        return {"str": "a string", "int": "a number", "float": "a number", "bool": "a boolean",
                "null": "nothing (null)"}.get(self.tag, f"a {self.tag}")


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def span_of(path: str, start, end) -> Span:
    return Span(path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def load_documents(path: str, text: str) -> tuple[list[YNode | None], list[Diagnostic]]:
    """Every document of a YAML stream as a positioned tree; on any YAML error, no documents and one diagnostic."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return [], [dg.make("RELC602", f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB; refusing to read "
                            "it as YAML", Span.point(path, 1, 1))]
    try:
        return _build(path, text, _Loader)
    except yaml.YAMLError as err:
        if _Loader is yaml.SafeLoader:
            return [], [_error_diagnostic(path, err)]
    # libyaml's own limits (PyYAML 6.0.4 caps nesting at 1000) fire before relc's budgets can: read the
    # document again with the pure-Python parser, whose events reach the budgets first, so the diagnostic
    # is the same whichever PyYAML and libyaml are installed.
    try:
        return _build(path, text, yaml.SafeLoader)
    except yaml.YAMLError as err:
        return [], [_error_diagnostic(path, err)]


def _build(path: str, text: str, loader) -> tuple[list[YNode | None], list[Diagnostic]]:
    """Feed one parser's events to a builder; budget refusals come back as the one diagnostic."""
    builder = _Builder(path)
    try:
        for event in yaml.parse(text, Loader=loader):
            builder.feed(event)
    except _Refused as err:
        return [], [err.diagnostic]
    return builder.documents, builder.diagnostics


def _error_diagnostic(path: str, err: yaml.YAMLError) -> Diagnostic:
    if isinstance(err, yaml.MarkedYAMLError):
        return _yaml_error(path, err)
    return dg.make("RELC601", f"not valid YAML: {err}", Span.point(path, 1, 1))


def _yaml_error(path: str, err: yaml.MarkedYAMLError) -> Diagnostic:
    mark = err.problem_mark or err.context_mark
    where = Span.point(path, mark.line + 1, mark.column + 1) if mark else Span.point(path, 1, 1)
    message = ": ".join(p for p in (err.context, err.problem) if p) or "does not parse"
    related = ()
    if err.context_mark is not None and err.problem_mark is not None and err.context_mark != err.problem_mark:
        cm = err.context_mark
        related = (Related(Span.point(path, cm.line + 1, cm.column + 1), "while reading from here"),)
    return dg.make("RELC601", f"not valid YAML: {message}", where, related=related,
                   hint="check indentation and quoting; YAML strings with `: ` or `#` need quotes")


@dataclass
class _Frame:
    kind: str
    start: object
    anchor: str | None
    children: list
    flow: bool = False
    size: int = 1


class _Builder:
    """Consumes parser events; keeps a stack of open collections instead of recursing."""

    def __init__(self, path: str):
        self.path = path
        self.stack: list[_Frame] = []
        self.anchors: dict[str, YNode] = {}
        self.documents: list[YNode | None] = []
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0
        self.root: YNode | None = None

    def feed(self, event) -> None:
        """One parser event: open or close a collection, add a scalar or alias, or finish a document."""
        if isinstance(event, yaml.DocumentStartEvent):
            self.root, self.anchors = None, {}
        elif isinstance(event, yaml.DocumentEndEvent):
            self.documents.append(self.root)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self._open(event)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self._close(event)
        elif isinstance(event, yaml.ScalarEvent):
            self._add(self._scalar(event), event.anchor)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)

    def _refuse(self, message: str, mark, hint: str | None = None) -> None:
        where = Span.point(self.path, mark.line + 1, mark.column + 1)
        raise _Refused(dg.make("RELC602", message, where, hint=hint))

    def _count(self, size: int, mark) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            self._refuse(f"{self.path} expands to more than {MAX_NODES} YAML nodes (counting every alias); "
                         "refusing to read it", mark, hint="an alias bomb, or generated input far larger than a spec")

    def _open(self, event) -> None:
        self._check_tag(event.tag, "seq" if isinstance(event, yaml.SequenceStartEvent) else "map", event.start_mark)
        if len(self.stack) >= MAX_DEPTH:
            self._refuse(f"{self.path} nests more than {MAX_DEPTH} levels deep; refusing to read it",
                         event.start_mark, hint="SLO specs nest a few levels; check for generated input")
        kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
        self.stack.append(_Frame(kind, event.start_mark, event.anchor, [], bool(event.flow_style)))
        self._count(1, event.start_mark)

    def _close(self, event) -> None:
        frame = self.stack.pop()
        span = span_of(self.path, frame.start, event.end_mark)
        if frame.children and not frame.flow:  # a block collection ends where its last child does
            last = frame.children[-1].span
            span = Span(self.path, span.line, span.col, last.end_line, last.end_col)
        if frame.kind == "seq":
            node = YNode("seq", tuple(frame.children), span, size=frame.size)
        else:
            node = YNode("map", self._pairs(frame.children), span, size=frame.size)
        self._add(node, frame.anchor)

    def _pairs(self, children: list[YNode]) -> tuple[tuple[YNode, YNode], ...]:
        """Key/value pairs with `<<` merge keys applied (explicit keys win) and duplicate keys reported."""
        explicit: list[tuple[YNode, YNode]] = []
        merged: list[tuple[YNode, YNode]] = []
        for key, value in zip(children[0::2], children[1::2]):
            if key.kind == "scalar" and key.tag == "merge":
                sources = value.items if value.kind == "seq" else (value,)
                for source in sources:
                    if source.kind != "map":
                        raise _Refused(dg.make("RELC601", "a `<<` merge key needs a mapping or a list of mappings",
                                               source.span))
                    merged.extend(source.pairs)
            else:
                explicit.append((key, value))
        seen: dict[str, YNode] = {}
        for key, _ in explicit:
            if key.kind != "scalar":
                continue
            if key.value in seen:
                self.diagnostics.append(dg.make("RELC601", f"key `{key.value}` appears twice in this mapping",
                                                key.span, related=(Related(seen[key.value].span, "first here"),)))
            seen.setdefault(key.value, key)  # type: ignore[arg-type]
        out = [(k, v) for k, v in explicit if k.kind != "scalar" or seen.get(k.value) is k]  # type: ignore[arg-type]
        for key, value in merged:
            if key.kind == "scalar" and key.value not in seen:
                seen[key.value] = key  # type: ignore[index]
                out.append((key, value))
        return tuple(out)

    def _scalar(self, event) -> YNode:
        self._count(1, event.start_mark)
        tag = event.tag
        if tag is None or tag == "!":
            tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
        self._check_tag(tag, "scalar", event.start_mark)
        short = _YAML_TAGS.get(tag, "str")
        return YNode("scalar", event.value, span_of(self.path, event.start_mark, event.end_mark), short)

    def _check_tag(self, tag: str | None, kind: str, mark) -> None:
        allowed = {"map": "tag:yaml.org,2002:map", "seq": "tag:yaml.org,2002:seq"}.get(kind)
        if tag is None or tag == "!" or tag == allowed or (kind == "scalar" and tag in _YAML_TAGS):
            return
        self._refuse(f"YAML tag `{tag}` is not allowed", mark,
                     hint="SLO specs use plain YAML; explicit and custom tags are refused for safety")

    def _alias(self, event) -> None:
        node = self.anchors.get(event.anchor)
        if node is None:
            raise _Refused(dg.make("RELC601", f"alias `*{event.anchor}` refers to no anchor defined before it",
                                   span_of(self.path, event.start_mark, event.end_mark)))
        self._count(node.size, event.start_mark)
        self._add(node, None)

    def _add(self, node: YNode, anchor: str | None) -> None:
        if anchor:
            self.anchors[anchor] = node
        if not self.stack:
            self.root = node
            return
        parent = self.stack[-1]
        parent.children.append(node)
        parent.size += node.size
