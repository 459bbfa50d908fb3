"""Diagnostics as SARIF 2.1.0, the format GitHub code scanning reads, so relc's errors show up on pull requests."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Span

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/relc-dev/relc"
HELP_URI = f"{INFORMATION_URI}/blob/main/docs/language.md#113-codes"
SRCROOT = "%SRCROOT%"
LEVELS = {dg.Severity.ERROR: "error", dg.Severity.WARNING: "warning", dg.Severity.NOTE: "note"}


def render_sarif(diagnostics: list[Diagnostic], texts: dict[str, str], tool_version: str) -> str:
    """One run with every registered rule; located diagnostics become results, the rest tool notifications."""
    ordered = sorted(diagnostics, key=dg.sort_key)
    rules = sorted(set(dg.CODES) | {d.code for d in ordered})
    located = [d for d in ordered if d.span is not None]
    unlocated = [d for d in ordered if d.span is None]
    run = {
        "tool": {"driver": _driver(rules, tool_version)},
        "invocations": [_invocation(unlocated, rules)],
        "columnKind": "utf16CodeUnits",
        "results": [_result(d, rules.index(d.code), texts) for d in located],
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _driver(rules: list[str], tool_version: str) -> dict:
    """The tool: every rule is listed, so an alert's rule page exists whichever codes this run produced."""
    return {"name": "relc", "informationUri": INFORMATION_URI, "version": tool_version,
            "rules": [_rule(code) for code in rules]}


def _rule(code: str) -> dict:
    """A rule per registered code; GitHub shows shortDescription as the alert title and help on its page."""
    title = dg.CODES.get(code, "relc diagnostic")
    return {
        "id": code,
        "name": "".join(word[0].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title)),
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{code}: {title}. See the table of codes in the relc language reference."},
        "helpUri": HELP_URI,
        "help": {"text": f"{code} ({title}): causes and fixes are listed at {HELP_URI}",
                 "markdown": f"**{code}**: {title}. Causes and fixes: [diagnostic codes]({HELP_URI})."},
        "properties": {"tags": ["relc", _stage(code)]},
    }


def _stage(code: str) -> str:
    """The compiler stage a code belongs to, by its first digit, as docs/language.md groups them."""
    return {"1": "parse", "2": "resolve", "3": "validate", "4": "target", "5": "output"}.get(code[4:5], "other")


def _invocation(unlocated: list[Diagnostic], rules: list[str]) -> dict:
    """Diagnostics with no source position (no files found, unknown target) are about the run, not a line."""
    invocation: dict = {"executionSuccessful": not any(d.is_error for d in unlocated)}
    if unlocated:
        invocation["toolExecutionNotifications"] = [
            {"level": LEVELS[d.severity], "message": {"text": _text(d)},
             "descriptor": {"id": d.code, "index": rules.index(d.code)}}
            for d in unlocated]
    return invocation


def _text(diag: Diagnostic) -> str:
    """The hint goes into the message, since SARIF has no place for it that GitHub shows."""
    return f"{diag.message}\nhint: {diag.hint}" if diag.hint else diag.message


def _result(diag: Diagnostic, rule_index: int, texts: dict[str, str]) -> dict:
    """One located diagnostic; its notes ("first defined here") become numbered related locations."""
    result: dict = {"ruleId": diag.code, "ruleIndex": rule_index, "level": LEVELS[diag.severity],
                    "message": {"text": _text(diag)},
                    "locations": [_location(diag.span, texts)]}  # type: ignore[arg-type]
    if diag.related:
        result["relatedLocations"] = [
            {"id": index, **_location(rel.span, texts), "message": {"text": rel.message}}
            for index, rel in enumerate(diag.related, start=1)]
    return result


def _location(span: Span, texts: dict[str, str]) -> dict:
    """A physical location: the file as a URI and the span as a region."""
    return {"physicalLocation": {"artifactLocation": artifact(span.path), "region": region(span, texts)}}


def artifact(path: str) -> dict:
    """A path relative to the working directory (the checkout in CI), as a URI under %SRCROOT%."""
    pure = Path(path)
    if pure.is_absolute():
        try:
            pure = pure.relative_to(Path.cwd())
        except ValueError:
            return {"uri": pure.as_uri()}
    posix = PurePosixPath(*Path(os.path.normpath(pure)).parts)
    return {"uri": quote(str(posix), safe="/"), "uriBaseId": SRCROOT}


def region(span: Span, texts: dict[str, str]) -> dict:
    """relc counts columns in characters; SARIF (and GitHub) in UTF-16 code units, which differ past U+FFFF."""
    lines = texts[span.path].split("\n") if span.path in texts else []
    start_col = _utf16_col(lines, span.line, span.col)
    end_line = max(span.end_line, span.line)
    end_col = _utf16_col(lines, end_line, span.end_col)
    if end_line == span.line:
        end_col = max(end_col, start_col)
    return {"startLine": max(span.line, 1), "startColumn": max(start_col, 1), "endLine": max(end_line, 1),
            "endColumn": max(end_col, 1)}


def _utf16_col(lines: list[str], line: int, col: int) -> int:
    """A 1-based character column as UTF-16 units; columns past the line's end keep their distance from it."""
    if not 1 <= line <= len(lines):
        return col
    before = lines[line - 1][:max(col - 1, 0)]
    return 1 + len(before.encode("utf-16-le")) // 2 + max(col - 1 - len(before), 0)
