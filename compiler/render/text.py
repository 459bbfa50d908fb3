"""Diagnostic rendering, kept apart from the diagnostics themselves: text with carets, or JSON."""
from __future__ import annotations

import json
import re

from relc.compiler.diagnostics import Diagnostic, Span


# What a terminal acts on or hides rather than shows: C0 and C1 controls (ESC starts colour, cursor and title
# sequences; BEL, OSC, CSI), DEL, and the direction and zero-width characters that reorder or hide text.
_UNSHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                      "\u2066-\u2069\ufeff]")


def terminal_safe(text: str) -> str:
    """Text from a source or a file name, printable as it is: every unshown character written as an escape."""
    return _UNSHOWN.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else
                        f"\\u{ord(m.group()):04x}", text) if _UNSHOWN.search(text) else text


def _same_width(text: str) -> str:
    """A source line for the excerpt: unshown characters become U+FFFD, one column each, so carets still line up."""
    return _UNSHOWN.sub("\ufffd", text) if _UNSHOWN.search(text) else text


def render_text(diagnostics: list[Diagnostic], texts: dict[str, str], color: bool = False) -> str:
    lines = _Lines(texts)
    return "".join(_one(d, lines, color) for d in diagnostics)


class _Lines(dict):
    """Each source's lines, split once however many diagnostics point into it."""

    def __init__(self, texts: dict[str, str]):
        super().__init__()
        self.texts = texts

    def __missing__(self, path: str) -> list[str] | None:
        text = self.texts.get(path)
        self[path] = None if text is None else text.split("\n")
        return self[path]


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _one(diag: Diagnostic, texts: "_Lines", color: bool) -> str:
    sev_color = {"error": "1;31", "warning": "1;33", "note": "1;36"}[diag.severity.value]
    head = f"{diag.severity.value}[{diag.code}]"
    where = f"{_where(diag.span)}: " if diag.span else "relc: "
    lines = [f"{where}{_paint(head, sev_color, color)}: {_paint(terminal_safe(diag.message), '1', color)}"]
    if diag.span:
        lines.extend(_excerpt(diag.span, texts, "^", sev_color, color))
    for rel in diag.related:
        lines.append(f"{_where(rel.span)}: note: {terminal_safe(rel.message)}")
        lines.extend(_excerpt(rel.span, texts, "-", "1;36", color))
    if diag.hint:
        lines.append(f"  = hint: {terminal_safe(diag.hint)}")
    return "\n".join(lines) + "\n"


def _where(span: Span) -> str:
    return f"{terminal_safe(span.path)}:{span.line}:{span.col}"


SHOWN_CHARS = 200  # of a long source line, around the span
LEAD_CHARS = 60    # shown before a span that lies far to the right


def _excerpt(span: Span, texts: "_Lines", mark: str, code: str, color: bool) -> list[str]:
    """The source line with an underline below the span (its first line when it covers several)."""
    lines = texts[span.path]
    if lines is None or not 1 <= span.line <= len(lines):
        return []
    source = _same_width(lines[span.line - 1].expandtabs(1).rstrip("\r"))
    end = span.end_col if span.end_line == span.line else len(source) + 1
    col = span.col
    if len(source) > SHOWN_CHARS:  # a window of the line around the span, marked where it is cut
        start = 0 if col <= SHOWN_CHARS - LEAD_CHARS else col - 1 - LEAD_CHARS
        cut = source[start:start + SHOWN_CHARS]
        prefix = "..." if start else ""
        source = prefix + cut + ("..." if start + SHOWN_CHARS < len(source) else "")
        col, end = col - start + len(prefix), min(end, start + SHOWN_CHARS + 1) - start + len(prefix)
    width = max(1, min(end, len(source) + 1) - col)
    gutter = str(span.line)
    pad = " " * len(gutter)
    underline = " " * (col - 1) + mark * width
    return [f" {gutter} | {source}", f" {pad} | {_paint(underline, code, color)}"]


def as_dict(diag: Diagnostic) -> dict:
    out: dict = {"code": diag.code, "severity": diag.severity.value, "message": diag.message}
    if diag.span:
        out["span"] = _span_dict(diag.span)
    if diag.hint:
        out["hint"] = diag.hint
    if diag.related:
        out["related"] = [{"message": r.message, "span": _span_dict(r.span)} for r in diag.related]
    return out


def _span_dict(span: Span) -> dict:
    return {"path": span.path, "line": span.line, "col": span.col, "end_line": span.end_line,
            "end_col": span.end_col}


def render_json(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diagnostics)
    payload = {"diagnostics": [as_dict(d) for d in diagnostics], "errors": errors,
               "warnings": sum(d.severity.value == "warning" for d in diagnostics)}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = sum(d.severity.value == "warning" for d in diagnostics)
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)


SIMILAR_SHOWN = 5  # warnings of one shape printed in text before the rest are only counted
_QUOTED = re.compile(r"`[^`]*`")


def collapse_similar(diagnostics: list[Diagnostic], shown: int = SIMILAR_SHOWN) -> tuple[list[Diagnostic], int]:
    """The diagnostics minus warnings that differ from `shown` earlier ones only in the names they quote, and
    how many were left out: a default build of thousands of SLOs repeats each "not translated" warning per SLO."""
    seen: dict[tuple, int] = {}
    kept, hidden = [], 0
    for diag in diagnostics:
        if diag.is_error:
            kept.append(diag)
            continue
        shape = (diag.code, diag.severity, _QUOTED.sub("`…`", diag.message))
        seen[shape] = seen.get(shape, 0) + 1
        if seen[shape] <= shown:
            kept.append(diag)
        else:
            hidden += 1
    return kept, hidden


_TARGET_PREFIX = re.compile(r"([A-Za-z]+): ")


def summarise_target_notes(diagnostics: list[Diagnostic]) -> tuple[list[Diagnostic], list[str]]:
    """In a build of every target, what a target nobody named approximates or leaves out (RELC401 warnings)
    is counted per target, not printed: a first build of a valid project would otherwise read as broken."""
    kept, counts = [], {}
    for diag in diagnostics:
        prefix = _TARGET_PREFIX.match(diag.message) if diag.code == "RELC401" and not diag.is_error else None
        if prefix is None:
            kept.append(diag)
        else:
            counts[prefix.group(1)] = counts.get(prefix.group(1), 0) + 1
    notes = [f"note: the {name} output approximates or leaves out {count} thing{'s' if count != 1 else ''} "
             f"{name} cannot express; `--target {name.lower()}` or --all-warnings lists them"
             for name, count in sorted(counts.items())]
    return kept, notes
