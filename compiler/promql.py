"""PromQL text: quoting that cannot be escaped from, selector rendering, and syntax checks."""
from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the checked nodes and the IR both fit; neither is needed at run time
    from . import checked

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


def render_selector(selector: checked.Selector, extra: tuple[checked.LabelMatcher, ...] = (), suffix: str = "") -> str:
    """`metric{a="b"}` with matchers in source order, then any the caller adds."""
    matchers = selector.matchers + extra
    inner = ",".join(f"{m.name}{m.op}{quote(m.value)}" for m in matchers)
    return f"{selector.metric}{suffix}{{{inner}}}" if inner else f"{selector.metric}{suffix}"


def substitute_window(promql: str, window: str) -> str:
    return promql.replace(WINDOW_PLACEHOLDER, window)


@functools.lru_cache(maxsize=1 << 14)
def syntax_error(promql: str) -> str | None:
    """The parser's complaint about `promql`, or None when it parses; remembered, as SLOs repeat queries."""
    import promql_parser  # deferred: only files with raw PromQL or regex matchers pay for it

    try:
        promql_parser.parse(promql)
    except (ValueError, TypeError) as err:
        return str(err) or "does not parse"
    except BaseException as err:  # the Rust extension can panic on pathological input
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        return f"the PromQL parser rejected it ({type(err).__name__})"
    return None
