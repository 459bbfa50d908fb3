"""Are the rules on the server the ones this source builds? Compared rule by rule, PromQL by meaning not spelling.

Prometheus answers /api/v1/rules with each expression re-printed (`30d` comes back as `4w2d`, matchers sorted), so
both sides have their matchers sorted (on the source text, where escapes are still intact) and go through
promql-parser's printer before they are compared.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def canonical(expr: str) -> str:
    """The expression as promql-parser prints it; the text itself when it does not parse."""
    import promql_parser

    try:
        return str(promql_parser.parse(_sorted_matchers(expr)))
    except (ValueError, RuntimeError):
        return " ".join(expr.split())


def _sorted_matchers(text: str) -> str:
    """Each selector's matchers in sorted order: Prometheus prints them sorted, the source keeps its own order."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "{":
            end, parts = _matchers(text, i + 1)
            out.append("{" + ",".join(sorted(p.strip() for p in parts if p.strip())) + "}")
            i = end + 1
        elif text[i] in "\"'`":
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" and quote != "`" else 1
    return i + 1


def _matchers(text: str, start: int) -> tuple[int, list[str]]:
    """(index of the closing brace, the matchers between) for a selector's braces starting at `start`."""
    parts, begin, i = [], start, start
    while i < len(text) and text[i] != "}":
        if text[i] in "\"'`":
            i = _string_end(text, i)
            continue
        if text[i] == ",":
            parts.append(text[begin:i])
            begin = i + 1
        i += 1
    parts.append(text[begin:i])
    return i, parts


def _key(kind: str, name: str, labels: dict) -> tuple:
    return kind, name, tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items()))


def compare_group(expected: list[dict], loaded: list[dict]) -> str:
    """'' when the loaded group holds the same rules (kind, name, labels, expression) in the same order; else the
    first difference in words."""
    want = [(_key("alerting" if "alert" in r else "recording", r.get("alert") or r.get("record"), r.get("labels")),
             r["expr"]) for r in expected]
    have = [(_key(r.get("type", ""), r.get("name", ""), r.get("labels")), r.get("query", "")) for r in loaded]
    if len(want) != len(have):
        return f"{len(have)} rule(s) loaded, {len(want)} expected"
    for (want_key, want_expr), (have_key, have_expr) in zip(want, have):
        if want_key[:2] != have_key[:2]:
            return f"`{have_key[1]}` is loaded where `{want_key[1]}` is expected"
        if want_key != have_key:
            return f"`{want_key[1]}` has other labels ({_labels(have_key[2])} instead of {_labels(want_key[2])})"
        if canonical(want_expr) != canonical(have_expr):
            return f"`{want_key[1]}` has another expression"
    return ""


def _labels(pairs: tuple) -> str:
    return "{" + ", ".join(f"{k}={v!r}" for k, v in pairs) + "}"
