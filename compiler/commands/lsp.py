"""`relc lsp`: the language server for editors, over stdio (docs/editors.md)."""
from __future__ import annotations

import click


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Talk over stdin and stdout (the default and only transport; editors "
                                           "that always pass --stdio are accepted).")
def lsp_command(stdio: bool) -> None:
    """Serve the Language Server Protocol over stdio: diagnostics as you type, hover, go to definition, references,
    completion, formatting and the outline, all from relc's own checks.

    Example: relc lsp   (started by the editor; see docs/editors.md for VS Code, Neovim and Helix)
    """
    from relc.compiler.lsp.server import serve

    serve()
