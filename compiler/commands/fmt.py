"""`relc fmt`: rewrite .relc files in one canonical layout, keeping every comment and the meaning."""
from __future__ import annotations

import codecs
import difflib
import sys
import threading
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

import click
from lark import Lark, Token

from relc.compiler import diagnostics as dg
from relc.compiler.commands.cli import CONFIG, _config, _sources
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.resolve.files import write_atomically
from relc.compiler.syntax.parser import one_newline, parse
from relc.compiler.syntax.printer import Comment, Printer, Row, SourceInfo, format_module, render
from relc.compiler.syntax.tree import Attribute, Block, Import, Module

__all__ = ["format_source", "format_module", "fmt_command", "FormatterBug", "scan", "shape"]

_KEPT_TOKENS = ("COMMENT", "STRING", "RAW_STRING", "LBRACE", "COMMA")
_LOCK = threading.Lock()
_SINK: list[Token] = []
_SCANNER: Lark | None = None


class FormatterBug(RuntimeError):
    """The formatted text would not mean what the input meant; nothing is written."""


def place(rows: list[Row], comments: list[Comment]) -> list[Comment]:
    """Attach each comment to a row: trailing on the row that printed the code before it, else on its own line."""
    anchors = sorted((a[0], a[1], i) for i, row in enumerate(rows) for a in row.anchors)
    keys = [(line, col) for line, col, _ in anchors]
    ends = [max(((a[2], a[3]) for a in row.anchors), default=(0, 0)) for row in rows]
    tail: list[Comment] = []
    for c in comments:
        k = bisect_right(keys, (c.line, c.col)) - 1
        idx = anchors[k][2] if k >= 0 else None
        if idx is not None and not c.own_line:
            _demote(rows[idx])
            rows[idx].trailing = c
            continue
        inside = idx is not None and ends[idx] > (c.line, c.col)  # the row prints code from after the comment
        target = 0 if idx is None else idx if inside else idx + 1
        if target < len(rows):
            _demote(rows[target])
            rows[target].before.append(c)
        else:
            tail.append(c)
    return tail


def _demote(row: Row) -> None:
    """A row's trailing comment moves above it when a later comment lands on the same row, to keep the order."""
    if row.trailing is not None:
        row.before.append(row.trailing)
        row.trailing = None


def _scanner() -> Lark:
    """The grammar's own parser, reporting comments (which it ignores) and strings as it lexes them."""
    global _SCANNER
    if _SCANNER is None:
        def keep(token: Token) -> Token:
            _SINK.append(token)
            return token

        _SCANNER = Lark.open_from_package("relc.grammar", "relc.lark", parser="lalr", maybe_placeholders=False,
                                          lexer_callbacks={name: keep for name in _KEPT_TOKENS})
    return _SCANNER


def scan(text: str) -> SourceInfo:
    """Comments and string tokens of text that parses; the lexer is the parser's, so `#` in strings is text."""
    with _LOCK:
        _SINK.clear()
        try:
            _scanner().parse(text)
            tokens = list(_SINK)
        finally:
            _SINK.clear()
    comments, by_start, by_end, punctuation = [], {}, {}, {"LBRACE": [], "COMMA": []}
    for tok in tokens:
        if tok.type == "COMMENT":
            line_start = text.rfind("\n", 0, tok.start_pos) + 1
            own = not text[line_start:tok.start_pos].strip()
            comments.append(Comment(tok.line, tok.column, str(tok).rstrip(), own))
        elif tok.type in punctuation:
            punctuation[tok.type].append((tok.line, tok.column))
        else:
            by_start[(tok.line, tok.column)] = str(tok)
            by_end[(tok.end_line, tok.end_column)] = str(tok)
    return SourceInfo(comments, by_start, by_end, punctuation)


def format_source(text: str, path: str = "<input>") -> tuple[str | None, list[Diagnostic]]:
    """Canonical text for one file, or None and the syntax diagnostics; raises FormatterBug rather than lose meaning."""
    newline, text = _newline(text), one_newline(text)  # lone CRs end lines for the parser, so for the layout too
    module, diags = parse(path, text)
    if module is None or dg.has_errors(diags):
        return None, diags
    try:
        source = scan(text)
        rows = Printer(source).module(module)
        out = render(rows, place(rows, source.comments), newline)
    except RecursionError:
        return None, [dg.make("RELC104", f"{path} nests blocks, lists or maps too deeply to format",
                              Span.point(path, 1, 1))]
    _verify(module, source, out, path)
    return out, diags


