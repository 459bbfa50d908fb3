"""Stage 1, parse: source text to syntax tree, with syntax errors as diagnostics (never exceptions).

Two parsers accept the language of grammar/relc.lark. A hand-written recursive-descent parser
(`fastparse.FastParser`) handles valid input, about four times faster than lark and without importing it;
on anything it does not expect it gives up, and the lark LALR parser, the reference, parses the
file again and reports the syntax error. Both build the tree with the same methods (builder.py).
The fast path runs only while the grammar's hash is the one it was written for.
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.syntax.builder import MAX_NESTING, SourceError, tree_builder_class
from relc.compiler.syntax.fastparse import BadUnit, FastParser, TooDeep
from relc.compiler.syntax.tree import Module

if TYPE_CHECKING:
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

_PARSER: Lark | None = None
_GRAMMAR: tuple[str, int] | None = None  # (text, CRC-32) of grammar/relc.lark
# The CRC-32 of the grammar/relc.lark that `fastparse.FastParser` implements. When the grammar changes, the
# fast path switches itself off (every file goes through lark) until `FastParser` is updated to
# match and this checksum with it; `python3 benchmarks/check_fastpaths.py` compares the parsers.
FAST_GRAMMAR_CRC32 = 0xbf3f2fc9

TOKEN_NAMES = {
    "NAME": "a name", "STRING": "a string", "RAW_STRING": "a raw string", "PERCENT": "a percentage",
    "DURATION": "a duration", "NUMBER": "a number", "MATCH_OP": "a label matcher (`=`, `!=`, `=~`, `!~`)",
    "LBRACE": "`{`", "RBRACE": "`}`", "LSQB": "`[`", "RSQB": "`]`", "EQUAL": "`=`", "COMMA": "`,`",
    "DOT": "`.`", "SLASH": "`/`", "LPAR": "`(`", "RPAR": "`)`", "IMPORT": "`import`", "TRUE": "`true`", "FALSE": "`false`", "CALENDAR": "a calendar period", "$END": "end of file",
}
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
        try:
            return FastParser(path, text).module()
        except TooDeep as deep:
            return None, [_too_deep(path, Span.point(path, deep.line, deep.column))]
        except BadUnit as bad:
            return None, [_bad_unit(path, bad.word, bad.line, bad.column)]
        except Exception:  # noqa: BLE001 - anything unexpected: lark parses it again and reports it
            pass
    refused = _lexical_refusal(path, text)
    return (None, [refused]) if refused is not None else _parse_with_lark(path, text)


# What the fast parser refuses by itself, found again for lark's path (the rare one) in one scan outside strings
# and comments: brackets nested past MAX_NESTING, and a number or duration running into letters (`45min`).
_SCAN = re.compile(r'r#"(?:.|\n)*?"#|r"[^"]*"|"(?:[^"\\\n]|\\.)*"|#[^\n]*|//[^\n]*|[A-Za-z_][A-Za-z0-9_:-]*'
                   r"|(?P<open>[{\[(])|(?P<close>[}\])])|(?P<word>-?[0-9][0-9A-Za-z_.%]*(?:(?<=[eE])[-+][0-9]+)?)")
_LITERAL = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d|w|y))+|[0-9]+(?:\.[0-9]+)?%"
                      r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LETTER = re.compile("[A-Za-z]")


def _lexical_refusal(path: str, text: str) -> Diagnostic | None:
    """The first place the fast parser would have refused (RELC104 nesting, RELC101 unit), or None."""
    depth = 0
    for match in _SCAN.finditer(text):
        kind = match.lastgroup
        if kind == "close":
            depth = max(0, depth - 1)
            continue
        if kind == "open":
            depth += 1
            if depth <= MAX_NESTING:
                continue
        elif kind != "word" or _LITERAL.fullmatch(match.group()) or not _LETTER.search(match.group()):
            continue
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - text.rfind("\n", 0, match.start())
        return _too_deep(path, Span.point(path, line, column)) if kind == "open" else \
            _bad_unit(path, match.group(), line, column)
    return None


def _bad_unit(path: str, word: str, line: int, column: int) -> Diagnostic:
    return dg.make("RELC101", f"`{word}` is not a number, percentage or duration relc knows", Span(
        path, line, column, line, column + len(word)),
        hint="a duration is a number and one of the units ms, s, m, h, d, w (7d), y (365d), e.g. 45m or 30d; "
             "several add up: 1h30m")


def _parse_with_lark(path: str, text: str) -> tuple[Module | None, list[Diagnostic]]:
    from lark.exceptions import UnexpectedInput, VisitError

    try:
        tree = grammar_parser().parse(text)
        builder = tree_builder_class()(path)
        module = builder.transform(tree)
    except UnexpectedInput as err:
        return None, [_syntax_error(path, text, err)]
    except RecursionError:
        return None, [_too_deep(path)]
    except VisitError as err:  # a bad escape inside a string literal, or nesting too deep
        if isinstance(err.orig_exc, SourceError):
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
