"""Syntax tree nodes built from grammar rules, for both parsers: the lark Transformer and `fastparse`.

One set of methods, named after grammar/relc.lark's rules, turns a rule's children into relc's syntax
dataclasses with their spans, unescapes strings and bounds numbers; `parser.py` and `fastparse.py` call the
same methods, so the two parsers cannot build different trees.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.syntax.tree import Attribute, Block, Import, MapEntry, Matcher, Module, SelectorLit, Value
from relc.compiler.units import in_range, parse_duration_ms

if TYPE_CHECKING:
    from lark import Token

# Blocks, lists and maps nest a few levels in real specifications; every stage after parsing (validation,
# formatting, the targets) walks the tree recursively, so deeper input is refused, at the bracket.
MAX_NESTING = 64
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "0": "\0"}
# C0 controls but tab and newline, DEL and the C1 controls: never meaningful in a name, label or annotation,
# and a terminal or a Prometheus annotation could act on them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _control_error(char: str, span: Span) -> Diagnostic:
    return dg.make("RELC105", f"a string cannot hold the control character U+{ord(char):04X}", span,
                   hint="strings may hold tab and newline, but no other control character")
_ESCAPE_RE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|.)", re.S)


MAX_LITERAL_CHARS = 40


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_LITERAL_CHARS else f"{text[:20]}...({len(text)} characters)"


class SourceError(Exception):
    """Text that parses but cannot be a value (a bad escape, a control character, a number out of range)."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class Builder:
    """Builds relc's syntax dataclasses, with spans, from one grammar rule's children at a time.

    Each public method is named after a rule and takes (meta, children) the way lark calls a
    transformer with `v_args(meta=True)`; a token child is a `str` with lark's position attributes."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def _span(self, meta) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> Span:
        return Span(self.path, tok.line, tok.column, tok.end_line, tok.end_column)

    def start(self, meta, items):
        imports = tuple(i for i in items if isinstance(i, Import))
        return Module(self.path, tuple(items), imports)

    def import_stmt(self, meta, children):
        return Import(children[0].data, self._span(meta))

    def block(self, meta, children):
        kind_tok = children[0]
        label, label_span, items, has_body = None, None, (), False
        for child in children[1:]:
            if isinstance(child, tuple) and child and child[0] == "label":
                label, label_span = child[1], child[2]
            else:
                items, has_body = child, True
        return Block(str(kind_tok), label, items, self._span(meta), self._tok_span(kind_tok), label_span, has_body)

    def block_label(self, meta, children):
        child = children[0]
        if not isinstance(child, Value):  # a NAME token (lark's or the fast parser's)
            return ("label", str(child), self._tok_span(child))
        return ("label", child.data, child.span)

    def body(self, meta, items):
        return tuple(items)

    def attribute(self, meta, children):
        key, value = children
        return Attribute(str(key), value, self._span(meta), self._tok_span(key))

    def plain_string(self, meta, children):
        tok = children[0]
        self._refuse_control(tok)
        return Value("string", self._unescape(tok), self._tok_span(tok), str(tok))

    def raw_string(self, meta, children):
        tok = children[0]
        self._refuse_control(tok)
        raw = str(tok)
        body = raw[3:-2] if raw.startswith('r#"') else raw[2:-1]
        return Value("raw", body, self._tok_span(tok), raw)

    def percent(self, meta, children):
        tok = children[0]
        return Value("percent", self._bounded(tok, "percentage", lambda t: Decimal(t[:-1])), self._tok_span(tok),
                     str(tok))

    def duration(self, meta, children):
        tok = children[0]
        return Value("duration", self._bounded(tok, "duration", parse_duration_ms), self._tok_span(tok), str(tok))

    def number(self, meta, children):
        tok = children[0]
        return Value("number", self._bounded(tok, "number", Decimal), self._tok_span(tok), str(tok))

    def _bounded(self, tok, what: str, read) -> Decimal:
        """Numbers stay within what a float, an int64 of milliseconds and a person can hold (RELC106), so no
        later stage meets 10^999999999, a 5 000-digit integer or a window of 10^25 years."""
        text = str(tok)
        try:
            value = read(text) if len(text) <= MAX_LITERAL_CHARS else None
            if value is not None and in_range("duration" if what == "duration" else "number", value):
                return value
        except ArithmeticError:  # beyond what a Decimal context holds: 1e999999999
            pass
        largest = "100y" if what == "duration" else "10^15"
        raise SourceError(dg.make(
            "RELC106", f"this {what} is out of range: {_clipped(text)}", self._tok_span(tok),
            hint=f"a {what} has at most {MAX_LITERAL_CHARS} characters and lies between "
                 f"{'0' if what == 'duration' else '10^-15'} and {largest}"))

    def calendar(self, meta, children):
        tok = children[0]
        period = str(tok).split()[-1]
        return Value("calendar", period, self._tok_span(tok), f"calendar {period}")

    def true(self, meta, children):
        return Value("bool", True, self._span(meta), "true")

    def false(self, meta, children):
        return Value("bool", False, self._span(meta), "false")

    def ref(self, meta, children):
        parts = tuple(str(c) for c in children)
        return Value("ref", parts, self._span(meta), ".".join(parts))

    def slo_ref(self, meta, children):
        service, slo = (str(c) for c in children)
        return Value("slo_ref", (service, slo), self._span(meta), f"{service}/{slo}")

    def call(self, meta, children):
        name, argument = children
        return Value("call", (str(name), argument), self._span(meta), f"{name}({argument.text})")

    def selector(self, meta, children):
        metric, matchers = str(children[0]), tuple(children[1:])
        return Value("selector", SelectorLit(metric, matchers), self._span(meta), metric)

    def matcher(self, meta, children):
        label, op, value = children
        if value.kind == "ref":
            return Matcher(str(label), str(op), "", self._span(meta), ref=value.data)
        return Matcher(str(label), str(op), value.data, self._span(meta))

    def list(self, meta, children):
        return Value("list", tuple(children), self._span(meta))

    def map(self, meta, children):
        return Value("map", tuple(children), self._span(meta))

    def map_entry(self, meta, children):
        key, value = children
        if not isinstance(key, Value):  # a NAME token
            return MapEntry(str(key), self._tok_span(key), value)
        return MapEntry(key.data, key.span, value)

    def _refuse_control(self, tok: Token) -> None:
        """Control characters other than tab and newline never reach a label, an annotation or a terminal."""
        found = _CONTROL.search(str(tok))
        if found is None:
            return
        before = str(tok)[:found.start()]
        line = tok.line + before.count("\n")
        col = found.start() - before.rfind("\n") if "\n" in before else tok.column + found.start()
        raise SourceError(_control_error(found.group(), Span.point(self.path, line, col)))

    def _unescape(self, tok: Token) -> str:
        body = str(tok)[1:-1]
        if "\\" not in body:
            return body

        def replace(match: re.Match) -> str:
            esc = match.group(1)
            col = tok.column + 1 + match.start()
            char = _ESCAPES.get(esc)
            if char is None and esc.startswith("u") and len(esc) > 1:
                code = int(esc[2:-1] if esc.startswith("u{") else esc[1:], 16)
                if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                    char = chr(code)
            if char is not None and _CONTROL.match(char):
                raise SourceError(_control_error(char, Span.point(self.path, tok.line, col, len(esc) + 1)))
            if char is not None:
                return char
            raise SourceError(dg.make("RELC102", f"invalid escape sequence `\\{esc}` in string",
                                       Span.point(self.path, tok.line, col, len(esc) + 1),
                                       hint='valid escapes: \\n \\t \\r \\\\ \\" \\0 \\uXXXX \\u{X...}; '
                                            "raw strings r\"...\" take text as written"))

        return _ESCAPE_RE.sub(replace, body)


_TREE_BUILDER: type | None = None


def tree_builder_class() -> type:
    """`Builder` as a lark Transformer: the same methods, called with (meta, children) by lark."""
    global _TREE_BUILDER
    if _TREE_BUILDER is None:
        from lark import Transformer, v_args

        rules = {name: f for name, f in vars(Builder).items() if not name.startswith("_")}
        _TREE_BUILDER = v_args(meta=True)(type("_TreeBuilder", (Builder, Transformer), rules))
    return _TREE_BUILDER
