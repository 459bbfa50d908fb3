"""PromQL text: quoting that cannot be escaped from, selector rendering, and syntax checks."""
from __future__ import annotations

import functools
import os
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the checked nodes and the IR both fit; neither is needed at run time
    from relc.compiler.model import ir

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
WINDOW_PLACEHOLDER = "$window"


_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')  # every character quote() writes as an escape
_ESCAPES = {**{code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)},
            ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def quote(value: str) -> str:
    """A PromQL double-quoted string literal whose content is exactly `value`."""
    if _ESCAPE.search(value) is None:  # most values: nothing to escape, so the literal is the text in quotes
        return '"' + value + '"'
    return '"' + value.translate(_ESCAPES) + '"'


def render_selector(selector: ir.Selector, extra: tuple[ir.LabelMatcher, ...] = (), suffix: str = "") -> str:
    """`metric{a="b"}` with matchers in source order, then any the caller adds."""
    matchers = selector.matchers + extra
    inner = ",".join(f"{m.name}{m.op}{quote(m.value)}" for m in matchers)
    return f"{selector.metric}{suffix}{{{inner}}}" if inner else f"{selector.metric}{suffix}"


def substitute_window(promql: str, window: str) -> str:
    return promql.replace(WINDOW_PLACEHOLDER, window)


# The PromQL parser (Rust) needs memory growing with the square of a chain's operators (1 024 terms: 177 MiB,
# 4 096: 2.5 GiB) and its stack with nesting (8 000 parentheses: SIGSEGV). Real queries are far below these.
MAX_PROMQL_CHARS = 16_384
MAX_PROMQL_DEPTH = 128
MAX_PROMQL_OPERATORS = 512
_LEXEME = re.compile(r""""(?:\\.|[^"\\])*"?|'(?:\\.|[^'\\])*'?|`[^`]*`?|(?P<open>[(\[{])|(?P<close>[)\]}])"""
                     r"|(?P<op>\b(?:and|or|unless|atan2)\b|[-+*/%^]|[=!<>]=?)")


def size_error(promql: str) -> str | None:
    """Why a query is too large for relc to check safely, before the parser sees it; None when it is not."""
    if len(promql) > MAX_PROMQL_CHARS:
        return f"it is {len(promql)} characters long; relc checks queries of up to {MAX_PROMQL_CHARS}"
    depth = deepest = operators = 0
    for lexeme in _LEXEME.finditer(promql):
        kind = lexeme.lastgroup
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close":
            depth -= 1
        elif kind == "op":
            operators += 1
    if deepest > MAX_PROMQL_DEPTH:
        return f"it nests {deepest} brackets deep; relc checks queries nested up to {MAX_PROMQL_DEPTH}"
    if operators > MAX_PROMQL_OPERATORS:
        return f"it has {operators} operators; relc checks queries of up to {MAX_PROMQL_OPERATORS}"
    return None


@functools.lru_cache(maxsize=1 << 14)
def syntax_error(promql: str) -> str | None:
    """The parser's complaint about `promql`, or None when it parses; remembered, as SLOs repeat queries."""
    import promql_parser  # deferred: only files with raw PromQL or regex matchers pay for it

    too_big = size_error(promql)
    if too_big is not None:
        return too_big

    try:
        with _quiet_stderr():
            promql_parser.parse(promql)
    except (ValueError, TypeError) as err:
        return str(err) or "does not parse"
    except BaseException as err:  # the Rust extension can panic on pathological input
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        return f"the PromQL parser failed on it ({type(err).__name__}); Prometheus may too"
    return None


@contextmanager
def _quiet_stderr():
    """A panic inside the Rust parser prints its message and a backtrace to file descriptor 2 before Python
    sees the exception; relc reports the query as a diagnostic instead, so that text is kept off the terminal."""
    global _DEVNULL
    try:
        if _DEVNULL is None:
            _DEVNULL = os.open(os.devnull, os.O_WRONLY)
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        os.dup2(_DEVNULL, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_DEVNULL: int | None = None  # opened once: a project checks hundreds of queries

_PLACEHOLDER = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_OPENERS, _CLOSERS = "([{", ")]}"
_QUOTED_CHAR = re.compile(r"character[^']*'(.)'")


def unknown_placeholder(promql: str) -> tuple[int, str] | None:
    """The first `$name` that is not `$window` (a typo such as `$windw`), as (offset, name)."""
    for match in _PLACEHOLDER.finditer(promql):
        if match.group(1) != WINDOW_PLACEHOLDER[1:] or match.group().startswith("${"):
            return match.start(), match.group()
    return None


def error_offset(promql: str, message: str) -> int | None:
    """Where in `promql` the parser's complaint points, when its message says (the parser gives no position):
    an unclosed bracket, an unmatched closing one, or the unexpected character it quotes."""
    stack: list[int] = []
    unmatched = None
    for lexeme in _LEXEME.finditer(promql):
        if lexeme.lastgroup == "open":
            stack.append(lexeme.start())
        elif lexeme.lastgroup == "close":
            if stack:
                stack.pop()
            elif unmatched is None:
                unmatched = lexeme.start()
    lowered = message.lower()
    if "unclosed" in lowered and stack:
        return stack[-1]
    if ("unexpected right" in lowered or "unmatched" in lowered or "unexpected )" in lowered) and unmatched is not None:
        return unmatched
    quoted = _QUOTED_CHAR.search(message)
    if quoted:
        outside = _outside_strings(promql)
        found = outside.find(quoted.group(1))
        return found if found >= 0 else None
    return None


def _outside_strings(promql: str) -> str:
    """The query with the contents of its string literals blanked, so a search finds only code."""
    return _STRING.sub(lambda m: m.group()[0] + " " * (len(m.group()) - 2) + m.group()[-1], promql)


_STRING = re.compile(r""""(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`""")
