"""Typed, diagnosing access to one YAML mapping: the importers' vocabulary, as reader.py is the validator's."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Iterable

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.resolve.importers.yamlpos import YNode


class Fields:
    """Reads a mapping's fields by name; reports unknown keys (warnings), wrong types and missing ones (errors)."""

    def __init__(self, node: YNode | None, what: str, known: Iterable[str], diags: list[Diagnostic],
                 ignored_note: str = "it is ignored"):
        self.what = what
        self.diags = diags
        self.node = node
        self.values: dict[str, YNode] = {}
        self.keys: dict[str, YNode] = {}
        known = tuple(known)
        for key, value in node.pairs if node is not None else ():
            if key.kind != "scalar":
                diags.append(dg.make("RELC605", f"keys in {what} must be plain strings", key.span))
                continue
            if key.text not in known:
                hint = dg.did_you_mean(key.text, known) or (f"{what} fields: {', '.join(known)}" if known else None)
                diags.append(dg.make("RELC604", f"unknown field `{key.text}` in {what}; {ignored_note}", key.span,
                                     hint=hint, severity=dg.Severity.WARNING))
                continue
            self.keys[key.text] = key
            self.values[key.text] = value

    @property
    def span(self) -> Span:
        assert self.node is not None
        return self.node.span

    def where(self, key: str) -> Span:
        """The key's position if present, otherwise the mapping's: where a diagnostic about `key` belongs."""
        if key in self.keys:
            return self.keys[key].span
        return Span(self.span.path, self.span.line, self.span.col, self.span.line, self.span.col + 1)

    def has(self, key: str) -> bool:
        return key in self.values and not self.values[key].is_null

    def get(self, key: str) -> YNode | None:
        value = self.values.get(key)
        return None if value is None or value.is_null else value

    def missing(self, key: str, hint: str | None = None) -> None:
        if self.node is None:  # the mapping itself is absent or not a mapping, which was reported where it is
            return
        self.diags.append(dg.make("RELC606", f"{self.what} is missing `{key}`", self.where(key), hint=hint))

    def _wrong(self, key: str, node: YNode, expected: str) -> None:
        self.diags.append(dg.make("RELC605", f"`{key}` in {self.what} must be {expected}, got {node.describe()}",
                                  node.span))

    def string(self, key: str, required: bool = False, hint: str | None = None) -> YNode | None:
        """A scalar read as text (YAML `2` is the string "2" here, as Go's decoders read it into a string)."""
        node = self.get(key)
        if node is None:
            if required:
                self.missing(key, hint)
            return None
        if node.kind != "scalar":
            self._wrong(key, node, "a string")
            return None
        return node

    def number(self, key: str, required: bool = False) -> tuple[Decimal, YNode] | None:
        node = self.get(key)
        if node is None:
            if required:
                self.missing(key)
            return None
        value = as_decimal(node)
        if value is None:
            self._wrong(key, node, "a finite number" if node.tag in ("int", "float") else "a number")
        return (value, node) if value is not None else None

    def boolean(self, key: str) -> bool | None:
        node = self.get(key)
        if node is None:
            return None
        if node.kind != "scalar" or node.tag != "bool":
            self._wrong(key, node, "true or false")
            return None
        return node.text.lower() in ("true", "yes", "on", "y")

    def mapping(self, key: str, required: bool = False) -> YNode | None:
        return self._collection(key, "map", "a mapping", required)

    def sequence(self, key: str, required: bool = False) -> YNode | None:
        return self._collection(key, "seq", "a list", required)

    def _collection(self, key: str, kind: str, expected: str, required: bool) -> YNode | None:
        node = self.get(key)
        if node is None:
            if required:
                self.missing(key)
            return None
        if node.kind != kind:
            self._wrong(key, node, expected)
            return None
        return node

    def string_pairs(self, key: str) -> list[tuple[YNode, YNode]]:
        """A mapping of strings to scalars, such as labels or annotations; non-scalar values are reported."""
        node = self.mapping(key)
        out = []
        for k, v in node.pairs if node is not None else ():
            if k.kind != "scalar" or v.kind != "scalar" or v.is_null:
                what = f"`{key}` in {self.what}"
                self.diags.append(dg.make("RELC605", f"{what} must map names to strings, got {v.describe()}",
                                          v.span))
                continue
            out.append((k, v))
        return out


def as_decimal(node: YNode) -> Decimal | None:
    """A YAML int or float as an exact decimal; None for anything else, including .inf and .nan."""
    if node.kind != "scalar" or node.tag not in ("int", "float"):
        return None
    text = node.text.replace("_", "").strip()
    try:
        if node.tag == "int" and text.lower().startswith(("0x", "0o", "-0x", "+0x")):
            return Decimal(int(text, 0))
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None
