"""Literals back to source text: names, quoted and raw strings, numbers, percentages and durations, each in
the form the parser reads back as the same value (the written form kept when it still means the data)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from relc.compiler.syntax.tree import Value
from relc.compiler.units import parse_duration_ms

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_:-]*")
NUMBER_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
PERCENT_RE = re.compile(r"[0-9]+(\.[0-9]+)?%")
DURATION_RE = re.compile(r"([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w|y))+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}
_UNIT_MS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000))


def name_text(text: str, what: str, keyword_ok: bool = True, bool_ok: bool = True) -> str:
    """A bare name, refused when the grammar would read it as something else."""
    if not isinstance(text, str) or not NAME_RE.fullmatch(text) or (not keyword_ok and text == "import") \
            or (not bool_ok and text in ("true", "false")):
        raise ValueError(f"{what} {text!r} cannot be written as a name")
    return text


def ref_text(parts) -> str:
    if not parts or parts[0] in ("true", "false"):
        raise ValueError(f"reference {parts!r} would read as a boolean")
    return ".".join(name_text(p, "reference part") for p in parts)


def quote(text: str) -> str:
    """A plain string literal the parser reads back as `text`; what would not show (controls, bidi marks,
    odd spaces) is escaped, so the source never hides part of a string."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError("a string cannot hold a lone surrogate")
        elif not ch.isprintable():
            out.append(f"\\u{{{code:X}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def scalar(value: Value) -> str:
    """The token for a literal: the written form when it still means the data, else one derived from the data."""
    kind, data = value.kind, value.data
    if kind == "string":
        return quote(data)  # type: ignore[arg-type]
    if kind == "raw":
        return _raw(data, value.text)  # type: ignore[arg-type]
    if kind == "bool":
        return "true" if data else "false"
    if kind == "ref":
        return ref_text(data)
    if kind == "calendar":
        return "calendar " + ref_text((data,))  # type: ignore[arg-type]
    if kind == "slo_ref":
        return "/".join(ref_text((part,)) for part in data)  # type: ignore[union-attr]
    if kind == "number":
        return _kept(value, NUMBER_RE, Decimal) or _number(_decimal(data))
    if kind == "percent":
        return _kept(value, PERCENT_RE, lambda t: Decimal(t[:-1])) or _unsigned(_decimal(data)) + "%"
    if kind == "duration":
        return _kept(value, DURATION_RE, parse_duration_ms) or _duration(_decimal(data))
    raise ValueError(f"unknown value kind {kind!r}")


def _kept(value: Value, pattern: re.Pattern, read) -> str | None:
    text = value.text
    if text and pattern.fullmatch(text) and read(text) == _decimal(value.data):
        return text
    return None


def _decimal(data) -> Decimal:
    try:
        number = data if isinstance(data, Decimal) else Decimal(str(data))
    except InvalidOperation:
        raise ValueError(f"{data!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{data!r} is not a finite number")
    return number


def _number(number: Decimal) -> str:
    return format(number, "f")


def _unsigned(number: Decimal) -> str:
    if number < 0:
        raise ValueError(f"{number} cannot be written as a percentage or duration (no sign)")
    return format(abs(number), "f")


def _duration(ms: Decimal) -> str:
    """Milliseconds as the largest units: 5400000 -> 1h30m, 0.5 -> 0.5ms."""
    _unsigned(ms)
    whole, parts = int(ms), []
    rest = ms - whole
    for unit, size in _UNIT_MS:
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    if whole or rest:
        parts.append(_unsigned(whole + rest) + "ms")
    return "".join(parts) or "0s"


def _raw(body: str, written: str) -> str:
    """Raw strings stay raw in the user's delimiters; only text holding `"#` falls back to a plain string."""
    if written.startswith('r#"') and written.endswith('"#') and len(written) >= 5 and written[3:-2] == body \
            and '"#' not in body:
        return written
    if written.startswith('r"') and written.endswith('"') and len(written) >= 3 and written[2:-1] == body \
            and '"' not in body:
        return written
    if '"' not in body:
        return f'r"{body}"'
    if '"#' not in body:
        return f'r#"{body}"#'
    return quote(body)
