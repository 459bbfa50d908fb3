"""The language server: pygls over stdio, re-checking the project a document belongs to shortly after each edit.

Every answer comes from relc's own stages (compiler/lsp/analysis.py and features.py): the diagnostics are those
of `relc check` on the same files, with the editor's unsaved text in place of what is on disk.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from relc.compiler import __version__
from relc.compiler.diagnostics import Diagnostic, Severity, Span
from relc.compiler.lsp import features
from relc.compiler.lsp.analysis import Analysis, analyse, project_root

DEBOUNCE_S = 0.25
SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
            Severity.NOTE: types.DiagnosticSeverity.Information}


class RelcServer(LanguageServer):
    """Keeps the latest analysis per project root and which files it last published diagnostics for."""

    def __init__(self) -> None:
        super().__init__("relc", __version__)
        self.analyses: dict[Path, Analysis] = {}
        self.published: dict[Path, set[str]] = {}
        self.pending: dict[Path, asyncio.Task] = {}


server = RelcServer()


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path)).resolve()


def _workspace(ls: RelcServer) -> Path | None:
    root = ls.workspace.root_path
    return Path(root).resolve() if root else None


def _overlay(ls: RelcServer) -> dict[Path, str]:
    return {path_of(uri): doc.source for uri, doc in ls.workspace.text_documents.items()}


def _at(ls: RelcServer, params) -> tuple[Analysis, object, int, int]:
    """The analysis, the document's syntax tree (None if it does not parse) and the cursor, 1-based."""
    analysis, path = _analysis(ls, params.text_document.uri)
    pos = params.position
    return analysis, analysis.modules.get(path), pos.line + 1, pos.character + 1


def _analysis(ls: RelcServer, uri: str) -> tuple[Analysis, str]:
    """The project analysis for a document (computed now if there is none yet), and the document's path."""
    path = path_of(uri)
    root = project_root(path, _workspace(ls))
    if root not in ls.analyses:
        ls.analyses[root] = analyse(root, _overlay(ls))
    return ls.analyses[root], str(path)


def _refresh(ls: RelcServer, uri: str) -> None:
    """Re-check the document's project and publish every file's diagnostics (clearing files that have none now)."""
    path = path_of(uri)
    root = project_root(path, _workspace(ls))
    analysis = ls.analyses[root] = analyse(root, _overlay(ls))
    by_file: dict[str, list[types.Diagnostic]] = {}
    for diag in analysis.diagnostics:
        where = diag.span.path if diag.span is not None and diag.span.path else str(path)
        by_file.setdefault(where, []).append(to_lsp(diag))
    files = set(by_file) | ls.published.get(root, set()) | {str(path)}
    for file in sorted(files):
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=Path(file).as_uri(), diagnostics=by_file.get(file, [])))
    ls.published[root] = set(by_file)


async def _debounced(ls: RelcServer, uri: str) -> None:
    """A burst of keystrokes re-checks once, DEBOUNCE_S after the last."""
    root = project_root(path_of(uri), _workspace(ls))
    previous = ls.pending.pop(root, None)
    if previous is not None:
        previous.cancel()

    async def later() -> None:
        await asyncio.sleep(DEBOUNCE_S)
        _refresh(ls, uri)

    ls.pending[root] = asyncio.ensure_future(later())


def to_lsp(diag: Diagnostic) -> types.Diagnostic:
    message = diag.message + (f"\nhint: {diag.hint}" if diag.hint else "")
    return types.Diagnostic(range=to_range(diag.span), message=message, severity=SEVERITY[diag.severity],
                            code=diag.code, source="relc")


def to_range(span: Span | None) -> types.Range:
    if span is None:
        return types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    return types.Range(start=types.Position(line=span.line - 1, character=span.col - 1),
                       end=types.Position(line=span.end_line - 1, character=max(span.col, span.end_col) - 1))


def to_location(span: Span) -> types.Location:
    return types.Location(uri=Path(span.path).as_uri(), range=to_range(span))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: RelcServer, params: types.DidOpenTextDocumentParams) -> None:
    _refresh(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: RelcServer, params: types.DidChangeTextDocumentParams) -> None:
    await _debounced(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: RelcServer, params: types.DidSaveTextDocumentParams) -> None:
    _refresh(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: RelcServer, params: types.HoverParams) -> types.Hover | None:
    analysis, module, line, col = _at(ls, params)
    text = features.hover(analysis, module, line, col) if module else None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)) if text else None


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: RelcServer, params: types.DefinitionParams) -> types.Location | None:
    analysis, module, line, col = _at(ls, params)
    span = features.definition(analysis, module, line, col) if module else None
    return to_location(span) if span else None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def references(ls: RelcServer, params: types.ReferenceParams) -> list[types.Location]:
    analysis, module, line, col = _at(ls, params)
    spans = features.references(analysis, module, line, col) if module else []
    return [to_location(s) for s in spans]


KINDS = {"reference": types.CompletionItemKind.Reference, "property": types.CompletionItemKind.Property,
         "keyword": types.CompletionItemKind.Keyword}


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["=", " "]))
def completion(ls: RelcServer, params: types.CompletionParams) -> types.CompletionList:
    analysis, module, line, col = _at(ls, params)
    lines = ls.workspace.get_text_document(params.text_document.uri).source.splitlines()
    prefix = lines[line - 1][:col - 1] if line <= len(lines) else ""
    found = features.completions(analysis, module, line, col, prefix) if module else \
        [(k, "keyword") for k in features.TOP_LEVEL]
    return types.CompletionList(is_incomplete=False,
                                items=[types.CompletionItem(label=label, kind=KINDS[kind]) for label, kind in found])


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: RelcServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    document = ls.workspace.get_text_document(params.text_document.uri)
    formatted = features.format_document(document.source, str(path_of(params.text_document.uri)))
    if formatted is None or formatted == document.source:
        return None if formatted is None else []
    lines = document.source.splitlines()
    end = types.Position(line=len(lines), character=0)
    return [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end),
                           new_text=formatted)]


SYMBOL_KINDS = {"service": types.SymbolKind.Module, "slo": types.SymbolKind.Object,
                "alert_policy": types.SymbolKind.Class, "tier": types.SymbolKind.Field,
                "budget_policy": types.SymbolKind.Class, "runbook": types.SymbolKind.File}


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: RelcServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    analysis, path = _analysis(ls, params.text_document.uri)
    module = analysis.modules.get(path)
    return [_symbol(s) for s in features.symbols(module)] if module else []


def _symbol(symbol: features.Symbol) -> types.DocumentSymbol:
    return types.DocumentSymbol(name=symbol.name, detail=symbol.kind,
                                kind=SYMBOL_KINDS.get(symbol.kind, types.SymbolKind.Object),
                                range=to_range(symbol.span), selection_range=to_range(symbol.name_span),
                                children=[_symbol(c) for c in symbol.children])


def serve() -> None:
    """Run over stdin and stdout until the client says exit."""
    server.start_io()
