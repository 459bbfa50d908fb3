"""Typed, diagnosing access to a block's attributes: the validator's vocabulary."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir
from relc.compiler.diagnostics import Diagnostic, Related, Span
from relc.compiler.check.promql import LABEL_NAME
from relc.compiler.syntax.tree import Attribute, Block, Value
from relc.compiler.units import in_range

DISPLAY = {"slo": "SLO", "sli": "SLI"}
RELC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")


@dataclass(frozen=True)
class Shape:
    """What a block kind may contain: attribute names and child block kinds."""

    attrs: frozenset[str]
    blocks: frozenset[str] = frozenset()
    label: str = "none"  # "none": a name on the block is an error; "named": callers check it


def origin(span: Span) -> ir.Origin:
    return ir.Origin(path=span.path, line=span.line, col=span.col)


@dataclass
class Reader:
    """Reads one block; reports unknown, duplicate and mistyped entries as it goes."""

    block: Block
    shape: Shape
    diags: list[Diagnostic]
    attrs: dict[str, Attribute] = field(default_factory=dict)
    children: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.shape.label == "none" and self.block.label is not None:
            self.diags.append(dg.make("RELC302", f"a {self.what} block takes no name", self.block.label_span,
                                      hint=f"write `{self.block.kind} {{ ... }}`"))
        known = sorted(self.shape.attrs | self.shape.blocks)
        where = self.what
        for item in self.block.items:
            if isinstance(item, Attribute):
                self._take_attribute(item, known, where)
            elif isinstance(item, Block):
                if item.kind in self.shape.blocks:
                    self.children.append(item)
                else:
                    self._unknown(item.kind, item.kind_span, known, where, "block")
            else:  # an import inside a block
                self.diags.append(dg.make("RELC302", "`import` is only allowed at the top level of a file",
                                          item.span))

    def _take_attribute(self, item: Attribute, known: list[str], where: str) -> None:
        if item.key not in self.shape.attrs:
            self._unknown(item.key, item.key_span, known, where, "attribute")
        elif item.key in self.attrs:
            first = self.attrs[item.key]
            self.diags.append(dg.make("RELC314", f"`{item.key}` is set twice in this {where}", item.key_span,
                                      related=(Related(first.key_span, "first set here"),)))
        else:
            self.attrs[item.key] = item

    def _unknown(self, key: str, span: Span, known: list[str], where: str, what: str) -> None:
        hint = dg.did_you_mean(key, known) or (f"a {where} may contain: {', '.join(known)}" if known else None)
        self.diags.append(dg.make("RELC302", f"unknown {what} `{key}` in {where}", span, hint=hint))

    def blocks(self, kind: str) -> list[Block]:
        return [b for b in self.children if b.kind == kind]

    def value(self, key: str, kinds: tuple[str, ...], expected: str, *, required: bool = False,
              hint: str | None = None) -> Value | None:
        attr = self.attrs.get(key)
        if attr is None:
            if required:
                self.diags.append(dg.make("RELC304", f"{self.what} {self._name()}is missing `{key}`",
                                          self.block.kind_span, hint=hint))
            return None
        if attr.value.kind not in kinds:
            self.diags.append(dg.make("RELC303", f"`{key}` must be {expected}, got {attr.value.describe()}",
                                      attr.value.span, hint=hint or _type_hint(attr.value, kinds)))
            return None
        return attr.value

    @property
    def what(self) -> str:
        return DISPLAY.get(self.block.kind, self.block.kind.replace("_", " "))

    def _name(self) -> str:
        return f"`{self.block.label}` " if self.block.label else ""

    def string(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.value(key, ("string", "raw"), "a string", required=required)
        return value.data if value is not None else default  # type: ignore[return-value]

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.value(key, ("list", "string", "raw"), "a list of strings")
        if value is None:
            return ()
        items = value.data if value.kind == "list" else (value,)
        out = []
        for item in items:  # type: ignore[union-attr]
            if item.kind in ("string", "raw"):
                out.append(item.data)
            else:
                self.diags.append(dg.make("RELC303", f"`{key}` must hold strings, got {item.describe()}",
                                          item.span))
        return tuple(out)

    def percent(self, key: str, *, required: bool = False) -> Decimal | None:
        value = self.value(key, ("percent",), "a percentage like 99.9%", required=required)
        if value is None or not self._in_range(value):
            return None
        return value.data / Decimal(100)  # type: ignore[operator]

    def _in_range(self, value: Value) -> bool:
        """Values an importer made from YAML reach here without the parser's range check: check them too."""
        if in_range(value.kind, value.data):  # type: ignore[arg-type]
            return True
        self.diags.append(dg.make("RELC106", f"this {value.kind} is out of range: {value.text[:40]}", value.span,
                                  hint="numbers lie between 10^-15 and 10^15, durations between 0 and 100y"))
        return False

    def duration_s(self, key: str, *, required: bool = False, default: int | None = None) -> int | None:
        value = self.value(key, ("duration",), "a duration like 5m, 1h or 30d", required=required)
        if value is None or not self._in_range(value):
            return default
        ms = value.data
        if ms % 1000:  # type: ignore[operator]
            self.diags.append(dg.make("RELC312", f"`{key}` must be a whole number of seconds, got {value.text}",
                                      value.span))
            return default
        if ms <= 0:  # type: ignore[operator]
            self.diags.append(dg.make("RELC312", f"`{key}` must be longer than zero", value.span))
            return default
        return int(ms // 1000)  # type: ignore[operator]

    def number(self, key: str) -> Decimal | None:
        value = self.value(key, ("number",), "a number")
        return value.data if value is not None and self._in_range(value) else None  # type: ignore[return-value]

    def ref(self, key: str) -> Value | None:
        return self.value(key, ("ref",), "a name")

    def labels(self, key: str, reserved: tuple[str, ...] = ()) -> dict[str, str]:
        """A map of Prometheus label names to string values, sorted for deterministic output."""
        value = self.value(key, ("map",), "a map like { team = \"payments\" }")
        if value is None:
            return {}
        out: dict[str, str] = {}
        for entry in value.data:  # type: ignore[union-attr]
            if not LABEL_NAME.match(entry.key) or entry.key.startswith("__"):
                self.diags.append(dg.make("RELC307", f"`{entry.key}` is not a valid label name", entry.key_span,
                                          hint="label names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with __"))
            elif entry.key in reserved:
                self.diags.append(dg.make("RELC312", f"label `{entry.key}` is set by relc and cannot be overridden",
                                          entry.key_span))
            elif entry.key in out:
                self.diags.append(dg.make("RELC314", f"label `{entry.key}` is set twice", entry.key_span))
            elif entry.value.kind not in ("string", "raw", "number"):
                self.diags.append(dg.make("RELC303", f"label `{entry.key}` must be a string, got "
                                          f"{entry.value.describe()}", entry.value.span))
            else:
                out[entry.key] = entry.value.data if entry.value.kind != "number" else entry.value.text
        return dict(sorted(out.items()))

    def string_map(self, key: str, keys_are_labels: bool = False) -> dict[str, str]:
        value = self.value(key, ("map",), "a map of strings")
        if value is None:
            return {}
        out: dict[str, str] = {}
        for entry in value.data:  # type: ignore[union-attr]
            if keys_are_labels and not LABEL_NAME.match(entry.key):
                self.diags.append(dg.make("RELC307", f"`{entry.key}` is not a valid {key[:-1]} name",
                                          entry.key_span, hint="names match [a-zA-Z_][a-zA-Z0-9_]*"))
            elif entry.key in out:
                self.diags.append(dg.make("RELC314", f"`{entry.key}` is set twice in `{key}`", entry.key_span))
            elif entry.value.kind in ("string", "raw"):
                out[entry.key] = entry.value.data
            else:
                self.diags.append(dg.make("RELC303", f"`{entry.key}` must be a string, got "
                                          f"{entry.value.describe()}", entry.value.span))
        return out


def _type_hint(value: Value, kinds: tuple[str, ...]) -> str | None:
    if "percent" in kinds and value.kind == "number":
        number = value.data
        if isinstance(number, Decimal) and 0 < number < 1:  # a fraction: 0.9995 means 99.95%
            return f"write it as a percentage: {(number * 100).normalize():f}%"
        return f"write it as a percentage: {value.text}%"
    if "duration" in kinds and value.kind == "number":
        return f"add a unit: {value.text}m, {value.text}h or {value.text}d"
    if "string" in kinds and value.kind == "ref":
        return f"quote it: \"{value.text}\""
    if "ref" in kinds and value.kind in ("string", "raw"):
        return "names of definitions are written without quotes"
    return None


def check_name(label: str | None, span: Span | None, what: str, diags: list[Diagnostic]) -> bool:
    """Definition names end up in file names, label values and URLs, so keep them plain."""
    if label is None or span is None:
        return False
    if not RELC_NAME.match(label):
        diags.append(dg.make("RELC307", f"`{label}` is not a valid {what} name", span,
                             hint="names start with a letter and contain letters, digits, `_` and `-`"))
        return False
    if len(label) > MAX_NAME_CHARS:
        diags.append(dg.make("RELC307", f"this {what} name is {len(label)} characters long; the most is "
                             f"{MAX_NAME_CHARS}", span,
                             hint="names become file names (at most 255 bytes on most systems), labels and URLs"))
        return False
    return True


MAX_NAME_CHARS = 128
