"""The fast path of stage 1: a recursive-descent parser for grammar/relc.lark that handles valid input about four
times faster than lark (docs/performance.md); anything it does not expect raises, and parser.py lets lark decide."""
from __future__ import annotations

import re

from relc.compiler.syntax.builder import MAX_NESTING, Builder
from relc.compiler.syntax.tree import Module, Value
from relc.compiler.diagnostics import Diagnostic, Span

class _Fallback(Exception):
    """The fast parser met something it does not handle; lark decides."""


class BadUnit(Exception):
    """A number or duration runs straight into letters (`45min`, `30days`): a unit relc does not know."""

    def __init__(self, word: str, line: int, column: int):
        super().__init__(word)
        self.word, self.line, self.column = word, line, column


class TooDeep(Exception):
    """Blocks, lists and maps nest deeper than MAX_NESTING at this token."""

    def __init__(self, tok: _Tok):
        super().__init__(tok.text)
        self.line, self.column = tok.line, tok.column


class _Tok:
    """A token: its text, plus the attributes of lark's Token that `Builder` reads (`str()` gives the text).
    Not a `str` subclass: a slotted object costs a third as much to build, and a file has thousands."""

    __slots__ = ("text", "type", "line", "column", "end_line", "end_column")

    def __init__(self, text: str, type: str, line: int, column: int, end_line: int, end_column: int):
        self.text, self.type, self.line, self.column, self.end_line, self.end_column = (
            text, type, line, column, end_line, end_column)

    def __str__(self) -> str:
        return self.text


class _Meta:
    __slots__ = ("line", "column", "end_line", "end_column")

    def __init__(self, line: int, column: int, end_line: int, end_column: int):
        self.line, self.column, self.end_line, self.end_column = line, column, end_line, end_column


# The grammar's terminals, most specific first as lark orders them (priority, then width), each
# after any whitespace and comments; a NAME spelt `import`, `true` or `false` is the keyword.
_FAST_TOKEN = re.compile(r"(?:[ \t\f\r\n]+|#[^\n]*|//[^\n]*)*(?:" + "|".join([
    r'(?P<raw>r#"(?:.|\n)*?"#|r"[^"]*")',
    r"(?P<percent>[0-9]+(?:\.[0-9]+)?%)",
    r"(?P<duration>(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d|w|y))+)",
    r"(?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)",
    r"(?P<name>[A-Za-z_][A-Za-z0-9_:-]*)",
    r'(?P<string>"(?:[^"\\\n]|\\.)*")',
    r"(?P<op>=~|!~|!=|[={}\[\],./()])",
    r"(?P<end>\Z)",
]) + ")")
_KEYWORDS = frozenset(("import", "true", "false"))
_SCALARS = {"string": "plain_string", "raw": "raw_string", "percent": "percent", "duration": "duration",
            "number": "number"}


def _tokens(text: str) -> list[_Tok]:
    """Split text into tokens with lark's positions (1-based columns, end column one past the end).
    A punctuation token's type is its text; the list ends with an empty token of type `end`."""
    out: list[_Tok] = []
    match, count, rindex = _FAST_TOKEN.match, text.count, text.rindex
    pos, line, line_start = 0, 1, 0
    while True:
        m = match(text, pos)
        if m is None:
            raise _Fallback
        kind = m.lastgroup
        start, pos = m.span(kind)
        newlines = count("\n", m.start(), start)
        if newlines:
            line += newlines
            line_start = rindex("\n", 0, start) + 1
        lexeme = m.group(kind)
        column = start - line_start + 1
        if kind == "raw" and "\n" in lexeme:
            first_line = line
            line += lexeme.count("\n")
            line_start = rindex("\n", 0, pos) + 1
            out.append(_Tok(lexeme, kind, first_line, column, line, pos - line_start + 1))
        else:
            out.append(_Tok(lexeme, lexeme if kind == "op" else kind, line, column, line, pos - line_start + 1))
        if kind == "end":
            return out


