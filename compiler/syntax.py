"""The syntax tree: what the parser saw, with a span on every node so any later stage can point at it."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union

from .diagnostics import Span


@dataclass(frozen=True, slots=True)
class Matcher:
    label: str
    op: str
    value: str
    span: Span
    ref: tuple[str, ...] | None = None  # `job=params.job` inside a pack, replaced before validation


@dataclass(frozen=True, slots=True)
class SelectorLit:
    metric: str
    matchers: tuple[Matcher, ...]


@dataclass(frozen=True, slots=True)
class Value:
    """A literal; `kind` is one of string, raw, percent, duration, number, bool, ref, selector, list, map."""

    kind: str
    data: object
    span: Span
    text: str = ""
    tainted: bool = False  # text interpolated from pack params: never allowed to become PromQL

    def describe(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)


KIND_NAMES = {
    "string": "a string", "raw": "a raw string", "percent": "a percentage", "duration": "a duration",
    "number": "a number", "bool": "a boolean", "ref": "a name", "selector": "a metric selector",
    "list": "a list", "map": "a map",
}


@dataclass(frozen=True, slots=True)
class MapEntry:
    key: str
    key_span: Span
    value: Value


@dataclass(frozen=True, slots=True)
class Attribute:
    key: str
    value: Value
    span: Span
    key_span: Span


@dataclass(frozen=True, slots=True)
class Block:
    kind: str
    label: str | None
    items: tuple["Item", ...]
    span: Span
    kind_span: Span
    label_span: Span | None
    has_body: bool = True


@dataclass(frozen=True, slots=True)
class Import:
    path: str
    span: Span


Item = Union[Attribute, Block, Import]


@dataclass(frozen=True, slots=True)
class Module:
    path: str
    items: tuple[Item, ...]
    imports: tuple[Import, ...] = field(default=())


def percent_value(value: Value) -> Decimal:
    """The percentage as a fraction: 99.9% -> 0.999, exact."""
    assert value.kind == "percent"
    return value.data / Decimal(100)  # type: ignore[operator]
