"""`relc lsp` driven by a real LSP client (pytest-lsp) over stdio, on a copy of the shop example.

Open a file with an error and see the diagnostic at its range; fix it and see it clear; hover an SLO and a
reference; go to a definition; find references; complete after `alert_policy =`; format; outline.
"""
from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import ROOT

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("lsp") / "slo"
    shutil.copytree(ROOT / "examples" / "shop", target)
    return target


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "relc.compiler", "lsp"]),
                    scope="module")
async def client(lsp_client: LanguageClient, shop: Path):
    params = types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=shop.as_uri(),
                                    workspace_folders=[types.WorkspaceFolder(uri=shop.as_uri(), name="slo")])
    result = await lsp_client.initialize_session(params)
    assert result.server_info.name == "relc"
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="relc", version=version, text=text if text is not None else path.read_text())))
    return uri


async def _diagnostics(client: LanguageClient, uri: str, timeout: float = 20.0) -> list[types.Diagnostic]:
    """The next diagnostics published for uri."""
    async def wait():
        while True:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if uri in client.diagnostics:
                return client.diagnostics.pop(uri)
    return await asyncio.wait_for(wait(), timeout)


def _pos(text: str, needle: str, offset: int = 0) -> types.Position:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return types.Position(line=line, character=index - (text.rfind("\n", 0, index) + 1))


async def test_an_error_shows_at_its_range_and_clears_when_fixed(client: LanguageClient, shop: Path):
    path = shop / "checkout.relc"
    good = path.read_text()
    bad = good.replace("objective = 99.9%", "objective = 101%", 1)
    assert bad != good
    client.diagnostics.clear()
    uri = _open(client, path, bad)
    found = await _diagnostics(client, uri)
    errors = [d for d in found if d.severity == types.DiagnosticSeverity.Error]
    assert [d.code for d in errors] == ["RELC301"], found
    start = _pos(bad, "101%")
    assert errors[0].range.start == start
    assert errors[0].range.end == types.Position(line=start.line, character=start.character + 4)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=good)]))
    assert [d for d in await _diagnostics(client, uri) if d.severity == types.DiagnosticSeverity.Error] == []


async def test_hover_definition_references(client: LanguageClient, shop: Path):
    path = shop / "checkout.relc"
    text = path.read_text()
    uri = _open(client, path, text, version=3)
    doc = types.TextDocumentIdentifier(uri=uri)
    at_slo = _pos(text, "slo availability", 5)
    hover = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=at_slo))
    assert "99.9% over 30d" in hover.contents.value and "error budget" in hover.contents.value
    at_ref = _pos(text, "budget_policy = standard", len("budget_policy = "))
    hover = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=at_ref))
    assert "budget_policy standard {" in hover.contents.value
    found = await client.text_document_definition_async(types.DefinitionParams(text_document=doc, position=at_ref))
    policies = (shop / "policies.relc").read_text()
    assert found.uri == (shop / "policies.relc").as_uri() and found.range.start == _pos(policies,
                                                                                          "budget_policy standard", 14)
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=doc, position=at_ref, context=types.ReferenceContext(include_declaration=True)))
    assert len(refs) == 1 + sum(p.read_text().count("budget_policy = standard") for p in shop.glob("*.relc"))


async def test_completion_formatting_and_outline(client: LanguageClient, shop: Path):
    path = shop / "checkout.relc"
    text = path.read_text()
    uri = _open(client, path, text, version=4)
    doc = types.TextDocumentIdentifier(uri=uri)
    at = _pos(text, "budget_policy = standard", len("budget_policy = "))
    items = await client.text_document_completion_async(types.CompletionParams(text_document=doc, position=at))
    assert {"standard"} <= {i.label for i in items.items}
    inside = _pos(text, "budget_policy = standard")  # the start of an attribute line inside an slo block
    items = await client.text_document_completion_async(types.CompletionParams(text_document=doc, position=inside))
    assert {"objective", "window", "alert_policy", "sli"} <= {i.label for i in items.items}
    messy = text.replace("objective = 99.9%", "objective    =    99.9%", 1)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=5),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=messy)]))
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=doc, options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert len(edits) == 1 and edits[0].new_text == text
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
    assert [(s.name, [c.name for c in s.children]) for s in symbols] == [("checkout", ["availability", "latency"])]
