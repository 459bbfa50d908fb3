"""Diagnostics as data: every stage reports problems as values, and rendering happens elsewhere."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open source range; lines and columns are 1-based, as editors show them."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, path: str, line: int, col: int, width: int = 1) -> "Span":
        return cls(path, line, col, line, col + max(width, 1))


@dataclass(frozen=True, slots=True)
class Related:
    """A second location that explains the first, e.g. the earlier definition of a duplicate."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None = None
    hint: str | None = None
    related: tuple[Related, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_warning(self) -> "Diagnostic":
        return Diagnostic(self.code, Severity.WARNING, self.message, self.span, self.hint, self.related)

    def as_error(self) -> "Diagnostic":
        return Diagnostic(self.code, Severity.ERROR, self.message, self.span, self.hint, self.related)


# The registry of codes: 1xx parse, 2xx resolve, 3xx validate, 4xx target, 5xx output/CLI.
CODES: dict[str, str] = {
    "RELC101": "syntax error",
    "RELC102": "invalid string escape",
    "RELC103": "file is not valid UTF-8",
    "RELC104": "nesting too deep",
    "RELC201": "cannot read file",
    "RELC202": "import path leaves the project root",
    "RELC203": "import cycle",
    "RELC204": "no .relc files found",
    "RELC205": "cannot load policy pack",
    "RELC206": "pack version does not satisfy the constraint",
    "RELC301": "objective out of range",
    "RELC302": "unknown attribute or block",
    "RELC303": "wrong value type",
    "RELC304": "missing required attribute",
    "RELC305": "duplicate definition",
    "RELC306": "unknown reference",
    "RELC307": "invalid metric or label name",
    "RELC308": "invalid PromQL",
    "RELC309": "raw query lacks $window",
    "RELC310": "window too short for alert tier",
    "RELC311": "alert tier can never fire",
    "RELC312": "invalid value",
    "RELC313": "reserved for policy packs",
    "RELC314": "duplicate attribute",
    "RELC401": "construct not supported by target",
    "RELC402": "unknown target",
    "RELC403": "unknown or invalid target option",
    "RELC404": "no generated proof for SLO",
    "RELC501": "cannot write output",
}


def make(code: str, message: str, span: Span | None = None, *, hint: str | None = None,
         severity: Severity = Severity.ERROR, related: tuple[Related, ...] = ()) -> Diagnostic:
    """Build a diagnostic, refusing codes that are not registered so the registry stays complete."""
    if code not in CODES:
        raise KeyError(f"unregistered diagnostic code {code}")
    return Diagnostic(code, severity, message, span, hint, related)


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """Suggest the closest known name, the way users expect from a compiler."""
    matches = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(diagnostic: Diagnostic) -> tuple:
    """Order by file and position so output is deterministic whatever order stages found them in."""
    span = diagnostic.span
    if span is None:
        return ("", 0, 0, diagnostic.code, diagnostic.message)
    return (span.path, span.line, span.col, diagnostic.code, diagnostic.message)