def _newline(text: str) -> str:
    """Keep Windows line endings for files written with them."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _verify(module, source: SourceInfo, out: str, path: str) -> None:
    """Re-parse the output: same tree and same comments, or refuse to write it."""
    again, diags = parse(path, out)
    if again is None or dg.has_errors(diags) or shape(again) != shape(module):
        raise FormatterBug(f"formatting {path} would change its meaning")
    if [c.text for c in scan(out).comments] != [c.text for c in source.comments]:
        raise FormatterBug(f"formatting {path} would lose or reorder comments")


def shape(node, texts: bool = True):
    """A node without spans (and, with texts=False, without spellings): what formatting must keep."""
    if isinstance(node, Module):
        return ("module", tuple(shape(i, texts) for i in node.items))
    if isinstance(node, Import):
        return ("import", node.path)
    if isinstance(node, Attribute):
        return ("attribute", node.key, shape(node.value, texts))
    if isinstance(node, Block):
        return ("block", node.kind, node.label, node.has_body, tuple(shape(i, texts) for i in node.items))
    data = node.data
    if node.kind == "list":
        data = tuple(shape(v, texts) for v in data)
    elif node.kind == "map":
        data = tuple((e.key, shape(e.value, texts)) for e in data)
    elif node.kind == "selector":
        data = (data.metric, tuple((m.label, m.op, m.value, getattr(m, "ref", None)) for m in data.matchers))
    elif node.kind == "call":
        data = (data[0], shape(data[1], texts))
    text = node.text if texts and node.kind in ("number", "percent", "duration") else None
    return (node.kind, data, text)


# ---- the command ----

class _Run:
    """Counts and exit status over all files of one `relc fmt` run."""

    def __init__(self, check: bool, diff: bool):
        self.check, self.diff = check, diff
        self.changed = self.same = self.skipped = 0
        self.failed = self.bug = False

    def report(self, diags: list[Diagnostic], texts: dict[str, str]) -> None:
        from relc.compiler.render.text import render_text

        if diags:
            click.echo(render_text(diags, texts, color=sys.stderr.isatty()), err=True, nl=False)
        self.failed = self.failed or dg.has_errors(diags)

    def exit_code(self) -> int:
        if self.bug:
            return 2
        return 1 if self.failed or (self.check and self.changed) else 0


@click.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True,
              help="Write nothing; list the files that would change and exit 1 if any would (CI, pre-commit).")
@click.option("--diff", "diff", is_flag=True, help="Write nothing; print a unified diff of the changes to stdout.")
@CONFIG
def fmt_command(paths: tuple[str, ...], check: bool, diff: bool, config_path: str | None, no_config: bool) -> None:
    """Format PATHS (files, or directories searched for *.relc) in place.

    One layout for every file: 2-space indentation, one attribute per line, `key = value`,
    lists and maps on one line when they fit in 100 columns, at most one blank line in a row.
    Comments stay where they are; values keep their meaning (the output is re-parsed to
    make sure). A file with a syntax error is reported and left untouched. `-` formats stdin
    to stdout.

    \b
    Exit status: 0 done (or, with --check, nothing to change), 1 a file has a syntax error or,
    with --check, would change, 2 usage or internal error. Without PATHS, formats the `sources`
    of relc.yaml; its `exclude` patterns skip files found in directories.
    Example: relc fmt --check examples/shop
    """
    config = _config(config_path, no_config, "text")
    paths = tuple(_sources(paths, config))
    run = _Run(check, diff)
    files = _files(paths, run, config.exclusion)
    for path in files:
        _format_path(path, run)
    if "-" in paths:
        _format_stdin(run)
    if files:
        _summary(run)
    sys.exit(run.exit_code())


def _files(paths: tuple[str, ...], run: _Run, exclude=None) -> list[Path]:
    """The .relc files named or found below the directories, each once, in order."""
    from relc.compiler.resolve.sources import discover

    named = [p for p in paths if p != "-"]
    found, diags = discover(named, yaml=False, exclude=exclude) if named else ([], [])
    run.report(diags, {})
    seen, files = set(), []
    for file, _root in found:
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            files.append(file)
    return files


def _format_path(path: Path, run: _Run) -> None:
    from relc.compiler.resolve.sources import display_path

    shown = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        run.report([dg.make("RELC201", f"cannot read {shown}: {err.strerror or err}")], {})
        run.skipped += 1
        return
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        run.report([dg.make("RELC103", f"{shown} is not valid UTF-8 (byte {err.start})",
                            Span.point(shown, line, 1))], {})
        run.skipped += 1
        return
    new = _formatted(text, shown, run)
    if new is None:
        run.skipped += 1
    elif new == text:
        run.same += 1
    else:
        run.changed += 1
        _apply(path, shown, text, new, bom, run)


def _formatted(text: str, shown: str, run: _Run) -> str | None:
    try:
        new, diags = format_source(text, shown)
    except FormatterBug as err:
        click.echo(f"relc: internal error: {err}; the file is left unchanged. This is a bug in relc; please "
                   "report it with the file.", err=True)
        run.bug = True
        return None
    run.report(diags, {shown: text})
    return new


def _apply(path: Path, shown: str, old: str, new: str, bom: bool, run: _Run) -> None:
    if run.diff:
        click.echo("".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                f"a/{shown}", f"b/{shown}")), nl=False)
    if run.check:
        click.echo(shown)
    if run.check or run.diff:
        return
    try:
        write_atomically(path, (codecs.BOM_UTF8 if bom else b"") + new.encode("utf-8"))
    except OSError as err:
        run.report([dg.make("RELC501", f"cannot write {shown}: {err.strerror or err}")], {})
        return
    click.echo(f"relc: reformatted {shown}", err=True)


def _format_stdin(run: _Run) -> None:
    """`relc fmt -`: the formatted text on stdout, for editors; with --check or --diff, only the verdict."""
    text = sys.stdin.read()
    new = _formatted(text, "<stdin>", run)
    if new is None:
        return
    if not (run.check or run.diff):
        click.echo(new, nl=False)
    elif new != text:
        run.changed += 1
        _apply(Path("-"), "<stdin>", text, new, False, run)


def _summary(run: _Run) -> None:
    verb = "would be reformatted" if run.check or run.diff else "reformatted"
    skipped = f", {run.skipped} left as is (errors above)" if run.skipped else ""
    click.echo(f"relc: {run.changed} file(s) {verb}, {run.same} already formatted{skipped}", err=True)
