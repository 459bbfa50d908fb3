"""Time `relc lsp` as an editor sees it: process start to the `initialize` answer, and an edit to its diagnostics.

Usage: python3 benchmarks/lsp.py [PROJECT_DIR] [RUNS]   (default: examples/shop, 10 runs; medians printed)

Each run starts a fresh server over stdio with a real LSP client (pytest-lsp's, on pygls), opens the project's
largest .relc file, waits for its diagnostics (the first full check), then sends one edit and times the
diagnostics that follow it, less the server's debounce (the time the server waits for more keystrokes).
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig

from relc.compiler.lsp.server import DEBOUNCE_S


async def one_run(project: Path) -> tuple[float, float, float]:
    config = ClientServerConfig(server_command=[sys.executable, "-m", "relc.compiler", "lsp"])
    started = time.perf_counter()
    client = await config.start()
    try:
        await client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                               root_uri=project.as_uri()))
        ready = time.perf_counter() - started
        path = max(project.rglob("*.relc"), key=lambda p: p.stat().st_size)
        text = path.read_text()
        uri = path.as_uri()
        t0 = time.perf_counter()
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="relc", version=1, text=text)))
        await _published(client, uri)
        first = time.perf_counter() - t0
        t1 = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text + "\n# edited\n")]))
        await _published(client, uri)
        recheck = time.perf_counter() - t1 - DEBOUNCE_S
        await client.shutdown_session()
    finally:
        await client.stop()
    return ready, first, recheck


async def _published(client, uri: str) -> None:
    """Until the diagnostics of this document arrive (the server publishes every file of the project)."""
    client.diagnostics.pop(uri, None)
    while uri not in client.diagnostics:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


def main() -> None:
    project = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/shop").resolve()
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    results = [asyncio.run(one_run(project)) for _ in range(runs)]
    for name, column in zip(("start to initialized", "open to first diagnostics", "edit to diagnostics"),
                            zip(*results)):
        print(f"{name:28} median {statistics.median(column) * 1000:7.1f} ms  "
              f"(min {min(column) * 1000:.1f}, max {max(column) * 1000:.1f}, {runs} runs)")


if __name__ == "__main__":
    main()