class FastParser:
    """Recursive descent over the token list; raises _Fallback where lark would report an error,
    and also wherever lark's contextual lexer would read a keyword as a name (lark handles those)."""

    def __init__(self, path: str, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.b = Builder(path)

    def deeper(self, opened: _Tok) -> None:
        """One more level of nesting, refused past MAX_NESTING: every later stage recurses over the tree."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise TooDeep(opened)

    def module(self) -> tuple[Module, list[Diagnostic]]:
        items = []
        while self.toks[self.i].type != "end":
            items.append(self.item())
        return self.b.start(None, items), self.b.diagnostics

    def next(self, *types: str) -> _Tok:
        """The next token, which must be of one of `types` when they are given."""
        tok = self.toks[self.i]
        if tok.type == "end" or (types and tok.type not in types):
            raise _Fallback
        self.i += 1
        return tok

    def name(self) -> _Tok:
        tok = self.next("name")
        if tok.text in _KEYWORDS:
            raise _Fallback
        return tok

    def item(self):
        first = self.next("name")
        if first.text == "import":
            value = self.string()
            return self.b.import_stmt(_between(first, value.span), [value])
        if first.text in _KEYWORDS:
            raise _Fallback
        kind = self.toks[self.i].type
        if kind == "=":
            self.i += 1
            value = self.value()
            return self.b.attribute(_between(first, value.span), [first, value])
        children: list = [first]
        end = None
        if kind == "name":
            label = self.name()
            children.append(self.b.block_label(_at(label), [label]))
            end, kind = label, self.toks[self.i].type
        elif kind == "string" or kind == "raw":
            value = self.string()
            children.append(self.b.block_label(_at(value.span), [value]))
            end, kind = value.span, self.toks[self.i].type
        if kind == "{":
            opened = self.next()
            self.deeper(opened)
            items = []
            while self.toks[self.i].type != "}":
                items.append(self.item())
            end = self.next()
            self.depth -= 1
            children.append(self.b.body(_between(opened, end), items))
        if end is None:
            raise _Fallback
        return self.b.block(_between(first, end), children)

    def string(self) -> Value:
        tok = self.next("string", "raw")
        if tok.type == "string":
            return self.b.plain_string(_at(tok), [tok])
        return self.b.raw_string(_at(tok), [tok])

    def value(self) -> Value:
        tok = self.next()
        kind = tok.type
        if kind in _SCALARS:
            glued = self.toks[self.i]
            if kind in ("duration", "number", "percent") and glued.type == "name" and glued.line == tok.line \
                    and glued.column == tok.end_column:
                raise BadUnit(tok.text + glued.text, tok.line, tok.column)
            return getattr(self.b, _SCALARS[kind])(_at(tok), [tok])
        if kind == "name":
            if tok.text == "true":
                return self.b.true(_at(tok), [])
            if tok.text == "false":
                return self.b.false(_at(tok), [])
            if tok.text == "import":
                raise _Fallback
            following = self.toks[self.i].type
            if tok.text == "calendar" and following == "name" and self.toks[self.i].line == tok.line:
                period = self.next()
                return self.b.calendar(_between(tok, period), [_Tok(f"calendar {period.text}", "calendar",
                                                                    tok.line, tok.column, period.end_line,
                                                                    period.end_column)])
            if following == "/":
                self.i += 1
                second = self.name()
                return self.b.slo_ref(_between(tok, second), [tok, second])
            if following == "(":
                opened = self.next()
                self.deeper(opened)
                argument = self.value()
                closed = self.next(")")
                self.depth -= 1
                return self.b.call(_between(tok, closed), [tok, argument])
            return self.selector(tok) if following == "{" else self.ref(tok)
        if kind == "[":
            return self.sequence(tok)
        if kind == "{":
            return self.mapping(tok)
        raise _Fallback

    def ref(self, first: _Tok) -> Value:
        parts = [first]
        while self.toks[self.i].type == ".":
            self.i += 1
            parts.append(self.name())
        return self.b.ref(_between(first, parts[-1]), parts)

    def selector(self, metric: _Tok) -> Value:
        self.next("{")
        children: list = [metric]
        while self.toks[self.i].type != "}":
            label = self.name()
            op = self.next("=", "=~", "!=", "!~")
            value = self.string() if self.toks[self.i].type in ("string", "raw") else self.ref(self.name())
            children.append(self.b.matcher(_between(label, value.span), [label, op, value]))
            if self.toks[self.i].type != "}":
                self.next(",")
        closed = self.next()
        return self.b.selector(_between(metric, closed), children)

    def sequence(self, opened: _Tok) -> Value:
        self.deeper(opened)
        values = []
        while self.toks[self.i].type != "]":
            values.append(self.value())
            if self.toks[self.i].type != "]":
                self.next(",")
        closed = self.next()
        self.depth -= 1
        return self.b.list(_between(opened, closed), values)

    def mapping(self, opened: _Tok) -> Value:
        self.deeper(opened)
        entries = []
        while self.toks[self.i].type != "}":
            key = self.string() if self.toks[self.i].type in ("string", "raw") else self.name()
            self.next("=")
            entries.append(self.b.map_entry(None, [key, self.value()]))
            if self.toks[self.i].type == ",":
                self.i += 1
        closed = self.next()
        self.depth -= 1
        return self.b.map(_between(opened, closed), entries)


def _at(where) -> _Meta:
    """The meta of a single token or value span."""
    if isinstance(where, Span):
        return _Meta(where.line, where.col, where.end_line, where.end_col)
    return _Meta(where.line, where.column, where.end_line, where.end_column)


def _between(first: _Tok, last) -> _Meta:
    """From the start of the first token to the end of the last token or value span."""
    if isinstance(last, Span):
        return _Meta(first.line, first.column, last.end_line, last.end_col)
    return _Meta(first.line, first.column, last.end_line, last.end_column)
