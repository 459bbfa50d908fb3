"""The syntax tree: what the parser saw, with a span on every node so any later stage can point at it."""
from __future__ import annotations

from dataclasses import field
from decimal import Decimal
from typing import Union

from relc.compiler.diagnostics import Span, syntax_node


@syntax_node
class Matcher:
    label: str
    op: str
    value: str
    span: Span
    ref: tuple[str, ...] | None = None  # `job=params.job` inside a pack, replaced before validation


@syntax_node
class SelectorLit:
    metric: str
    matchers: tuple[Matcher, ...]


@syntax_node
class Value:
    """A literal; `kind` is one of string, raw, percent, duration, number, bool, ref, calendar (data: week, month or quarter), slo_ref (data: service and
    SLO names), call (data: the qualifier's name and its argument), selector, list, map."""

    kind: str
    data: object
    span: Span
    text: str = ""
    tainted: bool = False  # text interpolated from pack params: never allowed to become PromQL

    def describe(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)


KIND_NAMES = {
    "string": "a string", "raw": "a raw string", "percent": "a percentage", "duration": "a duration",
    "number": "a number", "bool": "a boolean", "ref": "a name", "slo_ref": "an SLO reference (service/slo)",
    "call": "a qualified reference, e.g. soft(service/slo)", "selector": "a metric selector",
    "calendar": "a calendar period, e.g. calendar month",
    "list": "a list", "map": "a map",
}


@syntax_node
class MapEntry:
    key: str
    key_span: Span
    value: Value


@syntax_node
class Attribute:
    key: str
    value: Value
    span: Span
    key_span: Span


@syntax_node
class Block:
    kind: str
    label: str | None
    items: tuple["Item", ...]
    span: Span
    kind_span: Span
    label_span: Span | None
    has_body: bool = True


@syntax_node
class Import:
    path: str
    span: Span


Item = Union[Attribute, Block, Import]


@syntax_node
class Module:
    path: str
    items: tuple[Item, ...]
    imports: tuple[Import, ...] = field(default=())


def percent_value(value: Value) -> Decimal:
    """The percentage as a fraction: 99.9% -> 0.999, exact."""
    assert value.kind == "percent"
    return value.data / Decimal(100)  # type: ignore[operator]
