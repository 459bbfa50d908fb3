"""Builders for relc syntax nodes whose spans point into the YAML, so the validator's diagnostics land there too.

Every Value gets the `text` the relc parser would have recorded for it (quoted strings, `99.9%`, `30d`),
so a printer can write the tree back as .relc source.
"""
from __future__ import annotations

from decimal import Decimal

from relc.compiler.diagnostics import Span
from relc.compiler.syntax.tree import Attribute, Block, MapEntry, Module, Value
from relc.compiler.units import prom_duration
from relc.compiler.resolve.importers.yamlpos import YNode

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def quote(text: str) -> str:
    """A relc plain string literal for `text`: one line, escapes for quotes, backslashes and controls."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(f"\\u{{{ord(ch):X}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def raw_literal(text: str) -> str | None:
    """The raw-string spelling of `text`, or None when no raw form can hold it."""
    if '"' not in text:
        return f'r"{text}"'
    if '"#' not in text:
        return f'r#"{text}"#'
    return None


def fmt_decimal(value: Decimal) -> str:
    """Plain positional notation without trailing zeros: 99.900 -> 99.9, 1E+2 -> 100."""
    return format(value.normalize(), "f")


def string(text: str, span: Span) -> Value:
    return Value("string", text, span, quote(text))


def raw(text: str, span: Span) -> Value:
    """PromQL keeps its backslashes and quotes as written in a raw string, when one can hold it."""
    literal = raw_literal(text)
    return Value("raw", text, span, literal) if literal is not None else string(text, span)


def percent(value: Decimal, span: Span) -> Value:
    return Value("percent", value, span, fmt_decimal(value) + "%")


def number(value: Decimal, span: Span) -> Value:
    return Value("number", value, span, fmt_decimal(value))


def duration_s(seconds: int, span: Span) -> Value:
    return Value("duration", Decimal(seconds * 1000), span, prom_duration(seconds))


def ref(name: str, span: Span) -> Value:
    return Value("ref", (name,), span, name)


def string_map(pairs: list[tuple[YNode, YNode]], span: Span) -> Value:
    """Labels or annotations: YAML scalars as strings, keyed as written."""
    entries = tuple(MapEntry(k.text, k.span, string(v.text, v.span)) for k, v in pairs)
    return Value("map", entries, span)


def attr(key: str, value: Value, key_span: Span | None = None) -> Attribute:
    """An attribute spanning its YAML key to its value, so diagnostics about either land on the right line."""
    key_span = key_span or value.span
    whole = Span(key_span.path, key_span.line, key_span.col, value.span.end_line, value.span.end_col)
    if (value.span.path, value.span.end_line, value.span.end_col) < (key_span.path, key_span.line, key_span.col):
        whole = key_span
    return Attribute(key, value, whole, key_span)


def block(kind: str, label: str | None, items: list, span: Span, kind_span: Span | None = None,
          label_span: Span | None = None) -> Block:
    kind_span = kind_span or point(span)
    if label is not None and label_span is None:
        label_span = kind_span
    return Block(kind, label, tuple(items), span, kind_span, label_span)


def point(span: Span) -> Span:
    """The first character of a span: where a synthesized node says it came from."""
    return Span(span.path, span.line, span.col, span.line, span.col + 1)


def module(path: str, blocks: list[Block]) -> Module:
    return Module(path, tuple(blocks), ())


def replace_items(blk: Block, items: list) -> Block:
    return Block(blk.kind, blk.label, tuple(items), blk.span, blk.kind_span, blk.label_span, blk.has_body)
