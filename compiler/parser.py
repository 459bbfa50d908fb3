"""Stage 1, parse: source text to syntax tree, with syntax errors as diagnostics (never exceptions).

Two parsers accept the language of grammar/relc.lark. A hand-written recursive-descent parser
(`fastparse.FastParser`) handles valid input, about ten times faster than lark and without importing it;
on anything it does not expect it gives up, and the lark LALR parser, the reference, parses the
file again and reports the syntax error. Both build the tree with the same `_Builder` methods.
The fast path runs only while the grammar's hash is the one it was written for.
"""
from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from . import diagnostics as dg
from .diagnostics import Diagnostic, Span
from .syntax import Attribute, Block, Import, MapEntry, Matcher, Module, SelectorLit, Value
from .units import in_range, parse_duration_ms

if TYPE_CHECKING:
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

_PARSER: Lark | None = None
_GRAMMAR: tuple[str, int] | None = None  # (text, CRC-32) of grammar/relc.lark
# The CRC-32 of the grammar/relc.lark that `fastparse.FastParser` implements. When the grammar changes, the
# fast path switches itself off (every file goes through lark) until `FastParser` is updated to
# match and this checksum with it; `python3 benchmarks/check_fastpaths.py` compares the parsers.
FAST_GRAMMAR_CRC32 = 0x41e51426

TOKEN_NAMES = {
    "NAME": "a name", "STRING": "a string", "RAW_STRING": "a raw string", "PERCENT": "a percentage",
    "DURATION": "a duration", "NUMBER": "a number", "MATCH_OP": "a label matcher (`=`, `!=`, `=~`, `!~`)",
    "LBRACE": "`{`", "RBRACE": "`}`", "LSQB": "`[`", "RSQB": "`]`", "EQUAL": "`=`", "COMMA": "`,`",
    "DOT": "`.`", "IMPORT": "`import`", "TRUE": "`true`", "FALSE": "`false`", "$END": "end of file",
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "0": "\0"}
# C0 controls but tab and newline, DEL and the C1 controls: never meaningful in a name, label or annotation,
# and a terminal or a Prometheus annotation could act on them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _control_error(char: str, span: Span) -> Diagnostic:
    return dg.make("RELC105", f"a string cannot hold the control character U+{ord(char):04X}", span,
                   hint="strings may hold tab and newline, but no other control character")
_ESCAPE_RE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|.)", re.S)


def _grammar() -> tuple[str, int]:
    global _GRAMMAR
    if _GRAMMAR is None:
        from importlib.resources import files
        from zlib import crc32

        data = files("relc.grammar").joinpath("relc.lark").read_bytes()
        _GRAMMAR = (data.decode("utf-8"), crc32(data.replace(b"\r\n", b"\n")))
    return _GRAMMAR


def _cache_file(grammar_crc: int, lark_version: str) -> str | None:
    """Where lark may keep the built parser: a per-user cache directory (RELC_CACHE_DIR, else
    $XDG_CACHE_HOME/relc or ~/.cache/relc), one file per grammar and lark version. None when there
    is no usable directory; lark itself ignores a cache file it cannot read, load or write."""
    base = os.environ.get("RELC_CACHE_DIR")
    if not base:
        root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(root):
            return None
        base = os.path.join(root, "relc")
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
    except OSError:
        return None
    if not os.access(base, os.W_OK | os.X_OK) and not os.access(base, os.R_OK | os.X_OK):
        return None
    return os.path.join(base, f"grammar-{grammar_crc:08x}-lark-{lark_version}.cache")


def grammar_parser() -> Lark:
    """Build the LALR parser once per process (from the user cache when present); later calls reuse it."""
    global _PARSER
    if _PARSER is None:
        import lark

        cache = _cache_file(_grammar()[1], lark.__version__) or False
        _PARSER = lark.Lark.open_from_package("relc.grammar", "relc.lark", parser="lalr", cache=cache,
                                              propagate_positions=True, maybe_placeholders=False)
    return _PARSER


def one_newline(text: str) -> str:
    """Windows (CR LF) and old Mac (lone CR) line endings as LF: the same SLOs and line numbers whatever the editor."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def parse(path: str, text: str) -> tuple[Module | None, list[Diagnostic]]:
    """Parse one file; on a syntax error return no module and one diagnostic at the offending token."""
    text = one_newline(text)
    if _grammar()[1] == FAST_GRAMMAR_CRC32:
        from .fastparse import BadUnit, FastParser, TooDeep

        try:
            return FastParser(path, text).module()
        except TooDeep as deep:
            return None, [_too_deep(path, Span.point(path, deep.line, deep.column))]
        except BadUnit as bad:
            return None, [_bad_unit(path, bad.word, bad.line, bad.column)]
        except Exception:  # noqa: BLE001 - anything unexpected: lark parses it again and reports it
            pass
    deepest = _deepest_opening(text)
    if deepest is not None:
        return None, [_too_deep(path, deepest)]
    glued = _glued_unit(text)
    if glued is not None:
        return None, [_bad_unit(path, *glued)]
    return _parse_with_lark(path, text)


_GLUED = re.compile(r'r#"(?:.|\n)*?"#|r"[^"]*"|"(?:[^"\\\n]|\\.)*"|#[^\n]*|//[^\n]*|[A-Za-z_][A-Za-z0-9_:-]*'
                    r"|(?P<word>-?[0-9][0-9A-Za-z_.%]*(?:(?<=[eE])[-+][0-9]+)?)")
_LITERAL = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d|w|y))+|[0-9]+(?:\.[0-9]+)?%"
                      r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _glued_unit(text: str) -> tuple[str, int, int] | None:
    """The first number or duration that runs into letters, outside strings and comments (lark's path)."""
    for match in _GLUED.finditer(text):
        word = match.group("word")
        if word and not _LITERAL.fullmatch(word) and re.search("[A-Za-z]", word):
            line = text.count("\n", 0, match.start()) + 1
            return word, line, match.start() - text.rfind("\n", 0, match.start())
    return None


def _bad_unit(path: str, word: str, line: int, column: int) -> Diagnostic:
    return dg.make("RELC101", f"`{word}` is not a number, percentage or duration relc knows", Span(
        path, line, column, line, column + len(word)),
        hint="a duration is a number and one of the units ms, s, m, h, d, w (7d), y (365d), e.g. 45m or 30d; "
             "several add up: 1h30m")


# Blocks, lists and maps nest a few levels in real specifications; every stage after parsing (validation,
# formatting, the targets) walks the tree recursively, so deeper input is refused here, at the bracket.
MAX_NESTING = 64
_NESTING = re.compile(r'r#"(?:.|\n)*?"#|r"[^"]*"|"(?:[^"\\\n]|\\.)*"|#[^\n]*|//[^\n]*|(?P<open>[{\[])|(?P<close>[}\]])')


def _deepest_opening(text: str) -> Span | None:
    """Where brackets first nest past MAX_NESTING, outside strings and comments (lark's path: the rare one)."""
    depth = 0
    for match in _NESTING.finditer(text):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                return Span.point("", line, match.start() - text.rfind("\n", 0, match.start()))
        elif kind == "close":
            depth = max(0, depth - 1)
    return None


def _parse_with_lark(path: str, text: str) -> tuple[Module | None, list[Diagnostic]]:
    from lark.exceptions import UnexpectedInput, VisitError

    try:
        tree = grammar_parser().parse(text)
        builder = _tree_builder_class()(path)
        module = builder.transform(tree)
    except UnexpectedInput as err:
        return None, [_syntax_error(path, text, err)]
    except RecursionError:
        return None, [_too_deep(path)]
    except VisitError as err:  # a bad escape inside a string literal, or nesting too deep
        if isinstance(err.orig_exc, _EscapeError):
            return None, [err.orig_exc.diagnostic]
        if isinstance(err.orig_exc, RecursionError):
            return None, [_too_deep(path)]
        raise
    return module, builder.diagnostics


def _too_deep(path: str, where: Span | None = None) -> Diagnostic:
    where = Span.point(path, 1, 1) if where is None else Span.point(path, where.line, where.col)
    return dg.make("RELC104", f"blocks, lists or maps nest more than {MAX_NESTING} levels deep here",
                   where, hint="real specifications nest a few levels; check for generated input")


def _syntax_error(path: str, text: str, err: UnexpectedInput) -> Diagnostic:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    line, col = max(err.line, 1), max(err.column, 1)
    if isinstance(err, UnexpectedCharacters):
        char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        msg = f"unexpected character {char!r}"
        hint = _hint_for_char(char)
        return dg.make("RELC101", msg, Span.point(path, line, col), hint=hint)
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END"):
        end_line, end_col = _end_position(text)
        expected = _expected(getattr(err, "expected", None) or getattr(err, "accepts", set()))
        opener = _unclosed_brace(path, text)
        related = (dg.Related(opener, "this `{` is never closed"),) if opener else ()
        return dg.make("RELC101", f"unexpected end of file; expected {expected}", Span.point(path, end_line, end_col),
                       hint="a block may be missing its closing `}`" if opener else None, related=related)
    assert isinstance(err, UnexpectedToken)
    token = err.token
    expected = _expected(err.accepts or err.expected)
    shown = str(token).replace("\n", "\\n")
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    span = Span(path, line, col, token.end_line or line, token.end_column or col + 1)
    hint = None
    if token.type in ("PERCENT", "DURATION", "NUMBER", "STRING", "RAW_STRING") and "EQUAL" in (err.accepts or set()):
        hint = "write `name = value` for an attribute, or `kind name { ... }` for a block"
    name = TOKEN_NAMES.get(token.type, token.type)
    what = name if name.startswith("`") else f"{re.sub(r'^an? ', '', name)} `{shown}`"
    return dg.make("RELC101", f"unexpected {what}; expected {expected}", span, hint=hint)


def _unclosed_brace(path: str, text: str) -> Span | None:
    """The `{` most likely left open at end of file, found with the grammar's own lexer: the first block whose
    body holds a line indented no deeper than the block's own first line (a sibling written before its `}`),
    else the innermost one still open."""
    from lark.exceptions import UnexpectedInput

    lines = text.split("\n")
    stack: list[tuple[Token, int]] = []
    suspect: Token | None = None
    last_line = 0
    try:
        for tok in grammar_parser().lex(text):
            first_on_line = tok.line != last_line
            last_line = tok.end_line or tok.line
            if first_on_line and stack and suspect is None and tok.type != "RBRACE" and tok.line > stack[-1][0].line:
                if tok.column - 1 <= stack[-1][1]:
                    suspect = stack[-1][0]
            if tok.type == "LBRACE":
                opener_line = lines[tok.line - 1]
                stack.append((tok, len(opener_line) - len(opener_line.lstrip(" \t"))))
            elif tok.type == "RBRACE" and stack:
                stack.pop()
    except UnexpectedInput:
        return None
    if not stack:
        return None
    tok = suspect or stack[-1][0]
    return Span.point(path, tok.line, tok.column)


def _hint_for_char(char: str) -> str | None:
    if char == "'":
        return "strings use double quotes"
    if char == '"':
        return "this string is not closed on its line; use a raw string r#\"...\"# for multi-line text"
    return None


def _expected(names: set[str]) -> str:
    shown = sorted({TOKEN_NAMES.get(n, n) for n in names if not n.startswith("__")})
    if not shown:
        return "something else"
    if len(shown) > 6:
        shown = shown[:6] + ["..."]
    return ", ".join(shown[:-1]) + (" or " if len(shown) > 1 else "") + shown[-1]


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


MAX_LITERAL_CHARS = 40


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_LITERAL_CHARS else f"{text[:20]}...({len(text)} characters)"


class _EscapeError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _Builder:
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
        raise _EscapeError(dg.make(
            "RELC106", f"this {what} is out of range: {_clipped(text)}", self._tok_span(tok),
            hint=f"a {what} has at most {MAX_LITERAL_CHARS} characters and lies between "
                 f"{'0' if what == 'duration' else '10^-15'} and {largest}"))

    def true(self, meta, children):
        return Value("bool", True, self._span(meta), "true")

    def false(self, meta, children):
        return Value("bool", False, self._span(meta), "false")

    def ref(self, meta, children):
        parts = tuple(str(c) for c in children)
        return Value("ref", parts, self._span(meta), ".".join(parts))

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
        raise _EscapeError(_control_error(found.group(), Span.point(self.path, line, col)))

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
                raise _EscapeError(_control_error(char, Span.point(self.path, tok.line, col, len(esc) + 1)))
            if char is not None:
                return char
            raise _EscapeError(dg.make("RELC102", f"invalid escape sequence `\\{esc}` in string",
                                       Span.point(self.path, tok.line, col, len(esc) + 1),
                                       hint='valid escapes: \\n \\t \\r \\\\ \\" \\0 \\uXXXX \\u{X...}; '
                                            "raw strings r\"...\" take text as written"))

        return _ESCAPE_RE.sub(replace, body)


_TREE_BUILDER: type | None = None


def _tree_builder_class() -> type:
    """`_Builder` as a lark Transformer: the same methods, called with (meta, children) by lark."""
    global _TREE_BUILDER
    if _TREE_BUILDER is None:
        from lark import Transformer, v_args

        rules = {name: f for name, f in vars(_Builder).items() if not name.startswith("_")}
        _TREE_BUILDER = v_args(meta=True)(type("_TreeBuilder", (_Builder, Transformer), rules))
    return _TREE_BUILDER
